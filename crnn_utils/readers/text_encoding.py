"""The encoding of a label or annotation file: UTF-16 (with or without its mark), UTF-8, or Windows-1252."""
from __future__ import annotations

import codecs
import functools
import os
import re
from pathlib import Path
from typing import Iterable


def text_encoding(path: str | Path) -> str:
    """The encoding a label file is in: UTF-16 (by its byte-order mark, or by the zero byte beside every ASCII one),
    UTF-8, else Windows-1252 (Excel's "CSV" in a Western locale)."""
    # One look at the first 4 MB per file: finding, checking and reading one list opens it up to five times.
    try:
        st = os.stat(path)
    except OSError:
        return "utf-8-sig"
    return sniff_encoding(str(path), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def sniff_encoding(path: str, size: int, mtime_ns: int, probe: int = 1 << 22) -> str:
    """text_encoding of one version (size, modification time) of a file."""
    # Windows Notepad's "Unicode" and Excel's "Unicode text" save UTF-16; "utf-8-sig" also drops UTF-8's mark. A file
    # whose first 4 MB are not UTF-8 was saved by a Western-locale Windows program: "Café" is b"Caf\xe9" there.
    try:
        with open(path, "rb") as f:
            head = f.read(probe)
    except OSError:
        return "utf-8-sig"
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    # Without its mark (.NET's Encoding.Unicode to a stream, some exporters): ASCII text has a zero beside every
    # byte, on one side; a few zeros on the other side are characters such as U+4E00.
    even, odd = head[0:2 * (len(head) // 2):2], head[1:2 * (len(head) // 2):2]
    for zeros, others, name in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if len(zeros) >= 4 and 10 * zeros.count(0) >= 7 * len(zeros) and 20 * others.count(0) <= len(others):
            return name
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)  # a character cut at the end is not an error
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8-sig"


def open_text(path: str | Path, newline: str | None = None):
    """A label or annotation file opened as text: UTF-16 as such; otherwise UTF-8 line by line, where any bytes that
    are not UTF-8 are read as Windows-1252, so a list with one line appended by a Windows tool keeps 'Café' in both."""
    encoding = text_encoding(path)
    if encoding.startswith("utf-16"):
        return open(path, encoding=encoding, errors="replace", newline=newline)
    return open(path, encoding="utf-8-sig", errors=_CP1252_FALLBACK, newline=newline)


def _cp1252_bytes(error: UnicodeError) -> tuple[str, int]:
    """A codec error handler: the bytes UTF-8 could not decode, read as Windows-1252."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start:error.end].decode("cp1252", errors="replace"), error.end


_CP1252_FALLBACK = "crnn_notebooks.cp1252"
codecs.register_error(_CP1252_FALLBACK, _cp1252_bytes)


def binary(path: Path, probe: int = 4096) -> bool:
    """Whether a file that should be text starts with bytes no text has: one in twenty a control character (not UTF-16)."""
    if text_encoding(path).startswith("utf-16"):
        return False
    with open(path, "rb") as f:
        head = f.read(probe)
    controls = sum(b < 32 and b not in (9, 10, 12, 13) for b in head)
    return len(head) >= 64 and 20 * controls >= len(head)


def garbled(labels: Iterable[str]) -> bool:
    """Whether labels decoded as Windows-1252 look like text of another code page: most of their non-ASCII characters
    in runs of three or more ('Ïðèâåò' for Russian, '¼òµ¥' for Chinese), where Western words have one or two ('Café', 'ações')."""
    runs = total = 0
    for label in labels:
        for m in re.finditer(r"[^\x00-\x7f]+", label):
            total += len(m.group())
            runs += len(m.group()) if len(m.group()) >= 3 else 0
    return total >= 4 and 5 * runs >= 3 * total
