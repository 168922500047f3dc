"""Copy a finished run's best model into the package as the pretrained model, with the files that say how it was made.

    .venv/bin/python scripts/publish_pretrained.py ~/runs/long

writes crnn_utils/pretrained/: model.keras (the inference model, carrying its charset and preprocessing),
config.json (model size, recipe, what it was trained on and for how long), and the run's dataset.json,
train_summary.json and history.csv. Only the inference model is copied, never the resume state.

A run that continued the shipped model (`make long-run INIT=pretrained`, notebook 03's init_from="pretrained") is
published as its next stage: config.json lists every stage (generator, minutes, images) and totals them, and
history.csv holds all stages' epochs on one time axis, with a `stage` column.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "crnn_utils" / "pretrained"
LIMIT_MB = 15.0


def generator(dataset: dict) -> str:
    """The synthetic generator a run's dataset.json describes, in a few words: its fonts and non-default settings."""
    fonts = dataset.get("fonts") or {}
    options = ", ".join(f"{k}={v}" for k, v in sorted((dataset.get("synth_options") or {}).items()))
    return "; ".join(filter(None, [fonts and f"{fonts['families']} font families ({fonts['faces']} faces)",
                                   options or "default settings"]))


def first_stage(config: dict, out: Path) -> dict:
    """The shipped model's record as the first stage of a continued run."""
    summary = json.loads((out / "train_summary.json").read_text())
    dataset = json.loads((out / "dataset.json").read_text())
    return {"generator": generator(dataset), "minutes_trained": config["minutes_trained"],
            "images_seen": config["images_seen"], "epochs_run": summary["epochs_run"]}


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
    stage = {"generator": generator(dataset), "minutes_trained": summary["minutes_trained"],
             "images_seen": summary["images_seen"], "epochs_run": summary["epochs_run"]}
    history = pd.read_csv(run_dir / "history.csv")
    # train_summary.json records init_from; runs from before it did say so only in their note.
    continued = (summary.get("init_from", "") == "pretrained"
                 or "fine-tuning from pretrained" in (summary.get("note") or ""))
    if continued:  # the shipped model was this run's start: its stages come first
        parent = json.loads((out / "config.json").read_text())
        stages = parent.get("stages") or [first_stage(parent, out)]
        earlier = pd.read_csv(out / "history.csv")
        if "stage" not in earlier:
            earlier.insert(1, "stage", 1)
        history = history.assign(epoch=history["epoch"] + len(earlier), minutes=history["minutes"] + sum(
            s["minutes_trained"] for s in stages))
        history.insert(1, "stage", len(stages) + 1)
        history = pd.concat([earlier, history], ignore_index=True)
        stage["init_from"] = "pretrained"
        stages = stages + [stage]
        config |= {"model_size": parent["model_size"], "images_seen": sum(s["images_seen"] for s in stages),
                   "minutes_trained": round(sum(s["minutes_trained"] for s in stages), 1), "stages": stages}
    # 3. Copy: the model and the records beside it.
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(best, out / "model.keras")
    shutil.copy(run_dir / "data" / "dataset.json", out / "dataset.json")
    # A run's records may name its own folder (a resumed run's note): the package keeps paths relative to it.
    (out / "train_summary.json").write_text(
        (run_dir / "train_summary.json").read_text().replace(str(run_dir.resolve()) + "/", ""))
    history.to_csv(out / "history.csv", index=False)
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
