"""One training step, four ways: what TensorFlow's fused batch-norm and C++ CTC kernels, and bfloat16 convolutions, buy on a CPU.

  keras_ops   Keras's own BatchNormalization and keras.ops.ctc_loss (what Keras gives without the two kernels)
  ctc_kernel  ctc.ctc_loss through TensorFlow's CTC kernel (sparse labels), Keras's batch norm
  fused_bn    the CTC kernel and training.fuse_batch_norms: notebook 03's float32 training
  bf16_convs  fused_bn plus training.bf16_convolutions: notebook 03's default on a CPU with AMX or AVX512-BF16

The four models get the same weights and one in-memory batch, and their steps are interleaved one by one
(a b c d a b c d ...), so a machine whose speed drifts over seconds or minutes slows all four alike. Reports the
median images/s of each and its interquartile range. On a CPU without either, bf16_convs measures how much slower
bfloat16 is there (which is why mixed_precision="auto" keeps float32 on such CPUs). Usage:
  python benchmarks/bench_step.py [--model-size cpu] [--batch-size 32] [--steps 80] [--op-determinism] [--out PATH]
Writes benchmarks/results/MACHINE/step_kernels.json (one entry per model size; other sizes already there are kept).
`make bench` runs it for the cpu (80 steps) and half (30 steps) sizes.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from run_all import cpu_info, machine_dir  # noqa: E402  (this folder is on sys.path when the script runs)
VARIANTS = ("keras_ops", "ctc_kernel", "fused_bn", "bf16_convs")


def build_variants(model_size: str, num_classes: int = 63) -> dict:
    """The four compiled training models, with the same initial weights."""
    import keras

    from crnn_utils import ctc, training
    from crnn_utils.model import build_named, logits_model

    cfg = training.recipe("fast", model_size=model_size)
    models = {}
    for name in VARIANTS:
        keras.utils.set_random_seed(0)
        # build_training_model's steps, with the batch norms fused and the convolutions in bfloat16 where the
        # variant says so
        act = build_named(model_size, num_classes=num_classes)
        if name in ("fused_bn", "bf16_convs"):
            training.fuse_batch_norms(act)
        if name == "bf16_convs":
            training.bf16_convolutions(act)
        train = logits_model(act)
        training.compile_training_model(train, cfg, num_classes, jit_compile=False)
        if name == "keras_ops":
            train.compile(optimizer=train.optimizer, loss=ctc.CTCLoss(num_classes - 1, kernel=False))
        models[name] = train
    return models


def one_batch(batch_size: int, blank: int = 62, max_len: int = 23, seed: int = 0):
    """Random images and random labels of 3-11 characters, padded with the blank."""
    rng = np.random.default_rng(seed)
    x = rng.random((batch_size, 32, 128, 1), dtype=np.float32)
    y = np.full((batch_size, max_len), blank, np.int32)
    for row in y:
        n = int(rng.integers(3, 12))
        row[:n] = rng.integers(0, blank, n)
    return x, y


def measure(model_size: str, batch_size: int, steps: int, warmup: int = 3) -> dict:
    """Median and interquartile images/s of each variant over `steps` interleaved steps."""
    import tensorflow as tf

    models = build_variants(model_size)
    x, y = (tf.constant(a) for a in one_batch(batch_size))
    for train in models.values():
        for _ in range(warmup):
            train.train_on_batch(x, y)
    seconds = {name: [] for name in models}
    for _ in range(steps):
        for name, train in models.items():
            t = time.perf_counter()
            train.train_on_batch(x, y)
            seconds[name].append(time.perf_counter() - t)
    out = {}
    for name, s in seconds.items():
        s = np.asarray(s)
        out[name] = {"images_per_s_median": round(batch_size / float(np.median(s)), 1),
                     "images_per_s_p25": round(batch_size / float(np.percentile(s, 75)), 1),
                     "images_per_s_p75": round(batch_size / float(np.percentile(s, 25)), 1)}
    base = out["keras_ops"]["images_per_s_median"]
    for name in out:
        out[name]["speedup_vs_keras_ops"] = round(out[name]["images_per_s_median"] / base, 2)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-size", default="cpu")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=80, help="timed steps per variant")
    parser.add_argument("--op-determinism", action="store_true",
                        help="force deterministic TensorFlow kernels (notebook 03's op_determinism); saved under SIZE_op_determinism")
    parser.add_argument("--out", type=Path, help="default benchmarks/results/MACHINE/step_kernels.json")
    args = parser.parse_args(argv)
    args.out = args.out or machine_dir() / "step_kernels.json"

    import crnn_utils  # noqa: F401  (quiets TensorFlow's start-up logs)

    if args.op_determinism:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()

    result = measure(args.model_size, args.batch_size, args.steps)
    for name, r in result.items():
        print(f"{name:11s} {r['images_per_s_median']:6.1f} images/s (interquartile {r['images_per_s_p25']:.0f}-"
              f"{r['images_per_s_p75']:.0f}), {r['speedup_vs_keras_ops']:.2f}x keras_ops")
    data = json.loads(args.out.read_text()) if args.out.is_file() else {}
    from crnn_utils.training import cpu_has_bf16

    data[args.model_size + ("_op_determinism" if args.op_determinism else "")] = {
                             "batch_size": args.batch_size, "steps": args.steps,
                             "op_determinism": args.op_determinism,
                             "machine": {**cpu_info(), "bf16": cpu_has_bf16()},
                             "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "variants": result}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=2) + "\n")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
