"""Time-to-accuracy from notebook 03's history.csv of one or more runs -> benchmarks/results/time_to_accuracy.json."""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def points(run_dir: Path) -> list[dict]:
    """One point per epoch: minutes of training so far and the decoded validation accuracy then."""
    summary = json.loads((run_dir / "train_summary.json").read_text())
    rows = list(csv.DictReader(open(run_dir / "history.csv")))
    return [{"recipe": summary["recipe"], "run_dir": run_dir.name, "budget_minutes": round(float(r["minutes"]), 2),
             "word_acc": float(r["val_word_acc"]), "word_acc_ci": float(r["val_word_acc_ci"]),
             "cer": float(r["val_cer"]), "blank_share": float(r["blank_share"])} for r in rows]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("run_dirs", nargs="+", type=Path, help="run directories that notebook 03 trained")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "time_to_accuracy.json")
    args = ap.parse_args()
    runs = [p for d in args.run_dirs for p in points(d)]
    args.out.write_text(json.dumps({"source": "notebook 03 history.csv: decoded word accuracy on the validation "
                                    "sample after each epoch, against wall-clock training minutes",
                                    "runs": runs}, indent=1))
    print(f"{len(runs)} points -> {args.out}")


if __name__ == "__main__":
    main()
