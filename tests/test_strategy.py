"""MirroredStrategy on two logical CPU devices (run in a subprocess: devices must be split before TF starts)."""
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.training  # the training tier: `pytest -m "not training"` skips it


def test_mirrored_strategy_on_two_logical_cpus(tmp_path, tiny_shards):
    script = textwrap.dedent(f"""
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import keras, math
        from crnn_utils import datasets, training
        from crnn_utils.charset import Charset
        cs = Charset.seed()
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        assert strategy.num_replicas_in_sync == 2
        cfg = training.recipe("fast", model_size="tiny")
        start = training.build_or_resume({str(tmp_path)!r}, cfg, cs.num_classes, strategy=strategy)
        ds = datasets.make_dataset(datasets.shard_paths({str(tiny_shards)!r}, "train"), 16, 16, cs.blank, repeat=True)
        schedule = training.Schedule(cfg, total_steps=4)   # assigns the mirrored learning-rate variable each step
        hist = start.train.fit(ds, steps_per_epoch=2, epochs=1, verbose=0, callbacks=[schedule])
        assert math.isfinite(hist.history["loss"][0])
        print("REPLICAS", strategy.num_replicas_in_sync, "LOSS", hist.history["loss"][0])
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "REPLICAS 2" in out.stdout
