"""Lines of words: `Recognizer.read_text` (each word found by its gaps, read, joined by spaces) against reading the
image as one word, and Tesseract reading it as a line; and how often it splits a one-word crop.

    .venv/bin/python benchmarks/text_lines.py RUN_DIR --lines FOLDER... [--words FOLDER...] [--out PATH]
    .venv/bin/python benchmarks/text_lines.py pretrained --lines runs/third_party/lines data/signs \\
        --words runs/realval/choose runs/realval/report runs/third_party/plain

`--lines` folders hold images of several words (labels with spaces; `eval_sets/third_party_words.py --lines` draws
2-4 words to an image with trdg). Each is scored, any case, as whole lines (every word right and no word more) and
as words (1 - the word error rate: word-level edits against the label's words), with `greedy` and `beam_lm`;
reading the image as one word (`recognize`) is scored on the line's letters and digits with the spaces dropped,
which is all it can get right; Tesseract reads each image as a line (`--psm 7`) and as a block of lines (`--psm 6`)
when it is installed.
`--words` folders hold one word an image: there the count of images split into several words, and the greedy
accuracy on letters and digits of `read_text` against `recognize` (a split costs nothing there when every part is
read right). RUN_DIR may be `pretrained`. Writes benchmarks/results/text_lines/MODEL.json by default (MODEL:
`pretrained`, or the run's folder name). Tesseract's readings keep only the model's characters, as `read_words` does
for words, so a stray "|" or "®" does not count against it.
"""
from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def word_scores(labels: list[str], preds: list[str]) -> dict:
    """Line accuracy and 1 - word error rate, any case, for texts of space-separated words."""
    from crnn_utils.metrics import edit_distance, standard_error

    pairs = [(label.lower().split(), pred.lower().split()) for label, pred in zip(labels, preds)]
    lines = sum(a == b for a, b in pairs) / len(pairs)
    words = sum(len(a) for a, _ in pairs)
    wer = sum(edit_distance(a, b) for a, b in pairs) / words
    return {"n": len(pairs), "words": words, "line_acc": round(lines, 4), "line_se": round(standard_error(lines, len(pairs)), 4),
            "word_acc": round(max(0.0, 1 - wer), 4)}


def score_lines(rec, folder: Path) -> dict:
    """One lines folder: read_text (greedy, beam_lm), recognize on letters and digits, Tesseract --psm 7 and 6."""
    from crnn_utils import tesseract
    from crnn_utils.datasets import read_folder
    from crnn_utils.metrics import word_accuracy_alnum

    records = read_folder(folder)
    paths, labels = [r.path for r in records], [r.label for r in records]
    kinds = _backgrounds(folder, paths)
    out = {"folder": folder.name}
    readers = {f"read_text_{d}": (lambda d=d: [r.text for r in rec.read_text(paths, d)]) for d in ("greedy", "beam_lm")}
    if tesseract.available():  # a single line (7) and a block of lines (6)
        keep = rec.charset.chars
        readers["tesseract_psm7"] = lambda: tesseract.read_words(paths, psm=7, keep=keep)
        readers["tesseract_psm6"] = lambda: tesseract.read_words(paths, psm=6, keep=keep)
    for name, read in readers.items():
        texts = read()
        out[name] = {**word_scores(labels, texts), "alnum_acc": round(word_accuracy_alnum(labels, texts), 4)}
        if kinds:  # line accuracy by background kind (trdg's sets say each image's kind)
            out[name]["line_acc_by_background"] = {
                kind: word_scores([l for l, k in zip(labels, kinds) if k == kind],
                                  [t for t, k in zip(texts, kinds) if k == kind])["line_acc"] for kind in sorted(set(kinds))}
    out["recognize_greedy_alnum_acc"] = round(word_accuracy_alnum(labels, [r.text for r in rec.recognize(paths, "greedy")]), 4)
    if tesseract.available():
        out["tesseract_version"] = tesseract.version()
    return out


def _backgrounds(folder: Path, paths: list) -> list[str] | None:
    """Each image's background kind from the folder's backgrounds.tsv (name<TAB>kind), None without one."""
    table = folder / "backgrounds.tsv"
    if not table.is_file():
        return None
    kinds = dict(line.split("\t") for line in table.read_text().splitlines() if line)
    return [kinds.get(Path(p).name, "?") for p in paths]


def score_words(rec, folder: Path) -> dict:
    """One single-word folder: how many images read_text splits, and greedy letters-and-digits accuracy both ways."""
    from crnn_utils.datasets import read_folder
    from crnn_utils.images import load_image
    from crnn_utils.layout import word_boxes
    from crnn_utils.metrics import word_accuracy_alnum

    records = read_folder(folder)
    paths, labels = [r.path for r in records], [r.label for r in records]
    split = sum(sum(len(line) for line in word_boxes(load_image(p))) > 1 for p in paths)
    return {"folder": folder.name, "n": len(paths), "split": split,
            "recognize_greedy": round(word_accuracy_alnum(labels, [r.text for r in rec.recognize(paths, "greedy")]), 4),
            "read_text_greedy": round(word_accuracy_alnum(labels, [r.text for r in rec.read_text(paths, "greedy")]), 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path, help="a run of the notebooks, or 'pretrained'")
    ap.add_argument("--lines", type=Path, nargs="*", default=[], help="folders of images of several words")
    ap.add_argument("--words", type=Path, nargs="*", default=[], help="folders of one-word crops")
    ap.add_argument("--out", type=Path, help="default: benchmarks/results/text_lines/MODEL.json")
    args = ap.parse_args()

    import crnn_utils  # noqa: F401  (quiets TensorFlow first)
    from crnn_utils.recognizer import Recognizer

    rec = Recognizer.pretrained() if str(args.run_dir) == "pretrained" else Recognizer.from_run_dir(args.run_dir)
    model = str(args.run_dir) if str(args.run_dir) == "pretrained" else Path(args.run_dir).name
    out = args.out or ROOT / "benchmarks" / "results" / "text_lines" / f"{model}.json"
    report = {"model": model, "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "lines": [score_lines(rec, f) for f in args.lines], "words": [score_words(rec, f) for f in args.words]}
    print(json.dumps(report, indent=1))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
