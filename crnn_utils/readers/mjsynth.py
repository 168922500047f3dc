"""MJSynth (Synth90k) folders: annotation_{train,val,test}.txt or one annotation.txt, streamed line by line."""
from __future__ import annotations

import itertools
import os
import zlib
from pathlib import Path
from typing import Iterator

from ..images import IMAGE_EXTENSIONS, is_hidden_name
from ..records import DUPLICATE, MALFORMED, SPLITS, PrepareStats, Record
from .listed import ListedPaths
from .paths import ARCHIVE_SUFFIXES, Rerooted
from .text_encoding import open_text

IN_EARLIER_SPLIT = "in_earlier_split"  # an MJSynth image that an earlier split's file lists too: used there only
BATCH = 500  # annotation lines looked up in ListedPaths at once


def check_mjsynth_dir(data_dir: str | Path) -> dict[str, Path]:
    """The annotation file of each split (and the lexicon, when there) of an MJSynth folder; one clear error when it is not one."""
    root = Path(data_dir).expanduser()
    if not root.exists():
        raise FileNotFoundError(f"data_dir '{data_dir}' does not exist")
    if root.is_file():
        if root.name.lower().endswith(ARCHIVE_SUFFIXES):
            raise ValueError(f"data_dir '{data_dir}' is an archive: extract it (tar -xzf) and give the folder holding "
                             "annotation_train.txt")
        raise ValueError(f"data_dir '{data_dir}' is a file, not a folder: give the folder that holds it, "
                         f"data_dir='{root.parent}'")
    # 1. The official split files, else a single annotation.txt split by hash (read_mjsynth). lexicon.txt is not read
    #    (each word is in its file's name), so a tree without it is still one.
    single = root / "annotation.txt"
    official = {split: root / f"annotation_{split}.txt" for split in SPLITS}
    have = [split for split, p in official.items() if p.is_file()]
    if 0 < len(have) < len(SPLITS):  # never swap silently to annotation.txt, whose hash split mixes the official ones
        raise ValueError(
            f"'{data_dir}' has {', '.join(official[s].name for s in have)} but not "
            f"{', '.join(p.name for s, p in official.items() if s not in have)}: the archive has all three; restore it, "
            "or keep only annotation.txt to split it by a hash of each path")
    files = official if have else {split: single for split in SPLITS} if single.is_file() else None
    if files is not None:
        lexicon = root / "lexicon.txt"
        return {**files, **({"lexicon": lexicon} if lexicon.is_file() else {})}
    # 2. Say what is missing, and point at the folder below that holds the files (the tarball's nested folder).
    below = _mjsynth_below(root)
    hint = f"; '{below}' holds them: pass that" if below is not None else ""
    raise ValueError(
        f"'{data_dir}' is not an MJSynth folder: expected annotation_train.txt, annotation_val.txt and "
        f"annotation_test.txt (or annotation.txt){hint}"
    )


def _mjsynth_below(root: Path, depth: int = 5, wide: int = 64) -> Path | None:
    """The first folder under root, at most `depth` levels down, with MJSynth's annotation files; folders of more than
    `wide` entries (image folders) are not entered."""
    level = [root]
    for _ in range(depth):
        nxt = []
        for folder in level:
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                continue
            if len(entries) > wide:
                continue
            for e in entries:
                if e.is_dir() and not is_hidden_name(e.name):
                    sub = Path(e.path)
                    if (sub / "annotation_train.txt").is_file() or (sub / "annotation.txt").is_file():
                        return sub
                    nxt.append(sub)
        level = nxt
    return None


def read_mjsynth(data_dir: str | Path, split: str, stats: PrepareStats | None = None,
                 seen: ListedPaths | dict | None = None) -> Iterator[Record]:
    """Stream one split of an MJSynth folder as Records (absolute path, label); malformed and repeated lines are counted
    in stats, and, given the same `seen` for every split, an image an earlier split listed is skipped in the later one.

    `seen` is a ListedPaths, or any dict (it then keeps one, under "listed"): memory stays flat at any file size."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    files = check_mjsynth_dir(data_dir)  # errors now, not at the first next()
    prefix = os.path.join(Path(data_dir).expanduser().resolve(), "")  # ends with a separator: + is join, but faster
    _check_images_extracted(files[split], prefix)
    derived = files[split].name == "annotation.txt"
    return _stream_mjsynth(files[split], prefix, split if derived else None, stats, _listed(seen), split)


def _check_images_extracted(annotation: Path, prefix: str, probe: int = 20) -> None:
    """Raise when the file holds no MJSynth lines, or when none of `probe` images it names, from its head and from
    across the file, exists (the archive's images not there)."""
    # Else a partly extracted archive (the annotation files without the numbered folders) walks all 7 million lines,
    # minutes, to count every one as a missing_file, and the split ends empty. One missing folder at the head of the
    # file is not that: lines from across the file are looked at too.
    head = list(itertools.islice(_stream_mjsynth(annotation, prefix, None, None), probe))
    if not head:
        with _open_annotation(annotation) as f:
            lines = [line.strip() for line in itertools.islice(f, 200) if line.strip()]
        if lines:
            raise ValueError(f"'{annotation.name}' holds no MJSynth lines in its first {len(lines)} (expected "
                             f"'./1/1/3_Hello_17.jpg 17', found '{lines[0][:60]}')")
        return
    records = head + _spread_records(annotation, prefix, probe)
    if not any(os.path.isfile(r.path) for r in records):
        raise FileNotFoundError(
            f"none of the first {len(head)} images '{annotation.name}' names is there (the first: "
            f"'{head[0].path}'): are the numbered image folders extracted into '{prefix}'?")


def _spread_records(annotation: Path, prefix: str, n: int) -> list[Record]:
    """Up to n records parsed from lines at n offsets spread over an (uncompressed) annotation file."""
    if _compressed(annotation):
        return []
    size, out = annotation.stat().st_size, []
    with open(annotation, "rb") as f:
        for k in range(1, n + 1):
            f.seek(size * k // (n + 1))
            f.readline()  # the rest of a line cut by the seek
            record = _parse_mjsynth(f.readline().decode("utf-8", "replace").split(), prefix)
            if record is not None:
                out.append(record)
    return out


def _compressed(path: Path) -> bool:
    """Whether a file starts with gzip's magic bytes."""
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _open_annotation(path: Path):
    """An annotation file as text: gunzipped when gzip-compressed, else in the encoding label files are read in."""
    import gzip

    if _compressed(path):
        return gzip.open(path, "rt", encoding="utf-8-sig", errors="replace")
    return open_text(path)  # as label files: UTF-16 by its mark, ...


def _listed(seen: ListedPaths | dict | None) -> ListedPaths:
    """The ListedPaths a read records its paths in: `seen` itself, the one a dict `seen` keeps, or a new one."""
    if isinstance(seen, ListedPaths):
        return seen
    if seen is None:
        return ListedPaths()
    if not isinstance(seen.get("listed"), ListedPaths):
        seen["listed"] = ListedPaths()
    return seen["listed"]


def _stream_mjsynth(path: Path, prefix: str, derived_split: str | None, stats: PrepareStats | None,
                    listed: ListedPaths | None = None, split: str = "") -> Iterator[Record]:
    """The records of an annotation file, malformed lines counted; with `listed`, only each image's first listing."""
    lines = _parsed_lines(path, prefix, derived_split)
    if listed is not None:
        yield from _first_listings(lines, listed, split, stats)
        return
    for line, record in lines:
        if record is not None:
            yield record
        elif stats is not None:
            stats.skip(MALFORMED, line.strip()[:80] or "<blank line>")


def _parsed_lines(path: Path, prefix: str, derived_split: str | None) -> Iterator[tuple[str, Record | None]]:
    """Each line of an annotation file (of the derived split only, when given) with its record, or None if malformed."""
    rerooted = Rerooted(prefix)
    with _open_annotation(path) as f:
        for line in f:  # one line at a time: flat memory for MJSynth's 7-9 million lines
            parts = line.split()
            # 1. With a single annotation.txt, a hash of the path picks the split (stable across runs and machines).
            if derived_split is not None and mjsynth_split_of(parts[0] if parts else "") != derived_split:
                continue
            record = _parse_mjsynth(parts, prefix)
            # 2. Absolute paths written where the archive was extracted elsewhere ('/mnt/ramdisk/max/90kDICT32px/1/...'):
            #    the same tail under data_dir.
            if record is not None and not record.path.startswith(prefix) and not os.path.isfile(record.path):
                record = Record(rerooted(record.path), record.label)
            yield line, record


def _first_listings(lines: Iterator[tuple[str, Record | None]], listed: ListedPaths, split: str,
                    stats: PrepareStats | None) -> Iterator[Record]:
    """The records of images no line before listed, in this file or (through `listed`) an earlier split's."""
    # A line repeated would train (and score) twice, and a test image also listed for training would be scored on a
    # word the model learnt. Skips are counted as their lines are passed, so a reader stopped early (a limit) counts
    # only the lines it used, as a line-by-line reader would.
    while batch := list(itertools.islice(lines, BATCH)):
        keys = [hash(record.path) if record is not None else None for _, record in batch]
        known, writes = listed.splits_of(k for k in keys if k is not None), listed.writes
        for i, ((line, record), key) in enumerate(zip(batch, keys)):
            if record is None:
                if stats is not None:
                    stats.skip(MALFORMED, line.strip()[:80] or "<blank line>")
                continue
            if listed.writes != writes:  # another reader of the same `seen` wrote between: look the rest up again
                known, writes = listed.splits_of(k for k in keys[i:] if k is not None), listed.writes
            earlier = known.get(key, listed.pending.get(key))
            if earlier is not None:
                if stats is not None:
                    stats.skip(DUPLICATE if earlier == split else IN_EARLIER_SPLIT, line.strip()[:80])
                continue
            listed.add(key, split)
            yield record


def mjsynth_split_of(path: str) -> str:
    """The split of an annotation path when only annotation.txt exists: 90/5/5 by a CRC32 of the path."""
    bucket = zlib.crc32(path.encode("utf-8")) % 100
    return "train" if bucket < 90 else "val" if bucket < 95 else "test"


def _parse_mjsynth(parts: list[str], prefix: str) -> Record | None:
    """'./2697/6/466_MONIKER_49537.jpg 49537' -> Record(prefix + '2697/6/466_MONIKER_49537.jpg', 'MONIKER') or None."""
    if not 1 <= len(parts) <= 2 or (len(parts) == 2 and not parts[1].isdigit()):
        return None
    rel = parts[0].replace("\\", "/")  # '.\\1\\1\\x.jpg' from a list rewritten on Windows; MJSynth names hold no '\\'
    stem, dot, ext = rel.rpartition("/")[2].rpartition(".")
    if not dot or f".{ext.lower()}" not in IMAGE_EXTENSIONS:
        return None
    # The label lies between the first and the last underscore (it may hold underscores itself).
    first, last = stem.find("_"), stem.rfind("_")
    if first == last:
        return None
    if os.path.isabs(rel):
        return Record(rel, stem[first + 1 : last])  # as written; _stream_mjsynth re-roots it when it is not there
    rel = os.path.normpath(rel)
    if rel.startswith(".."):  # './../other/1_x_1.jpg' names a file outside data_dir
        return None
    return Record(prefix + rel, stem[first + 1 : last])
