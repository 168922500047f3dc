"""Training throughput (images/s): where does a CPU training step's time go, model or input pipeline?

Five measurements for one model size, on the same rendered words:
  a  in-memory: one real batch repeated (tf.data.Dataset.from_tensors(batch).repeat()) -> fit; the step's own rate
  b  shards:    fit on make_dataset(shards, shuffle=True, augment=True, repeat=True), as notebook 03 trains
  c  jpeg:      fit on a tf.data pipeline straight from the JPEG files (read_file -> decode_tf -> preprocess_tf)
  d  seed:      the seed's way: NumPy arrays (image, padded labels, input_length, label_length) into
                build_seed_training_model with a dummy y and loss=lambda y_true, y_pred: y_pred
  e  pipeline only: images/s the shard and the JPEG pipelines deliver when nothing trains
Pipeline overhead = 1 - b/a; the target for e is >= 5x what a train step consumes (a).

a, b and c are measured in `--repeats` interleaved rounds (a b c a b c ...); in each round every source gets one
fit call of a warm-up epoch and a timed epoch of `--steps` steps. Rates are medians over rounds; the overhead is
given both from the medians and as the median of each round's own 1 - b/a. Usage:
  python benchmarks/bench_pipeline.py [--model-size cpu|seed] [--quick]
Writes benchmarks/results/MACHINE/pipeline.json (one entry per model size; other sizes already there are kept).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_all import machine_dir  # noqa: E402  (benchmarks/run_all.py: this machine's results folder)
TARGET_RATIO = 5.0  # the input pipeline should deliver >= 5x what a train step consumes



# ---- timing ------------------------------------------------------------------------------------------------

def epoch_timer():
    """A Keras callback recording the wall seconds of every epoch of one fit call (in `.seconds`)."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.seconds: list[float] = []
            self._t = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self._t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._t)

    return EpochTimer()


def iterate_rate(ds, batches: int, repeats: int, warmup_batches: int) -> dict:
    """images/s of iterating a dataset alone: warm-up batches, then `repeats` timed runs of `batches` batches."""
    it = iter(ds)
    t0 = time.perf_counter()
    for _ in range(warmup_batches):
        next(it)
    warm = time.perf_counter() - t0
    rates = []
    for _ in range(repeats):
        n, t = 0, time.perf_counter()
        for _ in range(batches):
            n += int(next(it)[0].shape[0])
        rates.append(n / (time.perf_counter() - t))
    return summary(rates, warmup_s=warm)


def summary(rates: list[float], warmup_s: float) -> dict:
    """Median, min and max of a list of rates (images/s)."""
    return {"images_per_s": statistics.median(rates), "min": min(rates), "max": max(rates),
            "repeats": len(rates), "warmup_s": round(warmup_s, 2)}


# ---- data --------------------------------------------------------------------------------------------------

def make_data(tmp: Path, n: int, charset, width: int, seed: int = 0):
    """Render n words into MJSynth's layout and write them to shards: (records, shard paths, max label length)."""
    from crnn_utils.datasets import prepare_split, read_mjsynth, shard_paths
    from crnn_utils.model import time_steps
    from crnn_utils.synth import write_mjsynth_layout

    src = write_mjsynth_layout(tmp / "synth", {"train": n}, seed=seed, progress=False)
    records = list(read_mjsynth(src, "train"))
    stats = prepare_split(records, charset, tmp / "shards", "train", time_steps=time_steps(width), width=width,
                          progress=False)
    usable = [r for r in records if charset.skip_reason(r.label, time_steps(width)) is None]
    max_len = max(len(r.label) for r in usable)
    return usable, shard_paths(tmp / "shards", "train"), max_len, stats.as_dict()


def seed_arrays(ds, n: int, charset, max_len: int, steps: int):
    """The seed's training inputs as NumPy arrays: images float32, labels padded with the blank (float32),
    input_length (all `steps`) and label_length, from the first n examples of an un-augmented shard dataset."""
    images, labels = [], []
    for x, y in ds:
        images.append(np.asarray(x))
        labels.append(np.asarray(y))
        if sum(len(b) for b in images) >= n:
            break
    images = np.concatenate(images)[:n].astype(np.float32)
    labels = np.concatenate(labels)[:n]
    label_length = (labels != charset.blank).sum(-1, keepdims=True).astype(np.int64)
    input_length = np.full((len(images), 1), steps, np.int64)
    return [images, labels.astype(np.float32), input_length, label_length]


# ---- main --------------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> dict:
    """Run a-e for one model size, merge it into the JSON, print a summary."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-size", default="cpu", help="crnn_utils.model.MODEL_SIZES key (cpu, seed, ...)")
    ap.add_argument("--recipe", help="training recipe for a-c (default: the one whose model_size matches, else fast)")
    ap.add_argument("--n", type=int, default=2048, help="words to render")
    ap.add_argument("--batch-size", type=int, default=32, help="notebook 03's default")
    ap.add_argument("--steps", type=int, default=30, help="train steps per timed epoch")
    ap.add_argument("--repeats", type=int, default=5, help="interleaved rounds (median); at least 3 recommended")
    ap.add_argument("--warmup-batches", type=int, default=10, help="batches drawn before timing the pipeline-only rate")
    ap.add_argument("--pipeline-batches", type=int, default=100, help="batches per timed run of the pipeline-only rate")
    ap.add_argument("--jit-compile", action="store_true", help="XLA-compile the train step (notebook 03 default: off)")
    ap.add_argument("--quick", action="store_true", help="tiny settings for a smoke run (numbers meaningless)")
    ap.add_argument("--out", type=Path, help="default benchmarks/results/MACHINE/pipeline.json")
    args = ap.parse_args(argv)
    args.out = args.out or machine_dir() / "pipeline.json"
    if args.quick:
        args.n, args.batch_size, args.steps, args.warmup_batches, args.pipeline_batches = 256, 16, 1, 2, 8

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    from crnn_utils.charset import Charset
    from crnn_utils.ctc import build_seed_training_model
    from crnn_utils import datasets
    from crnn_utils.datasets import make_dataset
    from crnn_utils.model import MODEL_SIZES, build_named, time_steps
    from crnn_utils.training import RECIPES, build_training_model, recipe

    if args.model_size not in MODEL_SIZES:
        ap.error(f"--model-size must be one of {sorted(MODEL_SIZES)}")
    name = args.recipe or next((k for k, v in RECIPES.items() if v["model_size"] == args.model_size), "fast")
    cfg = recipe(name, model_size=args.model_size)
    cs, width, B = Charset.seed(), 128, args.batch_size
    steps, repeats = args.steps, args.repeats
    load_start = os.getloadavg()[0]
    keras.utils.set_random_seed(0)
    log = lambda msg: print(f"  [{args.model_size}] {msg}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        # 0. Data: rendered words as JPEG files and as shards.
        t0 = time.perf_counter()
        records, shards, max_len, prep = make_data(Path(tmp), args.n, cs, width)
        if len(records) < B * 2:
            raise SystemExit(f"only {len(records)} usable words for batch size {B}: raise --n")
        log(f"rendered + sharded {len(records)} words in {time.perf_counter() - t0:.1f} s (max label {max_len})")
        # Timed as notebook 03 trains from its third pass over the words on, the geometric warp included.
        n, seen = len(records), 2 * len(records)
        shard_ds = lambda: make_dataset(shards, B, max_len, cs.blank, width=width, shuffle=True, augment=True, repeat=True,
                                        pass_images=n, images_seen=seen)
        jpeg_ds = lambda: datasets.make_file_dataset(records, cs, B, max_len, width=width, shuffle=True, augment=True,
                                                     repeat=True, images_seen=seen)
        rows: dict[str, dict] = {}

        # a/b/c: one compiled training model (the recipe's loss, optimizer and clipping) fed three ways.
        _, train = build_training_model(cfg, cs.num_classes, input_width=width,
                                        jit_compile=args.jit_compile)
        batch = next(iter(make_dataset(shards, B, max_len, cs.blank, width=width, shuffle=True, augment=True,
                                       pass_images=n, images_seen=seen)))
        in_memory = tf.data.Dataset.from_tensors(batch).repeat()
        # Interleaved rounds (a, b, c, a, b, c, ...): the machine's drift over minutes (other load, clocks) then
        # hits every source alike, and each round gives its own ratio b/a. Every fit call warms up one epoch
        # (iterator, shuffle and prefetch buffers; tracing only the first time) and times the next.
        sources = {"a_in_memory": in_memory, "b_shards": shard_ds(), "c_jpeg": jpeg_ds()}
        per_round: dict[str, list[float]] = {key: [] for key in sources}
        warmups: dict[str, float] = {}
        for _ in range(repeats):
            for key, data in sources.items():
                timer = epoch_timer()
                train.fit(data, epochs=2, steps_per_epoch=steps, verbose=0, callbacks=[timer], shuffle=False)
                per_round[key].append(steps * B / timer.seconds[1])
                warmups.setdefault(key, timer.seconds[0])
        for key in sources:
            rows[key] = summary(per_round[key], warmup_s=warmups[key])
            log(f"{key:12s} {rows[key]['images_per_s']:8.1f} images/s")
        round_overhead = [1 - b / a for a, b in zip(per_round["a_in_memory"], per_round["b_shards"])]

        # d: the seed's way, NumPy arrays into the 4-input model with the CTC Lambda (a fresh act model).
        keras.utils.set_random_seed(0)
        act = build_named(args.model_size, num_classes=cs.num_classes, input_width=width)
        seed_train = build_seed_training_model(act, max_label_len=max_len)
        seed_train.compile(optimizer="adam", loss=lambda y_true, y_pred: y_pred, jit_compile=args.jit_compile)
        n_arrays = min(len(records), max(B, B * steps))  # one timed epoch = one pass over the arrays
        x = seed_arrays(make_dataset(shards, 256, max_len, cs.blank, width=width), n_arrays, cs, max_len, time_steps(width))
        n_arrays = len(x[0])
        y = np.zeros(n_arrays, np.float32)
        timer = epoch_timer()
        seed_train.fit(x, y, batch_size=B, epochs=1 + repeats, verbose=0, callbacks=[timer])
        rows["d_seed_numpy"] = summary([n_arrays / s for s in timer.seconds[1:]], warmup_s=timer.seconds[0])
        rows["d_seed_numpy"]["arrays"] = n_arrays
        log(f"{'d_seed_numpy':12s} {rows['d_seed_numpy']['images_per_s']:8.1f} images/s")

        # e: the two pipelines alone (no model), as fast as they can deliver.
        for key, make in (("e_pipeline_shards", shard_ds), ("e_pipeline_jpeg", jpeg_ds)):
            rows[key] = iterate_rate(make(), args.pipeline_batches, repeats, warmup_batches=args.warmup_batches)
            log(f"{key:18s} {rows[key]['images_per_s']:8.1f} images/s")

    a = rows["a_in_memory"]["images_per_s"]
    derived = {
        "pipeline_overhead_shards": 1 - rows["b_shards"]["images_per_s"] / a,  # 1 - b/a, of the medians
        "pipeline_overhead_shards_per_round": statistics.median(round_overhead),  # median of each round's 1 - b/a
        "pipeline_overhead_jpeg": 1 - rows["c_jpeg"]["images_per_s"] / a,
        "seed_numpy_vs_in_memory": rows["d_seed_numpy"]["images_per_s"] / a,
        "shards_pipeline_vs_step": rows["e_pipeline_shards"]["images_per_s"] / a,
        "jpeg_pipeline_vs_step": rows["e_pipeline_jpeg"]["images_per_s"] / a,
    }
    derived["shards_meets_target"] = derived["shards_pipeline_vs_step"] >= TARGET_RATIO
    derived["jpeg_meets_target"] = derived["jpeg_pipeline_vs_step"] >= TARGET_RATIO
    entry = {
        "model_size": args.model_size, "recipe": name, "params": int(train.count_params()),
        "batch_size": B, "steps_per_repeat": steps, "repeats": repeats, "warmup_batches": args.warmup_batches,
        "pipeline_batches": args.pipeline_batches, "n_words": len(records), "max_label_len": max_len,
        "jit_compile": args.jit_compile, "quick": args.quick, "prepare": prep,
        "tensorflow": tf.__version__, "keras": keras.__version__, "cpus": os.cpu_count(),
        "platform": platform.platform(), "load_average_start": load_start, "load_average_end": os.getloadavg()[0],
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "target_pipeline_vs_step": TARGET_RATIO, "rates": rows, **derived,
    }
    # Merge: keep other model sizes already measured into this file.
    result = {"sizes": {}}
    if args.out.is_file():
        try:
            result = json.loads(args.out.read_text())
            result.setdefault("sizes", {})
        except json.JSONDecodeError:
            pass
    result["note"] = ("images/s; a = train step on one in-memory batch, b = fit on shards, c = fit on JPEG files, "
                      "d = seed's NumPy fit, e = pipelines alone; overhead = 1 - b/a")
    result["sizes"][args.model_size] = entry
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = args.out.with_suffix(".json.tmp")
    tmp_out.write_text(json.dumps(result, indent=2) + "\n")
    tmp_out.replace(args.out)
    print(f"{args.model_size}: a {a:.1f}, b {rows['b_shards']['images_per_s']:.1f}, c {rows['c_jpeg']['images_per_s']:.1f}, "
          f"d {rows['d_seed_numpy']['images_per_s']:.1f}, e shards {rows['e_pipeline_shards']['images_per_s']:.1f}, "
          f"e jpeg {rows['e_pipeline_jpeg']['images_per_s']:.1f} images/s; overhead 1-b/a "
          f"{derived['pipeline_overhead_shards']:.1%} (per round {derived['pipeline_overhead_shards_per_round']:.1%}); saved {args.out}")
    return entry


if __name__ == "__main__":
    main()
