"""Training tier: the same seed trains the same weights, a killed run resumes, one .keras file is a model, and
early stopping, clipping, MirroredStrategy with notebook 03's callbacks and mixed_float16 run end to end."""
import json
import shutil
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from crnn_utils import training
from crnn_utils.charset import Charset
from crnn_utils.model import build_named, model_spec
from crnn_utils.recognizer import Recognizer

pytestmark = pytest.mark.training  # the training tier: `pytest -m "not training"` skips it

CS = Charset.seed()

# What notebook 03 does in miniature, as a script: shards -> augmented tf.data -> the tiny model -> N steps.
_TRAIN = """
import hashlib, os, signal, sys
import keras, numpy as np
import crnn_utils
from crnn_utils import datasets, training
from crnn_utils.charset import Charset
seed, steps, run_dir, kill_after, every = {seed}, {steps}, {run_dir!r}, {kill_after}, {every}
cs = Charset.seed()
keras.utils.set_random_seed(seed)
cfg = training.recipe("fast", model_size="tiny")
start = training.build_or_resume(run_dir, cfg, cs.num_classes, spec={{"chars": cs.chars, "max_stretch": 2.0}})
seen = training.resumable_steps(run_dir + "/checkpoints") * 16
ds = datasets.make_dataset(datasets.shard_paths({shards!r}, "train"), 16, 16, cs.blank, shuffle=True, augment=True,
                           repeat=True, seed=seed, pass_images=32, images_seen=seen)
best = training.BestCheckpoint(start.act, run_dir + "/checkpoints/best.keras", best=start.best)
schedule = training.Schedule(cfg, total_steps=steps)

class Kill(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations.numpy()) == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

cbs = [best, training.ResumeState(run_dir + "/checkpoints", best, schedule, every_steps=every), schedule, Kill()]
start.train.fit(ds, steps_per_epoch=steps, epochs=1, initial_epoch=start.initial_epoch, callbacks=cbs, verbose=0)
digest = hashlib.sha256(b"".join(np.ascontiguousarray(w).tobytes() for w in start.train.get_weights())).hexdigest()
print("WEIGHTS", digest, "STEPS", int(start.train.optimizer.iterations.numpy()))
"""


def _train(tiny_shards, run_dir, seed=0, steps=6, kill_after=-1, every=0):
    script = _TRAIN.format(seed=seed, steps=steps, run_dir=str(run_dir), kill_after=kill_after, every=every,
                           shards=str(tiny_shards))
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)


def test_the_same_seed_trains_bit_identical_weights_in_two_processes(tmp_path, tiny_shards):
    # Augmentation on, and past the first pass so the geometric warp draws too (pass_images=32, 6 steps of 16).
    runs = [_train(tiny_shards, tmp_path / name, seed=seed) for name, seed in (("a", 0), ("b", 0), ("c", 1))]
    for out in runs:
        assert out.returncode == 0, out.stderr[-3000:]
    digests = [out.stdout.split("WEIGHTS ")[1].split()[0] for out in runs]
    assert digests[0] == digests[1]
    assert digests[0] != digests[2]  # another seed: other weights (the test can tell them apart)


def test_a_run_killed_mid_epoch_resumes_losing_at_most_every_steps(tmp_path, tiny_shards):
    run_dir = tmp_path / "run"
    # 1. SIGKILL after step 8 of a 20-step epoch, with the resume state saved every 3 steps.
    killed = _train(tiny_shards, run_dir, steps=20, kill_after=8, every=3)
    assert killed.returncode == -9 and "WEIGHTS" not in killed.stdout
    state = json.loads((run_dir / "checkpoints" / "state.json").read_text())
    assert state["steps"] == 6 and state["epoch"] == 0  # 2 steps lost, fewer than every_steps
    assert training.resumable_steps(run_dir / "checkpoints") == 6
    assert not list((run_dir / "checkpoints").glob("*.tmp*"))  # atomic saves leave no half-written file
    # 2. Re-run: it resumes from those 6 steps and runs the interrupted epoch again until the planned 20 steps are
    #    done (the schedule stops there), so the optimizer makes as many updates as an uninterrupted run.
    resumed = _train(tiny_shards, run_dir, steps=20, every=3)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "STEPS 20" in resumed.stdout  # 6 kept + 14
    assert json.loads((run_dir / "checkpoints" / "state.json").read_text())["epoch"] == 1


def test_a_best_keras_copied_alone_reads_images(tmp_path):
    # 1. A model built as notebook 03 builds it carries its charset and max_stretch.
    chars = "0123456789abcdefghijklmnopqrstuvwxyz"
    act = build_named("tiny", num_classes=len(chars) + 1, chars=chars, max_stretch=1.5)
    (tmp_path / "run").mkdir()
    act.save(tmp_path / "run" / "best.keras")
    alone = tmp_path / "elsewhere"
    alone.mkdir()
    shutil.copy(tmp_path / "run" / "best.keras", alone / "best.keras")
    # 2. In a fresh process with nothing beside the file, the Recognizer gets its charset and preprocessing from it.
    script = textwrap.dedent(f"""
        import numpy as np
        from crnn_utils.recognizer import Recognizer
        r = Recognizer.from_model({str(alone / 'best.keras')!r})
        image = np.full((40, 90), 255, np.uint8); image[10:30, 10:80] = 0
        res = r.recognize([image], decoder="greedy")[0]
        print("CHARS", r.charset.chars, "STRETCH", r.max_stretch, "OK", res.ok)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=alone)
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"CHARS {chars} STRETCH 1.5 OK True" in out.stdout
    # 3. It reads what the model and its charset read together.
    image = np.random.default_rng(0).integers(0, 255, (30, 100), dtype=np.uint8)
    loaded = Recognizer.from_model(alone / "best.keras")
    np.testing.assert_allclose(loaded.probabilities([image]),
                               Recognizer(act, Charset(chars), max_stretch=1.5).probabilities([image]), atol=1e-6)


def test_a_model_without_its_charset_is_a_clear_error(tmp_path):
    act = build_named("tiny", num_classes=CS.num_classes)
    assert model_spec(act) is None
    act.save(tmp_path / "old.keras")
    with pytest.raises(ValueError, match="carries no charset.*from_run_dir"):
        Recognizer.from_model(tmp_path / "old.keras")
    with pytest.raises(FileNotFoundError, match="not found"):
        Recognizer.from_model(tmp_path / "missing.keras")


def test_resume_refuses_a_checkpoint_trained_on_other_characters(tmp_path):
    cfg = training.recipe("fast", model_size="tiny")
    act, train = training.build_training_model(cfg, 11, spec={"chars": "0123456789", "max_stretch": 2.0})
    (tmp_path / "checkpoints").mkdir()
    train.save(tmp_path / "checkpoints" / "last.keras")
    (tmp_path / "checkpoints" / "state.json").write_text(json.dumps({"epoch": 1, "steps": 5}))
    with pytest.raises(ValueError, match="other characters"):
        training.build_or_resume(tmp_path, cfg, 11, spec={"chars": "abcdefghij", "max_stretch": 2.0})
    assert training.build_or_resume(tmp_path, cfg, 11, spec={"chars": "0123456789", "max_stretch": 2.0}).initial_epoch == 1


def test_early_stopping_stops_on_the_val_loss_decoded_metrics_logs(tiny_shards):
    from crnn_utils import datasets

    cfg = training.recipe("fast", model_size="tiny")
    act, train = training.build_training_model(cfg, CS.num_classes)
    ds = datasets.make_dataset(datasets.shard_paths(tiny_shards, "train"), 16, 16, CS.blank, repeat=True)

    class WorseEachEpoch(keras.callbacks.Callback):  # stands where DecodedMetrics stands: before EarlyStopping
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = 1.0 + epoch

    hist = train.fit(ds, steps_per_epoch=1, epochs=10, verbose=0,
                     callbacks=[WorseEachEpoch(), keras.callbacks.EarlyStopping("val_loss", patience=2)])
    assert len(hist.history["loss"]) == 3  # epoch 1 is the best; two more without improvement, then stop


def test_clipnorm_bounds_the_gradient_norm():
    cfg = training.recipe("fast", model_size="tiny")
    assert cfg["clipnorm"] == 5.0
    act, train = training.build_training_model(cfg, CS.num_classes)
    assert train.optimizer.clipnorm == 5.0
    grads = [keras.ops.ones((10, 10)) * 100.0, keras.ops.ones((3,)) * 100.0]
    clipped = train.optimizer._clip_gradients(grads)
    # Keras's clipnorm bounds each variable's gradient on its own (global_clipnorm would bound them together).
    norms = [float(np.linalg.norm(keras.ops.convert_to_numpy(g))) for g in clipped]
    assert norms == pytest.approx([5.0, 5.0], rel=1e-4)
    small = [keras.ops.ones((3,)) * 0.1]
    assert float(np.linalg.norm(keras.ops.convert_to_numpy(train.optimizer._clip_gradients(small)[0]))) == pytest.approx(
        0.1 * np.sqrt(3), rel=1e-4)  # a gradient under the bound is left as it is
    unclipped = training.build_training_model(training.recipe("seed", model_size="tiny"), CS.num_classes)[1]
    assert unclipped.optimizer.clipnorm is None


def test_mirrored_strategy_with_notebook_03s_callbacks_and_resume(tmp_path, tiny_shards):
    script = textwrap.dedent(f"""
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import json, keras, math
        from crnn_utils import datasets, training
        from crnn_utils.charset import Charset
        cs, run = Charset.seed(), {str(tmp_path)!r}
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        cfg = training.recipe("fast", model_size="tiny")
        spec = {{"chars": cs.chars, "max_stretch": 2.0}}
        ds = datasets.make_dataset(datasets.shard_paths({str(tiny_shards)!r}, "train"), 16, 16, cs.blank, repeat=True,
                                   augment=True, seed=0)
        val_x, val_labels = training.validation_arrays(
            datasets.make_dataset(datasets.shard_paths({str(tiny_shards)!r}, "val"), 16, 16, cs.blank), 0, cs)
        for epochs in (1, 2):   # the second pass resumes under the strategy
            start = training.build_or_resume(run, cfg, cs.num_classes, strategy=strategy, spec=spec,
                                             monitor="folder_word_acc")
            best = training.BestCheckpoint(start.act, run + "/checkpoints/best.keras", best=start.best,
                                           monitor="folder_word_acc")
            schedule = training.Schedule(cfg, total_steps=4, spent_minutes=start.minutes_spent)
            cbs = [training.DecodedMetrics(start.act, val_x, val_labels, cs, verbose=False),
                   training.FolderAccuracy(start.act, val_x, val_labels, cs, verbose=False), best,
                   training.ResumeState(run + "/checkpoints", best, schedule, every_steps=1),
                   keras.callbacks.CSVLogger(run + "/history.csv", append=start.initial_epoch > 0), schedule]
            hist = start.train.fit(ds, steps_per_epoch=2, epochs=epochs, initial_epoch=start.initial_epoch,
                                   callbacks=cbs, verbose=0)
            assert math.isfinite(hist.history["loss"][0]) and "folder_word_acc" in hist.history
        state = json.loads(open(run + "/checkpoints/state.json").read())
        print("REPLICAS", strategy.num_replicas_in_sync, "STEPS", state["steps"], "EPOCH", state["epoch"])
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "REPLICAS 2 STEPS 4 EPOCH 2" in out.stdout
    assert (tmp_path / "checkpoints" / "best.keras").is_file()
    assert Recognizer.from_model(tmp_path / "checkpoints" / "best.keras").charset == CS


def test_mixed_float16_trains_saves_and_reads_on_the_cpu(tmp_path, tiny_shards):
    script = textwrap.dedent(f"""
        import keras, math, numpy as np
        keras.mixed_precision.set_global_policy("mixed_float16")   # what notebook 03 does for precision="float16"
        from crnn_utils import datasets, training
        from crnn_utils.charset import Charset
        from crnn_utils.recognizer import Recognizer
        cs = Charset.seed()
        cfg = training.recipe("fast", model_size="tiny")
        start = training.build_or_resume({str(tmp_path)!r}, cfg, cs.num_classes, spec={{"chars": cs.chars, "max_stretch": 2.0}})
        ds = datasets.make_dataset(datasets.shard_paths({str(tiny_shards)!r}, "train"), 16, 16, cs.blank, repeat=True)
        hist = start.train.fit(ds, steps_per_epoch=3, epochs=1, verbose=0)
        assert math.isfinite(hist.history["loss"][0]), hist.history
        assert start.act.get_layer("conv1").compute_dtype == "float16" and start.act.output.dtype == "float32"
        start.act.save({str(tmp_path / 'best.keras')!r})
        probs = Recognizer.from_model({str(tmp_path / 'best.keras')!r}).probabilities([np.zeros((32, 64), np.uint8)])
        assert np.isfinite(probs).all() and np.allclose(probs.sum(-1), 1, atol=1e-2)
        print("LOSS", hist.history["loss"][0])
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "LOSS" in out.stdout


def test_a_resumed_run_counts_its_earlier_minutes_in_the_history():
    act, train = training.build_training_model(training.recipe("fast", model_size="tiny"), CS.num_classes)
    images = np.zeros((2, 32, 128, 1), np.float32)
    metrics = training.DecodedMetrics(act, images, ["ab", "cd"], CS, verbose=False, spent_minutes=27.5)
    metrics.set_model(train)
    metrics.on_train_begin()
    logs = {}
    metrics.on_epoch_end(0, logs)
    assert 27.5 <= logs["minutes"] < 28.5  # the accuracy-against-minutes plot continues where the run stopped
