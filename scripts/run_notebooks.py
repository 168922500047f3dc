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


# What notebook 04 and the end of 03 cost, as a share of notebook 01's time (both scale with the machine's speed):
# 04 took 66 s against 01's 166 s on a 2-core AMD EPYC with AVX2 only (0.40) once its lexicon decoder was
# vectorised; with the slower decoder, 0.55 on the same kind of machine (131 s against 236 s) and 0.40 on a 2-core
# Intel Xeon (118 s against 292 s). 0.45 and 30 s on top were the margin; 04 also decodes the test split with the
# language prior (about 7 ms a word, 15 s for 2,000 words), so 45 s.
RESERVE_PER_01_SECOND = 0.45
RESERVE_SECONDS = 45.0


def _has_injected_cell(path: Path) -> bool:
    """Whether a notebook carries papermill's injected-parameters cell from an earlier run."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)


def training_budget(default: float, minutes: float, elapsed: float, seconds_01: float) -> float:
    """Notebook 03's time budget (minutes) so that the chain ends within `minutes`: never above its own default."""
    left = minutes * 60.0 - elapsed - RESERVE_SECONDS - RESERVE_PER_01_SECOND * seconds_01
    return round(max(1.0, min(default, left / 60.0)), 2)


def cell_timeout(timeout: int, budget_minutes: float = 0.0) -> int | None:
    """Seconds a cell may run (None: no limit): `timeout`, or for a training budget that long plus 15 minutes."""
    if timeout <= 0:
        return None
    return max(timeout, int(budget_minutes * 60 + 900)) if budget_minutes > 0 else timeout


# What each notebook leaves in run_dir once it has run: with resume=True a notebook whose file exists is skipped.
DONE_FILES = {"01": "data/dataset.json", "02": "model/config.json"}


def run_chain(run_dir: str, params: dict[str, dict], only: list[str] | None = None, timeout: int = 1800,
              minutes: float = 0.0, since: float | None = None, resume: bool = False) -> None:
    """Run the notebooks in order; params maps a notebook's number ('01') to its parameters.

    minutes > 0 bounds the chain, counted from `since` (a time.time() value; default now, `make run` passes its own
    start so the install counts too): when 01 ran here and 03's time_budget_minutes is not given, 03 trains only for
    what the earlier steps left, less a reserve for 04 (a slower machine trains for less rather than running over).
    """
    out_dir = Path(run_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    chain_start, took = time.time() if since is None else since, {}
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
        for k, v in given.items():  # digits given to a text parameter (charset=0123456789 is parsed as a number)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and known[k]["default"][:1] in ("'", '"'):
                given[k] = str(v)
        if resume and key in DONE_FILES and (out_dir / DONE_FILES[key]).is_file():
            changed = changed_since(out_dir / name, given, known)
            if changed:
                sys.exit(f"{name}: {run_dir} holds its output made with " + ", ".join(
                    f"{k}={old!r}" for k, (old, _) in changed.items()) + "; --resume keeps it, so "
                    + ", ".join(f"{k}={new!r}" for k, (_, new) in changed.items())
                    + " would be ignored: use a new run_dir, or leave those out")
            print(f"== {name}: skipped, {DONE_FILES[key]} is there (resume)", flush=True)
            continue
        if key == "03" and minutes > 0 and "01" in took and "time_budget_minutes" not in given:
            default = float(ast.literal_eval(known["time_budget_minutes"]["default"]))
            spent = time.time() - chain_start
            budget = training_budget(default, minutes, spent, took["01"])
            if budget < default:
                print(f"   {minutes:g}-minute limit: 03 trains {budget:g} min instead of {default:g} "
                      f"({spent / 60:.1f} min spent so far; 01 took {took['01']:.0f} s)", flush=True)
                given["time_budget_minutes"] = budget
        # A training cell runs as long as its budget: a 60-minute run must not be killed at the 30-minute timeout.
        limit = timeout
        if key == "03":
            budget = given.get("time_budget_minutes", ast.literal_eval(known["time_budget_minutes"]["default"]))
            limit = cell_timeout(timeout, float(budget))
        # Inject only what differs from the notebook's defaults, so a default run stays a clean copy. But papermill
        # replaces an injected-parameters cell only when it injects something: an executed copy committed with one
        # (03's shortened budget of a slower machine) would keep it, and a default run would train for that instead.
        given = {k: v for k, v in given.items() if not _is_default(v, known[k]["default"])}
        if not given and _has_injected_cell(src):
            given = {"run_dir": str(run_dir)}
        t = time.time()
        print(f"== {name} ({', '.join(f'{k}={v!r}' for k, v in given.items())})", flush=True)
        # A relative input path: papermill records it in the executed notebook, which readers see.
        pm.execute_notebook(os.path.relpath(src), str(out_dir / name), parameters=given, cwd=str(ROOT),
                            kernel_name="python3", progress_bar=False, execution_timeout=limit)
        took[key] = time.time() - t
        print(f"   done in {took[key]:.0f} s", flush=True)


def changed_since(executed: Path, given: dict, known: dict) -> dict:
    """{name: (value the run was made with, value given)} where they differ; {} when `executed` records nothing."""
    import nbformat

    if not executed.is_file():
        return {}
    recorded = nbformat.read(executed, as_version=4).metadata.get("papermill", {}).get("parameters", {})
    changed = {}
    for k, v in given.items():
        if k == "run_dir":  # the same folder may be named another way
            continue
        try:
            old = recorded[k] if k in recorded else ast.literal_eval(known[k]["default"])
        except (ValueError, SyntaxError):  # a default that is an expression: nothing to compare with
            continue
        if old != v:
            changed[k] = (old, v)
    return changed


def parse_params(items: list[str]) -> dict[str, dict]:
    """["03:epochs=2", ...] -> {"03": {"epochs": 2}}: values as Python literals, else strings, with ~ expanded."""
    params: dict[str, dict] = {}
    for item in items:
        nb, _, kv = item.partition(":")
        k, _, v = kv.partition("=")
        try:
            value = ast.literal_eval(v)
        except (ValueError, SyntaxError):
            value = v
        if isinstance(value, str) and value.startswith("~"):  # sh passes VAL_DIR=~/x on unexpanded
            value = os.path.expanduser(value)
        params.setdefault(nb, {})[k] = value
    return params


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--run-dir", default="runs/default")
    ap.add_argument("--only", nargs="*", help="notebook numbers to run, e.g. 03 04")
    ap.add_argument("-p", "--param", action="append", default=[], metavar="NN:NAME=VALUE",
                    help="a parameter for notebook NN, e.g. 03:epochs=2 (value parsed as a Python literal)")
    ap.add_argument("--minutes", type=float, default=0.0,
                    help="end the whole chain within this many minutes by shortening 03's training (0: no limit)")
    ap.add_argument("--resume", action="store_true",
                    help="skip 01 and 02 where run_dir already holds their output, so 03 resumes its training")
    ap.add_argument("--since", type=float, help="count --minutes from this Unix time (default: now)")
    ap.add_argument("--timeout", type=int, default=1800,
                    help="seconds one cell may run (default 1800; 0: no limit); notebook 03 gets at least its "
                         "time_budget_minutes plus 15 minutes")
    args = ap.parse_args()
    args.run_dir = os.path.expanduser(args.run_dir)

    params = parse_params(args.param)
    # The kernels inherit this: no progress widgets, whose saved first frame ("0%") is all a reader of the notebook sees.
    os.environ.setdefault("CRNN_PROGRESS", "0")
    t = time.time()
    run_chain(args.run_dir, params, args.only, timeout=args.timeout, minutes=args.minutes, since=args.since,
              resume=args.resume)
    print(f"all notebooks done in {time.time() - t:.0f} s; outputs in {args.run_dir}")


if __name__ == "__main__":
    main()
