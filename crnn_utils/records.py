"""What readers hand to prepare_split: labelled image files (Record), and the counts of what was used or skipped."""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

SPLITS = ("train", "val", "test")

# Skip reasons every reader of lists counts (dataset.json keys).
MALFORMED = "malformed_annotation"  # an annotation or label-file line that names no usable (path, label) pair
DUPLICATE = "duplicate_entry"  # a label file or MJSynth annotation listing an image it already listed (the first counts)


@dataclass(frozen=True)
class Record:
    """One labelled image file: where it is and what it says."""

    path: str
    label: str


@dataclass
class PrepareStats:
    """What preparing one split did: images used, images skipped per reason, and a few skipped names per reason."""

    used: int = 0
    skipped: Counter = field(default_factory=Counter)
    examples: dict = field(default_factory=dict)
    lengths: Counter = field(default_factory=Counter)  # label length -> count, over used inputs
    chars: Counter = field(default_factory=Counter)    # character -> count, over used inputs
    source: str = ""  # where read_folder took the labels from: a label file's name, "LMDB ...", ".gt.txt files", "file names"

    @property
    def seen(self) -> int:
        """Inputs looked at: used plus skipped."""
        return self.used + sum(self.skipped.values())

    def skip(self, reason: str, name: str, keep: int = 5) -> None:
        """Count one skipped input under `reason`, remembering the first few names."""
        self.skipped[reason] += 1
        names = self.examples.setdefault(reason, [])
        if len(names) < keep:
            names.append(name)

    def merge(self, other: "PrepareStats") -> None:
        """Add another stats object's counts into this one."""
        self.used += other.used
        self.skipped.update(other.skipped)
        self.lengths.update(other.lengths)
        self.chars.update(other.chars)
        for reason, names in other.examples.items():
            mine = self.examples.setdefault(reason, [])
            mine.extend(names[: max(0, 5 - len(mine))])

    def as_dict(self) -> dict:
        """JSON-ready counts."""
        return {"used": self.used, "skipped": dict(self.skipped), "seen": self.seen, "skipped_examples": self.examples}


def shown_path(path: str, root: str | Path | None = None) -> str:
    """A skipped file as a person finds it: relative to `root` (with '/') when under it, else its name alone."""
    # The name alone lost the folder: MJSynth's '466_MONIKER_49537.jpg' is one of 4,000 folders. Absolute paths
    # would put this machine's folders into dataset.json and the notebook's output.
    if root is not None:
        base = Path(root).expanduser()
        base = base.parent if base.is_file() else base  # data_dir may name the label file itself
        for norm in (os.path.abspath, os.path.realpath):  # read_mjsynth resolves links in data_dir; folders do not
            try:
                return Path(norm(path)).relative_to(norm(base)).as_posix()
            except ValueError:
                pass
    return Path(path).name
