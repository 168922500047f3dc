"""Text <-> class ids, with the CTC blank as the last class (the seed's convention)."""
from __future__ import annotations

import string
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

SEED_CHARS = string.ascii_lowercase + string.ascii_uppercase + string.digits  # the seed's 62 characters
SEED_TIME_STEPS = 31

# Reasons a label is skipped; they are the keys of dataset.json's "skipped" table.
EMPTY_LABEL = "empty_label"
OUT_OF_CHARSET = "out_of_charset"
TOO_LONG = "too_long_for_ctc"


# Invisible characters that a label pasted from a web page or a PDF, or a list concatenated from files, carries: zero-
# width space, word joiner, byte-order mark, soft hyphen, left-to-right and right-to-left marks and embeddings. Not
# every format character: the zero-width joiner and non-joiner spell Persian, Indic and emoji, and U+0600's kin are seen.
INVISIBLE = frozenset("\u200b\u2060\ufeff\u00ad\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def without_invisible(text: str) -> str:
    """`text` less INVISIBLE characters: zero-width space, byte-order mark, direction marks, soft hyphen."""
    if text.isascii():
        return text
    return "".join(c for c in text if c not in INVISIBLE)


def ctc_min_steps(label: str) -> int:
    """Fewest CTC time steps that can emit `label`: one per character plus a blank between repeated letters."""
    repeats = sum(1 for a, b in zip(label, label[1:]) if a == b)
    return len(label) + repeats


@dataclass(frozen=True)
class Charset:
    """An ordered set of characters; class i is chars[i] and the CTC blank is class len(chars)."""

    chars: str

    def __post_init__(self) -> None:
        if not self.chars:
            raise ValueError("charset must hold at least one character (got an empty string)")
        if len(set(self.chars)) != len(self.chars):
            dupes = sorted(c for c, n in Counter(self.chars).items() if n > 1)
            raise ValueError(f"charset has repeated characters: {''.join(dupes)!r}")
        object.__setattr__(self, "_index", {c: i for i, c in enumerate(self.chars)})

    @classmethod
    def seed(cls) -> "Charset":
        """The seed's 62 characters a-z A-Z 0-9."""
        return cls(SEED_CHARS)

    @classmethod
    def from_labels(cls, labels: Iterable[str]) -> "Charset":
        """Every character seen in `labels`, in a stable (sorted) order; U+FFFD and control characters left out."""
        # U+FFFD is what a label file's undecodable bytes became, a control character (a tab, a NUL) a parsing slip:
        # neither is a letter to learn. Their labels are then skipped as out_of_charset, and counted.
        # Invisible characters (a zero-width space, a byte-order mark) are no letters either.
        return cls("".join(sorted({c for label in labels for c in label if c != "\ufffd"
                                   and unicodedata.category(c) not in ("Cc", "Cs") and c not in INVISIBLE})))

    @classmethod
    def from_spec(cls, spec: str, labels: Iterable[str] = ()) -> "Charset":
        """'seed' (default), 'auto' (from labels), or the literal characters to use."""
        if spec in ("seed", "default"):
            return cls.seed()
        if spec == "auto":
            return cls.from_labels(labels)
        return cls(spec)

    @property
    def blank(self) -> int:
        """Index of the CTC blank (the last class)."""
        return len(self.chars)

    @property
    def num_classes(self) -> int:
        """Characters plus the blank: the width of the model's softmax."""
        return len(self.chars) + 1

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, ch: str) -> bool:
        return ch in self._index  # type: ignore[attr-defined]

    def encode(self, text: str) -> list[int]:
        """Class ids of `text`; raises KeyError on a character outside the charset."""
        return [self._index[c] for c in text]  # type: ignore[attr-defined]

    def decode(self, ids: Sequence[int]) -> str:
        """Text of class ids, ignoring the blank and any negative padding."""
        n = len(self.chars)
        return "".join(self.chars[i] for i in ids if 0 <= i < n)

    def skip_reason(self, label: str, time_steps: int = SEED_TIME_STEPS) -> str | None:
        """Why `label` cannot be trained on (empty, out of charset, too long for CTC), or None when it can."""
        if not label:
            return EMPTY_LABEL
        if any(c not in self._index for c in label):  # type: ignore[attr-defined]
            return OUT_OF_CHARSET
        if ctc_min_steps(label) > time_steps:
            return TOO_LONG
        return None

    def pad(self, labels: Sequence[str], max_len: int) -> "list[list[int]]":
        """Encode labels and pad each to max_len with the blank (as the seed does)."""
        out = []
        for label in labels:
            ids = self.encode(label)[:max_len]
            out.append(ids + [self.blank] * (max_len - len(ids)))
        return out
