"""CTC: the training loss (modern and seed constructions) and decoders from per-step probabilities to text."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from .charset import Charset
from .language import LanguagePrior, english_prior
from .metrics import edit_distance_from, myers_column


def ctc_loss(labels, scores, label_length, blank: int, kernel: bool = True):
    """Per-word CTC loss of scores (batch, T, classes) against labels padded past label_length; inf where a label cannot fit."""
    # keras.ops.ctc_loss on TensorFlow runs CTC's forward-backward as hundreds of small ops (tf.nn.ctc_loss's dense
    # path): 30 ms a batch of 32 on a 2-core CPU, a sixth of a training step. TensorFlow's C++ CTC kernel, reached by
    # giving tf.nn.ctc_loss sparse labels, computes the same loss and gradient in 2.5 ms. XLA cannot compile that
    # kernel, so a jit-compiled step passes kernel=False and gets keras.ops.ctc_loss itself.
    labels, label_length = keras.ops.cast(labels, "int32"), keras.ops.cast(label_length, "int32")
    batch, steps = keras.ops.shape(scores)[0], keras.ops.shape(scores)[1]
    logit_length = keras.ops.full((batch,), steps, dtype="int32")
    if not kernel:
        return keras.ops.ctc_loss(labels, scores, label_length, logit_length, mask_index=blank)
    # 1. A label fits T steps when its length plus its doubled letters (each needs a blank between) is at most T.
    #    The kernel raises on a label that does not fit, and on an empty one: those rows get a one-letter stand-in,
    #    whose loss is then replaced by the all-blank path's for an empty label (as keras.ops gives), and by inf
    #    for one that does not fit (keras.ops gives about 700, its log-space floor; inf stops training by name).
    inside = tf.sequence_mask(label_length, tf.shape(labels)[1])
    doubled = tf.reduce_sum(tf.cast((labels[:, 1:] == labels[:, :-1]) & inside[:, 1:], tf.int32), axis=-1)
    fits, empty = label_length + doubled <= steps, label_length == 0
    usable = fits & ~empty
    stand_in = tf.logical_and(tf.range(tf.shape(labels)[1]) == 0, ~usable[:, None])
    labels = tf.where(usable[:, None], labels, 1 if blank == 0 else 0)
    # 2. The label characters as a SparseTensor: tf.nn.ctc_loss then calls the kernel.
    where = tf.where((inside & usable[:, None]) | stand_in)
    sparse = tf.SparseTensor(where, tf.gather_nd(labels, where), tf.cast(tf.shape(labels), tf.int64))
    loss = tf.nn.ctc_loss(sparse, scores, None, logit_length, logits_time_major=False, blank_index=blank)
    all_blank = -tf.reduce_sum(tf.nn.log_softmax(scores)[:, :, blank], axis=1)
    return tf.where(empty, all_blank, tf.where(fits, loss, tf.constant(np.inf, loss.dtype)))


@keras.saving.register_keras_serializable(package="crnn_utils")
class CTCLoss(keras.losses.Loss):
    """CTC on logits (batch, T, classes) against labels padded with the blank (or any negative id)."""

    def __init__(self, blank: int, name: str = "ctc_loss", reduction: str = "sum_over_batch_size",
                 kernel: bool = True) -> None:
        super().__init__(name=name, reduction=reduction)
        self.blank = int(blank)
        self.kernel = bool(kernel)

    def scores(self, y_pred):
        """What goes into CTC: the logits themselves (log_softmax is applied inside the loss)."""
        return keras.ops.cast(y_pred, "float32")

    def call(self, y_true, y_pred):
        labels = keras.ops.cast(y_true, "int32")
        valid = keras.ops.logical_and(labels >= 0, labels != self.blank)
        label_length = keras.ops.sum(keras.ops.cast(valid, "int32"), axis=-1)
        labels = keras.ops.where(valid, labels, keras.ops.zeros_like(labels))
        return ctc_loss(labels, self.scores(y_pred), label_length, self.blank, self.kernel)

    def get_config(self) -> dict:
        return {**super().get_config(), "blank": self.blank, "kernel": self.kernel}


def seed_log_probs(y_pred):
    """The seed's log of the softmax, floored by its epsilon (as `K.ctc_batch_cost` did): log(p + 1e-7)."""
    return keras.ops.log(keras.ops.cast(y_pred, "float32") + 1e-7)


def seed_ctc_batch_cost(labels, y_pred, input_length, label_length, blank: int):
    """The seed's `K.ctc_batch_cost`: CTC on log(softmax + eps), lengths given as (batch, 1) tensors."""
    log_probs = seed_log_probs(y_pred)
    return keras.ops.expand_dims(
        keras.ops.ctc_loss(
            keras.ops.cast(labels, "int32"), log_probs,
            keras.ops.cast(keras.ops.squeeze(label_length, -1), "int32"),
            keras.ops.cast(keras.ops.squeeze(input_length, -1), "int32"),
            mask_index=blank,
        ),
        -1,
    )


@keras.saving.register_keras_serializable(package="crnn_utils")
class SeedCTCLoss(CTCLoss):
    """The seed's loss on softmax outputs, log(p + 1e-7) into CTC: kept to compare against CTC on logits."""

    def __init__(self, blank: int, name: str = "seed_ctc_loss", reduction: str = "sum_over_batch_size",
                 kernel: bool = True) -> None:
        super().__init__(blank, name=name, reduction=reduction, kernel=kernel)

    def scores(self, y_pred):
        """The seed's log of the softmax, floored by its epsilon (as `K.ctc_batch_cost` did)."""
        return seed_log_probs(y_pred)


def build_seed_training_model(act_model: keras.Model, max_label_len: int) -> keras.Model:
    """The seed's 4-input training model (image, labels, input_length, label_length) with a CTC Lambda; not saveable safely."""
    blank = act_model.output_shape[-1] - 1
    labels = keras.Input(shape=(max_label_len,), dtype="float32", name="the_labels")
    input_length = keras.Input(shape=(1,), dtype="int64", name="input_length")
    label_length = keras.Input(shape=(1,), dtype="int64", name="label_length")
    loss_out = layers.Lambda(
        lambda args: seed_ctc_batch_cost(*args, blank=blank), output_shape=(1,), name="ctc"
    )([labels, act_model.output, input_length, label_length])
    return keras.Model([act_model.input, labels, input_length, label_length], loss_out, name="seed_training_model")


@dataclass
class Decoded:
    """One decoded image: its text, a confidence in [0, 1], and the class ids."""

    text: str
    confidence: float
    ids: list[int]


def greedy_decode(probs: np.ndarray, charset: Charset) -> list[Decoded]:
    """Best path decoding: argmax per step, merge repeats, drop blanks (vectorised over steps and batch)."""
    probs = np.asarray(probs)
    if probs.ndim == 2:
        probs = probs[None]
    best = probs.argmax(-1)  # (batch, T)
    # 1. Keep a step when it is not blank and differs from the previous step.
    prev = np.concatenate([np.full((best.shape[0], 1), -1), best[:, :-1]], axis=1)
    keep = (best != charset.blank) & (best != prev)
    # 2. Confidence: the probability of the best path (product of the per-step maxima).
    conf = np.exp(best_path_log_prob(probs))
    out = []
    for row, mask, c in zip(best, keep, conf):
        ids = row[mask].tolist()
        out.append(Decoded(charset.decode(ids), float(c), ids))
    return out


def best_path_log_prob(probs: np.ndarray) -> np.ndarray:
    """Log probability of each image's best path, (batch,): the sum over steps of the log of the top class."""
    return np.log(np.asarray(probs).max(-1) + 1e-12).sum(-1)


def blank_share(probs: np.ndarray, blank: int) -> float:
    """Share of time steps whose most probable class is the blank (1.0 = the CTC plateau's all-blank output)."""
    return float((np.asarray(probs).argmax(-1) == blank).mean())


def greedy_texts(probs: np.ndarray, charset: Charset) -> list[str]:
    """Just the texts of greedy_decode."""
    return [d.text for d in greedy_decode(probs, charset)]


def label_arrays(labels: Sequence[str], charset: Charset, max_len: int) -> np.ndarray:
    """Labels -> int32 (batch, max_len) padded with the blank, the format CTCLoss expects."""
    return np.asarray(charset.pad(labels, max_len), np.int32).reshape(len(labels), max_len)


def _log(probs: np.ndarray) -> np.ndarray:
    """Natural log in float64, with log(0) = -inf and no warning."""
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(probs, dtype=np.float64))


def _batched(probs: np.ndarray) -> np.ndarray:
    """(T, C) or (B, T, C) -> (B, T, C)."""
    probs = np.asarray(probs)
    if probs.ndim == 2:
        probs = probs[None]
    if probs.ndim != 3:
        raise ValueError(f"probs must be (T, classes) or (batch, T, classes); got shape {probs.shape}")
    return probs


def _ctc_log_prob_lp(lp: np.ndarray, ids: Sequence[int], blank: int) -> float:
    """ctc_log_prob on per-step log probabilities (T, C)."""
    return float(_ctc_log_probs_lp(lp, [ids], blank)[0])


def _ctc_log_probs_lp(lp: np.ndarray, labels: Sequence[Sequence[int]], blank: int) -> np.ndarray:
    """log P(label | lp) of many labels at once (the forward recursion vectorised over labels and states)."""
    steps, classes = lp.shape
    ids = [np.asarray(x, dtype=np.int64).reshape(-1) for x in labels]
    lengths = np.array([x.size for x in ids], dtype=np.int64)
    flat = np.concatenate(ids) if ids else np.zeros(0, np.int64)
    if flat.size and (flat.min() < 0 or flat.max() >= classes or (flat == blank).any()):
        bad = next(x for x in ids if x.size and (x.min() < 0 or x.max() >= classes or (x == blank).any()))
        raise ValueError(f"label ids must lie in [0, {classes}) and exclude the blank {blank}; got {bad.tolist()}")
    if steps == 0:
        return np.where(lengths == 0, 0.0, -np.inf)
    # 1. Extended labels, blank-padded to one width: blank, l1, blank, l2, ..., blank (2L + 1 states each).
    size = 2 * int(lengths.max(initial=0)) + 1
    ext = np.full((len(ids), size), blank, dtype=np.int64)
    rows = np.repeat(np.arange(len(ids)), lengths)
    ext[rows, 2 * (np.arange(flat.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)) + 1] = flat
    # 2. A state may skip the blank before it when it is a character different from the one two back.
    skip = np.zeros(ext.shape, dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    # A shorter label's padding states come after its own: transitions only move forward, so they change nothing.
    emit = lp[:, ext]  # (T, N, S)
    # 3. Forward recursion in log space.
    alpha = np.full(ext.shape, -np.inf)
    alpha[:, :2] = emit[0, :, :2]
    from_prev, from_skip = np.full(ext.shape, -np.inf), np.full(ext.shape, -np.inf)
    for t in range(1, steps):
        from_prev[:, 1:] = alpha[:, :-1]
        from_skip[:, 2:] = np.where(skip[:, 2:], alpha[:, :-2], -np.inf)
        alpha = np.logaddexp(np.logaddexp(alpha, from_prev), from_skip) + emit[t]
    # 4. Paths end on the last character or the trailing blank.
    rows, last = np.arange(len(ids)), 2 * lengths
    return np.where(lengths > 0, np.logaddexp(alpha[rows, last], alpha[rows, np.maximum(last - 1, 0)]), alpha[:, 0])


def ctc_log_prob(probs: np.ndarray, ids: Sequence[int], blank: int) -> float:
    """log P(label | probs) summed over all CTC paths (forward algorithm in log space); -inf when impossible."""
    probs = np.asarray(probs)
    if probs.ndim != 2:
        raise ValueError(f"probs must be (T, classes) for one image; got shape {probs.shape}")
    return _ctc_log_prob_lp(_log(probs), ids, blank)


def _prefix_beam_search(lp: np.ndarray, blank: int, beam_width: int,
                        prior: "LanguagePrior | None" = None) -> tuple[int, ...]:
    """Best labelling by CTC prefix beam search over log probabilities (T, C), blank last; with a prior, shallow fusion."""
    steps, classes = lp.shape
    prefixes: list[tuple[int, ...]] = [()]
    p_b, p_nb = np.zeros(1), np.full(1, -np.inf)  # log P(prefix, path ends in blank / in its last char)
    bonus = np.zeros(1)  # the prior's score of each prefix's text (zero without a prior)
    texts = [""]
    for t in range(steps):
        # 1. Staying on a prefix: emit a blank, or repeat the last character without a blank in between.
        total = np.logaddexp(p_b, p_nb)
        last = np.array([p[-1] if p else blank for p in prefixes])
        stay_b = total + lp[t, blank]
        stay_nb = np.where(last != blank, p_nb + lp[t, last], -np.inf)
        # 2. Extending by character c: after a repeat of c only paths ending in blank may extend.
        ext = total[:, None] + lp[t, None, :blank]  # (K, blank)
        rows = np.flatnonzero(last != blank)
        ext[rows, last[rows]] = p_b[rows] + lp[t, last[rows]]
        # 3. An extension equal to another beam's prefix merges into that beam's non-blank ending.
        index = {p: k for k, p in enumerate(prefixes)}
        for k, p in enumerate(prefixes):
            parent = index.get(p[:-1]) if p else None
            if parent is not None:
                stay_nb[k] = np.logaddexp(stay_nb[k], ext[parent, p[-1]])
                ext[parent, p[-1]] = -np.inf
        # 4. Keep the beam_width best candidates (stays first, then extensions), by CTC plus the prior's score.
        step = bonus[:, None] + (np.stack([prior.scores(x)[0] for x in texts]) if prior else 0.0)
        scores = np.concatenate([np.logaddexp(stay_b, stay_nb) + bonus, (ext + step).ravel()])
        order = np.argsort(-scores, kind="stable")[:beam_width]
        order = order[np.isfinite(scores[order])] if np.isfinite(scores[order[0]]) else order[:1]
        n = len(prefixes)
        new_prefixes, new_b, new_nb, new_bonus, new_texts = [], [], [], [], []
        for j in order:
            if j < n:
                new_prefixes.append(prefixes[j])
                new_b.append(stay_b[j])
                new_nb.append(stay_nb[j])
                new_bonus.append(bonus[j])
                new_texts.append(texts[j])
            else:
                k, c = divmod(int(j) - n, blank)
                new_prefixes.append(prefixes[k] + (c,))
                new_b.append(-np.inf)
                new_nb.append(ext[k, c])
                new_bonus.append(step[k, c] if prior else 0.0)
                new_texts.append(texts[k] + prior.charset.chars[c] if prior else "")
        prefixes, p_b, p_nb, bonus, texts = new_prefixes, np.array(new_b), np.array(new_nb), np.array(new_bonus), new_texts
    final = np.logaddexp(p_b, p_nb) + bonus + (np.array([prior.scores(x)[1] for x in texts]) if prior else 0.0)
    return prefixes[int(np.argmax(final))]


def beam_search_decode(probs: np.ndarray, charset: Charset, beam_width: int = 10,
                       prior: LanguagePrior | None = None) -> list[Decoded]:
    """CTC prefix beam search (log space), ranked with `prior` when given; confidence = P(labelling) over its paths."""
    if beam_width < 1:
        raise ValueError(f"beam_width must be at least 1; got {beam_width}")
    probs = _batched(probs)
    if probs.shape[-1] != charset.num_classes:
        raise ValueError(f"probs have {probs.shape[-1]} classes but the charset needs {charset.num_classes}")
    if prior is not None and prior.charset.chars != charset.chars:
        raise ValueError("the language prior was built for another charset: english_prior(charset) builds one for this")
    out = []
    for row in probs:
        lp = _log(row)
        ids = list(_prefix_beam_search(lp, charset.blank, beam_width, prior))
        out.append(Decoded(charset.decode(ids), float(np.exp(_ctc_log_prob_lp(lp, ids, charset.blank))), ids))
    return out


class WordIndex:
    """Words by length, for 'all words within Levenshtein distance d' queries (bit-parallel, vectorised over words)."""

    def __init__(self, words: Sequence[str] = ()) -> None:
        self._words: dict[int, dict[str, None]] = {}  # length -> words of that length, in insertion order
        self._arrays: dict[int, tuple[list[str], np.ndarray]] = {}  # length -> (words, character codes), built lazily
        self._codes: dict[str, int] = {}  # character -> code >= 1
        for word in words:
            self.add(word)

    def __len__(self) -> int:
        return sum(len(v) for v in self._words.values())

    def add(self, word: str) -> None:
        """Insert `word` (a no-op when already present)."""
        bucket = self._words.setdefault(len(word), {})
        if word not in bucket:
            bucket[word] = None
            self._arrays.pop(len(word), None)
            for c in word:
                self._codes.setdefault(c, len(self._codes) + 1)

    def search(self, word: str, max_dist: int) -> list[tuple[int, str]]:
        """All (distance, stored word) with distance <= max_dist, nearest first then alphabetical."""
        if max_dist < 0:
            return []
        found = []
        # A word of length n is at least |n - m| edits away, so only max_dist lengths either side can match.
        for n in range(max(0, len(word) - max_dist), len(word) + max_dist + 1):
            if n not in self._words:
                continue
            words, codes = self._bucket(n)
            dist = self._distances(word, codes) if len(word) <= 63 else np.array(
                [edit_distance_from(word)(w) for w in words])
            found += [(int(d), words[i]) for i, d in zip(*np.nonzero(dist <= max_dist), dist[dist <= max_dist])]
        return sorted(found)

    def _bucket(self, n: int) -> tuple[list[str], np.ndarray]:
        if n not in self._arrays:
            words = list(self._words[n])
            codes = np.array([[self._codes[c] for c in w] for w in words], dtype=np.int64).reshape(len(words), n)
            self._arrays[n] = (words, codes)
        return self._arrays[n]

    def _distances(self, query: str, codes: np.ndarray) -> np.ndarray:
        """Levenshtein distances from `query` (at most 63 characters) to each row of `codes` (metrics.myers_column)."""
        m = len(query)
        if m == 0:
            return np.full(len(codes), codes.shape[1])
        # 1. One bit mask per character code: bit i is set where query[i] is that character (unknown ones match nothing).
        peq = np.zeros(len(self._codes) + 1, dtype=np.uint64)
        for i, c in enumerate(query):
            if c in self._codes:
                peq[self._codes[c]] |= np.uint64(1 << i)
        full, top = (1 << m) - 1, 1 << (m - 1)
        pv = np.full(len(codes), full, dtype=np.uint64)
        mv = np.zeros(len(codes), dtype=np.uint64)
        score = np.full(len(codes), m, dtype=np.int64)
        # 2. One column of the DP table per character of the stored words, for all words of this length at once.
        for j in range(codes.shape[1]):
            pv, mv, change = myers_column(peq[codes[:, j]], pv, mv, full, top)
            score += change
        return score


def build_lexicon(words: Sequence[str], case_insensitive: bool = True) -> WordIndex:
    """A WordIndex of the unique words (lower-cased when case_insensitive, matching lexicon_decode's default)."""
    unique = dict.fromkeys(w.lower() if case_insensitive else w for w in words if w)
    return WordIndex(list(unique))


def _case_variants(word: str, seen: str, case_insensitive: bool) -> list[str]:
    """The spellings of a lexicon word to try: lower / Capitalised / UPPER and the greedy text's case pattern."""
    if not case_insensitive:
        return [word]
    variants = [word.lower(), word.capitalize(), word.upper()]
    if len(seen) == len(word):
        variants.append("".join(c.upper() if s.isupper() else c.lower() for c, s in zip(word, seen)))
    return list(dict.fromkeys(variants))


def lexicon_decode(
    probs: np.ndarray,
    charset: Charset,
    lexicon: "Sequence[str] | WordIndex",
    max_distance: int = 2,
    case_insensitive: bool = True,
) -> list[Decoded]:
    """Lexicon-based decoding (CRNN paper): greedy text -> lexicon words within max_distance -> most probable by CTC."""
    index = lexicon if isinstance(lexicon, WordIndex) else build_lexicon(lexicon, case_insensitive)
    probs = _batched(probs)
    out = []
    for row, greedy in zip(probs, greedy_decode(probs, charset)):
        lp = _log(row)
        # 1. Candidates near the greedy reading, spelled every way worth trying, within the charset.
        query = greedy.text.lower() if case_insensitive else greedy.text
        spellings = [
            (dist, s)
            for dist, word in index.search(query, max_distance)
            for s in _case_variants(word, greedy.text, case_insensitive)
            if all(c in charset for c in s)
        ]
        # 2. Score them all under CTC in one pass; pick the most probable (ties: nearer, then alphabetical),
        #    falling back to the greedy text when none is possible.
        scores = _ctc_log_probs_lp(lp, [charset.encode(s) for _, s in spellings], charset.blank) if spellings else []
        ranked = sorted((-logp, dist, s) for logp, (dist, s) in zip(scores, spellings) if np.isfinite(logp))
        if ranked:
            best_text, best_lp = ranked[0][2], -ranked[0][0]
        else:
            best_text, best_lp = greedy.text, _ctc_log_prob_lp(lp, greedy.ids, charset.blank)
        out.append(Decoded(best_text, float(np.exp(best_lp)), charset.encode(best_text)))
    return out


DECODERS = ("greedy", "beam", "beam_lm", "lexicon")


def decode(
    probs: np.ndarray,
    charset: Charset,
    decoder: str = "greedy",
    beam_width: int = 10,
    lexicon: "Sequence[str] | WordIndex | None" = None,
    max_distance: int = 2,
    prior: LanguagePrior | None = None,
) -> list[Decoded]:
    """One entry point: 'greedy', 'beam', 'beam_lm' (beam with `prior`, English by default) or 'lexicon' (needs `lexicon`)."""
    if decoder == "greedy":
        return greedy_decode(probs, charset)
    if decoder == "beam":
        return beam_search_decode(probs, charset, beam_width=beam_width)
    if decoder == "beam_lm":
        return beam_search_decode(probs, charset, beam_width=beam_width, prior=prior or english_prior(charset))
    if decoder == "lexicon":
        if lexicon is None:
            raise ValueError("decoder='lexicon' needs a lexicon: a list of words or build_lexicon(words)")
        return lexicon_decode(probs, charset, lexicon, max_distance=max_distance)
    raise ValueError(f"unknown decoder {decoder!r}; expected one of {', '.join(map(repr, DECODERS))}")
