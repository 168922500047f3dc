"""Write a contrast- or brightness-degraded copy of a labelled folder, to probe how a model reads faded or dim words.

    .venv/bin/python benchmarks/degrade_folder.py SRC DST --contrast 0.3     # each image at 0.3 of its contrast
    .venv/bin/python benchmarks/degrade_folder.py SRC DST --brightness 0.35  # each image at 0.35 of its brightness

SRC is any folder `read_folder` reads; DST gets the degraded images and a labels.tsv. Score both with
`benchmarks/score_folders.py RUN_DIR SRC DST`. The README's contrast probe (trdg's plain set, session 9) used these two.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np


def degrade(image: np.ndarray, contrast: float = 1.0, brightness: float = 1.0) -> np.ndarray:
    """The image with its contrast scaled around its mean colour, then its brightness scaled; uint8 out."""
    img = image.astype(np.float32)
    mean = img.mean(axis=(0, 1), keepdims=True)
    img = (mean + (img - mean) * contrast) * brightness
    return np.clip(img, 0, 255).astype(np.uint8)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path)
    ap.add_argument("dst", type=Path)
    ap.add_argument("--contrast", type=float, default=1.0)
    ap.add_argument("--brightness", type=float, default=1.0)
    args = ap.parse_args()

    from crnn_utils.datasets import read_folder

    args.dst.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, record in enumerate(read_folder(args.src)):
        image = cv2.imread(record.path, cv2.IMREAD_COLOR)
        if image is None:
            continue  # unreadable in the source too: score_folders counts it there
        name = f"{i:05d}.png"
        cv2.imwrite(str(args.dst / name), degrade(image, args.contrast, args.brightness))
        rows.append(f"{name}\t{record.label}\n")
    (args.dst / "labels.tsv").write_text("".join(rows), encoding="utf-8")
    print(f"wrote {len(rows)} images to {args.dst}")


if __name__ == "__main__":
    main()
