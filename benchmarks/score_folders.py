"""Score a trained run on labelled image folders (labels.tsv or file names), greedy and beam decoding.

    .venv/bin/python benchmarks/score_folders.py RUN_DIR FOLDER [FOLDER ...] [--out benchmarks/results/folders.json]

Used for the held-out third-party words of `benchmarks/third_party_words.py`; works on any folder `read_folder`
reads. Unreadable images count as wrong (an empty reading), as a user would see them.
"""
from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def score_folder(recognizer, folder: Path) -> dict:
    """{decoder: metrics} for one folder, plus how many images could not be read."""
    from crnn_utils.datasets import read_folder
    from crnn_utils.metrics import score

    records = read_folder(folder)
    results = recognizer.recognize_many([r.path for r in records], ("greedy", "beam"))
    labels = [r.label for r in records]
    out = {dec: score(labels, [res.text for res in rows]) for dec, rows in results.items()}
    out["unreadable"] = sum(res.error is not None for res in results["greedy"])
    # Greedy accuracy by the image's own height: blur of a fixed radius hurts small renderings most.
    by_height: dict[int, list[int]] = {}
    for record, res in zip(records, results["greedy"]):
        with Image.open(record.path) as img:
            by_height.setdefault(img.size[1], []).append(int(res.text.lower() == record.label.lower()))
    out["greedy_any_case_by_height"] = {str(h): {"n": len(v), "word_acc_ci": sum(v) / len(v)}
                                        for h, v in sorted(by_height.items())}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("folders", type=Path, nargs="+")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "folders.json")
    args = ap.parse_args()

    import crnn_utils  # noqa: F401  (quiets TensorFlow first)
    from crnn_utils.recognizer import Recognizer

    rec = Recognizer.from_run_dir(args.run_dir)
    summary = json.loads((args.run_dir / "train_summary.json").read_text()) if (args.run_dir / "train_summary.json").is_file() else {}
    rows = {}
    for folder in args.folders:
        rows[folder.name] = score_folder(rec, folder)
        g = rows[folder.name]["greedy"]
        print(f"{folder.name}: {g['n']} words, greedy {g['word_acc']:.1%} case-sensitive, {g['word_acc_ci']:.1%} any case, "
              f"CER {g['cer']:.3f}; beam {rows[folder.name]['beam']['word_acc_ci']:.1%} any case; by height "
              + ", ".join(f"{h} px {v['word_acc_ci']:.1%} (n={v['n']})"
                          for h, v in rows[folder.name]["greedy_any_case_by_height"].items()))
    result = {"run_dir": str(args.run_dir), "model_params": int(rec.model.count_params()),
              "train_summary": {k: summary.get(k) for k in ("recipe", "epochs_run", "wall_seconds", "images_per_second")},
              "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "folders": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
