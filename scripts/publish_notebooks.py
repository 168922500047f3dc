"""Copy the executed notebooks of a run into notebooks/, ready to commit: a reader's run then gets the defaults.

    .venv/bin/python scripts/publish_notebooks.py runs/default

What is left out of each copy: papermill's injected-parameters cell and its record of them (a `make run` on a slow
machine injects a shorter `time_budget_minutes`; notebook 03's table shows the value it ran with), the progress-bar
widgets' saved state (tens of kB of finished bars no reader sees), and the memory addresses in object reprs
(`<... Styler at 0x7f06...>`), which change on every run, and the machine's folders in papermill's record of where it
read and wrote (a run outside the checkout: `/tmp/x/runs/default/04_....ipynb` becomes `runs/default/04_....ipynb`).
Execution counts are renumbered from 1.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from run_notebooks import NOTEBOOKS  # noqa: E402

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook without injected parameters, widget state, per-cell timings and object addresses, its cells numbered from 1."""
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    if "papermill" in nb.metadata:
        nb.metadata.papermill["parameters"] = {}
        for key in ("input_path", "output_path"):  # a run outside the checkout records where it was: keep runs/NAME/FILE
            path = nb.metadata.papermill.get(key)
            if isinstance(path, str) and Path(path).is_absolute():
                nb.metadata.papermill[key] = "/".join(Path(path).parts[-3:])
    nb.metadata.pop("widgets", None)
    nb.metadata.get("papermill", {}).pop("start_time", None), nb.metadata.get("papermill", {}).pop("end_time", None)
    nb.metadata.get("papermill", {}).pop("duration", None)
    count = 0
    for cell in nb.cells:
        for key in ("execution", "papermill"):  # timestamps and durations: they change on every run
            cell.metadata.pop(key, None)
        if cell.cell_type != "code":
            continue
        if cell.get("execution_count") is not None:
            count += 1
            cell.execution_count = count
        for out in cell.get("outputs", []):
            if out.get("execution_count") is not None:
                out["execution_count"] = count
            if "text/plain" in out.get("data", {}):
                text = out["data"]["text/plain"]
                out["data"]["text/plain"] = _ADDRESS.sub("", text if isinstance(text, str) else "".join(text))
    return nb


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir", help="the run whose executed notebooks to copy, e.g. runs/default")
    ap.add_argument("--only", nargs="*", help="notebook numbers to copy, e.g. 04 (default: all four)")
    args = ap.parse_args()
    for name in NOTEBOOKS:
        if args.only and name[:2] not in args.only:
            continue
        src = Path(args.run_dir) / name
        if not src.is_file():
            raise SystemExit(f"{src} is missing: run the chain first (make run, or scripts/run_notebooks.py)")
        nb = clean(nbformat.read(src, as_version=4))
        nbformat.write(nb, ROOT / "notebooks" / name)
        print(f"{src} -> notebooks/{name}")


if __name__ == "__main__":
    main()
