"""The IAM Handwriting Database's words: words.txt (ids and words) and the word images of words.tgz."""
from __future__ import annotations

import itertools
import re
from pathlib import Path

from ..records import MALFORMED, PrepareStats, Record
from .text_encoding import open_text

IAM_WORDS = "words.txt"  # the IAM Handwriting Database's word list (its ascii.tgz), beside the words/ it names
IAM_ID = re.compile(r"[a-z]\d\d-\d{3}[a-z]?-\d\d-\d\d")
_IAM_LINE = re.compile(rf"({IAM_ID.pattern}) (ok|err?) -?\d+ (?:\S+ ){{5,6}}(.+)")
IAM_BAD_SEGMENTATION = "iam_segmentation_err"  # a words.txt line marked 'err': the word's box may cut it


def iam_words_in(folder: Path) -> Path | None:
    """IAM's word list in a dataset folder: its words.txt, or ascii/words.txt as IAM's ascii.tgz extracts it."""
    return next((w for w in (folder / IAM_WORDS, folder / "ascii" / IAM_WORDS) if w.is_file() and is_iam_words(w)), None)


def is_iam_words(path: Path, lines: int = 50) -> bool:
    """Whether most of the first lines of a text file, less '#' comments, are IAM words.txt lines."""
    try:
        with open_text(path) as f:
            head = [x.strip() for x in itertools.islice((x for x in f if x.strip() and not x.startswith("#")), lines)]
    except OSError:
        return False
    return bool(head) and 2 * sum(bool(_IAM_LINE.fullmatch(x)) for x in head) > len(head)


def read_iam(words: Path, stats: PrepareStats | None) -> list[Record]:
    """Records of IAM's words.txt: 'a01-000u-00-00 ok ... A' -> words/a01/a01-000u/a01-000u-00-00.png, 'A'."""
    rows, bad = [], []
    with open_text(words) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            m = _IAM_LINE.fullmatch(line.strip())
            if m is None:
                if stats is not None:
                    stats.skip(MALFORMED, line.strip()[:80])
                continue
            wid, flag, label = m.groups()
            form = wid.split("-")
            rel = Path(form[0], f"{form[0]}-{form[1]}", wid + ".png")
            (rows if flag == "ok" else bad).append((rel, label))  # IAM's own note: "er: segmentation of word can be bad"
    # words.tgz extracts to a01/a01-000u/...; people keep that under words/ beside words.txt or beside ascii/.
    bases = [b / sub for b in (words.parent, words.parent.parent) for sub in ("words", "")]
    base = next((b for b in bases for rel, _ in rows[:: max(1, len(rows) // 20)] if (b / rel).is_file()), None)
    if base is None:
        raise ValueError(f"'{words}' is IAM's word list, but none of its images is under "
                         f"{' or '.join(repr(str(b)) for b in bases[:2])}: extract IAM's words.tgz into '{bases[0]}'")
    for rel, _ in bad if stats is not None else ():  # named from the dataset's root, as the other skips are
        stats.skip(IAM_BAD_SEGMENTATION, (Path(base.name) / rel).as_posix() if base.name == "words" else rel.as_posix())
    return [Record(str(base / rel), label) for rel, label in rows]


def refuse_iam_images(data_dir: str | Path, root: Path, files: list[Path]) -> None:
    """Raise when most images of a folder are named by IAM word ids: their words are in words.txt, named in the error."""
    if 2 * sum(bool(IAM_ID.fullmatch(p.stem)) for p in files) <= len(files):  # not IAM's words/a01/a01-000u/*.png
        return
    words = iam_words_in(root.parent) or iam_words_in(root.parent.parent)
    where = "their labels are in IAM's words.txt (ascii.tgz): give the folder that holds it, or words.txt itself"
    if words is not None:
        give = words.parent.parent if words.parent.name == "ascii" else words.parent
        where = f"'{words}' is there: give '{give}' as data_dir"
    raise ValueError(f"'{data_dir}' holds IAM word images, whose names are ids ('{files[0].stem}'), not words; {where}")
