"""A character language model of English words, and the prior it gives CTC beam search (shallow fusion)."""
from __future__ import annotations

import functools
import unicodedata
from typing import Iterable

import numpy as np

from .charset import Charset

# Symbols the model predicts: end of word, any digit, and the case-folded letters. '^' pads the start of a word.
SYMBOLS = "$0abcdefghijklmnopqrstuvwxyz"
_END, _START = 0, len(SYMBOLS)
_BASE = len(SYMBOLS) + 1
_CACHE_SIZE = 100_000  # contexts kept per cache (a few tens of MB); a long read clears and refills it


# Latin letters that Unicode does not decompose into a base letter and a mark.
_LATIN_BASE = {"ß": "s", "æ": "a", "œ": "o", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "t", "ı": "i"}


@functools.lru_cache(maxsize=4096)
def fold(c: str) -> str:
    """The language model's symbol for a character: lower case, an accented Latin letter as its base letter (ü -> u), every ASCII digit as '0' ('' when it has none)."""
    s = "0" if c in "0123456789" else c.lower()
    if len(s) == 1 and s in SYMBOLS[1:]:
        return s
    # ü, é, İ, ß: the prior scores them as u, e, i, s, so it neither prefers the plain letter nor ends the word there;
    # the pixels decide which of the two it is, as they decide case.
    if len(c) != 1 or not unicodedata.category(c).startswith("L"):
        return ""
    base = _LATIN_BASE.get(c.lower()) or unicodedata.normalize("NFKD", c)[:1].lower()
    return base if base in SYMBOLS[2:] else ""


def _current_word(text: str) -> str:
    """The end of `text` after its last character without a symbol (a space, a hyphen): the word being read."""
    for i in range(len(text) - 1, -1, -1):
        if not fold(text[i]):
            return text[i + 1:]
    return text


class CharLM:
    """Interpolated Kneser-Ney character n-gram of words: P(next symbol | up to order-1 symbols before it)."""

    def __init__(self, words: Iterable[str], order: int = 6, discount: float = 0.75) -> None:
        if not 1 <= order <= 12:
            raise ValueError(f"order must be 1 to 12 (the n-grams are packed into 64-bit integers); got {order}")
        if not 0 < discount <= 1:
            raise ValueError(f"discount must be in (0, 1] for the probabilities to sum to 1; got {discount}")
        self.order, self.discount = order, discount
        # 1. Every word as symbol codes, padded with order-1 starts and one end: "^^^^^cat$".
        codes = {c: i for i, c in enumerate(SYMBOLS)}
        pad = [_START] * (order - 1)
        seqs = [pad + [codes[fold(c)] for c in w] + [_END]
                for w in words if w and all(fold(c) for c in w)]  # words with other characters are left out
        if not seqs:
            raise ValueError("no words to learn from: give words of letters and digits")
        # 2. All windows of `order` symbols that end on a real symbol, as rows.
        flat = np.fromiter((c for s in seqs for c in s), np.int64)
        ends = np.cumsum([len(s) for s in seqs])
        is_target = np.ones(len(flat), bool)
        for k in range(order - 1):  # the first order-1 positions of each word are its padding
            is_target[np.concatenate([[0], ends[:-1]]) + k] = False
        rows = np.lib.stride_tricks.sliding_window_view(flat, order)[np.flatnonzero(is_target) - (order - 1)]
        # 3. Counts per context length k: raw at the highest order, Kneser-Ney continuation counts (how many
        #    different symbols come before the (k+1)-gram) below it.
        self._ids, self._counts = [], []
        for k in range(order):
            if k == order - 1:
                ids, counts = np.unique(self._pack(rows[:, -(k + 1):]), return_counts=True)
            else:
                longer = np.unique(self._pack(rows[:, -(k + 2):]))
                ids, counts = np.unique(longer % _BASE ** (k + 1), return_counts=True)
            self._ids.append(ids)
            self._counts.append(counts.astype(np.float64))
        self._cache: dict[str, np.ndarray] = {}

    @staticmethod
    def _pack(rows: np.ndarray) -> np.ndarray:
        out = np.zeros(len(rows), np.int64)
        for j in range(rows.shape[1]):
            out = out * _BASE + rows[:, j]
        return out

    def probs(self, context: str) -> np.ndarray:
        """P(next symbol | the folded characters of the word so far), over SYMBOLS (index 0: the word ends)."""
        context = "".join(map(fold, context))
        key = context[-(self.order - 1):] if self.order > 1 else ""
        if key in self._cache:
            return self._cache[key]
        codes = [_START] * (self.order - 1 - len(key)) + [SYMBOLS.index(s) for s in key]
        p = np.full(len(SYMBOLS), 1.0 / len(SYMBOLS))
        for k in range(self.order):  # from the empty context up, each level backing off to the one below
            ctx = 0
            for c in codes[len(codes) - k:] if k else []:
                ctx = ctx * _BASE + c
            lo, hi = np.searchsorted(self._ids[k], [ctx * _BASE, ctx * _BASE + _BASE])
            if lo == hi:
                continue
            counts = np.zeros(len(SYMBOLS))
            counts[self._ids[k][lo:hi] - ctx * _BASE] = self._counts[k][lo:hi]
            total, types = counts.sum(), np.count_nonzero(counts)
            p = np.maximum(counts - self.discount, 0) / total + self.discount * types / total * p
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()
        p.setflags(write=False)  # shared through the cache
        self._cache[key] = p
        return p

    def log_prob(self, word: str) -> float:
        """log P(word, then its end) under the model; -inf when it holds a character the model has no symbol for."""
        if any(not fold(c) for c in word):
            return float("-inf")
        folded = "".join(map(fold, word))
        steps = [self.probs(folded[:i])[SYMBOLS.index(s)] for i, s in enumerate(folded)]
        return float(np.sum(np.log(steps)) + np.log(self.probs(folded)[_END]))


def english(n_words: int = 100_000, order: int = 6) -> CharLM:
    """A CharLM of the n_words most frequent English words of wordfreq (offline), each counted once; built once."""
    return _english(n_words, order)


@functools.lru_cache(maxsize=4)
def _english(n_words: int, order: int) -> CharLM:
    import wordfreq

    return CharLM((w for w in wordfreq.top_n_list("en", n_words) if w.isascii() and w.isalnum()), order)


class LanguagePrior:
    """What CTC beam search adds for each character it appends: weight * log P_lm + bonus (shallow fusion)."""

    def __init__(self, lm: CharLM, charset: Charset, weight: float = 0.65, bonus: float = 2.0, mix: float = 0.7) -> None:
        if not 0 < mix < 1:
            raise ValueError(f"mix must be in (0, 1): the language model's share against a uniform guess; got {mix}")
        self.lm, self.charset, self.weight, self.bonus, self.mix = lm, charset, weight, bonus, mix
        symbols = [fold(c) for c in charset.chars]
        self._symbol = np.array([SYMBOLS.index(s) if s else -1 for s in symbols])
        # The digits share the probability of their one symbol; a and A both get P(a): the model's pixels decide
        # case. Mixed with a uniform guess, an unlikely code or a name costs a bounded amount per character instead
        # of being ruled out.
        digits = max(1, symbols.count("0"))
        self._share = np.array([float(digits) if s == "0" else 1.0 for s in symbols])
        self._cache: dict[str, tuple[np.ndarray, float]] = {}

    def scores(self, context: str) -> tuple[np.ndarray, float]:
        """(score of appending each charset character, score of ending the text) after the text `context`."""
        # Only the word being read counts: a space or a hyphen starts a new one, and ends the one before it.
        key = "".join(map(fold, _current_word(context)))
        key = key[-(self.lm.order - 1):] if self.lm.order > 1 else ""
        if key not in self._cache:
            p = self.lm.probs(key)
            known = np.where(self._symbol >= 0, p[np.maximum(self._symbol, 0)], 0.0) / self._share
            step = self.weight * np.log(self.mix * known + (1 - self.mix) / len(self._symbol)) + self.bonus
            end = self.weight * np.log(self.mix * p[_END] + (1 - self.mix) / len(SYMBOLS))
            step = np.where(self._symbol >= 0, step, step + end)
            step.setflags(write=False)  # shared through the cache
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = (step, float(end))
        return self._cache[key]


def coverage(charset: Charset) -> float:
    """Share of the charset's characters the language model has a symbol for (Latin letters and digits)."""
    return float(np.mean([bool(fold(c)) for c in charset.chars])) if len(charset.chars) else 0.0


def english_prior(charset: Charset, weight: float = 0.65, bonus: float = 2.0, mix: float = 0.7) -> LanguagePrior:
    """The English prior for `charset` (weights chosen on the validation split, README); one per charset, kept."""
    return _english_prior(charset.chars, weight, bonus, mix)


@functools.lru_cache(maxsize=8)
def _english_prior(chars: str, weight: float, bonus: float, mix: float) -> LanguagePrior:
    return LanguagePrior(english(), Charset(chars), weight, bonus, mix)
