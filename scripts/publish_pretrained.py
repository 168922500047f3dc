"""Copy a finished run's best model into the package as the pretrained model, with the files that say how it was made.

    .venv/bin/python scripts/publish_pretrained.py ~/runs/long

writes crnn_utils/pretrained/: model.keras (the inference model, carrying its charset and preprocessing),
config.json (model size, recipe, what it was trained on and for how long), and the run's dataset.json,
train_summary.json and history.csv. Only the inference model is copied, never the resume state.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "crnn_utils" / "pretrained"
LIMIT_MB = 15.0


def publish(run_dir: Path, out: Path = OUT) -> dict:
    """Check the run's best.keras reads on its own, then copy it and its records to `out`; returns config.json."""
    import crnn_utils  # noqa: F401  (registers the package's layers)
    from crnn_utils.recognizer import Recognizer

    best = run_dir / "checkpoints" / "best.keras"
    # 1. The model must be one file that reads images: its charset and max_stretch inside.
    rec = Recognizer.from_model(best)
    size_mb = best.stat().st_size / 1e6
    if size_mb > LIMIT_MB:
        sys.exit(f"{best} is {size_mb:.1f} MB, over the {LIMIT_MB:g} MB the repository takes")
    # 2. What it is and how it was made, from the run's own records.
    summary = json.loads((run_dir / "train_summary.json").read_text())
    dataset = json.loads((run_dir / "data" / "dataset.json").read_text())
    model_cfg = json.loads((run_dir / "model" / "config.json").read_text())
    config = {
        "model_size": model_cfg["model_size"], "params": rec.model.count_params(), "recipe": summary["recipe"],
        "charset": rec.charset.chars, "max_stretch": rec.max_stretch, "dataset": dataset.get("dataset", "synthetic"),
        "train_images": dataset["counts"]["train"], "images_seen": summary["images_seen"],
        "minutes_trained": summary["minutes_trained"], "checkpoint_chosen_by": summary.get("checkpoint_chosen_by"),
        "checkpoint_best": summary.get("checkpoint_best"), "val_dir": summary.get("val_dir"),
        "images_per_second": summary["images_per_second"], "seed": summary.get("seed"),
    }
    # 3. Copy: the model and the records beside it.
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(best, out / "model.keras")
    shutil.copy(run_dir / "data" / "dataset.json", out / "dataset.json")
    # A run's records may name its own folder (a resumed run's note): the package keeps paths relative to it.
    (out / "train_summary.json").write_text(
        (run_dir / "train_summary.json").read_text().replace(str(run_dir.resolve()) + "/", ""))
    shutil.copy(run_dir / "history.csv", out / "history.csv")
    (out / "config.json").write_text(json.dumps(config, indent=2))
    return config


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir", type=Path)
    args = ap.parse_args()
    config = publish(args.run_dir)
    print(json.dumps(config | {"charset": f"{len(config['charset'])} characters"}, indent=1))


if __name__ == "__main__":
    main()
