"""Text recognition metrics: edit distance, word accuracy (three protocols), CER, NED, confusions, accuracy by length."""
from __future__ import annotations

import os
import re
from collections import Counter
from typing import Any, Callable, Hashable, Sequence, TypeVar

_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_Bits = TypeVar("_Bits")  # a Python int, or a NumPy uint64 array (one bit vector per element)


def edit_distance_from(a: Sequence[Hashable]) -> Callable[[Sequence[Hashable]], int]:
    """A function giving the Levenshtein distance from `a` to any sequence (bit-parallel Myers/Hyyrö, set up once per `a`)."""
    m = len(a)
    if m == 0:
        return len
    # 1. One bit mask per symbol: bit i is set where a[i] is that symbol.
    peq: dict[Hashable, int] = {}
    for i, c in enumerate(a):
        peq[c] = peq.get(c, 0) | (1 << i)
    full, top, get = (1 << m) - 1, 1 << (m - 1), peq.get

    def distance(b: Sequence[Hashable]) -> int:
        # 2. Column-wise vertical deltas of the DP table, one bit per row of `a`, Python ints as bit vectors.
        pv, mv, score = full, 0, m
        for c in b:
            pv, mv, change = myers_column(get(c, 0), pv, mv, full, top)
            score += change
        return score

    return distance


def myers_column(eq: _Bits, pv: _Bits, mv: _Bits, full: int, top: int) -> tuple[_Bits, _Bits, Any]:
    """One column of the bit-parallel edit distance: the new (pv, mv) and the score's change (+1, 0 or -1).

    On Python ints (any pattern length) or elementwise on NumPy uint64 arrays (patterns of at most 63 symbols).
    """
    xv = eq | mv
    xh = ((((eq & pv) + pv) & full) ^ pv) | eq
    ph = (mv | ~(xh | pv)) & full
    mh = pv & xh
    change = ((ph & top) != 0) * 1 - ((mh & top) != 0) * 1
    ph = ((ph << 1) | 1) & full
    mh = (mh << 1) & full
    return (mh | ~(xv | ph)) & full, ph & xv, change


def edit_distance(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Levenshtein distance (unit-cost insertions, deletions and substitutions) between two strings or sequences."""
    if len(a) < len(b):
        a, b = b, a
    return edit_distance_from(a)(b)


def normalize_alnum(text: str) -> str:
    """Lower-case and keep only a-z0-9: the scene-text benchmarks' 36-class evaluation protocol."""
    return _NOT_ALNUM.sub("", text.lower())


def _check(labels: Sequence[str], preds: Sequence[str]) -> None:
    """Raise ValueError on empty or mismatched inputs."""
    if len(labels) == 0:
        raise ValueError("cannot score an empty list of labels: pass at least one (label, prediction) pair")
    if len(labels) != len(preds):
        raise ValueError(f"got {len(labels)} labels but {len(preds)} predictions; they must pair up one to one")


def word_accuracy(labels: Sequence[str], preds: Sequence[str], case_sensitive: bool = True) -> float:
    """Share of predictions equal to their label (exact match, optionally ignoring case)."""
    _check(labels, preds)
    if case_sensitive:
        hits = sum(lab == p for lab, p in zip(labels, preds))
    else:
        hits = sum(lab.lower() == p.lower() for lab, p in zip(labels, preds))
    return hits / len(labels)


def word_accuracy_alnum(labels: Sequence[str], preds: Sequence[str]) -> float:
    """Word accuracy after normalize_alnum on both sides (36 classes), over the labels it leaves a character of; NaN if none."""
    _check(labels, preds)
    # A label of other letters or marks only ("окно", "&") has nothing left to compare: it is left out, as the
    # benchmarks leave such words out, rather than matching any reading that also has nothing left.
    pairs = [(normalize_alnum(lab), normalize_alnum(p)) for lab, p in zip(labels, preds)]
    kept = [(lab, p) for lab, p in pairs if lab]
    return sum(lab == p for lab, p in kept) / len(kept) if kept else float("nan")


def cer(labels: Sequence[str], preds: Sequence[str]) -> float:
    """Character error rate: total edit distance over total label characters (can exceed 1)."""
    _check(labels, preds)
    total = sum(len(lab) for lab in labels)
    if total == 0:
        raise ValueError("CER is undefined when every label is empty: there are no label characters to divide by")
    return sum(edit_distance(lab, p) for lab, p in zip(labels, preds)) / total


def normalized_edit_distance(labels: Sequence[str], preds: Sequence[str]) -> float:
    """Mean of edit_distance / max(len(label), len(pred)) (0 = perfect); the ICDAR 2019 score is 1 minus this."""
    _check(labels, preds)
    total = 0.0
    for lab, p in zip(labels, preds):
        longest = max(len(lab), len(p))
        total += edit_distance(lab, p) / longest if longest else 0.0
    return total / len(labels)


def standard_error(accuracy: float, n: int) -> float:
    """One standard error of an accuracy measured on n words (binomial)."""
    return (accuracy * (1 - accuracy) / max(1, n)) ** 0.5


def score(labels: Sequence[str], preds: Sequence[str]) -> dict:
    """All headline metrics: word_acc, word_acc_ci, word_acc_alnum36, cer, ned (lower is better) and n."""
    _check(labels, preds)
    has_chars = any(len(lab) for lab in labels)
    return {
        "word_acc": word_accuracy(labels, preds),
        "word_acc_ci": word_accuracy(labels, preds, case_sensitive=False),
        "word_acc_alnum36": word_accuracy_alnum(labels, preds),
        "cer": cer(labels, preds) if has_chars else float("nan"),
        "ned": normalized_edit_distance(labels, preds),
        "n": len(labels),
    }


def align(a: str, b: str) -> list[tuple[str, str]]:
    """A minimum-cost alignment of `a` to `b` as (a_char, b_char) pairs; '' marks an insertion or deletion."""
    # 1. Full DP table of edit distances between prefixes.
    n, m = len(a), len(b)
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = i
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        row, prev, ai = d[i], d[i - 1], a[i - 1]
        for j in range(1, m + 1):
            row[j] = min(prev[j - 1] + (ai != b[j - 1]), prev[j] + 1, row[j - 1] + 1)
    # 2. Backtrace from the corner, preferring the diagonal (match/substitution), then deletion, then insertion.
    pairs = []
    i, j = n, m
    while i or j:
        if i and j and d[i][j] == d[i - 1][j - 1] + (a[i - 1] != b[j - 1]):
            pairs.append((a[i - 1], b[j - 1]))
            i, j = i - 1, j - 1
        elif i and d[i][j] == d[i - 1][j] + 1:
            pairs.append((a[i - 1], ""))
            i -= 1
        else:
            pairs.append(("", b[j - 1]))
            j -= 1
    return pairs[::-1]


def confusions(labels: Sequence[str], preds: Sequence[str], include_indels: bool = False) -> Counter:
    """Counter of (true_char, pred_char) substitutions over all pairs; with include_indels also (c, '') deletions and ('', c) insertions."""
    _check(labels, preds)
    counts: Counter = Counter()
    for lab, p in zip(labels, preds):
        for t, q in align(lab, p):
            if t != q and (include_indels or (t and q)):
                counts[(t, q)] += 1
    return counts


def near_misses(labels: Sequence[str], preds: Sequence[str], confidences: Sequence[float] | None = None) -> list[int]:
    """Indices of readings one edit off their label, ignoring case (a letter lost, added or mistaken); least sure first."""
    _check(labels, preds)
    near = [i for i, (lab, p) in enumerate(zip(labels, preds)) if edit_distance(lab.lower(), p.lower()) == 1]
    return near if confidences is None else sorted(near, key=lambda i: confidences[i])


def accuracy_by_length(labels: Sequence[str], preds: Sequence[str]) -> dict[int, tuple[int, float]]:
    """Label length -> (number of labels of that length, exact-match word accuracy among them), lengths ascending."""
    _check(labels, preds)
    n: Counter = Counter()
    hits: Counter = Counter()
    for lab, p in zip(labels, preds):
        n[len(lab)] += 1
        hits[len(lab)] += lab == p
    return {k: (n[k], hits[k] / n[k]) for k in sorted(n)}


# score()'s keys -> the names metrics.json has always used.
_REPORT_NAMES = {"word_acc": "word_accuracy", "word_acc_ci": "word_accuracy_ci", "word_acc_alnum36": "word_accuracy_alnum36",
                 "cer": "cer", "ned": "ned", "n": "n_images"}


def write_report(path: str | os.PathLike, scores: dict[str, dict], **extra: Any) -> dict:
    """Write metrics.json: {decoder: {word_accuracy, word_accuracy_ci, word_accuracy_alnum36, cer, ned, n_images}} plus the extras that are not None."""
    import json
    from pathlib import Path

    out: dict[str, Any] = {name: {_REPORT_NAMES[k]: v for k, v in s.items() if k in _REPORT_NAMES}
                           for name, s in scores.items()}
    out.update({k: v for k, v in extra.items() if v is not None})
    Path(path).write_text(json.dumps(out, indent=2))
    return out
