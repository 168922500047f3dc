"""Training: recipes, resume, time budget, NaN guard, fine-tuning, MirroredStrategy on two logical CPUs."""
import json
import math
import time
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from crnn_utils import datasets, training
from crnn_utils.charset import Charset

pytestmark = pytest.mark.training  # the training tier: `pytest -m "not training"` skips it

CS = Charset.seed()
BATCH, MAX_LEN, STEPS = 16, 16, 2


def _train_ds(data_dir):
    return datasets.make_dataset(datasets.shard_paths(data_dir, "train"), BATCH, MAX_LEN, CS.blank,
                                 shuffle=True, repeat=True, seed=0)


def _val_ds(data_dir):
    return datasets.make_dataset(datasets.shard_paths(data_dir, "val"), BATCH, MAX_LEN, CS.blank)


def _fit(run_dir, data_dir, epochs, cfg=None, init_from=""):
    """What notebook 03 does, in miniature; returns (act, history rows, initial_epoch, note)."""
    keras.utils.set_random_seed(0)
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg = cfg or training.recipe("fast", model_size="tiny")
    start = training.build_or_resume(run_dir, cfg, CS.num_classes, init_from=init_from)
    act, train, initial = start.act, start.train, start.initial_epoch
    best_cb = training.BestCheckpoint(act, run_dir / "checkpoints" / "best.keras", best=start.best)
    schedule = training.Schedule(cfg, total_steps=epochs * STEPS, spent_minutes=start.minutes_spent)
    speed = training.Throughput(BATCH, *start.timed)
    val_x, val_labels = training.validation_arrays(_val_ds(data_dir), 0, CS)
    cbs = [speed, training.DecodedMetrics(act, val_x, val_labels, CS, verbose=False), best_cb,
           training.ResumeState(run_dir / "checkpoints", best_cb, schedule, speed=speed, init_from=init_from),
           keras.callbacks.CSVLogger(str(run_dir / "history.csv"), append=initial > 0), schedule]
    if initial < epochs:
        train.fit(_train_ds(data_dir), steps_per_epoch=STEPS, epochs=epochs, initial_epoch=initial,
                  callbacks=cbs, verbose=0, shuffle=False)
    rows = (run_dir / "history.csv").read_text().strip().splitlines()[1:]
    return act, rows, initial, start.note


def test_recipes_and_errors():
    assert training.recipe("seed")["model_size"] == "seed"
    assert training.recipe("fast", learning_rate=None)["learning_rate"] == training.RECIPES["fast"]["learning_rate"]
    with pytest.raises(ValueError, match="recipe must be one of"):
        training.recipe("fastest")
    with pytest.raises(ValueError, match="batch_size=100 is larger than the 50"):
        training.check_training_data({"train": 50, "val": 5}, 100)
    with pytest.raises(ValueError, match="only 0 training images"):
        training.check_training_data({"train": 0, "val": 5}, 8)
    with pytest.raises(FileNotFoundError, match="01_dataset_preparation"):
        datasets.load_dataset_info("/nonexistent/run/data")


def test_schedule_warms_up_then_anneals_over_steps_or_minutes_whichever_ends_first():
    cfg = training.recipe("fast", learning_rate=1e-3, warmup_steps=10)
    by_steps = training.Schedule(cfg, total_steps=110)
    lr = [by_steps.rate(s, 0.0) for s in (0, 5, 10, 60, 110, 500)]
    assert lr[0] == pytest.approx(1e-4) and lr[0] < lr[1] < lr[2] == pytest.approx(1e-3)
    assert lr[3] == pytest.approx(0.525e-3) and lr[4] == pytest.approx(0.05e-3) == lr[5]
    # With a 10-minute budget, 5 minutes in is half-way even if only a tenth of the steps are done.
    by_time = training.Schedule(cfg, total_steps=110, minutes=10)
    assert by_time.rate(20, 300.0) == pytest.approx(0.525e-3)
    assert by_time.rate(60, 60.0) == pytest.approx(lr[3])          # steps ahead of time: steps decide
    assert by_time.rate(20, 600.0) == pytest.approx(0.05e-3)       # budget spent: fully annealed
    assert training.Schedule(training.recipe("seed"), total_steps=10, minutes=1).rate(9, 59.0) == 1e-3
    with pytest.raises(ValueError, match="schedule must be"):
        training.Schedule({**cfg, "schedule": "step"}, total_steps=10)


def test_resume_reaches_same_epoch_count_as_uninterrupted(tmp_path, tiny_shards):
    # Uninterrupted: 3 epochs in one go.
    _, rows_full, _, _ = _fit(tmp_path / "full", tiny_shards, epochs=3)
    # Interrupted: stop after epoch 1, then re-run asking for 3.
    _, rows_1, initial_1, _ = _fit(tmp_path / "resumed", tiny_shards, epochs=1)
    state = json.loads((tmp_path / "resumed" / "checkpoints" / "state.json").read_text())
    assert state["epoch"] == 1 and initial_1 == 0 and len(rows_1) == 1
    assert training.resumable_steps(tmp_path / "resumed" / "checkpoints") == STEPS  # where the warp ramp resumes
    assert training.resumable_steps(tmp_path / "nothing_here") == 0
    (tmp_path / "resumed" / "checkpoints" / "state.json").write_text(json.dumps({"epoch": 1}))  # as older runs wrote it
    assert training.resumable_steps(tmp_path / "resumed" / "checkpoints") == 0
    (tmp_path / "resumed" / "checkpoints" / "state.json").write_text(json.dumps(state))
    _, rows_2, initial_2, note = _fit(tmp_path / "resumed", tiny_shards, epochs=3)
    assert initial_2 == 1 and "resumed" in note
    assert len(rows_2) == len(rows_full) == 3
    assert [r.split(",")[0] for r in rows_2] == ["0", "1", "2"]
    # The optimizer state came back too: its step counter continued from epoch 1's.
    train, _ = training.load_resume_state(tmp_path / "resumed" / "checkpoints")
    assert int(train.optimizer.iterations.numpy()) == 3 * STEPS
    # best.keras is the inference model and loads in safe mode.
    best = keras.models.load_model(tmp_path / "resumed" / "checkpoints" / "best.keras")
    assert best.output_shape == (None, 31, CS.num_classes)


def test_resume_carries_the_speed_and_the_origin(tmp_path, tiny_shards):
    """A resumed run's images/s covers all its calls, and state.json remembers what its weights started from."""
    _fit(tmp_path / "run", tiny_shards, epochs=1)
    state = json.loads((tmp_path / "run" / "checkpoints" / "state.json").read_text())
    assert state["init_from"] == "" and state["timed_images"] == STEPS * BATCH and state["timed_seconds"] > 0
    start = training.build_or_resume(tmp_path / "run", training.recipe("fast", model_size="tiny"), CS.num_classes)
    assert start.timed == (STEPS * BATCH, pytest.approx(state["timed_seconds"], abs=1e-3))
    assert training.Throughput(BATCH, *start.timed).images_per_second > 0   # a call that trains nothing keeps it
    _fit(tmp_path / "run", tiny_shards, epochs=2)
    assert json.loads((tmp_path / "run" / "checkpoints" / "state.json").read_text())["timed_images"] == 2 * STEPS * BATCH
    assert training.resumed_origin(tmp_path / "run" / "checkpoints") == ""
    assert training.resumed_origin(tmp_path / "nothing") is None


def test_resume_refuses_a_checkpoint_of_another_model(tmp_path, tiny_shards):
    # Notebook 02 re-run with another model_size (or 01 with another charset), then 03 on the same run_dir: resuming
    # would train the old model under the new name.
    _fit(tmp_path / "run", tiny_shards, epochs=1)
    with pytest.raises(ValueError, match="holds another model .* Delete .*checkpoints to start over"):
        training.build_or_resume(tmp_path / "run", training.recipe("fast", model_size="cpu"), CS.num_classes)
    with pytest.raises(ValueError, match=f"{CS.num_classes + 1} classes"):
        training.build_or_resume(tmp_path / "run", training.recipe("fast", model_size="tiny"), CS.num_classes + 1)
    with pytest.raises(ValueError, match="holds another model"):  # same weights, but the seed recipe's softmax model
        training.build_or_resume(tmp_path / "run", training.recipe("seed", model_size="tiny"), CS.num_classes)
    start = training.build_or_resume(tmp_path / "run", training.recipe("fast", model_size="tiny"), CS.num_classes)
    assert start.initial_epoch == 1


def test_schedule_stops_at_the_planned_steps_mid_epoch(tmp_path, tiny_shards):
    cfg = training.recipe("fast", model_size="tiny")
    act, train = training.build_training_model(cfg, CS.num_classes)
    schedule = training.Schedule(cfg, total_steps=7)
    hist = train.fit(_train_ds(tiny_shards), steps_per_epoch=5, epochs=3, callbacks=[schedule], verbose=0,
                     shuffle=False)
    assert len(hist.history["loss"]) == 2 and schedule.step == 7 and not schedule.hit
    assert int(keras.ops.convert_to_numpy(train.optimizer.iterations)) == 7


def test_schedule_sets_the_optimizer_rate_and_stops_at_the_time_budget(tmp_path, tiny_shards):
    cfg = training.recipe("fast", model_size="tiny", warmup_steps=0)
    act, train = training.build_training_model(cfg, CS.num_classes)
    schedule = training.Schedule(cfg, total_steps=100, minutes=1e-9)
    hist = train.fit(_train_ds(tiny_shards), steps_per_epoch=50, epochs=5, callbacks=[schedule], verbose=0,
                     shuffle=False)
    assert schedule.hit and len(hist.history["loss"]) == 1 and schedule.step == 1
    # The budget was spent before the first step: the rate applied is the annealed floor.
    lr = float(keras.ops.convert_to_numpy(train.optimizer.learning_rate))
    assert lr == pytest.approx(0.05 * cfg["learning_rate"], rel=1e-5)


def test_resume_carries_the_minutes_spent(tmp_path, tiny_shards):
    _fit(tmp_path / "run", tiny_shards, epochs=1)
    state = json.loads((tmp_path / "run" / "checkpoints" / "state.json").read_text())
    assert 0 < state["minutes"] < 5
    start = training.build_or_resume(tmp_path / "run", training.recipe("fast", model_size="tiny"), CS.num_classes)
    assert start.initial_epoch == 1 and start.minutes_spent == pytest.approx(state["minutes"])
    spent = training.Schedule(training.recipe("fast"), total_steps=10, minutes=state["minutes"] / 2,
                              spent_minutes=state["minutes"])
    assert not spent.budget_left
    time.sleep(0.05)   # a call that trains nothing (budget spent) reports the minutes it had, no more
    assert spent.minutes_spent == pytest.approx(state["minutes"])


def test_nan_guard_stops_and_reports(tiny_shards, capsys):
    cfg = training.recipe("fast", model_size="tiny")
    act, train = training.build_training_model(cfg, CS.num_classes)
    w = act.get_layer("logits").get_weights()
    act.get_layer("logits").set_weights([np.full_like(w[0], np.nan), w[1]])
    guard = training.NaNGuard()
    train.fit(_train_ds(tiny_shards), steps_per_epoch=5, epochs=2, callbacks=[guard], verbose=0, shuffle=False)
    assert guard.bad == (1, 0)
    assert "Loss became nan at epoch 1, batch 0" in capsys.readouterr().out


@pytest.mark.parametrize("recipe_name", ["fast", "seed"])
def test_decoded_metrics_logs_val_loss_accuracy_cer_blank_share(tiny_shards, recipe_name):
    cfg = training.recipe(recipe_name, model_size="tiny")
    act, train = training.build_training_model(cfg, CS.num_classes)
    x, labels = training.validation_arrays(_val_ds(tiny_shards), 0, CS)
    cb = training.DecodedMetrics(act, x, labels, CS, verbose=False, batch_size=5)  # several batches, a ragged last one
    cb.set_model(train)
    logs = {}
    cb.on_epoch_end(0, logs)
    assert set(logs) >= {"val_loss", "val_word_acc", "val_cer", "blank_share", "lr"}
    assert 0 <= logs["val_word_acc"] <= 1 and 0 <= logs["blank_share"] <= 1 and logs["val_cer"] >= 0
    # The loss the checkpoint watches is what Keras's own validation would report on the same images.
    ids = np.asarray(CS.pad(labels, MAX_LEN), np.int32)
    keras_loss = train.evaluate(x, ids, batch_size=len(x), verbose=0)
    assert logs["val_loss"] == pytest.approx(keras_loss, rel=1e-4)


def test_fine_tune_with_a_different_charset(tmp_path, tiny_shards):
    act, _, _, _ = _fit(tmp_path / "base", tiny_shards, epochs=1)
    cfg = training.recipe("fast", model_size="tiny")
    start = training.build_or_resume(tmp_path / "ft", cfg, num_classes=11,
                                     init_from=str(tmp_path / "base" / "checkpoints" / "best.keras"))
    new_act = start.act
    assert "rebuilt for the new charset: ['logits']" in start.note
    np.testing.assert_array_equal(new_act.get_layer("conv1").get_weights()[0], act.get_layer("conv1").get_weights()[0])
    np.testing.assert_array_equal(new_act.get_layer("blstm2").get_weights()[0],
                                  act.get_layer("blstm2").get_weights()[0])
    assert new_act.output_shape == (None, 31, 11)
    with pytest.raises(FileNotFoundError, match="init_from"):
        training.build_or_resume(tmp_path / "x", cfg, 11, init_from=str(tmp_path / "missing.keras"))


def test_fine_tuning_maps_the_classifier_by_character_not_by_position() -> None:
    from crnn_utils.model import build_named, logits_model

    keras.utils.set_random_seed(0)
    source = build_named("tiny", num_classes=4, chars="abc")
    kernel, bias = source.get_layer("logits").get_weights()
    rng = np.random.default_rng(0)  # distinct columns, so a column in the wrong place shows
    source.get_layer("logits").set_weights([rng.normal(0, 1, kernel.shape).astype(np.float32),
                                            rng.normal(0, 1, bias.shape).astype(np.float32)])
    x = rng.random((2, 32, 128, 1)).astype(np.float32)
    before = np.asarray(logits_model(source)(x, training=False))
    # The same characters in another order (charset="auto" sorts them): every class keeps its character's weights.
    reordered = build_named("tiny", num_classes=4, chars="cab")
    copied, note = training.transfer_weights(source, reordered)
    after = np.asarray(logits_model(reordered)(x, training=False))
    assert "logits" in copied and note == "classifier: 3 of 3 characters kept from the source model"
    for j, c in enumerate("cab"):
        np.testing.assert_allclose(after[..., j], before[..., "abc".index(c)], atol=1e-5)
    np.testing.assert_allclose(after[..., 3], before[..., 3], atol=1e-5)  # the blank
    # A charset with a character more: the known ones and the blank keep theirs, the new one starts fresh.
    wider = build_named("tiny", num_classes=5, chars="abcä")
    fresh = wider.get_layer("logits").get_weights()[0][:, 3].copy()
    copied, note = training.transfer_weights(source, wider)
    out = np.asarray(logits_model(wider)(x, training=False))
    np.testing.assert_allclose(out[..., [0, 1, 2, 4]], before, atol=1e-5)
    np.testing.assert_array_equal(wider.get_layer("logits").get_weights()[0][:, 3], fresh)
    assert note == "classifier: 3 of 4 characters kept from the source model, 1 new (ä)"


def test_folder_accuracy_scores_words_of_another_alphabet_whole(monkeypatch) -> None:
    # Under the letters-and-digits protocol "окно" has nothing left, so any reading would count as right.
    cs = Charset("абкно")
    def spelled(words):
        return np.stack([np.eye(cs.num_classes)[cs.encode(w) + [cs.blank] * (31 - len(w))] for w in words])
    monkeypatch.setattr(training, "batched", lambda forward, images, batch_size=256: spelled(["окно", "бак"]))
    callback = training.FolderAccuracy(None, np.zeros((2, 32, 128, 1), np.float32), ["окно", "кот"], cs,
                                       verbose=False)
    logs = {}
    callback._forward = object()  # batched is replaced: no model to trace
    callback.on_epoch_end(0, logs)
    assert logs["folder_word_acc"] == 0.5
    latin = training.FolderAccuracy(None, np.zeros((1, 32, 128, 1), np.float32), ["Ok-1"], Charset("Ok1-"), verbose=False)
    assert latin.alnum and not callback.alnum


def test_seed_recipe_trains_on_softmax_outputs(tiny_shards):
    cfg = training.recipe("seed", model_size="tiny")
    act, train = training.build_training_model(cfg, CS.num_classes)
    assert train is act and isinstance(train.loss, training.SeedCTCLoss)
    hist = train.fit(_train_ds(tiny_shards), steps_per_epoch=2, epochs=1, verbose=0, shuffle=False)
    assert math.isfinite(hist.history["loss"][0])


def test_fused_batch_norm_layer_gradients_match_keras():
    # One layer, the shapes the `cpu` model gives its batch norms, ReLU-like inputs: the fused op's output and its
    # gradients (input, gamma, beta) agree with Keras's own BatchNormalization to float32 round-off (sums of 8k terms).
    rng = np.random.default_rng(0)
    for shape in [(8, 16, 64, 16), (8, 4, 32, 64), (8, 2, 32, 128)]:
        x = tf.constant(np.maximum(rng.normal(size=shape), 0).astype(np.float32))
        g = tf.constant(rng.normal(size=shape).astype(np.float32))
        plain, fused = keras.layers.BatchNormalization(), keras.layers.BatchNormalization()
        assert training.fuse_batch_norms(keras.Sequential([keras.Input(shape[1:]), fused])) == 1
        plain.build(shape)
        fused.gamma.assign(rng.uniform(0.5, 1.5, shape[-1]).astype(np.float32))
        plain.gamma.assign(fused.gamma.numpy())
        grads = []
        for layer in (plain, fused):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x, training=True)
                loss = tf.reduce_sum(y * g)
            grads.append([y] + tape.gradient(loss, [x, layer.gamma, layer.beta]))
        for a, b in zip(*grads):
            np.testing.assert_allclose(b.numpy(), a.numpy(), atol=1e-4 * float(tf.reduce_max(tf.abs(a))))


def test_fused_batch_norms_train_like_keras_and_save_plain_layers(tmp_path):
    # Two copies of the `cpu` model with the same weights, one fused: in training mode the conv features, their
    # gradients and the moving statistics must agree with Keras's own BatchNormalization; files stay plain Keras.
    # Through a ReLU a gradient is discontinuous: a pre-activation within float32 round-off of zero sends a full-size
    # gradient one way in one model and the other way in the other, so a few entries of the conv kernels' gradients
    # can differ by far more than round-off. On an AVX-512 Xeon that happened for 4 of 6 initial seeds; on an AMD
    # EPYC with AVX512-BF16 for seed 0 (11 of conv 1's 144 kernel entries off, the worst by 77 %), while the whole
    # gradient of every variable stayed within 1.7e-3 of Keras's (relative norm; 1e-5 where no unit flips). A wrong
    # gradient formula, such as batch statistics treated as constants, is off by tens of percent, so each variable's
    # gradient is compared as a whole. The layer test above checks the fused op value by value, where no ReLU follows.
    from crnn_utils.model import build_named

    keras.utils.set_random_seed(0)
    plain, fused = build_named("cpu"), build_named("cpu")
    fused.set_weights(plain.get_weights())
    assert training.fuse_batch_norms(fused) == 6 and training.fuse_batch_norms(fused) == 0  # once only
    x = tf.constant(np.random.default_rng(0).random((8, 32, 128, 1), dtype=np.float32))
    grads, feats = [], []
    for model in (plain, fused):
        features = keras.Model(model.input, model.get_layer("squeeze").output)
        with tf.GradientTape() as tape:
            f = features(x, training=True)
            loss = tf.reduce_sum(f ** 2)
        feats.append(f.numpy())
        grads.append(tape.gradient(loss, features.trainable_variables))
    np.testing.assert_allclose(feats[1], feats[0], atol=1e-3 * np.abs(feats[0]).max())
    for g_plain, g_fused in zip(*grads):
        assert float(tf.norm(g_fused - g_plain) / tf.norm(g_plain)) < 1e-2
    for a, b in zip(plain.layers, fused.layers):
        if isinstance(a, keras.layers.BatchNormalization):
            assert not np.allclose(a.moving_variance.numpy(), 1.0)  # the statistics really moved
            np.testing.assert_allclose(b.moving_mean.numpy(), a.moving_mean.numpy(), atol=1e-6)
            np.testing.assert_allclose(b.moving_variance.numpy(), a.moving_variance.numpy(), atol=1e-6)
    np.testing.assert_allclose(fused(x).numpy(), plain(x).numpy(), atol=1e-6)  # inference: Keras's own call
    fused.save(tmp_path / "fused.keras")
    config = json.loads(__import__("zipfile").ZipFile(tmp_path / "fused.keras").read("config.json"))
    kinds = {layer["class_name"]: layer["module"] for layer in config["config"]["layers"] if "bn" in layer["name"]}
    assert kinds == {"BatchNormalization": "keras.layers"}


def test_bf16_convolutions_train_close_to_float32_and_save_float32_layers(tmp_path):
    # The `cpu` model with its convolutions in bfloat16 against the same weights in float32: features and gradients
    # agree to bfloat16's precision (8 significant bits), the values between layers stay float32, and a saved file
    # loads as plain float32 layers that compute exactly what the float32 model computes.
    from crnn_utils.model import build_named

    plain, low = build_named("cpu"), build_named("cpu")
    low.set_weights(plain.get_weights())
    assert training.bf16_convolutions(low) == 7 and training.bf16_convolutions(low) == 0  # once only
    x = tf.constant(np.random.default_rng(0).random((8, 32, 128, 1), dtype=np.float32))
    r = tf.constant(np.random.default_rng(1).normal(size=(8, 31, 128)).astype(np.float32))
    feats, grads = [], []
    for model in (plain, low):
        features = keras.Model(model.input, model.get_layer("squeeze").output)
        with tf.GradientTape() as tape:
            f = features(x, training=True)
            loss = tf.reduce_sum(f * r)  # a random direction: sum(f ** 2) is nearly constant after batch norm
        feats.append(f)
        grads.append(tf.concat([tf.reshape(g, [-1]) for g in tape.gradient(loss, features.trainable_variables)], 0))
    assert feats[1].dtype == tf.float32 and grads[1].dtype == tf.float32
    assert not np.array_equal(feats[1].numpy(), feats[0].numpy())  # bfloat16 really ran
    # Whole tensors, relative: features within 5 % (measured 2.8 %). Gradients pass through seven bfloat16
    # convolutions and the batch norms' mean subtractions, which amplify rounding: they point the same way
    # (cosine 0.96 measured; a minibatch's own gradient noise is far larger) rather than agreeing value by value.
    assert float(tf.norm(feats[1] - feats[0]) / tf.norm(feats[0])) < 0.05
    cosine = float(tf.reduce_sum(grads[1] * grads[0]) / (tf.norm(grads[1]) * tf.norm(grads[0])))
    assert cosine > 0.9
    low.save(tmp_path / "low.keras")
    loaded = keras.models.load_model(tmp_path / "low.keras")
    assert {l.dtype_policy.name for l in loaded.layers if isinstance(l, keras.layers.Conv2D)} == {"float32"}
    np.testing.assert_allclose(loaded(x).numpy(), plain(x).numpy(), atol=1e-6)


def test_cpu_has_bf16_reads_amx_and_avx512_flags(tmp_path):
    def cpuinfo(flags: str) -> Path:
        path = tmp_path / "cpuinfo"
        path.write_text(f"processor\t: 0\nmodel name\t: CPU\nflags\t\t: fpu sse2 avx2 {flags}\n\n")
        return path

    assert training.cpu_has_bf16(cpuinfo("avx512f amx_bf16 amx_tile"))  # Intel Sapphire Rapids
    assert training.cpu_has_bf16(cpuinfo("avx512f avx512_bf16 avx512_vnni"))  # AMD Zen 4, Intel Cooper Lake
    assert not training.cpu_has_bf16(cpuinfo("avx512f avx512_vnni avx_vnni"))  # no bfloat16 units
    assert not training.cpu_has_bf16(cpuinfo("avx512_bf16x"))  # whole flags only
    assert not training.cpu_has_bf16(tmp_path / "missing")  # not Linux


def test_precision_mode_resolves_notebook_values(monkeypatch):
    monkeypatch.setattr(training, "cpu_has_bf16", lambda: True)
    assert training.precision_mode("auto") == "bfloat16"
    monkeypatch.setattr(training, "cpu_has_bf16", lambda: False)
    assert training.precision_mode("auto") == "float32"
    assert training.precision_mode(False) == "float32" and training.precision_mode(True) == "float16"
    assert training.precision_mode("bfloat16") == "bfloat16"
    with pytest.raises(ValueError, match="mixed_precision must be"):
        training.precision_mode("half")


def test_resolve_model_size_picks_half_where_bfloat16_is_native(monkeypatch):
    import tensorflow as tf

    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    monkeypatch.setattr(training, "cpu_has_bf16", lambda: True)
    assert training.resolve_model_size("auto") == "half"
    monkeypatch.setattr(training, "cpu_has_bf16", lambda: False)
    assert training.resolve_model_size("auto") == "cpu"
    assert training.resolve_model_size("seed") == "seed" and training.resolve_model_size("tiny") == "tiny"
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: ["GPU:0"] if kind == "GPU" else [])
    assert training.resolve_model_size("auto") == "half"


def test_build_training_model_with_bf16_convolutions_fits(tiny_shards):
    cfg = training.recipe("fast", model_size="tiny")
    act, train = training.build_training_model(cfg, CS.num_classes, precision="bfloat16")
    assert all(hasattr(l, "_crnn_float32_call") for l in act.layers if isinstance(l, keras.layers.Conv2D))
    hist = train.fit(_train_ds(tiny_shards), steps_per_epoch=2, epochs=1, verbose=0)
    assert math.isfinite(hist.history["loss"][0])
