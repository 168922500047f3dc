"""One line of a plain-text label list as (path, label): tabs, ICDAR's 'path, "label"', ids, 'image.ext label'."""
from __future__ import annotations

import re
from typing import Optional, Tuple

from ..images import is_image_name
from .paths import ID_NAME

# A row of any label file: (path, label), or None where the line names no such pair, and the raw line.
Row = Tuple[Optional[Tuple[str, str]], str]

# The column names label files use for the image's path and for its text (CSV headers, JSON keys, MATLAB fields).
PATH_COLUMNS = ("path", "file_name", "filename", "file", "image", "image_path", "img", "name", "image_name",
                "img_name", "img_path", "file_path", "filepath", "image_file", "image_id")
LABEL_COLUMNS = ("label", "text", "transcription", "word", "identity", "ground_truth", "gt", "words", "transcript",
                 "label_text", "string")

# The script column of ICDAR MLT's word ground truth ('word_1.png,Latin,Hello'), which is not part of the word.
MLT_SCRIPTS = ("Latin", "Arabic", "Chinese", "Japanese", "Korean", "Bangla", "Hindi", "Symbols", "Mixed", "None")


def text_row(line: str) -> Row:
    """'path<TAB>label', 'path, "label"' (ICDAR gt.txt; or ';'), 'id,label' (an image named by an id: COCO-Text), or
    'image.ext label' (path and label may hold spaces)."""
    line = line.rstrip("\r\n")
    if "\t" in line:
        return _tab_row(line), line
    for sep in (",", ";"):  # ';' where a European spreadsheet wrote the list
        head, found, tail = line.partition(sep)
        if found and is_image_name(head):
            return (head.strip(), quoted_label(_without_script(tail, sep), sep)), line
        if found and is_image_name(tail) and not is_image_name(head):  # 'Hello,a.png'
            return (tail.strip(), unquote(head)), line
        if found and ID_NAME.fullmatch(head.strip()) and tail.strip() and \
                not any(map(is_image_name, re.split(r"[,; ]", line))):  # COCO-Text's '1000000,EXIT': an image's id
            return (head.strip(), quoted_label(tail, sep)), line
    # 'image.ext label': the path ends at the first word with an image extension, so 'my photo.jpg Hello' reads too.
    words = line.split(" ")
    end = next((i for i, w in enumerate(words) if is_image_name(w)), None)
    label = " ".join(words[end + 1:]).strip() if end is not None else ""
    return ((" ".join(words[:end + 1]).strip(), unquote(label)) if label else None), line  # 'word_1.png "Hello"'


def _tab_row(line: str) -> tuple[str, str]:
    """(path, label) of a tab-separated line, whatever columns it has besides."""
    fields = line.split("\t")
    # The path is the field that names an image (an index column may come first, the label may come first);
    # the label is the field after it (before it when the path is last). A tab is never part of a word, so
    # further columns ('a.png<TAB>Hello<TAB>train') are not the label's, nor is a score ('a.png<TAB>Hello<TAB>0.98'),
    # while a number right after the path is the label ('0<TAB>a.png<TAB>42': pandas' index first).
    at = next((j for j, x in enumerate(fields) if is_image_name(x)), 0)
    before, after = fields[:at], fields[at + 1:]
    label_first = before and (not after or all(map(is_score, after))
                              or all(map(is_number, after)) and not is_number(before[-1]))  # 'Hello<TAB>a.png<TAB>3'
    label = fields[at - 1] if label_first else after[0] if after else ""  # 'Hello<TAB>a.png<TAB>0.98' too
    return fields[at].strip(), unquote(_without_script(label, "\t"))


def _without_script(tail: str, sep: str) -> str:
    """The label after 'path,' less an MLT script name before it: 'Latin,Hello' -> 'Hello'; any other tail as it is."""
    head, found, rest = tail.partition(sep)
    return rest if found and head.strip() in MLT_SCRIPTS and rest.strip() else tail


def quoted_label(tail: str, sep: str) -> str:
    """The label after 'path,': ICDAR's '"Hello"' unquoted, and '"Hello", 0.98' less the scores after the quotes."""
    # Only a quoted label can be told from the numbers after it: in 'a.png,3,2,1' the commas may be the word's own.
    text = tail.strip()
    if text.startswith('"') and not text.endswith('"'):
        import csv

        fields = next(csv.reader([text], delimiter=sep, skipinitialspace=True, escapechar="\\"), [])
        if len(fields) >= 2 and len(without_scores(fields, keep=1)) == 1:
            return fields[0]
    return unquote(tail)


def without_scores(fields: list[str], keep: int) -> list[str]:
    """Fields less the numbers at their end (confidences after a label), keeping at least `keep` fields."""
    end = len(fields)
    while end > keep and is_number(fields[end - 1]):
        end -= 1
    return fields[:end]


def is_score(text: str) -> bool:
    """Whether text is a confidence: a fraction with a point, 0 to 1 ('0.98'), not an index or a number word ('42')."""
    return "." in text and is_number(text) and 0.0 <= float(text) <= 1.0


def is_number(text: str) -> bool:
    """Whether text is a number, as a confidence or an index column holds."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def unquote(label: str) -> str:
    """ICDAR's '"Tiredness"' -> 'Tiredness' (with its escapes \\" and \\\\); a label without both quotes as it is."""
    text = label.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        inner = text[1:-1]
        if '""' in inner and '\\"' not in inner:  # CSV's escaping ('say ""hi""'), as pandas and csv.writer write it
            return inner.replace('""', '"')
        return inner.replace('\\"', '"').replace('\\\\', '\\')
    return label
