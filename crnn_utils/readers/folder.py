"""read_folder: a labelled folder or label file of any layout, read by the first of a list of detectors that knows it.

Each detector looks at the folder and returns a Plan (how to read it), None (not its layout), or raises one clear
error for a layout it recognises but that cannot be read as it is. A new layout is a new detector in DETECTORS."""
from __future__ import annotations

import functools
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple

from ..charset import without_invisible
from ..images import IMAGE_EXTENSIONS, is_image_name
from ..records import PrepareStats, Record, shown_path
from .iam import iam_words_in, is_iam_words, read_iam, refuse_iam_images
from .label_files import LABEL_FILES, LIST_SUFFIXES, label_file_in, lists_images, read_list
from .lmdb import LMDB_FILE, read_lmdbs
from .names import labels_from_names, poor_labels, sidecar
from .paths import ARCHIVE_SUFFIXES, clear_listings, walk_files
from .text_encoding import open_text

NO_LABEL = "no_label_file"  # sidecar mode: an image without its name.gt.txt
DONT_CARE = "dont_care_label"  # a label of only '#': the word is marked illegible, no text to learn or score


def read_folder(data_dir: str | Path, stats: PrepareStats | None = None) -> list[Record]:
    """Records of a labelled folder (or label file): an LMDB, IAM's words.txt, a label file, else name.gt.txt sidecars,
    else file names; labels in NFC without invisible characters, '###' (illegible) counted as dont_care_label."""
    clear_listings()  # folder listings of an earlier call may be stale
    records = []
    try:
        plan = folder_plan(data_dir)
        if stats is not None:
            stats.source = plan.describe()
        for r in _READERS[plan.kind](plan, stats):
            # One Unicode form for every label: a Mac writes 'café' in file names as 'cafe' + a combining accent (NFD),
            # which would be two classes for charset="auto" and one more CTC step than the word has. Invisible
            # characters pasted from a web page or left by concatenated files (a zero-width space, a byte-order
            # mark) are no letters. Spaces around a label are a spreadsheet's or an editor's, never the word's.
            label = without_invisible(unicodedata.normalize("NFC", r.label)).strip()
            if label and not label.strip("#"):  # '###': ICDAR's (and MLT's, Total-Text's '#') mark of an illegible word
                if stats is not None:
                    stats.skip(DONT_CARE, shown_path(r.path, data_dir))
                continue
            records.append(Record(r.path, label))
    finally:
        clear_listings()  # a listing of a million-file folder is tens of MB
    return records


class Plan(NamedTuple):
    """How read_folder reads a folder: kind "lmdb" (found: LMDB folders), "iam" (words.txt), "label_file" (the file),
    "sidecars" or "names" (found: the images); root is the folder paths are read from."""

    kind: str
    root: Path
    found: list[Path] | Path

    def describe(self) -> str:
        """The plan in words, for PrepareStats.source."""
        if self.kind == "lmdb":
            return "LMDB " + ", ".join(str(p.relative_to(self.root)) if p != self.root else p.name for p in self.found)
        return {"label_file": lambda: self.found.name, "iam": lambda: f"IAM {self.found.name}",
                "sidecars": lambda: ".gt.txt files", "names": lambda: "file names"}[self.kind]()


def _read_sidecars(plan: Plan, stats: PrepareStats | None) -> list[Record]:
    """Each image with the text of its name.gt.txt; an image without one counted as no_label_file."""
    records = []
    for image in plan.found:
        text_file = sidecar(image)
        if text_file is not None:
            with open_text(text_file) as f:
                records.append(Record(str(image), f.read()))
        elif stats is not None:
            stats.skip(NO_LABEL, shown_path(str(image), plan.root))
    return records


_READERS: dict[str, Callable[[Plan, PrepareStats | None], list[Record]]] = {
    "lmdb": lambda plan, stats: read_lmdbs(plan.found, stats),
    "iam": lambda plan, stats: read_iam(plan.found, stats),
    "label_file": lambda plan, stats: read_list(plan.root, plan.found, stats),
    "sidecars": _read_sidecars,
    # Otherwise the file name is the label, less the numbers people add to keep names unique.
    "names": lambda plan, stats: [Record(str(p), label) for p, label in zip(plan.found, labels_from_names(plan.found))],
}


@dataclass
class Folder:
    """What the detectors look at: data_dir as given (errors name it so), the path it names (an LMDB's data.mdb as its
    folder), the folder it is or is in, and, listed once when a detector first asks, the files and images under it."""

    given: str | Path
    path: Path
    root: Path

    @classmethod
    def at(cls, data_dir: str | Path) -> "Folder":
        """The Folder data_dir names."""
        path = Path(data_dir).expanduser().resolve()
        if path.name in (LMDB_FILE, "lock.mdb") and path.is_file():
            path = path.parent
        return cls(data_dir, path, path if path.is_dir() else path.parent)

    @functools.cached_property
    def every(self) -> list[Path]:
        """Every file under root (walk_files)."""
        return walk_files(self.root)

    @functools.cached_property
    def images(self) -> list[Path]:
        """The images under root, a format OpenCV does not decode (HEIC, ...) too: prepare_split counts those."""
        files = [p for p in self.every if is_image_name(p.name)]
        stems = {p.with_suffix("") for p in files}  # trdg's --output_mask writes Hello_0_mask.png beside Hello_0.jpg
        return [p for p in files if not (p.stem.endswith("_mask") and p.with_name(p.stem[:-5]) in stems)]

    @functools.cached_property
    def labels(self) -> list[str]:
        """The labels the images' file names give."""
        return labels_from_names(self.images)

    @functools.cached_property
    def poor(self) -> bool:
        """Whether those labels look like indices ('0001', 'img_1'): then the labels may be elsewhere."""
        return poor_labels(self.labels)


def folder_plan(data_dir: str | Path) -> Plan:
    """How read_folder reads data_dir: the plan of the first of DETECTORS that returns one."""
    folder = Folder.at(data_dir)
    return next(plan for detect in DETECTORS if (plan := detect(folder)) is not None)


# ---- detectors of what data_dir cannot be --------------------------------------------------------------------------

def _missing(f: Folder) -> None:
    """Nothing there."""
    if not f.path.exists():
        raise FileNotFoundError(f"data_dir '{f.given}' does not exist: give a folder of images or its label file")


def _an_image(f: Folder) -> None:
    """One image given: its folder or label file was meant."""
    if f.path.is_file() and is_image_name(f.path.name):
        raise ValueError(f"data_dir '{f.given}' is an image: give the folder that holds the images, or their label file")


def _an_archive(f: Folder) -> None:
    """An archive given: it needs extracting first."""
    if f.path.is_file() and f.path.name.lower().endswith(ARCHIVE_SUFFIXES):
        raise ValueError(f"data_dir '{f.given}' is an archive: extract it (e.g. python -m zipfile -e, tar -xf) and "
                         "give the folder it makes")


# ---- detectors of a layout whose labels are given ------------------------------------------------------------------

def _lmdb_here(f: Folder) -> Plan | None:
    """A text-recognition LMDB (the benchmarks' usual packing), unpacked once into files, then read like a folder; a
    label file given as data_dir is read instead."""
    return Plan("lmdb", f.root, [f.root]) if f.path.is_dir() and (f.root / LMDB_FILE).is_file() else None


def _iam_word_list(f: Folder) -> Plan | None:
    """IAM's words.txt (ids, not paths: 'a01-000u-00-00 ok 154 408 768 27 51 AT A'), given or in its ascii/ folder; a
    list of one's own at the folder's top wins."""
    if f.path.is_file():
        given = f.path.suffix.lower() == ".txt" and is_iam_words(f.path)  # a JSON or a .mat is no words.txt
        words = f.path if given else None
    else:
        known = any((f.root / n).is_file() for n in LABEL_FILES)
        words = None if known else iam_words_in(f.root)
    return Plan("iam", words.parent, words) if words is not None else None


def _label_file(f: Folder) -> Plan | None:
    """A label file: the one given, one of LABEL_FILES, or the one text file at the top that lists images."""
    found = label_file_in(f.path)
    return Plan("label_file", f.root, found) if found is not None else None


def _no_decodable_images(f: Folder) -> Plan | None:
    """No image OpenCV decodes: LMDBs below (the evaluation folder of IIIT5k_3000/, SVT/, IC13_857/, ...), else an error
    that says what the folder holds instead."""
    if any(p.suffix.lower() in IMAGE_EXTENSIONS for p in f.images):
        return None
    if lmdbs := sorted(p.parent for p in f.every if p.name == LMDB_FILE):
        return Plan("lmdb", f.root, lmdbs)
    if f.images:
        kinds = Counter(p.suffix.lower() for p in f.images)
        raise ValueError(f"folder '{f.given}' has only images OpenCV does not decode ("
                         + ", ".join(f"{n} {ext}" for ext, n in kinds.most_common())
                         + f", e.g. '{f.images[0].name}'): convert them to PNG or JPEG first")
    archives = [p.name for p in f.every if p.name.lower().endswith(ARCHIVE_SUFFIXES)][:3]
    inside = f"; it holds {', '.join(archives)}: extract it first" if archives else ""
    raise ValueError(f"folder '{f.given}' has no images: expected files ending in "
                     f"{', '.join(IMAGE_EXTENSIONS)}, or one of {', '.join(LABEL_FILES)}, or an LMDB (data.mdb)" + inside)


def _sidecars(f: Folder) -> Plan | None:
    """Ground-truth sidecars as tesstrain and OCRopus keep them: word.png next to word.gt.txt."""
    return Plan("sidecars", f.root, f.images) if any(sidecar(p) is not None for p in f.images) else None


def _label_files_below(f: Folder) -> None:
    """Label files one level down (a Hugging Face imagefolder's train/metadata.jsonl, test/...): one split at a time,
    never the file names of images that have labels elsewhere."""
    nested = sorted(d / n for d in f.root.iterdir() if d.is_dir() for n in LABEL_FILES if (d / n).is_file())
    if nested:
        raise ValueError(f"'{f.given}' has no label file at its top, but {', '.join(str(p.relative_to(f.root)) for p in nested)}"
                         f" below it: give one of those folders as data_dir, e.g. '{nested[0].parent}'")


def _iam_images(f: Folder) -> None:
    """IAM's word images (words/a01/a01-000u/*.png), named by ids: their words are in words.txt."""
    refuse_iam_images(f.given, f.root, f.images)


# ---- detectors of file names that make poor labels ('0001', 'img_1'), whose labels may be elsewhere ------------------

def _list_above(f: Folder) -> None:
    """The images folder of a dataset whose label file sits one level up (ICDAR's gt.txt beside images/; its paths then
    start with this folder's name), beside it under another name (ICDAR 2015's Challenge4_Test_Task3_GT.txt beside
    ch4_test_word_images_gt/, its names bare), or two levels up (MMOCR's textrecog_test.json above textrecog_imgs/test/)."""
    if not f.poor:
        return
    labels = f.labels
    for up, where in ((f.root.parent, "one level up"), (f.root.parent.parent, "two levels up")):
        try:
            above = label_file_in(up) if up != f.root else None
        except ValueError as e:  # several lists up there: still that folder is the one to give
            raise ValueError(f"'{f.given}': the file names make poor labels ('{labels[0]}', ...); {e}") from None
        if above is not None and lists_images(up, above):
            raise ValueError(f"'{f.given}': the file names make poor labels ('{labels[0]}', '{labels[-1]}', ...), "
                             f"and '{above}' {where} lists these images: give '{up}' as data_dir")


def _txt_per_image(f: Folder) -> None:
    """img1.jpg with img1.txt: one label file per image, under another name than tesstrain's img1.gt.txt."""
    if not f.poor:
        return
    txts = {p.with_suffix(""): p for p in f.every if p.suffix.lower() == ".txt"}  # IMG1.TXT from a Windows tool too
    beside = [txts[p.with_suffix("")] for p in f.images if p.with_suffix("") in txts]
    if 2 * len(beside) >= len(f.images):
        raise ValueError(
            f"'{f.given}': the file names make poor labels ('{f.labels[0]}', ...), and {len(beside)} images have a "
            f".txt of their own ('{beside[0].name}'): read_folder reads one label file per "
            f"image when it is named like '{beside[0].stem}.gt.txt' (tesstrain's way): rename them so")


def _unknown_list(f: Folder) -> None:
    """A text file or list in a format read_folder does not know (or in a subfolder), which may hold the labels."""
    if not f.poor:
        return
    texts = [p for p in f.every if p.suffix.lower() in LIST_SUFFIXES][:5]
    if texts:
        raise ValueError(
            f"'{f.given}': no label file read_folder knows, and the file names make poor labels ('{f.labels[0]}', "
            f"'{f.labels[-1]}', ...), while {', '.join(str(t.relative_to(f.root)) for t in texts)} may hold them: give "
            "that list as data_dir, as 'path<TAB>label' lines (or 'path label', CSV/JSON/JSONL with file_name and text)")


def _folder_per_word(f: Folder) -> None:
    """One folder per word ('Hello/001.png', 'Hello/002.png'): the folder names may be the words, or may not ('train/',
    'batch_2/'), so the error says how to give them rather than train on '001'."""
    if not f.poor:
        return
    folders = Counter(p.parent.name for p in f.images if p.parent != f.root)
    if len(folders) > 1 and 2 * sum(folders.values()) >= len(f.images):
        first = f.images[0].relative_to(f.root)
        raise ValueError(
            f"'{f.given}': the file names make poor labels ('{f.labels[0]}', '{f.labels[-1]}', ...) and the images sit "
            f"in {len(folders)} subfolders ('{first}'): if each folder is a word, list them in a labels.tsv "
            f"('{first.as_posix()}<TAB>{first.parent.name}' lines) and give this folder again")


def _one_word_for_all(f: Folder) -> None:
    """'word_1.png', 'word_2.png', ...: file names that would label (nearly) every image the same word."""
    if not f.poor:
        return
    word, n = Counter(f.labels).most_common(1)[0]
    if len(f.images) >= 3 and 10 * n >= 9 * len(f.images):
        raise ValueError(f"'{f.given}': the file names would label {n} of the {len(f.images)} images '{word}' "
                         f"('{f.images[0].name}', ...), and no list of their words was found here or up to two "
                         "levels up: give the label file as data_dir, or list them in a labels.tsv")


def _file_names(f: Folder) -> Plan:
    """File names as labels: what is left when no detector before found the labels elsewhere."""
    return Plan("names", f.root, f.images)


DETECTORS: tuple[Callable[[Folder], Plan | None], ...] = (
    _missing, _an_image, _an_archive,  # what data_dir cannot be
    _lmdb_here, _iam_word_list, _label_file, _no_decodable_images, _sidecars,  # labels given
    _label_files_below, _iam_images,  # labels elsewhere, for sure
    _list_above, _txt_per_image, _unknown_list, _folder_per_word, _one_word_for_all,  # names that make poor labels
    _file_names,
)
