"""Text-recognition LMDBs (deep-text-recognition-benchmark's layout: num-samples, image-%09d, label-%09d, from 1)."""
from __future__ import annotations

import json
import os
import zlib
from pathlib import Path
from typing import Sequence

from ..progress import progress_bar
from ..records import MALFORMED, PrepareStats, Record
from .label_files import read_label_file

LMDB_FILE = "data.mdb"
NO_IMAGE = "no_image_in_lmdb"  # an LMDB label whose image key is missing
_MAGIC = ((b"\x89PNG", ".png"), (b"\xff\xd8", ".jpg"), (b"BM", ".bmp"), (b"GIF8", ".gif"), (b"II*\x00", ".tif"),
          (b"MM\x00*", ".tif"), (b"RIFF", ".webp"))


def read_lmdbs(folders: Sequence[Path], stats: PrepareStats | None) -> list[Record]:
    """The records of one or more LMDBs, each unpacked once into files (unpack_lmdb) and read as a label file."""
    records: list[Record] = []
    for folder in folders:
        out = unpack_lmdb(folder, stats=stats)
        records += read_label_file(out, out / "labels.jsonl", stats)
    if not records:
        raise ValueError(f"no image with its label in the LMDB at {', '.join(map(str, folders))}: expected keys "
                         "num-samples, image-000000001, label-000000001, ... (counted from 1, or from 0)")
    return records


def unpack_lmdb(lmdb_dir: str | Path, out_dir: str | Path | None = None, stats: PrepareStats | None = None,
                progress: bool = True) -> Path:
    """Write a text-recognition LMDB's images as files plus labels.jsonl (once, cached) and return that folder."""
    try:
        import lmdb  # noqa: F401
    except ImportError as e:  # a dependency, but say what to do if someone's environment lacks it
        raise ImportError("reading an LMDB dataset needs the lmdb package: pip install lmdb") from e
    src = Path(lmdb_dir).expanduser().resolve()
    # 1. One cache folder per database file and version of it; labels.jsonl, written last, marks it complete.
    out = Path(out_dir) if out_dir is not None else _cache_folder(src)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OSError(f"cannot unpack the LMDB at '{src}' into '{out}' ({e.strerror}): set XDG_CACHE_HOME to a writable "
                      "folder, or call crnn_utils.datasets.unpack_lmdb(lmdb_dir, out_dir) and read out_dir") from None
    done, skips_file = out / "labels.jsonl", out / "skipped.json"
    if not done.is_file():
        # 2. Every label-i with its image-i, written as files.
        rows, skipped = _unpack(src, out, progress)
        skips_file.write_text(json.dumps(skipped))
        tmp = done.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text("".join(rows), encoding="utf-8")
        os.replace(tmp, done)
    # 3. What could not be unpacked is counted on every read, the cached ones too.
    if stats is not None and skips_file.is_file():
        for reason, name in json.loads(skips_file.read_text()):
            stats.skip(reason, name)
    return out


def _cache_folder(src: Path) -> Path:
    """Where an LMDB is unpacked by default: one folder per database file and version, under XDG_CACHE_HOME."""
    st = (src / LMDB_FILE).stat()
    key = zlib.crc32(f"{src}|{st.st_size}|{st.st_mtime_ns}".encode())
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    cache = (Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache") / "crnn_notebooks" / "lmdb"
    return cache / f"{src.name}-{key:08x}"


def _unpack(src: Path, out: Path, progress: bool) -> tuple[list[str], list[tuple[str, str]]]:
    """Write every image of the LMDB at src into out; its labels.jsonl lines, and the (reason, key) of each skip."""
    import lmdb

    # A label without an image is counted; an image that does not decode is written as it is and left to load_image,
    # which counts it as unreadable like any damaged file.
    env = lmdb.open(str(src), readonly=True, lock=False, readahead=False, meminit=False)
    try:
        with env.begin() as txn:
            try:
                n = int(txn.get(b"num-samples"))
            except (TypeError, ValueError):
                raise ValueError(f"'{src}' is an LMDB but not a word dataset: no 'num-samples' key "
                                 "(expected num-samples, image-000000001, label-000000001, ...)") from None
            rows, skipped = [], []
            # Keys count from 1 in the benchmarks' packing; a home-made LMDB may count from 0 (then 0..n-1).
            first = 0 if txn.get(b"label-%09d" % 0) is not None else 1
            keys = range(first, first + n)
            for i in progress_bar(keys, desc=f"unpack {src.name}", unit="img", enabled=progress):
                label, image = txn.get(b"label-%09d" % i), txn.get(b"image-%09d" % i)
                if label is None or image is None:
                    skipped.append((MALFORMED, f"label-{i:09d}") if label is None else (NO_IMAGE, f"image-{i:09d}"))
                    continue
                name = f"{i:09d}" + next((e for magic, e in _MAGIC if image.startswith(magic)), ".png")
                (out / name).write_bytes(image)
                rows.append(json.dumps({"file_name": name, "text": label.decode("utf-8", errors="replace")}) + "\n")
    finally:
        env.close()
    return rows, skipped
