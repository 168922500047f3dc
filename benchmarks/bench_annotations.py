"""Does read_mjsynth read in flat memory? Peak Python allocations and speed over a 3M- and a 300k-line annotation file.

MJSynth's files hold ~9M lines; read_mjsynth streams them and records every path it passed (to skip an image listed
twice, or listed by an earlier split) on disk, so the peak of Python allocations (tracemalloc) should not grow with
the file. One line in a hundred repeats an earlier one, so the duplicate_entry skips are counted too.

Usage: python benchmarks/bench_annotations.py [--lines 3000000] [--small 300000] [--out PATH]
Writes benchmarks/results/MACHINE/annotations.json. Each measurement runs in a fresh process so ru_maxrss is its own.
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_all import machine_dir  # noqa: E402  (benchmarks/run_all.py: this machine's results folder)
WORDS = ["MONIKER", "the", "Recognition", "of", "sequence", "TEXT", "convolutional", "a", "Keras", "2024"]


def write_annotations(path: Path, n: int, chunk: int = 200_000, every: int = 100) -> None:
    """An MJSynth-style annotation file of n lines, written in chunks; every `every`-th line repeats the line 50 before."""
    line = lambda i: f"./{i // 2250 + 1}/{i % 7 + 1}/{i % 1000}_{WORDS[i % len(WORDS)]}_{i % 88172}.jpg {i % 88172}\n"
    with open(path, "w", encoding="utf-8") as f:
        for start in range(0, n, chunk):
            f.write("".join(line(i - 50 if i % every == every - 1 else i) for i in range(start, min(start + chunk, n))))


def max_rss_mb() -> float:
    """This process's peak resident memory in MB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024 if sys.platform == "darwin" else 1024)


def measure(data_dir: str, split: str) -> dict:
    """Iterate read_mjsynth once untraced (time, ru_maxrss delta) and once under tracemalloc (peak of allocations)."""
    from crnn_utils.datasets import PrepareStats, read_mjsynth

    # 1. Untraced pass: wall time and growth of the process's peak RSS over the post-import baseline.
    rss0 = max_rss_mb()
    t0 = time.perf_counter()
    stats = PrepareStats()
    n = sum(1 for _ in read_mjsynth(data_dir, split, stats))
    seconds = time.perf_counter() - t0
    rss_delta = max_rss_mb() - rss0
    # 2. Traced pass: the peak of Python allocations while streaming, skips counted (the file's encoding, sniffed
    #    once per file from its first 4 MB, was found by the first pass).
    tracemalloc.start()
    sum(1 for _ in read_mjsynth(data_dir, split, PrepareStats()))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    lines = n + sum(stats.skipped.values())
    return {"lines": lines, "records": n, "skipped": dict(stats.skipped), "seconds": round(seconds, 2),
            "lines_per_s": round(lines / seconds), "tracemalloc_peak_mb": round(peak / 2**20, 3),
            "maxrss_delta_mb": round(rss_delta, 1), "maxrss_baseline_mb": round(rss0, 1)}


def main() -> None:
    """Write both annotation files to a temp dir, measure each in a fresh process, print and save the results."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=3_000_000)
    ap.add_argument("--small", type=int, default=300_000)
    ap.add_argument("--out", type=Path, help="default benchmarks/results/MACHINE/annotations.json")
    ap.add_argument("--measure", nargs=2, metavar=("DIR", "SPLIT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return
    args.out = args.out or machine_dir() / "annotations.json"
    with tempfile.TemporaryDirectory() as tmp:
        # 1. The big file as the train split, the small one as val (an MJSynth folder needs all three and a lexicon).
        d = Path(tmp)
        t0 = time.perf_counter()
        write_annotations(d / "annotation_train.txt", args.lines)
        write_annotations(d / "annotation_val.txt", args.small)
        (d / "annotation_test.txt").write_text("")
        (d / "lexicon.txt").write_text("\n".join(WORDS) + "\n")
        # read_mjsynth refuses a tree where none of the first images is there (an archive not extracted): give it
        # the first one. Reading streams the lines only; the other images are never opened.
        first = d / f"1/1/0_{WORDS[0]}_0.jpg"
        first.parent.mkdir(parents=True)
        first.write_bytes(b"\xff\xd8\xff\xd9")
        print(f"wrote {args.lines:,} + {args.small:,} lines in {time.perf_counter() - t0:.1f} s")
        # 2. One fresh interpreter per file, so each ru_maxrss starts from the same baseline.
        runs = []
        for split in ("val", "train"):
            out = subprocess.run([sys.executable, __file__, "--measure", str(d), split], check=True,
                                 capture_output=True, text=True).stdout
            run = json.loads(out.strip().splitlines()[-1])
            run["file_mb"] = round((d / f"annotation_{split}.txt").stat().st_size / 2**20, 1)
            runs.append(run)
            print(f"{run['lines']:>10,} lines ({run['file_mb']} MB): {run['seconds']:6.1f} s, "
                  f"{run['lines_per_s']:>9,} lines/s, tracemalloc peak {run['tracemalloc_peak_mb']:.3f} MB, "
                  f"ru_maxrss delta {run['maxrss_delta_mb']:.1f} MB")
    result = {"runs": runs, "python": platform.python_version(), "machine": platform.machine(),
              "platform": platform.platform(terse=True),
              "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
