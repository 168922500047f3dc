"""Words/s of Recognizer (batch 1/32/256 x greedy/beam/beam_lm/lexicon) against `tesseract --psm 8` on the same rendered PNGs.

    python benchmarks/bench_recognizer.py [--run-dir runs/default] [--out PATH]

Without --run-dir the model is the seed-size architecture with random weights (speed does not depend on the weights);
`make bench` runs it that way. Writes benchmarks/results/MACHINE/recognizer.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from crnn_utils import tesseract

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_all import machine_dir  # noqa: E402  (benchmarks/run_all.py: this machine's results folder)


def render_pngs(n: int, out_dir: Path, seed: int = 0) -> tuple[list[Path], list[str]]:
    """n words from the synth lexicon's 5,000 most frequent, rendered by the synth generator and saved as PNG."""
    from crnn_utils.synth import lexicon, render_words

    rng = np.random.default_rng(seed)
    words = [lexicon()[i] for i in rng.choice(5000, n, replace=False)]
    paths = []
    for i, (word, img) in enumerate(zip(words, render_words(words, seed=seed))):
        path = out_dir / f"{i:04d}.png"
        cv2.imwrite(str(path), img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        paths.append(path)
    return paths, words


def timed(fn: Callable[[], list[str]], repeats: int, budget_s: float) -> tuple[float, int, list[str]]:
    """Median seconds of up to `repeats` runs (stopping once budget_s is spent, at least one run), runs, last texts."""
    times: list[float] = []
    texts: list[str] = []
    while len(times) < repeats and (not times or sum(times) < budget_s):
        start = time.perf_counter()
        texts = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), len(times), texts


def timeit(fn: Callable[[], object]) -> float:
    """Seconds of one call."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def accuracy(texts: list[str], words: list[str]) -> float:
    """Share of exact (case-sensitive) matches."""
    return sum(t == w for t, w in zip(texts, words)) / max(1, len(words))


def tesseract_list(paths: list[Path], list_file: Path) -> list[str]:
    """One tesseract process over a list file of images (its batch mode); pages are separated by form feeds."""
    list_file.write_text("".join(f"{p}\n" for p in paths))
    run = subprocess.run(["tesseract", str(list_file), "stdout", "--psm", "8"], capture_output=True, text=True)
    pages = run.stdout.split("\f")
    return [t.strip() for t in pages[: len(paths)]]


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark, write the JSON, print the markdown table."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--run-dir", help="load checkpoints/best.keras + data/dataset.json (default: seed-size model, random weights)")
    ap.add_argument("--words", type=int, default=256, help="words for greedy/beam/beam_lm at batch 32 and 256")
    ap.add_argument("--slow-words", type=int, default=24, help="words for the lexicon decoder (about 15 ms a word on a 2-core CPU)")
    ap.add_argument("--batch1-words", type=int, default=32, help="words for batch-1 runs (one call per word) and per-image tesseract")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--budget-s", type=float, default=10.0, help="stop repeating a row once its runs took this long")
    ap.add_argument("--out", type=Path, help="default benchmarks/results/MACHINE/recognizer.json")
    args = ap.parse_args(argv)
    args.out = args.out or machine_dir() / "recognizer.json"

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    from crnn_utils.charset import Charset
    from crnn_utils.model import build_crnn
    from crnn_utils.recognizer import Recognizer
    from crnn_utils.synth import lexicon

    load_start = os.getloadavg()[0]
    # 1. The model: a trained run, or the seed architecture with random weights (speed does not depend on weights).
    if args.run_dir:
        rec = Recognizer.from_run_dir(args.run_dir, lexicon=lexicon())
        model_note = f"trained: {args.run_dir}"
    else:
        keras.utils.set_random_seed(0)
        rec = Recognizer(build_crnn(), Charset.seed(), lexicon=lexicon())
        model_note = "build_crnn() seed size, random weights"

    # 2. One image through the model: model.predict's per-call setup vs the Recognizer's traced tf.function.
    x = np.random.default_rng(0).random((1, *rec.model.input_shape[1:]), dtype=np.float32)
    call_ms = {}
    for name, call in (("model.predict", lambda: rec.model.predict(x, verbose=0)),
                       ("model.predict_on_batch", lambda: rec.model.predict_on_batch(x)),
                       ("Recognizer tf.function", lambda: rec._infer(tf.constant(x)).numpy())):
        call()
        call_ms[name] = 1000 * statistics.median(timeit(call) for _ in range(7))
    print("  batch-1 model call ms:", {k: round(v, 1) for k, v in call_ms.items()}, file=sys.stderr)

    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        # 3. The same PNG files for every engine.
        n_all = max(args.words, args.slow_words, args.batch1_words)
        paths, words = render_pngs(n_all, Path(tmp))
        rec.recognize(paths[:2], batch_size=1)  # trace the tf.function once

        # 4. Recognizer: batch 1 = one recognize() call per word; batch B = one call over the list.
        for decoder in ("greedy", "beam", "beam_lm", "lexicon"):
            for batch in (1, 32, 256):
                n = args.slow_words if decoder == "lexicon" else args.batch1_words if batch == 1 else args.words
                sub = paths[:n]
                if batch == 1:
                    fn = lambda sub=sub, d=decoder: [rec.recognize([p], decoder=d, batch_size=1)[0].text for p in sub]
                else:
                    fn = lambda sub=sub, d=decoder, b=batch: [r.text for r in rec.recognize(sub, decoder=d, batch_size=b)]
                seconds, runs, texts = timed(fn, args.repeats, args.budget_s)
                rows.append({"engine": "crnn Recognizer", "decoder": decoder, "batch_size": batch, "n_words": n,
                             "repeats": runs, "seconds": seconds, "words_per_s": n / seconds,
                             "accuracy": accuracy(texts, words[:n])})
                print(f"  {decoder:8s} batch {batch:3d}: {n / seconds:8.1f} words/s ({runs} runs)", file=sys.stderr)

        # 5. Tesseract, when installed: a process per image, and one process over a list file.
        tess_version = tesseract.version()
        if tess_version:
            sub = paths[: args.batch1_words]
            for mode, fn, n in (
                ("per image", lambda: tesseract.read_words(sub), len(sub)),
                ("list file", lambda: tesseract_list(paths[: args.words], Path(tmp) / "list.txt"), args.words),
            ):
                seconds, runs, texts = timed(fn, args.repeats, args.budget_s)
                rows.append({"engine": "tesseract --psm 8", "decoder": mode, "batch_size": 1 if mode == "per image" else n,
                             "n_words": n, "repeats": runs, "seconds": seconds, "words_per_s": n / seconds,
                             "accuracy": accuracy(texts, words[:n])})
        else:
            print("tesseract not found: skipping it (apt-get install tesseract-ocr)", file=sys.stderr)

    # 6. Ratio against per-image tesseract (the usual CLI call), when measured.
    ref = next((r["words_per_s"] for r in rows if r["engine"].startswith("tesseract") and r["decoder"] == "per image"), None)
    for r in rows:
        r["vs_tesseract_per_image"] = None if ref is None else r["words_per_s"] / ref
    result = {
        "model": model_note, "params": int(rec.model.count_params()),
        "tensorflow": tf.__version__, "keras": keras.__version__, "tesseract": tess_version,
        "cpus": os.cpu_count(), "platform": platform.platform(),
        "load_average_start": load_start, "load_average_end": os.getloadavg()[0],
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "note": "Recognizer reads the PNG files itself (decode + preprocess + model + decoder), as tesseract does.",
        "batch1_model_call_ms": call_ms,
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(markdown(result))
    return result


def markdown(result: dict) -> str:
    """The rows as a markdown table."""
    lines = [f"Model: {result['model']} ({result['params']:,} params); CPUs {result['cpus']}, "
             f"load {result['load_average_start']:.1f} -> {result['load_average_end']:.1f}", "",
             "Batch-1 model call (ms): " + ", ".join(f"{k} {v:.1f}" for k, v in result["batch1_model_call_ms"].items()), "",
             "| engine | decoder / mode | batch | words | runs | words/s | x tesseract | exact |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in result["rows"]:
        ratio = "-" if r["vs_tesseract_per_image"] is None else f"{r['vs_tesseract_per_image']:.2f}"
        lines.append(f"| {r['engine']} | {r['decoder']} | {r['batch_size']} | {r['n_words']} | {r['repeats']} | "
                     f"{r['words_per_s']:.1f} | {ratio} | {r['accuracy']:.0%} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
