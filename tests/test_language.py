"""The character language model and beam search with its prior (shallow fusion)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from crnn_utils import language
from crnn_utils.charset import Charset
from crnn_utils.ctc import beam_search_decode, decode, greedy_decode
from crnn_utils.language import SYMBOLS, CharLM, LanguagePrior, coverage, english, english_prior, fold
from test_ctc_decoding import word_probs  # probabilities that spell a word, with chosen slips

WORDS = ["hello", "help", "yellow", "world", "word", "house", "horse", "mouse", "the", "then", "there", "2024"]


def test_fold_maps_case_and_digits():
    assert [fold(c) for c in "aZ7é-"] == ["a", "z", "0", "e", ""]
    assert [fold(c) for c in "üÄØßİ"] == ["u", "a", "o", "s", "i"]   # accented Latin letters: their base letter
    assert [fold(c) for c in "٣²①жλ"] == ["", "", "", "", ""]   # other digits, marks and alphabets have none


@pytest.mark.parametrize("context", ["", "h", "hel", "hello", "qqqq", "00", "xyzxyzxyz"])
def test_probabilities_sum_to_one(context):
    lm = CharLM(WORDS, order=4)
    p = lm.probs(context)
    assert p.shape == (len(SYMBOLS),) and (p > 0).all()
    assert p.sum() == pytest.approx(1.0)


def test_words_seen_are_likelier_than_their_scrambles():
    lm = CharLM(WORDS, order=4)
    for word in ("hello", "house", "there"):
        scrambles = {"".join(p) for p in itertools.permutations(word)} - set(WORDS)
        assert all(lm.log_prob(word) > lm.log_prob(s) for s in scrambles), word
    assert lm.log_prob("HeLLo") == lm.log_prob("hello")        # case-folded
    assert lm.log_prob("1999") == lm.log_prob("2024")          # every digit is one symbol
    assert lm.log_prob("héllo") == lm.log_prob("hello")        # é as e
    assert lm.log_prob("hжllo") == float("-inf")               # no symbol for ж


def test_kneser_ney_backs_off_to_what_follows_many_contexts():
    # 'x' ends many words, each once; 'q' follows only 'a', many times. Kneser-Ney's lower order counts contexts,
    # so after an unseen context 'x' is the likelier next symbol, though 'q' was counted more often.
    words = ["box", "fax", "mix", "tux", "hex"] + ["aq"] * 20
    lm = CharLM(words, order=2)
    p = lm.probs("z")
    assert p[SYMBOLS.index("x")] > p[SYMBOLS.index("q")]


def test_lm_needs_words_and_a_sane_order():
    with pytest.raises(ValueError, match="no words"):
        CharLM(["ж", ""])
    with pytest.raises(ValueError, match="order"):
        CharLM(WORDS, order=0)
    for discount in (0.0, 1.5, -0.5):   # outside (0, 1] the probabilities no longer sum to 1
        with pytest.raises(ValueError, match="discount"):
            CharLM(WORDS, discount=discount)


def test_cached_probabilities_are_read_only():
    lm = CharLM(WORDS, order=3)
    with pytest.raises(ValueError):
        lm.probs("wor")[:] = 0
    assert lm.probs("wor").sum() == pytest.approx(1.0)
    with pytest.raises(ValueError):
        LanguagePrior(lm, Charset.seed()).scores("wor")[0][:] = 0


def test_digits_share_the_probability_of_their_symbol():
    lm = CharLM(WORDS + ["1999", "42"], order=3)
    for chars in ("0123abc", "0123456789abc", "7abc"):
        prior = LanguagePrior(lm, Charset(chars), weight=1.0, bonus=0.0, mix=1 - 1e-9)
        step, _ = prior.scores("")
        digits = [i for i, c in enumerate(chars) if c.isdigit()]
        assert np.exp(step[digits]).sum() == pytest.approx(lm.probs("")[SYMBOLS.index("0")], rel=1e-6), chars


def test_a_space_starts_a_new_word():
    # "money" after "the " is scored as a word of its own: the prior mends its first letter as it does alone.
    charset = Charset(Charset.seed().chars + " ")
    lm = english(20_000)
    prior = LanguagePrior(lm, charset)
    for text, flips in (("money", {0: ("r", 0.5)}), ("the money", {4: ("r", 0.5)}), ("of black", {3: ("h", 0.5)})):
        probs = word_probs(charset, text, flips=flips)
        assert greedy_decode(probs, charset)[0].text != text
        assert beam_search_decode(probs, charset, prior=prior)[0].text == text
    # After a space or a hyphen the prior scores the next letter as a word's first.
    for before in ("the ", "x-", "Region-", "a b "):
        np.testing.assert_array_equal(prior.scores(before)[0], prior.scores("")[0])
    assert not np.array_equal(prior.scores("the")[0], prior.scores("")[0])
    # The space ends the word before it: its score includes that word's end.
    assert prior.scores("the")[0][charset.encode(" ")[0]] > prior.scores("th")[0][charset.encode(" ")[0]]


def test_prior_turns_an_ambiguous_letter_into_the_word():
    charset = Charset.seed()
    probs = word_probs(charset, "hello", flips={4: ("p", 0.5)})   # the pixels say 'hellp' a little more
    assert greedy_decode(probs, charset)[0].text == "hellp"
    assert beam_search_decode(probs, charset)[0].text == "hellp"
    prior = LanguagePrior(CharLM(WORDS, order=4), charset)
    (d,) = beam_search_decode(probs, charset, prior=prior)
    assert d.text == "hello"
    assert 0 < d.confidence < 1


def test_prior_does_not_override_clear_pixels():
    # A code no English word resembles, drawn clearly, is still read as drawn: the prior is mixed with a
    # uniform guess, so its cost per character is bounded.
    charset = Charset.seed()
    prior = LanguagePrior(CharLM(WORDS, order=4), charset)
    for text in ("xq7z", "Qjx9", "hellp"):
        probs = word_probs(charset, text, peak=0.97)
        assert beam_search_decode(probs, charset, prior=prior)[0].text == text


def test_prior_keeps_the_case_the_pixels_show():
    charset = Charset.seed()
    prior = LanguagePrior(CharLM(WORDS, order=4), charset)
    probs = word_probs(charset, "HELLO", flips={4: ("P", 0.5)})
    assert beam_search_decode(probs, charset, prior=prior)[0].text == "HELLO"


def test_prior_reads_accented_letters_as_the_pixels_show():
    # The English prior scores ü as u, so it neither prefers "Muller" to "Müller" nor ends a word at the ü.
    charset = Charset(Charset.seed().chars + "äöüßÄÖÜé")
    prior = LanguagePrior(english(20_000), charset)
    for text in ("Müller", "weiß", "Größe", "café"):
        probs = word_probs(charset, text)
        assert beam_search_decode(probs, charset, prior=prior)[0].text == text
    np.testing.assert_array_equal(prior.scores("Mü")[0], prior.scores("Mu")[0])
    assert coverage(charset) == 1.0


def test_prior_for_another_charset_is_refused():
    prior = LanguagePrior(CharLM(WORDS, order=3), Charset("abc"))
    with pytest.raises(ValueError, match="another charset"):
        beam_search_decode(word_probs(Charset.seed(), "ab"), Charset.seed(), prior=prior)
    for mix in (0.0, 1.0):   # at 1 a character the model has no symbol for could never be read
        with pytest.raises(ValueError, match="mix"):
            LanguagePrior(CharLM(WORDS, order=3), Charset("abc"), mix=mix)


def test_coverage_of_a_charset():
    assert coverage(Charset.seed()) == 1.0
    assert coverage(Charset("абвгa")) == pytest.approx(0.2)


def test_english_prior_reads_a_common_word_through_a_slip():
    charset = Charset.seed()
    lm = english(20_000)
    assert len(lm._ids) == lm.order and english(20_000) is lm   # built once
    assert lm.log_prob("people") > lm.log_prob("peopie")
    probs = word_probs(charset, "people", flips={4: ("i", 0.5)})   # 'l' read as 'i' a little more
    assert greedy_decode(probs, charset)[0].text == "peopie"
    assert decode(probs, charset, "beam_lm", prior=LanguagePrior(lm, charset))[0].text == "people"


def test_decode_beam_lm_defaults_to_the_english_prior(monkeypatch):
    charset = Charset.seed()
    calls = []
    monkeypatch.setattr("crnn_utils.ctc.english_prior", lambda cs: calls.append(cs) or LanguagePrior(CharLM(WORDS), cs))
    assert decode(word_probs(charset, "hello", flips={4: ("p", 0.5)}), charset, "beam_lm")[0].text == "hello"
    assert calls == [charset]
    assert language.english_prior is english_prior


def test_caches_stay_bounded(monkeypatch):
    monkeypatch.setattr(language, "_CACHE_SIZE", 50)
    lm = CharLM(WORDS, order=4)
    prior = LanguagePrior(lm, Charset.seed())
    first = prior.scores("hel")[0].copy()
    for a, b, c in itertools.product("abcdefgh", repeat=3):
        prior.scores(a + b + c)
    assert len(lm._cache) <= 50 and len(prior._cache) <= 50
    np.testing.assert_array_equal(prior.scores("hel")[0], first)   # recomputed after a clear, the same
