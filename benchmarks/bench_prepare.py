"""Seconds prepare_split takes over the first N train images of an MJSynth-layout folder (two rounds).

    .venv/bin/python benchmarks/bench_prepare.py runs/default/data/synth [--n 15000] [--code ROOT]

--code runs another checkout's crnn_utils (a `git worktree add /tmp/old COMMIT`), to compare two versions on the
same images; interleave the two invocations, as the machine's speed drifts.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", help="a folder in MJSynth's layout, e.g. runs/default/data/synth")
    ap.add_argument("--n", type=int, default=15000)
    ap.add_argument("--code", default=str(Path(__file__).resolve().parents[1]), help="the checkout whose crnn_utils to time")
    args = ap.parse_args()
    sys.path.insert(0, args.code)
    from crnn_utils import datasets
    from crnn_utils.charset import Charset

    with tempfile.TemporaryDirectory() as out:
        for r in range(2):
            t = time.perf_counter()
            st = datasets.prepare_split(datasets.read_mjsynth(args.source, "train"), Charset.seed(), out, "train",
                                        limit=args.n, progress=False)
            print(f"{datasets.__file__}: round {r}: {st.used} images in {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
