"""Text recognition metrics on hand-computed examples."""
from __future__ import annotations

import math
from collections import Counter

import pytest

from crnn_utils.metrics import (
    accuracy_by_length,
    cer,
    confusions,
    near_misses,
    edit_distance,
    normalize_alnum,
    normalized_edit_distance,
    score,
    word_accuracy,
    word_accuracy_alnum,
)


@pytest.mark.parametrize(
    "a, b, d",
    [("kitten", "sitting", 3), ("", "", 0), ("", "abc", 3), ("abc", "", 3), ("flaw", "lawn", 2), ("abc", "abc", 0),
     ("a" * 70, "a" * 69 + "b", 1)],
)
def test_edit_distance(a, b, d):
    assert edit_distance(a, b) == d == edit_distance(b, a)


def test_normalize_alnum():
    assert normalize_alnum("Hello-World!") == "helloworld"
    assert normalize_alnum("R2-D2 ") == "r2d2"


LABELS = ["Hello", "world", "CAT", "it's"]
PREDS = ["hello", "word", "CAT", "its"]


def test_word_accuracy_protocols():
    assert word_accuracy(LABELS, PREDS) == 0.25  # only CAT
    assert word_accuracy(LABELS, PREDS, case_sensitive=False) == 0.5  # + Hello
    assert word_accuracy_alnum(LABELS, PREDS) == 0.75  # + it's


def test_cer_and_ned():
    # edits: 1 (H->h) + 1 (missing l) + 0 + 1 (missing ') = 3 over 5 + 5 + 3 + 4 = 17 label characters
    assert cer(LABELS, PREDS) == pytest.approx(3 / 17)
    assert normalized_edit_distance(LABELS, PREDS) == pytest.approx((1 / 5 + 1 / 5 + 0 + 1 / 4) / 4)
    assert normalized_edit_distance(["", "ab"], ["", "ab"]) == 0.0
    assert cer(["ab"], ["abcd"]) == 1.0


def test_score_keys():
    s = score(LABELS, PREDS)
    assert set(s) == {"word_acc", "word_acc_ci", "word_acc_alnum36", "cer", "ned", "n"}
    assert s["n"] == 4 and s["word_acc_ci"] == 0.5 and s["cer"] == pytest.approx(3 / 17)


def test_letters_and_digits_protocol_leaves_out_labels_with_none():
    # Words of another alphabet (or marks alone) have nothing to compare under the 36-class protocol: left out,
    # not counted as read because the reading has nothing left either.
    assert word_accuracy_alnum(["окно", "abc", "&"], ["xyz", "abc", ""]) == 1.0
    assert word_accuracy_alnum(["окно", "abc"], ["окно", "abd"]) == 0.0
    assert math.isnan(word_accuracy_alnum(["окно", "дом"], ["", "x"]))
    s = score(["окно", "abc"], ["", "abc"])
    assert s["n"] == 2 and s["word_acc_alnum36"] == 1.0 and s["word_acc_ci"] == 0.5


def test_confusions():
    c = confusions(["hello", "cat", "oil"], ["hallo", "cot", "0il"])
    assert c == Counter({("e", "a"): 1, ("a", "o"): 1, ("o", "0"): 1})
    assert confusions(["abc"], ["ac"]) == Counter()
    assert confusions(["abc"], ["ac"], include_indels=True) == Counter({("b", ""): 1})
    assert confusions(["ab"], ["abx"], include_indels=True) == Counter({("", "x"): 1})


def test_near_misses_are_one_letter_off_whatever_the_case():
    labels = ["Exit", "Hamburg", "cat", "oil", "door", "ab"]
    preds = ["EXIT", "Hamburq", "ca", "oils", "", "ba"]   # case only; mistaken; lost; added; nothing read; swapped
    assert near_misses(labels, preds) == [1, 2, 3]
    assert near_misses(labels, preds, [0.9, 0.5, 0.8, 0.1, 0.2, 0.3]) == [3, 1, 2]   # least confident first


def test_accuracy_by_length():
    got = accuracy_by_length(["ab", "cd", "efg", "h"], ["ab", "cx", "efg", "h"])
    assert got == {1: (1, 1.0), 2: (2, 0.5), 3: (1, 1.0)}
    assert list(got) == [1, 2, 3]


@pytest.mark.parametrize(
    "fn", [word_accuracy, word_accuracy_alnum, cer, normalized_edit_distance, score, confusions, near_misses,
           accuracy_by_length]
)
def test_empty_and_mismatched_inputs_raise(fn):
    with pytest.raises(ValueError, match="empty"):
        fn([], [])
    with pytest.raises(ValueError, match="pair"):
        fn(["a", "b"], ["a"])


def test_cer_all_empty_labels_raises():
    with pytest.raises(ValueError, match="no label characters"):
        cer([""], ["x"])


def test_standard_error_of_an_accuracy():
    from crnn_utils.metrics import standard_error

    assert standard_error(0.5, 100) == 0.05 and standard_error(1.0, 50) == 0.0
    assert abs(standard_error(0.833, 528) - 0.0162) < 1e-4  # the README's real-crop figure
    assert standard_error(0.5, 0) == 0.5  # no words: no division by zero
