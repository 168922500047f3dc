"""Label files: which file of a folder is the list, reading its rows in any format, and refusing what is no list."""
from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Iterable, Iterator

from ..charset import without_invisible
from ..images import is_file, is_image_name
from ..records import DUPLICATE, MALFORMED, PrepareStats, Record
from .csv_rows import csv_rows
from .json_rows import json_file_rows, json_row
from .mat import mat_rows
from .names import label_from_file_name
from .paths import clear_listings, images_home, under
from .rows import LABEL_COLUMNS, Row, text_row
from .text_encoding import binary, garbled, open_text, text_encoding

# Label files read_folder looks for at the folder's top, in this order.
LABEL_FILES = ("labels.tsv", "labels.txt", "gt.txt", "labels.csv", "metadata.csv", "metadata.jsonl", "labels.json")
# Files that may hold labels: those read_folder finds by itself, and those it does not read (an error says to convert).
READ_SUFFIXES = (".txt", ".tsv", ".csv", ".jsonl", ".json", ".mat")
UNREAD_SUFFIXES = (".xml", ".xlsx", ".xls", ".ods", ".parquet", ".yaml", ".yml", ".pkl")
LIST_SUFFIXES = (*READ_SUFFIXES, ".lst", *UNREAD_SUFFIXES)
_FLAGS = {"0", "1", "true", "false", "yes", "no", "ok", "x", "checked"}


def find_label_file(data_dir: str | Path) -> Path | None:
    """The label file read_folder uses: data_dir itself if a file, the first of LABEL_FILES, the one that lists images."""
    clear_listings()
    try:
        return label_file_in(data_dir)
    finally:
        clear_listings()


def label_file_in(data_dir: str | Path) -> Path | None:
    """find_label_file, with the folder listings of the caller's read kept."""
    root = Path(data_dir)
    if root.is_file():
        return root
    known = next((root / n for n in LABEL_FILES if (root / n).is_file()), None)
    if known is not None:
        return known
    # Other people name their lists freely (test_gt.txt, annotation.txt, IIIT5K's converted test.txt): a text file at
    # the top counts when most of its first lines name an image that is there. Two such files is a choice for the user.
    lists = [p for p in sorted(root.glob("*")) if p.is_file() and p.suffix.lower() in READ_SUFFIXES
             and not p.name.endswith(".gt.txt") and lists_images(root, p) and not_words(p) is None]
    if len(lists) > 1:
        raise ValueError(f"'{data_dir}' holds {len(lists)} label files ({', '.join(p.name for p in lists)}): "
                         "give the one to read as data_dir, e.g. data_dir='" + str(root / lists[0].name) + "'")
    return lists[0] if lists else None


def not_words(path: Path, lines: int = 20) -> str | None:
    """What a list of images holds when it is not their words (PPOCRLabel's detection boxes or checked marks), else None."""
    if path.name == "fileState.txt":
        return "PPOCRLabel's marks of the photos checked"
    if path.suffix.lower() != ".txt":
        return None
    try:
        with open_text(path) as f:
            head = [line for _, line in zip(range(lines), f) if line.strip()]
    except OSError:
        return None
    boxes = sum('"transcription"' in line and '"points"' in line for line in head)
    return "detection boxes (PPOCRLabel's Label.txt, PaddleOCR's det_gt)" if head and 2 * boxes > len(head) else None


def lists_images(root: Path, path: Path, lines: int = 20) -> bool:
    """Whether most of the first `lines` rows of a label file name an existing image under root."""
    try:
        rows = [row for _, (row, _) in zip(range(lines), (r for r in file_rows(path) if r[1].strip()))]
    except Exception:  # unreadable as a list (a truncated .mat, an HTML error page saved as .mat, ...): not one
        return False
    home = images_home(root, [row[0] for row in rows if row is not None])
    found = sum(1 for row in rows if row is not None and row[0] and under(root, row[0], home).is_file())
    return found > 0 and found >= len(rows) / 2


def file_rows(path: Path) -> Iterator[Row]:
    """(path, label) or None, and the raw line, for each row of a label file in any format read_folder reads."""
    if path.suffix.lower() in (".mat", ".json"):
        yield from (mat_rows if path.suffix.lower() == ".mat" else json_file_rows)(path)
        return
    with open_text(path, newline="") as f:
        yield from _label_rows(f, path.suffix)


def _label_rows(lines: Iterable[str], suffix: str) -> Iterator[Row]:
    """(path, label) or None, and the raw line, for each line of a label file in the format its suffix names."""
    suffix = suffix.lower()
    if suffix == ".csv":
        return csv_rows(lines)
    parse = json_row if suffix == ".jsonl" else text_row
    return (parse(line) for line in lines)


def read_list(root: Path, found: Path, stats: PrepareStats | None) -> list[Record]:
    """The records of the label file read_folder chose, with one clear error when it holds no list of words."""
    _refuse_what_is_no_list(found)
    records = read_label_file(root, found, stats)
    _check_records(root, found, records)
    return records


def _refuse_what_is_no_list(found: Path) -> None:
    """Raise when a label file holds detection boxes or marks, is binary, or is in a format read_folder does not read."""
    if (holds := not_words(found)) is not None:
        raise ValueError(f"'{found.name}' holds {holds}, not words: give the recognition list (PPOCRLabel writes "
                         "rec_gt.txt and crop_img/ with File > Export Recognition Result) as data_dir")
    if found.suffix.lower() != ".mat" and binary(found):
        raise ValueError(f"'{found.name}' is not a text file (its first bytes are binary: a download that failed, "
                         "or another format under a text name): give the list of 'path<TAB>label' lines")
    if found.suffix.lower() in UNREAD_SUFFIXES:
        raise ValueError(f"read_folder does not read '{found.suffix}' lists ('{found.name}'): convert it to lines "
                         "'relative/path<TAB>label' in a labels.tsv (or CSV/JSON/JSONL with file_name and text)")


def _check_records(root: Path, found: Path, records: list[Record]) -> None:
    """Raise when a label file's records are garbled by its code page, none, all one flag, or name no image there."""
    if garbled(r.label for r in records[:1000]) and found.suffix.lower() != ".mat" and text_encoding(found) == "cp1252":
        sample = next(r.label for r in records if any(ord(c) > 127 for c in r.label))
        raise ValueError(f"'{found.name}' is not UTF-8, and read as Windows-1252 (Excel's Western 'CSV') its labels "
                         f"come out garbled ('{sample}'): save it again as UTF-8 (Excel: 'CSV UTF-8')")
    if not records:
        raise ValueError(f"'{found}' lists no images: expected lines 'relative/path<TAB>label' "
                         "(or 'path label', 'path, \"label\"', CSV/JSON/JSONL with file_name and text)")
    flags = {r.label.strip().lower() for r in records[:1000]}
    if len(records) >= 10 and len(flags) == 1 and flags <= _FLAGS:
        raise ValueError(f"every one of the {len(records)} labels in '{found.name}' is '{records[0].label}': a column "
                         "of flags, not of words; give the list that holds the words")
    if not any(is_file(r.path) for r in records):  # else every line would be a missing_file, and no data
        raise ValueError(f"none of the {len(records)} images '{found.name}' lists is there (the first: "
                         f"'{records[0].path}'): paths in a label file are read relative to its folder, '{root}'")


def read_label_file(root: Path, path: Path, stats: PrepareStats | None) -> list[Record]:
    """The records of a label file, paths found under root; malformed rows and images listed twice counted."""
    records, listed = [], set()
    # A byte-order mark left inside the path column of lists joined together is no part of a file name.
    rows = (((without_invisible(row[0]), row[1]) if row is not None else None, raw) for row, raw in file_rows(path))
    head = list(itertools.islice(rows, 51))
    home = images_home(root, [row[0] for row, _ in head if row is not None])  # where bare names point
    for i, (row, raw) in enumerate(itertools.chain(head, rows)):
        # A first line that names neither a file nor an image is a header (JSON, JSONL and .mat have none).
        if i == 0 and path.suffix.lower() not in (".json", ".jsonl", ".mat") and (
                row is None or not under(root, row[0], home).is_file() and not is_image_name(row[0])):
            continue
        # A line that cannot be split into path and label is counted, not fatal; a listed but absent file is
        # left to prepare_split, which counts it as missing_file.
        if row is None or not row[0]:
            if stats is not None:
                stats.skip(MALFORMED, raw.strip()[:80] or "<blank line>")
            continue
        # The same image twice ("a.png" and "./a.png" too) would count twice in a score and train twice: keep the first.
        image = under(root, row[0], home)
        key = os.path.normpath(image)
        if key in listed:
            if stats is not None:
                stats.skip(DUPLICATE, raw.strip()[:80])
            continue
        listed.add(key)
        records.append(Record(str(image), _mjsynth_word(row[0], _donut_text(row[1]).strip())))
    return records


def _donut_text(label: str) -> str:
    """The text of a Donut/SynthDoG label ('{"gt_parse": {"text_sequence": "Hello"}}', a JSON string); other labels as they are."""
    if not label.lstrip().startswith('{"gt_parse"'):
        return label
    try:
        parse = json.loads(label)["gt_parse"]
    except (ValueError, KeyError, TypeError):
        return label
    if isinstance(parse, dict):
        parse = next((parse[k] for k in ("text_sequence", *LABEL_COLUMNS) if isinstance(parse.get(k), str)), parse)
    return parse if isinstance(parse, str) else label


def _mjsynth_word(rel: str, label: str) -> str:
    """The word of an MJSynth annotation line read as a label file: './1/1/3_Hello_17.jpg 17' -> 'Hello', not '17'."""
    # MJSynth's second column is the word's index in lexicon.txt; the word itself is in the file name, between the
    # first and the last underscore, and the name ends with that same index. Any other label is kept as written.
    stem = Path(rel.replace("\\", "/")).stem
    parts = stem.split("_")
    mjsynth = label.isdigit() and len(parts) >= 3 and parts[0].isdigit() and parts[-1] == label  # not 'price_199.png'
    return label_from_file_name(stem) if mjsynth else label
