"""Labels from file names ('Hello_3.png', MJSynth's '12_Hello_345.jpg'), and when names are indices, not words."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Sequence

# A file manager's second copy: "Hello (2)" (Windows, browsers), "Hello - Copy", "Hello - Copy (2)" (Windows),
# "Hello copy 2" (macOS; its first copy, "Hello copy", could be the words "carbon copy", so it stays).
_COPY_MARK = re.compile(r" \(\d+\)$| - Copy( \(\d+\))?$| copy \d+$")
_HASH_NAME = re.compile(r"[0-9a-fA-F]{8,}|[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def label_from_file_name(stem: str) -> str:
    """The label a file name holds: Hello.png, Hello_3.png, 12_Hello.png, MJSynth's 12_Hello_345.jpg, 'Hello (2).png'."""
    # Words repeat in a folder of crops, so names carry an index: before the word, after it, or (MJSynth) both.
    # MJSynth's index_word_lexiconindex gives what lies between the first and the last underscore, as read_mjsynth
    # reads it (a number too: our renderer's "7_2024_12.jpg"). Of two parts, only digits beside a part that is not
    # count as an index: "2024_1" and "New_York" stay whole.
    stem = _COPY_MARK.sub("", stem)
    parts = stem.split("_")
    if len(parts) >= 3 and parts[0].isdigit() and parts[-1].isdigit() and any(parts[1:-1]):
        return "_".join(parts[1:-1])
    if len(parts) == 2 and all(parts) and parts[0].isdigit() != parts[1].isdigit():
        return parts[1] if parts[0].isdigit() else parts[0]
    return stem


def labels_from_names(files: Sequence[Path]) -> list[str]:
    """The labels of a folder's file names: label_from_file_name, and trdg's '{text}_{index}' read as one folder."""
    # trdg names every image '{text}_{i}', i = 0, 1, 2...: then '2024_1' is the number 2024, its index stripped,
    # which one name alone cannot tell from a plate '2024_1'.
    labels = [label_from_file_name(p.stem) for p in files]
    ends = [re.fullmatch(r"(.+)_(\d+)", _COPY_MARK.sub("", p.stem)) for p in files]
    if len(files) >= 3 and all(ends) and len({m.group(2) for m in ends}) == len(files):
        labels = [m.group(1) if label == m.group(0) else label for m, label in zip(ends, labels)]
    return labels


def poor_labels(labels: list[str]) -> bool:
    """Whether file-name labels look like indices: mostly without letters, or one word with numbers ('img1', 'img2')."""
    # '0001', IIIT5K's '1002_1', SVT's '14_03' and a phone's '20240101_123456' hold no letters; 'img1', 'img_2' and
    # 'DSC00012' are one prefix numbered. A folder of real number plates or prices still reads: this only decides
    # whether a text file beside the images is looked at as the likely labels.
    bare = Counter(re.sub(r"[\W_]*\d+$", "", x).lower() for x in labels)
    top = bare.most_common(1)[0][1] if bare else 0
    letterless = sum(not any(c.isalpha() for c in x) for x in labels)
    # Names made by a hash or a UUID ('e3e70682c209', '4f1c...-...'): hex digits, letters and digits mixed.
    hashed = sum(bool(_HASH_NAME.fullmatch(x)) and not x.isdigit() and not x.isalpha() for x in labels)
    return 2 * max(letterless if letterless > 1 else 0, top if top > 1 else 0, hashed if hashed > 1 else 0) >= len(labels)


def sidecar(image: Path) -> Path | None:
    """The ground-truth file of one image: 'word.png' -> 'word.gt.txt' (tesstrain), '010001.bin.png' -> '010001.gt.txt' (OCRopus)."""
    for stem in dict.fromkeys((image.stem, image.name.split(".")[0])):
        if stem and (text := image.with_name(stem + ".gt.txt")).is_file():
            return text
    return None
