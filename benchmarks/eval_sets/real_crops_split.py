"""Split a labelled folder of real word crops once, by file name, into a part to choose with and a part to report on.

    python benchmarks/eval_sets/real_crops_split.py ../shared/realval/iiit5k_train ~/runs/realval

writes OUT/choose/labels.tsv (about 3/4 of the crops: pick recipes, generator settings and checkpoints with it, e.g.
notebook 03's `val_dir`) and OUT/report/labels.tsv (the rest: the figures reported, looked at once per model). Each
line is `absolute image path<TAB>label`: the images stay where they are, nothing is copied. A crop's part depends only
on its file name (a hash), so the split is the same on every machine and never changes when files are added.
"""
from __future__ import annotations

import argparse
import hashlib
from pathlib import Path


def part_of(name: str, report_share: int = 4) -> str:
    """'report' for about 1 in `report_share` file names (by SHA-1), else 'choose'."""
    return "report" if int(hashlib.sha1(name.encode("utf-8")).hexdigest(), 16) % report_share == 0 else "choose"


def split(folder: Path, out: Path) -> dict[str, int]:
    """Write out/choose/labels.tsv and out/report/labels.tsv from folder/labels.tsv; returns the counts."""
    rows: dict[str, list[str]] = {"choose": [], "report": []}
    for line in (folder / "labels.tsv").read_text(encoding="utf-8").splitlines():
        name, _, label = line.partition("\t")
        if name and label:
            rows[part_of(name)].append(f"{(folder / name).resolve()}\t{label}")
    for part, lines in rows.items():
        (out / part).mkdir(parents=True, exist_ok=True)
        (out / part / "labels.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {part: len(lines) for part, lines in rows.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path, help="a folder with labels.tsv (file<TAB>label) beside its crops")
    ap.add_argument("out", type=Path, help="where to write choose/ and report/ (outside the repository)")
    args = ap.parse_args()
    counts = split(args.folder, args.out)
    print(f"choose: {counts['choose']} crops, report: {counts['report']} crops -> {args.out}")


if __name__ == "__main__":
    main()
