"""tesseract.read_words: what it keeps of the program's output in word, line and block modes (the program faked)."""
from __future__ import annotations

import subprocess

import pytest

from crnn_utils import tesseract


@pytest.fixture
def fake_tesseract(monkeypatch):
    """tesseract.read_words with a `tesseract` that prints two lines of words, whatever the image."""
    monkeypatch.setattr(tesseract, "available", lambda: True)
    out = "DOUBLE  PARKING\nAT ALL® |\n\n"
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: subprocess.CompletedProcess(cmd, 0, out, ""))


def test_word_mode_joins_everything_into_one_word(fake_tesseract) -> None:
    assert tesseract.read_words(["x.png"]) == ["DOUBLEPARKINGATALL®|"]
    assert tesseract.read_words(["x.png"], keep="ABCDEFGHIJKLMNOPQRSTUVWXYZ") == ["DOUBLEPARKINGATALL"]


def test_line_and_block_modes_keep_single_spaces_and_drop_emptied_words(fake_tesseract) -> None:
    assert tesseract.read_words(["x.png"], psm=6) == ["DOUBLE PARKING AT ALL® |"]
    assert tesseract.read_words(["x.png", "y.png"], psm=7, keep="ABCDEFGHIJKLMNOPQRSTUVWXYZ") == \
        ["DOUBLE PARKING AT ALL"] * 2
