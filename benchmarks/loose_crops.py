"""Loose crops: a labelled folder read as it is and with a margin around each word, with and without `trim`.

    .venv/bin/python benchmarks/loose_crops.py RUN_DIR FOLDER [--out PATH]
    .venv/bin/python benchmarks/loose_crops.py pretrained ~/runs/realval/report

Word boxes drawn for benchmarks hug the letters; a photo a person takes of one word rarely does. Each crop is given
a margin of its background (the median of its border, continued flat) of `side` × its height left and right and
`above` × its height above and below, then read greedy by the Recognizer as it reads by default, once with `trim`
(an image whose word fills less than half its height is also read cut out of it, images.text_box, keeping the more
confident reading) and once without. Letters and digits compared, as the scene-text benchmarks do. RUN_DIR may be
`pretrained`. Writes benchmarks/results/loose_crops.json by default (about 2 minutes for 528 crops).
"""
from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MARGINS = ((0.0, 0.0), (0.5, 0.25), (1.0, 0.5), (1.0, 1.0), (2.0, 1.5))  # (side, above) in crop heights


def with_margin(image: np.ndarray, side: float, above: float) -> np.ndarray:
    """The image on a flat border of its background: `side` heights left and right, `above` heights top and bottom."""
    import cv2

    h = image.shape[0]
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    background = np.median(border, axis=0).tolist()
    dy, dx = int(above * h), int(side * h)
    return cv2.copyMakeBorder(image, dy, dy, dx, dx, cv2.BORDER_CONSTANT, value=background)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path, help="a run of the notebooks, or 'pretrained'")
    ap.add_argument("folder", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "loose_crops.json")
    args = ap.parse_args()

    import crnn_utils  # noqa: F401  (quiets TensorFlow first)
    from crnn_utils.datasets import read_folder
    from crnn_utils.images import load_image, text_box
    from crnn_utils.metrics import word_accuracy_alnum
    from crnn_utils.recognizer import Recognizer

    rec = Recognizer.pretrained() if str(args.run_dir) == "pretrained" else Recognizer.from_run_dir(args.run_dir)
    records = read_folder(args.folder)
    images, labels = [load_image(r.path) for r in records], [r.label for r in records]
    rows = []
    for side, above in MARGINS:
        loose = [with_margin(im, side, above) for im in images]
        row = {"side": side, "above": above, "n": len(loose), "cut_out": sum(text_box(im) is not None for im in loose)}
        for trim in (False, True):
            rec.trim = trim
            texts = [r.text for r in rec.recognize(loose, "greedy")]
            row["trim" if trim else "as_is"] = word_accuracy_alnum(labels, texts)
        rows.append(row)
        print(f"margin {side:g} h left/right, {above:g} h above/below: greedy {100 * row['as_is']:.1f} % as it is, "
              f"{100 * row['trim']:.1f} % with trim ({row['cut_out']} of {row['n']} cut out)", flush=True)
    result = {"run_dir": str(args.run_dir), "folder": args.folder.name, "decoder": "greedy", "colour": rec.colour,
              "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "margins": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(args.out.read_text()) if args.out.is_file() else {}
    results[f"{Path(str(args.run_dir)).name}/{args.folder.name}"] = result
    args.out.write_text(json.dumps(results, indent=2))
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
