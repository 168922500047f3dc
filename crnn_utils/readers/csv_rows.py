"""CSV label files as (path, label) rows: a header naming the columns or none, ',' or ';', Excel's padding and 'sep='."""
from __future__ import annotations

import itertools
import re
from collections import Counter
from typing import Iterator

from ..images import is_image_name
from .rows import LABEL_COLUMNS, PATH_COLUMNS, Row, without_scores


def csv_rows(f) -> Iterator[Row]:
    """CSV rows as (path, label): columns named as in PATH_COLUMNS/LABEL_COLUMNS when there is a header, else 0, 1."""

    # A spreadsheet set to a European locale saves "CSV" with ";" between the fields: Excel may say so in a first line.
    lines = iter(f)
    first = next(lines, "")
    told = re.fullmatch(r"\ufeff?sep=(.)\r?\n?", first)  # Excel's 'sep=;' line: the separator, said, and no row
    if told:
        first = next(lines, "")
    peek = [first, *itertools.islice(lines, 19)]
    lines = itertools.chain(peek[1:], lines)
    sep = told.group(1) if told else _csv_separator(peek)
    # Excel writes every row with as many fields as its widest ('a.png,Hello,' when one row has a note): when most of
    # the first rows end in an empty field, the file has that many columns and the label is one field, not 'Hello,'.
    head = [first, *itertools.islice(lines, 49)]
    rows = [r for r in (_csv_fields(line, sep) for line in head) if any(x.strip() for x in r)]
    counts = Counter(len(r) for r in rows)
    common, n = counts.most_common(1)[0] if counts else (0, 0)
    padded = common >= 3 and len(rows) >= 2 and 5 * n >= 4 * len(rows) and \
        5 * sum(len(r) == common and not r[-1].strip() for r in rows) >= 3 * len(rows)
    cols, width = (0, 1), (common if padded else None)
    # One row a line: a label never spans lines, and a lone quote ('a.png,"HIGH', a sign's text) must not swallow the
    # rows after it, as csv.reader's quoted field would, to the end of the file.
    for i, line in enumerate(itertools.chain(head, lines)):
        fields = _csv_fields(line, sep)
        if not fields:
            continue
        raw = sep.join(fields)
        lower = [x.strip().lower() for x in fields]
        if i == 0:
            p = next((lower.index(n) for n in PATH_COLUMNS if n in lower), None)
            q = next((lower.index(n) for n in LABEL_COLUMNS if n in lower), None)
            if p is None and "id" in lower and not any(is_image_name(x) for row in rows[1:] for x in row):
                p = lower.index("id")  # a Kaggle 'id,text' list: images named by the id, without an extension
            if p is not None and q is not None:
                cols, width = (p, q), len(fields)
                yield (fields[p], fields[q]), raw  # the header: read_folder's first-line rule drops it
                continue
        if cols == (0, 1) and len(fields) >= 2 and not is_image_name(fields[0]):
            # No header named the columns: the path is the field that names an image ('Hello,a.png', an index first),
            # the label the field after it (before it when the path comes last).
            at = next((j for j, x in enumerate(fields) if is_image_name(x)), None)
            if at is not None:
                label = _csv_tail(fields, at + 1, width, sep, line) if at + 1 < len(fields) else fields[at - 1]
                yield (fields[at].strip(), label), raw
                continue
        ok = len(fields) > max(cols)
        label = _csv_tail(fields, cols[1], width, sep, line) if ok and cols[1] > cols[0] else fields[cols[1]] if ok else ""
        yield ((fields[cols[0]].strip(), label) if ok else None), raw


def _csv_fields(line: str, sep: str) -> list[str]:
    """One CSV line's fields; in a line whose quotes do not pair up ('a.png,"HIGH') a quote is a character like any other."""
    import csv

    if '"' not in line:  # most lines: what csv.reader with skipinitialspace gives, five times faster
        text = line.rstrip("\r\n")
        return [x.lstrip(" ") for x in text.split(sep)] if text else []
    # skipinitialspace: 'word_1.png, "Hello, World"' (ICDAR's gt.txt saved as .csv) keeps its quoted comma.
    quoting = csv.QUOTE_MINIMAL if line.count('"') % 2 == 0 else csv.QUOTE_NONE
    return next(csv.reader([line], delimiter=sep, skipinitialspace=True, quoting=quoting), [])


def _csv_separator(head: list[str]) -> str:
    """',' or ';': the one that splits an image name off more of the first rows, else the one the first line has more of."""

    def naming(sep: str) -> int:
        return sum(any(is_image_name(x) for x in _csv_fields(line, sep)) for line in head)

    by_name = {sep: naming(sep) for sep in (",", ";")}
    if by_name[","] != by_name[";"]:  # 'a.png,A;B;C' has more ';' than ',', and its ',' splits off the image
        return max(by_name, key=by_name.get)
    first = head[0] if head else ""
    return ";" if first.count(";") > first.count(",") else ","


def _csv_tail(fields: list[str], start: int, width: int | None, sep: str, line: str) -> str:
    """The label of a CSV row from column `start` on: 'a.png,Hello, World' (more fields than the header names, or no
    header) has an unquoted separator in its label and keeps it, less trailing scores; other rows give fields[start]."""
    rest = without_scores(fields[start:], keep=1)  # 'a.png,Hello,0.98': a score, not part of the word
    if len(rest) == 1 or width is not None and start + 1 < width or '"' in line:
        return rest[0]
    parts = line.rstrip("\r\n").split(sep)[start:start + len(rest)]  # the row's own text: spaces after a comma kept
    return sep.join(parts) if sep.join(x.lstrip() for x in parts) == sep.join(rest) else sep.join(rest)
