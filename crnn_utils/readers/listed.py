"""An exact record of the images annotation files listed, and the split that listed each first, kept on disk."""
from __future__ import annotations

import sqlite3
from typing import Iterable

import numpy as np

# Why a table on disk: a dict of every path listed grows with the file (335 MB of Python objects at 3 million lines,
# about a gigabyte for MJSynth's 9 million); a fixed-size filter alone (a Bloom filter) would call some new images
# duplicates and drop them; sorted runs merged on disk are exact but answer only once the whole file is read, while
# each line must be judged as it streams past (a limit stops the read early). A SQLite table in a temporary file is
# exact, answers at once, and needs a fixed amount of memory: SQLite's page cache (CACHE_KIB), a Bloom filter of
# BLOOM_BITS (4 MB) and, in Python, one batch of keys. Keys are Python's 64-bit hash of the path, as a dict's would
# be: two of MJSynth's 9 million paths share one about once in 450,000 reads of the whole set.
#
# Speed: a table larger than the cache costs a page read per key looked up or inserted at random. The Bloom filter
# answers "never listed" for most new keys without SQLite (at 3 million keys it lets 1 % through, at 9 million
# about 17 %), and new keys go to a small table, `recent`, merged into `listed` in key order every MERGE_ROWS keys,
# which walks the big table once instead of once per key.
CACHE_KIB = 8192
BLOOM_BITS = 25  # log2 of the filter's size in bits: 2**25 bits, 4 MB
MERGE_ROWS = 65_536
_SHIFTS = (0, 20, 39)  # three bit positions per key, from three slices of its 64-bit hash


class ListedPaths:
    """Path keys with the split that listed each first, in a temporary SQLite file deleted when this object goes.

    Readers look up a batch of keys at once (`splits_of`) and add each key as they pass its line (`add`); added keys
    wait in memory, at most one batch, until the next look-up writes them, so that a reader stopped early (a limit)
    records exactly the lines it passed."""

    def __init__(self) -> None:
        self._db = sqlite3.connect("", check_same_thread=False)  # "": a private temporary file, removed on close
        self._db.executescript(
            f"PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-{CACHE_KIB};"
            "CREATE TABLE listed (key INTEGER PRIMARY KEY, split INTEGER NOT NULL);"
            "CREATE TABLE recent (key INTEGER PRIMARY KEY, split INTEGER NOT NULL);")
        self._bits = np.zeros(1 << (BLOOM_BITS - 3), np.uint8)
        self._recent = 0
        self._codes: dict[str, int] = {}
        self._names: list[str] = []
        self.pending: dict[int, str] = {}  # keys added since the last write, with their split
        self.writes = 0  # how many times pending was written: a reader's batch of look-ups is stale after one

    def splits_of(self, keys: Iterable[int]) -> dict[int, str]:
        """The split that listed each of `keys` that is listed, the pending keys written first."""
        self._write()
        batch = list(dict.fromkeys(keys))
        maybe = [key for key, hit in zip(batch, self._maybe_listed(batch)) if hit] if batch else []
        found: dict[int, str] = {}
        for start in range(0, len(maybe), 500):  # SQLite's oldest builds take at most 999 parameters
            part = maybe[start:start + 500]
            marks = ",".join("?" * len(part))
            for table in ("recent", "listed"):  # `listed` last: a key in both was listed there first
                rows = self._db.execute(f"SELECT key, split FROM {table} WHERE key IN ({marks})", part)
                found.update((key, self._names[code]) for key, code in rows)
        return found

    def add(self, key: int, split: str) -> None:
        """Record that `split` listed `key` (unless something listed it before)."""
        self.pending.setdefault(key, split)

    def _write(self) -> None:
        """Move the pending keys into the table `recent` (and the Bloom filter); merge it into `listed` when large."""
        if not self.pending:
            return
        for split in self.pending.values():
            if split not in self._codes:
                self._codes[split] = len(self._names)
                self._names.append(split)
        rows = sorted((key, self._codes[split]) for key, split in self.pending.items())
        self._db.executemany("INSERT OR IGNORE INTO recent VALUES (?, ?)", rows)
        for position in self._positions([key for key, _ in rows]):
            np.bitwise_or.at(self._bits, position >> np.uint64(3), np.left_shift(1, position & np.uint64(7)).astype(np.uint8))
        self._recent += len(rows)
        if self._recent >= MERGE_ROWS:
            self._merge()
        self.pending.clear()
        self.writes += 1

    def _merge(self) -> None:
        """Move `recent` into `listed`, in key order (one walk through the big table); the first listing kept."""
        self._db.execute("INSERT OR IGNORE INTO listed SELECT key, split FROM recent ORDER BY key")
        self._db.execute("DELETE FROM recent")
        self._recent = 0

    def _positions(self, keys: list[int]) -> list[np.ndarray]:
        """The filter's bit positions of each key, one array per slice of the hash."""
        hashes = np.array(keys, np.int64).view(np.uint64)
        mask = np.uint64((1 << BLOOM_BITS) - 1)
        return [(hashes >> np.uint64(shift)) & mask for shift in _SHIFTS]

    def _maybe_listed(self, keys: list[int]) -> np.ndarray:
        """False for keys certainly never written (the Bloom filter lacks one of their bits), True for the others."""
        hit = np.ones(len(keys), bool)
        for position in self._positions(keys):
            hit &= (self._bits[position >> np.uint64(3)] >> (position & np.uint64(7)).astype(np.uint8)) & 1 == 1
        return hit
