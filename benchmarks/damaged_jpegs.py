"""How load_image treats randomly damaged JPEGs: decoded, refused as damaged_image (strict, as prepare_split loads),
unreadable or truncated, and how many decode visibly wrong without a word from the codec.

    .venv/bin/python benchmarks/damaged_jpegs.py [--n 300] [--seed 0] [--out PATH]

Each copy of one rendered word ("Moniker", 32 px high) has, in turn: 1-5 bytes changed inside the scan, 1-3 bytes
changed anywhere after the start marker, or 1-29 bytes cut out of the scan. Each is loaded as prepare_split loads
(`load_image(strict=True)`): decoded, or refused with a reason (damaged_image when the codec reported damage,
unreadable_image, ...). "Off" means a mean absolute difference of more than 10 grey levels from the undamaged
decode: damage the codec did not report. Prints one JSON line and writes benchmarks/results/MACHINE/damaged_jpegs.json
(the counts depend on the libjpeg that OpenCV was built with, not on the machine's speed).
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_all import machine_dir  # noqa: E402  (benchmarks/run_all.py: this machine's results folder)
from crnn_utils import captured_stderr  # noqa: E402
from crnn_utils.images import ImageError, load_image  # noqa: E402
from crnn_utils.synth import render_words  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, help="default benchmarks/results/MACHINE/damaged_jpegs.json")
    args = ap.parse_args()
    args.out = args.out or machine_dir() / "damaged_jpegs.json"
    rng = np.random.default_rng(args.seed)
    word = render_words(["Moniker"], seed=args.seed)[0]
    good = cv2.imencode(".jpg", word)[1].tobytes()
    ref = cv2.imdecode(np.frombuffer(good, np.uint8), cv2.IMREAD_GRAYSCALE).astype(np.float32)
    scan = good.find(b"\xff\xda") + 14
    outcome, off, printed = Counter(), 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.n):
            b = bytearray(good)
            if k % 3 == 0:
                for _ in range(rng.integers(1, 6)):
                    b[int(rng.integers(scan, len(b) - 2))] = int(rng.integers(0, 256))
            elif k % 3 == 1:
                for _ in range(rng.integers(1, 4)):
                    b[int(rng.integers(2, len(b) - 2))] = int(rng.integers(0, 256))
            else:
                i = int(rng.integers(scan, len(b) - 40))
                del b[i:i + int(rng.integers(1, 30))]
            path = Path(tmp) / f"{k}.jpg"
            path.write_bytes(bytes(b))
            with captured_stderr() as said:
                try:
                    img = load_image(path, strict=True)
                    outcome["decoded"] += 1
                except ImageError as e:
                    img = None
                    outcome[e.reason] += 1
            printed += bool("".join(said).strip())
            if img is not None:
                grey = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
                off += grey.shape != ref.shape or float(np.abs(grey.astype(np.float32) - ref).mean()) > 10
    result = {"copies": args.n, "seed": args.seed, **outcome, "decoded_but_off": off,
              "copies_that_printed_to_stderr": printed, "opencv": cv2.__version__, "platform": platform.platform(),
              "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    print(json.dumps(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
