"""crnn_utils.charset: the seed's 62 classes + blank, encode/decode, skip reasons and CTC length limits."""
from __future__ import annotations

import string

import pytest

from crnn_utils.charset import (
    EMPTY_LABEL,
    OUT_OF_CHARSET,
    SEED_CHARS,
    SEED_TIME_STEPS,
    TOO_LONG,
    Charset,
    ctc_min_steps,
)


def test_seed_charset_layout():
    cs = Charset.seed()
    assert cs.chars == string.ascii_lowercase + string.ascii_uppercase + string.digits
    assert cs.chars == SEED_CHARS
    assert len(cs) == 62
    assert cs.blank == 62
    assert cs.num_classes == 63
    assert cs.encode("a") == [0]
    assert cs.encode("A") == [26]
    assert cs.encode("0") == [52]
    assert cs.encode("9") == [61]
    assert SEED_TIME_STEPS == 31


def test_spec_seed_and_default():
    assert Charset.from_spec("seed") == Charset.seed()
    assert Charset.from_spec("default") == Charset.seed()
    assert Charset.from_spec("xyz").chars == "xyz"


@pytest.mark.parametrize("text", ["hello", "Zz9", "aAbB01", "", SEED_CHARS])
def test_encode_decode_round_trip(text):
    cs = Charset.seed()
    ids = cs.encode(text)
    assert len(ids) == len(text)
    assert all(0 <= i < 62 for i in ids)
    assert cs.decode(ids) == text


def test_encode_unknown_raises_keyerror():
    with pytest.raises(KeyError):
        Charset.seed().encode("a b")


def test_decode_ignores_blank_and_negative_padding():
    cs = Charset.seed()
    ids = cs.encode("abc")
    assert cs.decode([cs.blank, ids[0], cs.blank, ids[1], -1, ids[2], -1, cs.blank]) == "abc"
    assert cs.decode([cs.blank, -1, -5]) == ""


def test_from_labels_sorted_unique():
    cs = Charset.from_labels(["cab", "bad", "a"])
    assert cs.chars == "abcd"
    assert cs.blank == 4 and cs.num_classes == 5


def test_from_spec_auto_includes_space():
    cs = Charset.from_spec("auto", ["ab c", "ba"])
    assert cs.chars == " abc"
    assert " " in cs
    assert cs.decode(cs.encode("c ab")) == "c ab"
    assert cs.skip_reason("a b") is None


def test_duplicate_chars_raise():
    with pytest.raises(ValueError, match="repeated"):
        Charset("abca")
    with pytest.raises(ValueError):
        Charset.from_spec("xx")


def test_empty_charset_raises():
    with pytest.raises(ValueError, match="at least one"):
        Charset("")
    with pytest.raises(ValueError):
        Charset.from_spec("auto", [])
    with pytest.raises(ValueError):
        Charset.from_labels(["", ""])


def test_ctc_min_steps():
    assert ctc_min_steps("") == 0
    assert ctc_min_steps("a") == 1
    assert ctc_min_steps("ab") == 2
    assert ctc_min_steps("aa") == 3
    assert ctc_min_steps("aab") == 4
    assert ctc_min_steps("hello") == 6
    assert ctc_min_steps("a" * 16) == 31
    assert ctc_min_steps("a" * 17) == 33


def test_skip_reason_empty_and_out_of_charset():
    cs = Charset.seed()
    assert cs.skip_reason("") == EMPTY_LABEL
    assert cs.skip_reason("héllo") == OUT_OF_CHARSET
    assert cs.skip_reason("a b") == OUT_OF_CHARSET
    assert cs.skip_reason("it's") == OUT_OF_CHARSET
    assert cs.skip_reason("hello") is None


def test_skip_reason_too_long():
    cs = Charset.seed()
    # "aa" needs 3 steps (a blank between the repeats).
    assert cs.skip_reason("aa", time_steps=3) is None
    assert cs.skip_reason("aa", time_steps=2) == TOO_LONG
    # Distinct neighbours: one step per character.
    word31 = (string.ascii_lowercase + "ABCDE")[:31]
    word32 = (string.ascii_lowercase + "ABCDEF")[:32]
    assert len(word31) == 31 and len(word32) == 32
    assert ctc_min_steps(word31) == 31 and ctc_min_steps(word32) == 32
    assert cs.skip_reason(word31) is None
    assert cs.skip_reason(word32) == TOO_LONG
    assert cs.skip_reason(word31, time_steps=30) == TOO_LONG
    # Repeats: 16 a's need 31 steps, 17 need 33.
    assert cs.skip_reason("a" * 16) is None
    assert cs.skip_reason("a" * 17) == TOO_LONG


def test_skip_reason_order_empty_before_charset_before_length():
    cs = Charset("ab")
    assert cs.skip_reason("c" * 100) == OUT_OF_CHARSET
    assert cs.skip_reason("", time_steps=0) == EMPTY_LABEL


def test_pad():
    cs = Charset.seed()
    out = cs.pad(["ab", "", "abcd"], max_len=3)
    assert out == [[0, 1, 62], [62, 62, 62], [0, 1, 2]]
    assert all(len(row) == 3 for row in out)
    assert cs.pad([], 4) == []


def test_from_labels_leaves_out_decoding_debris():
    # 'caf\ufffd' is a Latin-1 'café' read as UTF-8; a tab or NUL in a label is a parsing slip: no class for either.
    cs = Charset.from_labels(["caf\ufffd", "a\tb", "x\x00"])
    assert cs.chars == "abcfx"
    assert cs.skip_reason("caf\ufffd", 31) == "out_of_charset"
