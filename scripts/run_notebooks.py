"""Execute notebooks 01 -> 04 with papermill into one run_dir, checking parameter names first."""
from __future__ import annotations

import argparse
import ast
import os
import sys
import time
from pathlib import Path

import papermill as pm

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = [
    "01_dataset_preparation.ipynb",
    "02_model_building.ipynb",
    "03_ctc_training.ipynb",
    "04_decoding_visualization.ipynb",
]


def _is_default(value, default_source: str) -> bool:
    try:
        return ast.literal_eval(default_source) == value
    except (ValueError, SyntaxError):
        return False


def run_chain(run_dir: str, params: dict[str, dict], only: list[str] | None = None, timeout: int = 1800) -> None:
    """Run the notebooks in order; params maps a notebook's number ('01') to its parameters."""
    out_dir = Path(run_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in NOTEBOOKS:
        key = name[:2]
        if only and key not in only:
            continue
        src = ROOT / "notebooks" / name
        given = {"run_dir": str(run_dir), **params.get(key, {})}
        # papermill injects misspelled names without complaint: check them against the notebook.
        known = pm.inspect_notebook(str(src))
        unknown = sorted(set(given) - set(known))
        if unknown:
            sys.exit(f"{name}: unknown parameter(s) {unknown}; allowed: {sorted(known)}")
        # Inject only what differs from the notebook's defaults, so a default run stays a clean copy.
        given = {k: v for k, v in given.items() if not _is_default(v, known[k]["default"])}
        t = time.time()
        print(f"== {name} ({', '.join(f'{k}={v!r}' for k, v in given.items())})", flush=True)
        # A relative input path: papermill records it in the executed notebook, which readers see.
        pm.execute_notebook(os.path.relpath(src), str(out_dir / name), parameters=given, cwd=str(ROOT),
                            kernel_name="python3", progress_bar=False, execution_timeout=timeout)
        print(f"   done in {time.time() - t:.0f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--run-dir", default="runs/default")
    ap.add_argument("--only", nargs="*", help="notebook numbers to run, e.g. 03 04")
    ap.add_argument("-p", "--param", action="append", default=[], metavar="NN:NAME=VALUE",
                    help="a parameter for notebook NN, e.g. 03:epochs=2 (value parsed as a Python literal)")
    args = ap.parse_args()

    params: dict[str, dict] = {}
    for item in args.param:
        nb, _, kv = item.partition(":")
        k, _, v = kv.partition("=")
        try:
            value = ast.literal_eval(v)
        except (ValueError, SyntaxError):
            value = v
        params.setdefault(nb, {})[k] = value
    t = time.time()
    run_chain(args.run_dir, params, args.only)
    print(f"all notebooks done in {time.time() - t:.0f} s; outputs in {args.run_dir}")


if __name__ == "__main__":
    main()
