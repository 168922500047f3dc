"""CTC decoders against exhaustive enumeration: greedy, prefix beam search, ctc_log_prob, lexicon, word index."""
from __future__ import annotations

import itertools
import random
from collections import defaultdict

import numpy as np
import pytest

from crnn_utils.charset import Charset
from crnn_utils.ctc import (
    WordIndex,
    beam_search_decode,
    build_lexicon,
    ctc_log_prob,
    decode,
    greedy_decode,
    lexicon_decode,
)
from crnn_utils.metrics import edit_distance


def collapse(path, blank):
    """Reference CTC collapse: merge repeats, then drop blanks."""
    return tuple(c for i, c in enumerate(path) if c != blank and (i == 0 or c != path[i - 1]))


def labelling_probs(probs):
    """Exact P(labelling) for every labelling, by enumerating all paths."""
    steps, classes = probs.shape
    blank = classes - 1
    out = defaultdict(float)
    for path in itertools.product(range(classes), repeat=steps):
        out[collapse(path, blank)] += float(np.prod(probs[np.arange(steps), path]))
    return out


def random_probs(rng, steps, classes, sharp=1.0):
    logits = rng.normal(size=(steps, classes)) * sharp
    e = np.exp(logits)
    return e / e.sum(-1, keepdims=True)


def one_hot_probs(path, classes, peak=0.9):
    """Probabilities that put `peak` on each step's class of `path` and share the rest."""
    probs = np.full((len(path), classes), (1 - peak) / (classes - 1))
    probs[np.arange(len(path)), path] = peak
    return probs


ABC = Charset("abc")  # blank = 3


@pytest.mark.parametrize(
    "path, text",
    [
        ([0, 0, 1, 1, 2], "abc"),  # repeats merge
        ([0, 3, 0, 1], "aab"),  # a blank between repeats keeps both
        ([3, 3, 3, 3], ""),  # all blank
        ([2, 2, 2, 2], "c"),
        ([3, 1, 3, 3, 1, 1, 3], "bb"),
    ],
)
def test_greedy_matches_reference(path, text):
    probs = one_hot_probs(path, ABC.num_classes)
    (d,) = greedy_decode(probs, ABC)
    assert d.text == text == ABC.decode(collapse(path, ABC.blank))
    assert d.ids == list(collapse(path, ABC.blank))
    assert d.confidence == pytest.approx(0.9 ** len(path))


def test_greedy_batch_and_single_agree():
    rng = np.random.default_rng(0)
    batch = np.stack([random_probs(rng, 6, 4) for _ in range(3)])
    assert [d.text for d in greedy_decode(batch, ABC)] == [greedy_decode(p, ABC)[0].text for p in batch]


@pytest.mark.parametrize("seed", range(6))
def test_ctc_log_prob_equals_exhaustive_sum(seed):
    rng = np.random.default_rng(seed)
    steps, classes = 4 + seed % 2, 3 + seed % 2
    probs = random_probs(rng, steps, classes)
    table = labelling_probs(probs)
    assert sum(table.values()) == pytest.approx(1.0)
    for label, p in table.items():
        assert np.exp(ctc_log_prob(probs, label, classes - 1)) == pytest.approx(p, abs=1e-9)
    # A label that needs more steps than exist is impossible.
    assert ctc_log_prob(probs, [0] * (steps + 1), classes - 1) == -np.inf


def test_ctc_log_probs_of_many_labels_at_once_equal_exhaustive_sums():
    # Labels of different lengths share one padded recursion: the empty label, repeats, an impossible one.
    from crnn_utils.ctc import _ctc_log_probs_lp

    rng = np.random.default_rng(7)
    probs = random_probs(rng, 5, 4)
    table = labelling_probs(probs)
    labels = [(), (0,), (1, 1), (0, 2, 0), (2, 2, 2), (0, 1, 2, 0, 1), (1,) * 6]
    got = np.exp(_ctc_log_probs_lp(np.log(probs), labels, 3))
    assert got == pytest.approx([table.get(label, 0.0) for label in labels], abs=1e-12)
    assert got[-1] == 0.0 and got[2] > 0


def test_ctc_log_prob_rejects_blank_in_label():
    with pytest.raises(ValueError, match="blank"):
        ctc_log_prob(np.full((3, 3), 1 / 3), [0, 2], blank=2)


@pytest.mark.parametrize("seed", range(8))
def test_beam_search_finds_most_probable_labelling(seed):
    rng = np.random.default_rng(100 + seed)
    steps, classes = 4 + seed % 2, 3 + (seed // 2) % 2
    charset = Charset("abc"[: classes - 1])
    probs = random_probs(rng, steps, classes, sharp=1.5)
    table = labelling_probs(probs)
    best = max(table, key=table.get)
    (d,) = beam_search_decode(probs, charset, beam_width=16)
    assert tuple(d.ids) == best
    assert d.text == charset.decode(best)
    assert d.confidence == pytest.approx(table[best], abs=1e-6)


def test_beam_finds_labelling_that_greedy_misses():
    # Two steps of P(a) = 0.4, P(blank) = 0.6: the best path is blank-blank (0.36) -> "",
    # but "a" collects aa + a- + -a = 0.16 + 0.24 + 0.24 = 0.64.
    charset = Charset("a")
    probs = np.array([[0.4, 0.6], [0.4, 0.6]])
    assert greedy_decode(probs, charset)[0].text == ""
    (d,) = beam_search_decode(probs, charset, beam_width=4)
    assert d.text == "a" and d.confidence == pytest.approx(0.64)


def test_beam_width_one_and_batch():
    rng = np.random.default_rng(7)
    batch = np.stack([random_probs(rng, 5, 4, sharp=3.0) for _ in range(2)])
    out = beam_search_decode(batch, ABC, beam_width=1)
    assert len(out) == 2 and all(0 <= d.confidence <= 1 for d in out)
    with pytest.raises(ValueError):
        beam_search_decode(batch, ABC, beam_width=0)


def word_probs(charset, text, flips=None, peak=0.9):
    """Per-step probabilities spelling `text` with a blank between letters; flips[i] = (wrong_char, p_wrong)."""
    steps = []
    for i, ch in enumerate(text):
        row = np.full(charset.num_classes, 1e-4)
        if flips and i in flips:
            wrong, p_wrong = flips[i]
            row[charset.encode(wrong)[0]] = p_wrong
            row[charset.encode(ch)[0]] = peak - p_wrong
        else:
            row[charset.encode(ch)[0]] = peak
        steps += [row, np.eye(charset.num_classes)[charset.blank] * 0.9 + 0.1 / charset.num_classes]
    probs = np.array(steps)
    return probs / probs.sum(-1, keepdims=True)


def test_lexicon_corrects_one_misread_letter():
    charset = Charset.seed()
    probs = word_probs(charset, "hello", flips={1: ("a", 0.5)})  # greedy reads "hallo"
    assert greedy_decode(probs, charset)[0].text == "hallo"
    words = ["hello", "halls", "world", "yellow", "help"]
    (d,) = lexicon_decode(probs, charset, build_lexicon(words))
    assert d.text == "hello"
    assert d.confidence == pytest.approx(np.exp(ctc_log_prob(probs, charset.encode("hello"), charset.blank)))
    # A plain word list works too, and decode() dispatches to it.
    assert decode(probs, charset, "lexicon", lexicon=words)[0].text == "hello"


def test_lexicon_keeps_case_and_falls_back():
    charset = Charset.seed()
    probs = word_probs(charset, "Hello", flips={1: ("a", 0.5)})  # greedy reads "Hallo"
    assert lexicon_decode(probs, charset, ["HELLO", "world"])[0].text == "Hello"
    # No lexicon word within max_distance: the greedy text is kept.
    far = lexicon_decode(probs, charset, ["xyzzyq"], max_distance=2)[0]
    assert far.text == "Hallo" and 0 < far.confidence <= 1


def test_decode_dispatch_and_errors():
    probs = np.array([[0.4, 0.6], [0.4, 0.6]])
    charset = Charset("a")
    assert decode(probs, charset)[0].text == ""
    assert decode(probs, charset, "beam")[0].text == "a"
    with pytest.raises(ValueError, match="greedy"):
        decode(probs, charset, "viterbi")
    with pytest.raises(ValueError, match="lexicon"):
        decode(probs, charset, "lexicon")


def test_word_index_equals_brute_force():
    rng = random.Random(0)
    words = ["".join(rng.choice("abcd") for _ in range(rng.randint(0, 7))) for _ in range(300)]
    tree = WordIndex(words)
    unique = set(words)
    assert len(tree) == len(unique)
    for _ in range(40):
        query = "".join(rng.choice("abcde") for _ in range(rng.randint(0, 7)))
        for max_dist in range(4):
            expected = sorted((edit_distance(query, w), w) for w in unique if edit_distance(query, w) <= max_dist)
            assert tree.search(query, max_dist) == expected


def test_word_index_long_queries_and_unknown_characters():
    # Queries past 63 characters (one machine word of bits) take the scalar path; characters the index never saw
    # match nothing.
    long = "ab" * 40
    index = WordIndex([long, long[:-1] + "c", long[:-2], "xyz", "ÿz"])
    assert index.search(long, 1) == [(0, long), (1, long[:-1] + "c")]
    assert index.search(long + "q", 2) == [(1, long), (2, long[:-1] + "c")]
    assert index.search("éyz", 1) == [(1, "xyz")]
    assert index.search("ÿz", 0) == [(0, "ÿz")]
    index.add("xyw")  # a later word of a length already indexed is found too
    assert index.search("xyz", 1) == [(0, "xyz"), (1, "xyw")]
    # Either side of the 63-character boundary between the vectorised and the scalar path, against brute force.
    rng = random.Random(1)
    words = ["".join(rng.choice("ab") for _ in range(rng.randint(60, 66))) for _ in range(200)]
    index = WordIndex(words)
    for length in (62, 63, 64):
        query = "".join(rng.choice("abc") for _ in range(length))
        expected = sorted((edit_distance(query, w), w) for w in set(words) if edit_distance(query, w) <= 6)
        assert index.search(query, 6) == expected


def test_empty_word_index():
    assert WordIndex().search("abc", 2) == []
