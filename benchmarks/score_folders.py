"""Score a trained run on labelled image folders (any format read_folder reads): greedy, beam and beam_lm decoding.

    .venv/bin/python benchmarks/score_folders.py RUN_DIR FOLDER [FOLDER ...] [--colour luminance] [--no-trim] [--out PATH]

RUN_DIR may be `pretrained`, the model shipped with the package. `--colour luminance` reads colour images in grey
only, as before the Recognizer also read a word's clearest colour channel (the default, `auto`). `--no-trim` reads
each image whole, as before the Recognizer also read the word cut out of a loose crop.

Used for the evaluation sets that benchmarks/eval_sets/ builds (trdg's words, the photographed page, the street and
shop photos); works on any folder `read_folder` reads. Unreadable images count as wrong (an empty reading), as a user
would see them. Where a folder has a backgrounds.tsv (third_party_words.py writes one), each line also gives the
accuracy per background kind. The scores are a model's, not the machine's, so the default --out is not per machine
but per run: benchmarks/results/eval_sets_RUN.json (RUN: the run directory's name), here eval_sets_default.json:

    .venv/bin/python benchmarks/score_folders.py runs/default runs/third_party/plain runs/third_party/hard \
        runs/third_party/fonts runs/photo_page runs/scene_photos
"""
from __future__ import annotations

import argparse
import json
import os
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path, help="a run of the notebooks, or 'pretrained'")
    ap.add_argument("folders", type=Path, nargs="+")
    ap.add_argument("--colour", choices=("auto", "luminance"), default="auto", help="Recognizer(colour=...)")
    ap.add_argument("--no-trim", dest="trim", action="store_false",
                    help="Recognizer(trim=False): no word cut out of loose crops")
    ap.add_argument("--out", type=Path, help="default benchmarks/results/eval_sets_RUN.json")
    args = ap.parse_args()
    args.out = args.out or ROOT / "benchmarks" / "results" / f"eval_sets_{args.run_dir.resolve().name}.json"

    import crnn_utils  # noqa: F401  (quiets TensorFlow first)
    from crnn_utils.recognizer import Recognizer, score_folder

    if str(args.run_dir) == "pretrained":
        from crnn_utils.training import pretrained_file

        rec, info = Recognizer.pretrained(), pretrained_file().parent / "train_summary.json"
    else:
        rec, info = Recognizer.from_run_dir(args.run_dir), args.run_dir / "train_summary.json"
    rec.colour, rec.trim = args.colour, args.trim
    summary = json.loads(info.read_text()) if info.is_file() else {}
    rows = {}
    for folder in args.folders:
        kinds = folder / "backgrounds.tsv"  # written by third_party_words.py: each image's background kind
        groups = dict(line.split("\t") for line in kinds.read_text().splitlines() if line) if kinds.is_file() else None
        rows[folder.name] = score_folder(rec, folder, ("greedy", "beam", "beam_lm"), groups=groups)
        for m in rows[folder.name]["misread"]:  # results are committed: no machine paths
            rel = os.path.relpath(m["path"], folder.resolve())
            m["path"] = os.path.basename(rel) if rel.startswith("..") else rel  # a label file's paths outside it
        g = rows[folder.name]["greedy"]
        print(f"{folder.name}: {g['n']} words, greedy {g['word_acc']:.1%} case-sensitive, {g['word_acc_ci']:.1%} any case, "
              f"CER {g['cer']:.3f}; beam {rows[folder.name]['beam']['word_acc_ci']:.1%}, beam_lm "
              f"{rows[folder.name]['beam_lm']['word_acc_ci']:.1%} any case; by height "
              + ", ".join(f"{h} {v['word_acc_ci']:.1%} (n={v['n']})"
                          for h, v in rows[folder.name]["greedy_any_case_by_height"].items())
              + "".join(f"; on {g} backgrounds {v['word_acc_ci']:.1%} (n={v['n']})"
                        for g, v in rows[folder.name].get("greedy_any_case_by_group", {}).items()))
    result = {"run_dir": str(args.run_dir), "colour": args.colour, "trim": args.trim,
              "model_params": int(rec.model.count_params()),
              "train_summary": {k: summary.get(k) for k in ("recipe", "epochs_run", "wall_seconds", "images_per_second")},
              "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "folders": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
