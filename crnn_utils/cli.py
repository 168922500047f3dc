"""The command line: `crnn-read` reads word images, `crnn-eval` scores a labelled folder."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

DEFAULT_RUN_DIR = Path("runs/default")


def _model_options(ap: argparse.ArgumentParser) -> None:
    """--run-dir, --model, --colour and --no-trim, shared by both commands."""
    from .recognizer import COLOUR_MODES

    which = ap.add_mutually_exclusive_group()
    which.add_argument("--run-dir", metavar="D", help="read with D/checkpoints/best.keras (a run of the notebooks)")
    which.add_argument("--model", metavar="FILE", help="a .keras model file written by notebook 03, or 'pretrained'")
    ap.add_argument("--colour", choices=COLOUR_MODES, default="auto", help="auto (default): a colour image whose ink "
                    "stands out more in one colour channel is also read in it, keeping the more confident reading; "
                    "luminance: grey only")
    ap.add_argument("--no-trim", dest="trim", action="store_false", help="read each image as it is; by default a "
                    "word filling less than half the image's height is also read cut out of it, keeping the likelier "
                    "reading")


def load_recognizer(run_dir: str | None = None, model: str | None = None, colour: str = "auto", trim: bool = True):
    """(Recognizer, what was loaded): --run-dir, --model, else runs/default when it has a model, else the pretrained one."""
    recognizer, what = _load(run_dir, model)
    recognizer.colour, recognizer.trim = colour, trim
    return recognizer, what


def _load(run_dir: str | None, model: str | None):
    """load_recognizer's choice of model."""
    from .recognizer import Recognizer

    if run_dir:
        return Recognizer.from_run_dir(run_dir), f"run {run_dir}"
    if model == "pretrained":
        return Recognizer.pretrained(), "the pretrained model"
    if model:
        return Recognizer.from_model(model), f"model {model}"
    if (DEFAULT_RUN_DIR / "checkpoints" / "best.keras").is_file():
        return Recognizer.from_run_dir(DEFAULT_RUN_DIR), f"run {DEFAULT_RUN_DIR} (the notebooks' default run)"
    return Recognizer.pretrained(), f"the pretrained model (no model in {DEFAULT_RUN_DIR})"


def _fail(message: str) -> int:
    """Print the error to stderr; exit status 2."""
    print(f"error: {message}", file=sys.stderr)
    return 2


def read_main(argv: Sequence[str] | None = None) -> int:
    """crnn-read: print path<TAB>text<TAB>confidence for each image (a fourth column names an unreadable file's reason)."""
    from .ctc import DECODERS

    ap = argparse.ArgumentParser(prog="crnn-read", description="Read the word in each image (a cropped word per "
                                 "image; --text for a few words or lines). Folders are read one level deep.")
    ap.add_argument("items", nargs="+", metavar="IMAGE_OR_FOLDER")
    _model_options(ap)
    ap.add_argument("--decoder", choices=[d for d in DECODERS if d != "lexicon"] + ["lexicon"],
                    help="default: beam_lm (beam search with an English prior) for Latin charsets, else beam")
    ap.add_argument("--lexicon", metavar="FILE", help="one word per line, for --decoder lexicon")
    ap.add_argument("--text", action="store_true", help="each image may hold several words or lines (a sign, a "
                    "label): find the words by their gaps, read each, and print them joined by spaces")
    ap.add_argument("--json", action="store_true", help="one JSON list of {path, text, confidence, error}")
    args = ap.parse_args(argv)
    if args.decoder == "lexicon" and not args.lexicon:
        ap.error("--decoder lexicon needs --lexicon FILE (one word per line)")
    # 1. The model, and which one it is (stderr, so stdout stays the readings).
    try:
        recognizer, what = load_recognizer(args.run_dir, args.model, args.colour, args.trim)
        if args.lexicon:
            from .ctc import build_lexicon

            recognizer.lexicon = build_lexicon(Path(args.lexicon).read_text(encoding="utf-8").split())
        items = [p for item in args.items for p in _expand(item)]
        results = (recognizer.read_text if args.text else recognizer.recognize)(items, decoder=args.decoder)
    except (FileNotFoundError, ValueError) as e:
        return _fail(str(e))
    print(f"reading {len(items)} image(s) with {what}", file=sys.stderr)
    # 2. One line per image, in the order given.
    rows = [{"path": str(item), "text": r.text, "confidence": round(r.confidence, 4), "error": r.error}
            for item, r in zip(items, results)]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        for row in rows:
            tail = f"\t{row['error']}" if row["error"] else ""
            print(f"{row['path']}\t{row['text']}\t{row['confidence']:.3f}{tail}")
    return 0 if any(r.error is None for r in results) else 1


def _expand(item: str) -> list:
    """A folder -> its images (sorted); anything else as given, so a missing file is reported in its row."""
    from .recognizer import list_images

    path = Path(item)
    if not path.is_dir():
        return [path]
    found = list_images(path)
    if not found:
        raise ValueError(f"no images directly in {item}")
    return found


def eval_main(argv: Sequence[str] | None = None) -> int:
    """crnn-eval: word accuracy (three protocols) and CER of each decoder on a labelled folder (any layout read_folder takes)."""
    from .metrics import standard_error
    from .recognizer import score_folder

    ap = argparse.ArgumentParser(prog="crnn-eval", description="Score a labelled folder: word accuracy "
                                 "(case-sensitive, any case, letters and digits only) and CER per decoder.")
    ap.add_argument("folder", help="a folder with a label file (labels.tsv: path<TAB>label; see docs/data_formats.md)")
    _model_options(ap)
    ap.add_argument("--decoders", nargs="+", choices=["greedy", "beam", "beam_lm"],
                    help="default: greedy and the model's default decoder (beam_lm for Latin charsets, else beam)")
    ap.add_argument("--tesseract", action="store_true", help="also score Tesseract on the same images (`--psm 8`, "
                    "a word; with --text, `--psm 6`, a block of text)")
    ap.add_argument("--text", action="store_true", help="labels of several words (a sign, a line): read each image "
                    "as crnn-read --text does, and score its words joined by single spaces")
    ap.add_argument("--json", metavar="PATH", help="also write the full scores (misreads, by height) to PATH")
    args = ap.parse_args(argv)
    try:
        recognizer, what = load_recognizer(args.run_dir, args.model, args.colour, args.trim)
        args.decoders = args.decoders or ["greedy", recognizer.decoder]
        scores = score_folder(recognizer, args.folder, decoders=args.decoders, text=args.text)
        if args.tesseract:
            scores["tesseract"] = _tesseract_scores(args.folder, psm=6 if args.text else 8)
    except (FileNotFoundError, ValueError) as e:
        return _fail(str(e))
    n = scores[args.decoders[0]]["n"]
    print(f"{args.folder}: {n} labelled images, {scores['unreadable']} unreadable (counted wrong); {what}")
    print(f"{'decoder':<9} {'case-sensitive':>15} {'any case':>9} {'letters+digits':>15} {'± s.e.':>7} {'CER':>6}")
    for d in args.decoders + (["tesseract"] if args.tesseract else []):
        m = scores[d]
        alnum = m["word_acc_alnum36"]
        se = (standard_error(alnum, scores["n_alnum36"]) if alnum == alnum
              else standard_error(m["word_acc_ci"], m["n"]))
        print(f"{d:<9} {m['word_acc']:>15.1%} {m['word_acc_ci']:>9.1%} "
              f"{format(alnum, '>15.1%') if alnum == alnum else '–':>15} {se:>7.1%} {m['cer']:>6.3f}")
    if scores["labels_not_in_model"]:
        print(f"note: {scores['labels_not_in_model']} label(s) use characters this model cannot output "
              f"({scores['chars_not_in_model'][:40]}): they can only be read wrong; train on them (charset=\"auto\")"
              + ("; labels of several words: --text reads each image word by word"
                 if " " in scores["chars_not_in_model"] else ""))
    bands = scores[f"{args.decoders[0]}_any_case_by_height"]
    print(f"{args.decoders[0]}, any case, by crop height: "
          + ", ".join(f"{band} {v['word_acc_ci']:.0%} (n={v['n']})" for band, v in bands.items()))
    if args.json:
        Path(args.json).write_text(json.dumps({"folder": str(args.folder), "model": what, **scores}, indent=1))
    return 0


def _tesseract_scores(folder: str, psm: int = 8) -> dict:
    """score() of `tesseract --psm PSM` on a labelled folder's images (an image it cannot open reads as empty)."""
    from . import tesseract
    from .datasets import read_folder
    from .metrics import score

    records = read_folder(folder)
    labels = [r.label if psm == 8 else " ".join(r.label.split()) for r in records]
    return score(labels, tesseract.read_words([r.path for r in records], psm=psm))
