"""Where the images a list names are: paths from other machines, Windows, Macs and bare names, found under a folder."""
from __future__ import annotations

import functools
import os
import re
import unicodedata
from pathlib import Path
from typing import NamedTuple, Sequence

from ..images import is_file, is_hidden_name, is_image_name
from .text_encoding import sniff_encoding

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".gz", ".7z", ".rar")
ID_NAME = re.compile(r"(?=[\w-]*\d)[\w-]+")  # an image named by an id, without its extension: '1000000', 'e3e70682c209'


def clear_listings() -> None:
    """Forget the folder listings and encodings kept while one folder or label file is read."""
    _lower_names.cache_clear()
    _listing.cache_clear()
    sniff_encoding.cache_clear()


def walk_files(root: Path) -> list[Path]:
    """Every file under root, sorted: symlinked folders followed (each real folder once), hidden and macOS junk left out."""
    # A zip made on a Mac carries __MACOSX/ with a '._name.png' of metadata for each file, and '.DS_Store': read as
    # images they would be unreadable files with labels like '._Hello'. Path.rglob does not enter linked folders.
    out, seen = [], set()
    for folder, dirs, names in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:  # a link loop, or the same folder linked twice
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if not is_hidden_name(d))
        out += [Path(folder) / n for n in names if not is_hidden_name(n) and os.path.isfile(os.path.join(folder, n))]
    return sorted(out)


def _parts(rel: str) -> list[str]:
    """A listed path's folders and name, whatever wrote it: '\\' as '/', no '.' or empty parts, no drive ('C:')."""
    parts = [p for p in rel.replace("\\", "/").split("/") if p not in ("", ".")]
    return parts[1:] if parts and parts[0].endswith(":") else parts


def tail_file(root: Path, parts: Sequence[str]) -> tuple[Path, int] | None:
    """The file the longest tail of a path's parts names under root (or, with folders, the folder above it; a bare name
    in root/images), in either Unicode normalisation, and the index of the part the tail starts at; else None."""
    for i in range(len(parts)):
        tail = "/".join(parts[i:])
        for form in ("NFC", "NFD"):
            # A bare name only in the list's own folder, or in its images/ (docTR keeps labels.json beside images/).
            for base in (root, root.parent) if "/" in tail else (root, root / "images"):
                candidate = base / unicodedata.normalize(form, tail)
                if is_file(candidate):
                    return candidate, i
    return None


def under(root: Path, rel: str, home: ImagesHome | None = None) -> Path:
    """The image a label file names: root / rel when it is there, else the first that is of the same path read as
    written on Windows (backslashes), from another machine (absolute: its tail under root), relative to the folder
    above root (a list kept in annotations/), in the other Unicode normalisation (a zip made on a Mac), in another
    letter case, or, for a bare name or an id, in the list's images folder `home` (images_home); else root / rel."""
    first = root / rel
    if is_file(first):
        return first
    parts = _parts(rel)
    found = tail_file(root, parts)
    if found is not None:
        return found[0]
    # A list written on Windows or a Mac, whose file systems ignore case: 'img_001.jpg' for IMG_001.JPG.
    if parts and (case := _case_insensitive(root / "/".join(parts))) is not None:
        return case
    # A list kept beside the images' folder, naming them bare ('word_1.png', ICDAR's test ground truth) or by an id
    # without its extension (COCO-Text's '1000000,EXIT' for train_words/1000000.jpg).
    if home is not None and len(parts) == 1 and (found_home := home.find(parts[0])) is not None:
        return found_home
    return root / rel.replace("\\", "/") if "\\" in rel else first


class Rerooted:
    """Absolute paths written on another machine ('/mnt/ramdisk/max/90kDICT32px/1/...'), each found under root by
    tail_file, as label files' paths are; the head cut off is remembered, so the millions of lines of one annotation
    file that share it are re-rooted by string, with no search."""

    def __init__(self, root: str | Path):
        self.root, self.head = Path(root), None

    def __call__(self, path: str) -> str:
        """The path under root that `path` names, or `path` itself when no tail of it is there."""
        if self.head is not None and path.startswith(self.head):
            return str(self.root / path[len(self.head):])
        parts = _parts(path)
        found = tail_file(self.root, parts)
        if found is None:
            return path
        file, i = found
        tail = "/".join(parts[i:])
        if "\\" not in path and path.endswith("/" + tail) and file == self.root / tail:  # the tail as written
            self.head = path[: -len(tail)]
        return str(file)


class ImagesHome(NamedTuple):
    """The folder a list's bare names or ids point into, and its images by stem."""

    folder: Path
    stems: dict[str, str]

    def find(self, name: str) -> Path | None:
        """The image `name` (a bare file name, or an id without extension) names in this folder, or None."""
        if is_image_name(name):
            return self.folder / name if is_file(self.folder / name) else None
        return self.folder / self.stems[name] if name in self.stems else None


def images_home(root: Path, names: Sequence[str], most: int = 64) -> ImagesHome | None:
    """Where a list's bare names or ids point when root does not hold them: root itself (ids) or the one of its (at
    most `most`) subfolders that holds most of them; None when none holds half of them or two hold as many."""
    bare = [n.strip() for n in names if n and "/" not in n and "\\" not in n][:50]
    bare = [n for n in bare if is_image_name(n) and not is_file(root / n) or not is_image_name(n) and ID_NAME.fullmatch(n)]
    if not bare:
        return None
    try:
        folders = sorted(e.path for e in os.scandir(root) if e.is_dir() and not is_hidden_name(e.name))
    except OSError:
        return None
    if len(folders) > most:  # an MJSynth-like tree is no list's neighbour
        folders = []
    scores = []
    for folder in (str(root), *folders):
        names, stems = _listing(folder)
        scores.append((sum(n in names if is_image_name(n) else n in stems for n in bare), folder, stems))
    scores.sort(key=lambda x: -x[0])
    best = scores[0]
    if 2 * best[0] < len(bare) or len(scores) > 1 and scores[1][0] == best[0]:
        return None  # train/word_1.png and test/word_1.png: no guess which one the list means
    return ImagesHome(Path(best[1]), best[2])


def _case_insensitive(path: Path) -> Path | None:
    """The file whose path equals `path` but for letter case, when exactly one does."""
    folder = path.parent if path.parent.is_dir() else _case_insensitive(path.parent) if path.parent != path else None
    if folder is None or not folder.is_dir():
        return None
    names = _lower_names(str(folder)).get(path.name.lower(), [])
    return folder / names[0] if len(names) == 1 else None


@functools.lru_cache(maxsize=128)
def _listing(folder: str) -> tuple[frozenset[str], dict[str, str]]:
    """A folder's file names, and its images by stem (the one image of each stem)."""
    try:
        names = [e.name for e in os.scandir(folder) if e.is_file()]
    except OSError:
        return frozenset(), {}
    stems: dict[str, str] = {}
    for n in names:
        if is_image_name(n):
            stems[os.path.splitext(n)[0]] = n if os.path.splitext(n)[0] not in stems else ""
    return frozenset(names), {k: v for k, v in stems.items() if v}


@functools.lru_cache(maxsize=64)
def _lower_names(folder: str) -> dict[str, list[str]]:
    """A folder's entries by lowercased name (one listing per folder, kept for the label file being read)."""
    out: dict[str, list[str]] = {}
    for name in os.listdir(folder):
        out.setdefault(name.lower(), []).append(name)
    return out
