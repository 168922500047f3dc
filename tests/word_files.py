"""Files the reader and image tests write: word images, MJSynth trees, LMDBs, MATLAB structs, HEIC headers."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np

from crnn_utils.records import MALFORMED, Record

GOOD = ["Hello", "world", "CRNN", "text42", "MONIKER", "Zebra", "padded", "a" * 16]  # a*16 needs exactly 31 steps
# Expected skips of the train split make_mjsynth builds, one entry per reason.
EXPECTED_SKIPS = {
    "unreadable_image": 2,  # random bytes as .jpg; PNG signature then garbage
    "truncated_image": 1,
    "empty_file": 1,
    "missing_file": 1,
    "too_large": 1,  # 8000x8000 PNG, small on disk
    "out_of_charset": 3,  # é, -, _
    "too_long_for_ctc": 2,  # 32 letters; a*17 needs 33 steps
    "empty_label": 1,
    MALFORMED: 6,
}
HEIC = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + bytes(200)  # an iPhone photo's first bytes
IAM_HEADER = "#--- words.txt ---#\n#\n# format: a01-000u-00-00 ok 154 408 768 27 51 AT A\n#\n"


def word_image(text: str) -> np.ndarray:
    """A dark word on a light background, roughly MJSynth-like."""
    img = np.full((32, 14 * len(text) + 12), 235, np.uint8)
    cv2.putText(img, text, (6, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 20, 1, cv2.LINE_AA)
    return img


def write_jpeg(path: Path, text: str) -> bytes:
    """word_image(text) as a JPEG at path (folders made); its bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(".jpg", word_image(text))
    assert ok
    path.write_bytes(buf.tobytes())
    return buf.tobytes()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width x height, followed by a garbage IDAT."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"garbage") + chunk(b"IEND", b"")


def png(text: str) -> bytes:
    """word_image(text) as PNG bytes."""
    return cv2.imencode(".png", word_image(text))[1].tobytes()


def write_images(root: Path, names: list[str]) -> None:
    """A word image at each relative name under root, showing its stem."""
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / name), word_image(Path(name).stem))


def rel_pairs(records: list[Record], root: Path) -> list[tuple[str, str]]:
    """(path relative to root, label) of each record."""
    return [(Path(r.path).relative_to(root).as_posix(), r.label) for r in records]


def mjsynth_tree(root: Path, lines: list[str], images: list[str]) -> None:
    """An MJSynth folder: the images named, and the same annotation lines for every split."""
    for name in images:
        write_jpeg(root / name, name)
    for split in ("train", "val", "test"):
        (root / f"annotation_{split}.txt").write_text("\n".join(lines) + "\n")


def make_mjsynth(d: Path) -> Path:
    """A small MJSynth-layout folder with good images and one bad input of every kind in the train split."""
    rng = np.random.default_rng(0)
    lines = []
    # 1. Good images; "padded" is a complete JPEG followed by zero bytes, which must still load.
    for i, word in enumerate(GOOD):
        rel_path = f"./1/{i % 3}/{i}_{word}_{100 + i}.jpg"
        data = write_jpeg(d / rel_path, word)
        if word == "padded":
            (d / rel_path).write_bytes(data + b"\0" * 64)
        lines.append(f"{rel_path} {100 + i}")
    # 2. Bad files.
    bad = d / "2" / "1"
    bad.mkdir(parents=True)
    (bad / "1_corrupt_1.jpg").write_bytes(rng.integers(0, 256, 3000, dtype=np.uint8).tobytes())
    full = write_jpeg(bad / "2_truncated_2.jpg", "truncated")
    (bad / "2_truncated_2.jpg").write_bytes(full[: len(full) * 6 // 10] + b"\0" * 16)
    (bad / "3_empty_3.jpg").write_bytes(b"")
    (bad / "5_badpng_5.png").write_bytes(b"\x89PNG\r\n\x1a\n" + rng.integers(0, 256, 500, dtype=np.uint8).tobytes())
    cv2.imwrite(str(bad / "6_bomb_6.png"), np.zeros((8000, 8000), np.uint8), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    lines += [f"./2/1/{name} {name.split('_')[0]}" for name in
              ("1_corrupt_1.jpg", "2_truncated_2.jpg", "3_empty_3.jpg", "5_badpng_5.png", "6_bomb_6.png")]
    lines.append("./2/1/4_missing_4.jpg 4")
    # 3. Labels prepare_split must refuse (their images exist, so only the label is at fault).
    for i, word in enumerate(["café", "co-op", "snake_case", "x" * 32, "a" * 17, ""]):
        rel_path = f"./3/1/{i}_{word}_{i}.jpg"
        write_jpeg(d / rel_path, word or "blank")
        lines.append(f"{rel_path} {i}")
    # 4. Malformed annotation lines.
    lines += ["", "garbage", "./1/1/nounderscore.jpg 4", "./1/1/one_under.jpg 5", "./1/1/3_x_7.jpg notanumber",
              "./1/1/3_x_7.txt 7"]
    (d / "annotation_train.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # 5. Official val and test splits, and a lexicon.
    write_jpeg(d / "4/1/1_valone_1.jpg", "valone")
    write_jpeg(d / "4/1/2_valtwo_2.jpg", "valtwo")
    write_jpeg(d / "4/2/1_testone_1.jpg", "testone")
    (d / "annotation_val.txt").write_text("./4/1/1_valone_1.jpg 1\n./4/1/2_valtwo_2.jpg 2\n")
    (d / "annotation_test.txt").write_text("./4/2/1_testone_1.jpg 1\nnot an annotation\n")
    (d / "lexicon.txt").write_text("\n".join(w.lower() for w in GOOD) + "\n")
    return d


def write_lmdb(folder: Path, items: list[tuple[bytes | None, str | None]], start: int = 1) -> None:
    """An LMDB as deep-text-recognition-benchmark's create_lmdb_dataset writes it: num-samples, image-i, label-i."""
    import lmdb

    folder.mkdir(parents=True, exist_ok=True)
    env = lmdb.open(str(folder), map_size=1 << 26)
    with env.begin(write=True) as txn:
        for i, (image, label) in enumerate(items, start=start):
            if image is not None:
                txn.put(b"image-%09d" % i, image)
            if label is not None:
                txn.put(b"label-%09d" % i, label.encode())
        txn.put(b"num-samples", str(len(items)).encode())
    env.close()


def savemat_struct(path: Path, name: str, rows: list[tuple], fields: tuple[str, ...]) -> None:
    """A MATLAB file holding one struct array `name` with the given fields, one element per row."""
    from scipy.io import savemat

    arr = np.empty(len(rows), dtype=[(f, object) for f in fields])
    for i, row in enumerate(rows):
        arr[i] = row
    savemat(str(path), {name: arr})
