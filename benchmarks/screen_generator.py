"""Screen a generator setting on real word crops: render with it, train a fixed number of steps, score the folders.

    .venv/bin/python benchmarks/screen_generator.py NAME [--synth '{"p_curve": 0.3}'] [--steps 3600] \
        --folder real=~/runs/realval/choose --folder plain=runs/third_party/plain ...

Each variant renders its own 60,000 training words with `SynthConfig(**synth)` (the generator's defaults for
anything not given), then notebooks 01-03 train the `half` model (or `--model-size`) for exactly `--steps` steps of
32 images (`time_budget_minutes=0`, so the learning rate anneals over the same steps whatever the machine's load: every
variant has seen the same number of images), and the run's best checkpoint is scored with greedy decoding on each
folder (letters and digits, any case: the scene-text protocol), reading colour crops in grey (`--colour`). One row per variant is added to
`benchmarks/results/generator_screen.json` (the scores are the model's, not the machine's; the wall time beside
them is the machine's). Runs live in `--runs` (default ~/runs/screen), outside the checkout.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "generator_screen.json"


def render(data_dir: Path, synth: dict, seed: int, n_train: int, n_val: int) -> float:
    """Render the variant's words in MJSynth's layout (skipped when already there); seconds taken."""
    if (data_dir / "annotation_train.txt").is_file():
        return 0.0
    import crnn_utils  # noqa: F401
    from crnn_utils.synth import SynthConfig, write_mjsynth_layout

    t0 = time.time()
    write_mjsynth_layout(data_dir, {"train": n_train, "val": n_val, "test": 0}, seed=seed,
                         config=SynthConfig(**synth), progress=False)
    return time.time() - t0


def train(run_dir: Path, data_dir: Path, steps: int, seed: int, model_size: str = "half") -> float:
    """Notebooks 01-03 on the rendered words for exactly `steps` steps (resumable); seconds taken."""
    epochs = max(1, steps // 400)
    cmd = [sys.executable, str(ROOT / "scripts" / "run_notebooks.py"), "--run-dir", str(run_dir), "--resume",
           "--only", "01", "02", "03", "-p", "01:dataset='mjsynth'", "-p", f"01:data_dir='{data_dir}'",
           "-p", "01:n_test=0", "-p", "01:n_val=1000", "-p", f"01:seed={seed}",
           "-p", f"02:model_size='{model_size}'",
           "-p", "03:time_budget_minutes=0", "-p", f"03:epochs={epochs}", "-p", "03:steps_per_epoch=400",
           "-p", "03:early_stopping_patience=1000", "-p", f"03:seed={seed}"]
    t0 = time.time()
    subprocess.run(cmd, check=True, cwd=ROOT)
    return time.time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name")
    ap.add_argument("--synth", default="{}", help="SynthConfig overrides as JSON")
    ap.add_argument("--steps", type=int, default=3600)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model-size", default="half", help="notebook 02's model_size (the generator rows: half)")
    ap.add_argument("--n-train", type=int, default=60_000)
    ap.add_argument("--folder", action="append", default=[], metavar="NAME=PATH", help="a labelled folder to score")
    ap.add_argument("--colour", default="luminance", choices=["luminance", "auto"],
                    help="how the Recognizer reads colour crops (the rows before colour reading were read in grey)")
    ap.add_argument("--runs", type=Path, default=Path.home() / "runs" / "screen")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    synth = json.loads(args.synth)
    run_dir = args.runs / args.name
    data_dir = run_dir / "synth"
    render_s = render(data_dir, synth, args.seed, args.n_train, 1000)
    train_s = train(run_dir, data_dir, args.steps, args.seed, args.model_size)

    import crnn_utils  # noqa: F401
    from crnn_utils.metrics import standard_error
    from crnn_utils.recognizer import Recognizer, score_folder
    from crnn_utils.synth import available_fonts

    rec = Recognizer.from_run_dir(run_dir)
    rec.colour = args.colour
    scores = {}
    for item in args.folder:
        key, path = item.split("=", 1)
        m = score_folder(rec, Path(path).expanduser(), decoders=("greedy",))["greedy"]
        acc = m["word_acc_alnum36"]
        scores[key] = {"n": m["n"], "acc": round(acc, 4), "se": round(standard_error(acc, m["n"]), 4)}
        print(f"{args.name} {key}: {acc:.1%} (n {m['n']})", flush=True)
    summary = json.loads((run_dir / "train_summary.json").read_text())
    fonts = available_fonts()  # the installed font packages are part of the generator too
    row = {"name": args.name, "synth": synth, "fonts": {"families": len(fonts), "faces": sum(map(len, fonts.values()))},
           "model_size": args.model_size, "steps": args.steps, "images_seen": args.steps * 32, "seed": args.seed,
           "colour": args.colour, "render_s": round(render_s), "train_s": round(train_s), "scores": scores,
           "train_images_per_s": summary.get("images_per_second")}
    rows = json.loads(args.out.read_text()) if args.out.is_file() else []
    rows = [r for r in rows if r["name"] != args.name] + [row]
    args.out.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
