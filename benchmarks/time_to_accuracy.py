"""Time-to-accuracy from notebook 03 runs -> benchmarks/results/MACHINE/time_to_accuracy.json.

Two kinds of run: curves (one point per epoch of a long run: minutes trained so far, validation accuracy then) and
planned budgets (runs whose learning rate annealed over their own time budget: one point each, what the run's
best checkpoint reads, as notebook 03's train_summary.json reports it).
For the seed's recipe the two agree, since its learning rate is constant; for `fast` only a planned run shows what
a budget buys, because a long run's early epochs have not annealed yet. Run it on the machine that trained the runs
(minutes are that machine's); `run_all.py --report-only` then draws the figure. The runs, with runs/default's data
and model linked or copied into each run directory:

    .venv/bin/python scripts/run_notebooks.py --run-dir runs/ttb10 --only 03 -p 03:time_budget_minutes=10.0 -p 03:epochs=100
    #   likewise runs/ttb2, runs/ttb5, runs/ttb12.5, runs/ttb15
    .venv/bin/python scripts/run_notebooks.py --run-dir runs/seed15 --only 03 -p 03:recipe=seed \
        -p 03:time_budget_minutes=15.0 -p 03:epochs=100 -p 03:steps_per_epoch=100 -p 03:val_decode_images=500 \
        -p 03:early_stopping_patience=100
    .venv/bin/python benchmarks/time_to_accuracy.py runs/default runs/seed15 --planned runs/ttb2 runs/ttb5 runs/ttb10 \
        runs/ttb12.5 runs/ttb15
    .venv/bin/python benchmarks/run_all.py --report-only
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_all import machine_dir  # noqa: E402  (benchmarks/run_all.py: this machine's results folder)


def _row(summary: dict, run_dir: Path, r: dict) -> dict:
    return {"recipe": summary["recipe"], "run_dir": run_dir.name, "budget_minutes": round(float(r["minutes"]), 2),
            "word_acc": float(r["val_word_acc"]), "word_acc_ci": float(r["val_word_acc_ci"]),
            "cer": float(r["val_cer"]), "blank_share": float(r["blank_share"])}


def points(run_dir: Path) -> list[dict]:
    """One point per epoch: minutes of training so far and the decoded validation accuracy then."""
    summary = json.loads((run_dir / "train_summary.json").read_text())
    return [_row(summary, run_dir, r) for r in csv.DictReader(open(run_dir / "history.csv"))]


def planned(run_dir: Path) -> dict:
    """A run planned for its own budget: what its best checkpoint reads, the budget, the images it trained on."""
    summary = json.loads((run_dir / "train_summary.json").read_text())
    last = _row(summary, run_dir, list(csv.DictReader(open(run_dir / "history.csv")))[-1])
    return {**last, "budget_minutes": summary["time_budget_minutes"], "trained_minutes": summary["minutes_trained"],
            "word_acc": summary["val_word_accuracy"], "word_acc_ci": summary["val_word_accuracy_ci"],
            "cer": summary["val_cer"], "images_seen": summary["images_seen"], "val_images": summary["val_images_decoded"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dirs", nargs="*", type=Path, help="run directories whose per-epoch curve to plot")
    ap.add_argument("--planned", nargs="*", type=Path, default=[], help="runs planned for their own time budget")
    ap.add_argument("--out", type=Path, help="default benchmarks/results/MACHINE/time_to_accuracy.json")
    args = ap.parse_args()
    args.out = args.out or machine_dir() / "time_to_accuracy.json"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    runs = [p for d in args.run_dirs for p in points(d)]
    plans = sorted((planned(d) for d in args.planned), key=lambda r: (r["recipe"], r["budget_minutes"] or 0))
    args.out.write_text(json.dumps({"source": "notebook 03 history.csv: decoded word accuracy on the validation "
                                    "words after each epoch, against wall-clock training minutes",
                                    "runs": runs, "planned": plans}, indent=1))
    print(f"{len(runs)} curve points, {len(plans)} planned budgets -> {args.out}")


if __name__ == "__main__":
    main()
