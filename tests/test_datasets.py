"""Dataset readers (MJSynth, folder), every skip reason of prepare_split, and the shards' round trip through tf.data."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from crnn_utils.charset import Charset
from crnn_utils.datasets import (
    MALFORMED,
    NO_IMAGE,
    NO_LABEL,
    PrepareStats,
    Record,
    check_mjsynth_dir,
    find_label_file,
    label_from_file_name,
    make_dataset,
    mjsynth_split_of,
    prepare_split,
    read_folder,
    read_mjsynth,
    shard_paths,
    split_records,
    unpack_lmdb,
)
from crnn_utils.images import ImageError, load_image

GOOD = ["Hello", "world", "CRNN", "text42", "MONIKER", "Zebra", "padded", "a" * 16]  # a*16 needs exactly 31 steps
# Expected skips of the train split built below, one entry per reason.
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


def word_image(text: str) -> np.ndarray:
    """A dark word on a light background, roughly MJSynth-like."""
    img = np.full((32, 14 * len(text) + 12), 235, np.uint8)
    cv2.putText(img, text, (6, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 20, 1, cv2.LINE_AA)
    return img


def write_jpeg(path: Path, text: str) -> bytes:
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


@pytest.fixture(scope="module")
def mjsynth(tmp_path_factory) -> Path:
    """A small MJSynth-layout folder with good images and one bad input of every kind in the train split."""
    d = tmp_path_factory.mktemp("mjsynth")
    rng = np.random.default_rng(0)
    lines = []
    # 1. Good images; "padded" is a complete JPEG followed by zero bytes, which must still load.
    for i, word in enumerate(GOOD):
        rel = f"./1/{i % 3}/{i}_{word}_{100 + i}.jpg"
        data = write_jpeg(d / rel, word)
        if word == "padded":
            (d / rel).write_bytes(data + b"\0" * 64)
        lines.append(f"{rel} {100 + i}")
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
        rel = f"./3/1/{i}_{word}_{i}.jpg"
        write_jpeg(d / rel, word or "blank")
        lines.append(f"{rel} {i}")
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


def test_read_mjsynth_parses_labels_and_counts_malformed(mjsynth: Path) -> None:
    stats = PrepareStats()
    records = list(read_mjsynth(mjsynth, "train", stats))
    labels = [r.label for r in records]
    assert labels[: len(GOOD)] == GOOD
    assert "snake_case" in labels and "" in labels  # first..last underscore; '5__3.jpg' style gives ''
    assert all(Path(r.path).is_absolute() for r in records)
    assert records[0].path == str((mjsynth / "1/0/0_Hello_100.jpg").resolve())
    assert stats.skipped == {MALFORMED: EXPECTED_SKIPS[MALFORMED]} and stats.examples[MALFORMED][0] == "<blank line>"


def test_prepare_split_counts_every_reason_and_shards_round_trip(mjsynth: Path, tmp_path: Path) -> None:
    charset = Charset.seed()
    reader = PrepareStats()
    stats = prepare_split(read_mjsynth(mjsynth, "train", reader), charset, tmp_path, "train", shard_size=3,
                          progress=False)
    stats.merge(reader)
    lines = (mjsynth / "annotation_train.txt").read_text(encoding="utf-8").splitlines()
    # 1. Every reason counted exactly, nothing lost: used + skipped == lines in the annotation file.
    assert stats.used == len(GOOD)
    assert dict(stats.skipped) == EXPECTED_SKIPS
    assert stats.seen == len(lines)
    # 2. The shards hold exactly the good images, with labels that decode back from the class ids.
    shards = shard_paths(tmp_path, "train")
    assert len(shards) == 3
    ds = make_dataset(shards, batch_size=4, max_label_len=31, blank=charset.blank, with_text=True)
    images, decoded, texts = [], [], []
    for img, ids, text in ds:
        images.append(img.numpy())
        decoded += [charset.decode(row) for row in ids.numpy()]
        texts += [t.decode("utf-8") for t in text.numpy()]
    images = np.concatenate(images)
    assert images.shape == (len(GOOD), 32, 128, 1)
    assert sorted(decoded) == sorted(texts) == sorted(GOOD)
    assert 0.0 <= images.min() and images.max() <= 1.0 and images.std() > 0.05  # real pixels, not blank padding


def test_skip_examples_name_the_folder_under_the_data_root(mjsynth: Path, tmp_path: Path) -> None:
    # MJSynth spreads its images over 4,000 folders: '1_corrupt_1.jpg' alone does not say where to look.
    stats = prepare_split(read_mjsynth(mjsynth, "train"), Charset.seed(), tmp_path, "train", progress=False,
                          root=mjsynth)
    assert "2/1/1_corrupt_1.jpg" in stats.examples["unreadable_image"]
    assert "2/1/4_missing_4.jpg" in stats.examples["missing_file"]
    assert all(not Path(name).is_absolute() for names in stats.examples.values() for name in names)
    (tmp_path / "link").symlink_to(mjsynth)  # data_dir given through a link: read_mjsynth resolves it
    linked = prepare_split(read_mjsynth(tmp_path / "link", "train"), Charset.seed(), tmp_path, "train",
                           progress=False, root=tmp_path / "link")
    assert "2/1/1_corrupt_1.jpg" in linked.examples["unreadable_image"]
    # Without a root, or for a file outside it, the name alone (no machine's folders in dataset.json).
    bare = prepare_split(read_mjsynth(mjsynth, "train"), Charset.seed(), tmp_path, "train", progress=False,
                         root=tmp_path)
    assert "1_corrupt_1.jpg" in bare.examples["unreadable_image"]


def test_box_blur3_is_avg_pool() -> None:
    tf = pytest.importorskip("tensorflow")
    from crnn_utils.datasets import box_blur3

    x = tf.constant(np.random.default_rng(0).random((3, 32, 40, 1)), tf.float32)
    np.testing.assert_allclose(box_blur3(x).numpy(), tf.nn.avg_pool2d(x, 3, 1, "SAME").numpy(), atol=1e-6)


def test_augment_draws_per_image_and_keeps_range() -> None:
    import tensorflow as tf

    from crnn_utils.datasets import augment_tf

    tf.random.set_seed(0)
    batch = tf.constant(np.tile(np.linspace(0.2, 0.8, 128, dtype=np.float32), (64, 32, 1))[..., None])
    out = augment_tf(batch).numpy()
    assert out.shape == batch.shape and 0.0 <= out.min() and out.max() <= 1.0
    # One draw per image: identical inputs come out different from one another, yet each still resembles its input.
    means = out.mean(axis=(1, 2, 3))
    assert np.unique(means.round(4)).size > 32
    flipped = np.abs(out - (1 - batch.numpy())).mean(axis=(1, 2, 3)) < np.abs(out - batch.numpy()).mean(axis=(1, 2, 3))
    assert 0 < flipped.sum() < 20  # the polarity flip hits about 10 % of images, not all or none
    assert augment_tf(batch[0]).shape == batch.shape[1:]  # a single image works too


def test_warp_shears_and_squeezes_a_share_of_the_batch_and_continues_the_background() -> None:
    import tensorflow as tf

    from crnn_utils.datasets import warp_tf

    tf.random.set_seed(0)
    img = np.ones((64, 32, 128, 1), np.float32)
    img[:, 4:28, 60:64] = 0.0  # a black vertical bar on white
    batch = tf.constant(img)
    np.testing.assert_array_equal(warp_tf(batch, 0.0).numpy(), img)  # share 0: untouched
    out = warp_tf(batch, 0.5).numpy()
    top, bottom = out[:, 6:10].mean(axis=(1, 3)).argmin(axis=1), out[:, 22:26].mean(axis=(1, 3)).argmin(axis=1)
    slanted = np.abs(top.astype(int) - bottom) >= 2  # sheared: the bar's top and bottom in different columns
    changed = np.abs(out - img).max(axis=(1, 2, 3)) > 0.1
    assert 10 <= slanted.sum() <= changed.sum() <= 50  # about half the images, one draw each
    assert out[:, :, :40].min() > 0.99 and out[:, :, 90:].min() > 0.99  # no black fill at the borders
    ink_rows = (out[changed][..., 0].min(axis=2) < 0.5).sum(axis=1)  # the bar's height (24 rows), where warped
    assert ink_rows.max() <= 26 and ink_rows.min() >= 18 and ink_rows.mean() < 23  # squeezed by 0.95 to 1.25


def test_warp_ramp_waits_for_the_data_to_repeat() -> None:
    from crnn_utils.datasets import WARP_SHARE, warp_ramp

    shares = [float(warp_ramp(seen, 1000)) for seen in (0, 999, 1000, 1500, 2000, 9000)]
    assert shares == pytest.approx([0.0, 0.0, 0.0, WARP_SHARE / 2, WARP_SHARE, WARP_SHARE])


def test_make_dataset_passes_the_ramp_of_each_batch_to_augmentation(tmp_path: Path, monkeypatch) -> None:
    import tensorflow as tf

    from crnn_utils import datasets

    charset = Charset.seed()
    records = []
    for i in range(8):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.full((32, 64), 200, np.uint8))
        records.append(Record(str(tmp_path / f"{i}.png"), "ab"))
    prepare_split(records, charset, tmp_path / "data", "train", progress=False)
    shards = datasets.shard_paths(tmp_path / "data", "train")
    # Each batch comes out filled with the warp share augment_tf was given for it.
    monkeypatch.setattr(datasets, "augment_tf", lambda img, seed, share: tf.fill(tf.shape(img), tf.cast(share, tf.float32)))
    share = lambda **kw: [float(x[0, 0, 0, 0]) for x, _ in datasets.make_dataset(
        shards, 4, 4, charset.blank, augment=True, repeat=True, **kw).take(6)]
    half = datasets.WARP_SHARE / 2
    assert share(pass_images=8) == pytest.approx([0, 0, 0, half, datasets.WARP_SHARE, datasets.WARP_SHARE])
    assert share(pass_images=8, images_seen=12) == pytest.approx([half] + [datasets.WARP_SHARE] * 5)  # resumed
    assert share() == [0.0] * 6  # without the split's size, nothing is warped


def test_official_splits_are_read_separately(mjsynth: Path) -> None:
    files = check_mjsynth_dir(mjsynth)
    assert {k: p.name for k, p in files.items()} == {
        "train": "annotation_train.txt", "val": "annotation_val.txt", "test": "annotation_test.txt",
        "lexicon": "lexicon.txt"}
    assert [r.label for r in read_mjsynth(mjsynth, "val")] == ["valone", "valtwo"]
    stats = PrepareStats()
    assert [r.label for r in read_mjsynth(mjsynth, "test", stats)] == ["testone"]
    assert stats.skipped[MALFORMED] == 1
    with pytest.raises(ValueError, match="split must be one of"):
        read_mjsynth(mjsynth, "training")


def test_mjsynth_annotation_with_a_byte_order_mark_and_absolute_paths(tmp_path: Path) -> None:
    # Edited on Windows (a UTF-8 byte-order mark, CRLF, one line with backslashes), one line an absolute path: all name their files.
    for rel in ("1/1/1_Hello_3.jpg", "2/1/2_World_4.jpg"):
        write_jpeg(tmp_path / rel, rel)
    lines = ["./1/1/1_Hello_3.jpg 3", f"{tmp_path / '2/1/2_World_4.jpg'} 4", ".\\1\\1\\1_Hello_3.jpg 3"]
    for split in ("train", "val", "test"):
        (tmp_path / f"annotation_{split}.txt").write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    (tmp_path / "lexicon.txt").write_text("hello\nworld\n")
    stats = PrepareStats()
    records = list(read_mjsynth(tmp_path, "train", stats))
    assert [r.label for r in records] == ["Hello", "World"] and all(Path(r.path).is_file() for r in records)
    assert stats.skipped == {"duplicate_entry": 1}  # the third line names the first's image again


def test_single_annotation_file_is_split_by_hash(tmp_path: Path) -> None:
    lines = [f"./{i % 7}/{i % 3}/{i}_word{i}_{i}.jpg {i}" for i in range(4000)] + ["", "junk", "./1/1/x.jpg 1"]
    (tmp_path / "annotation.txt").write_text("\n".join(lines) + "\n")
    (tmp_path / "lexicon.txt").write_text("word\n")
    write_jpeg(tmp_path / "0/0/0_word0_0.jpg", "word0")  # a tree with no image at all is refused (images not extracted)
    assert {p.name for p in check_mjsynth_dir(tmp_path).values()} == {"annotation.txt", "lexicon.txt"}
    parts, malformed = {}, 0
    for split in ("train", "val", "test"):
        stats = PrepareStats()
        parts[split] = [r.label for r in read_mjsynth(tmp_path, split, stats)]
        malformed += stats.skipped[MALFORMED]
        assert parts[split] == [r.label for r in read_mjsynth(tmp_path, split)]  # deterministic
    # 1. A partition of the lines: each good line in exactly one split, each malformed line counted once.
    together = parts["train"] + parts["val"] + parts["test"]
    assert sorted(together) == sorted(f"word{i}" for i in range(4000)) and malformed == 3
    assert 0.87 < len(parts["train"]) / 4000 < 0.93 and 0.03 < len(parts["val"]) / 4000 < 0.07
    assert mjsynth_split_of("./1/1/3_word3_3.jpg") == mjsynth_split_of("./1/1/3_word3_3.jpg")


def test_check_mjsynth_dir_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        check_mjsynth_dir(tmp_path / "nope")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ValueError, match=f"is a file, not a folder: give the folder that holds it, data_dir='{tmp_path}'"):
        check_mjsynth_dir(tmp_path / "file.txt")
    (tmp_path / "mjsynth.tar.gz").write_bytes(b"\x1f\x8b" + bytes(30))
    with pytest.raises(ValueError, match="is an archive: extract it"):
        check_mjsynth_dir(tmp_path / "mjsynth.tar.gz")
    # Two of the three split files: an error, not a silent switch to annotation.txt's hash split.
    (tmp_path / "annotation.txt").write_text("")
    for split in ("train", "test"):
        (tmp_path / f"annotation_{split}.txt").write_text("")
    with pytest.raises(ValueError, match="has annotation_train.txt, annotation_test.txt but not annotation_val.txt"):
        check_mjsynth_dir(tmp_path)
    # lexicon.txt is not read: a tree without it is still an MJSynth folder.
    (tmp_path / "annotation_val.txt").write_text("")
    assert sorted(check_mjsynth_dir(tmp_path)) == ["test", "train", "val"]
    # The tarball's root, or any folder above the files: the error names the folder that holds them.
    nested = tmp_path / "top" / "mnt/ramdisk/max/90kDICT32px"
    nested.mkdir(parents=True)
    (nested / "annotation_train.txt").write_text("")
    for given in (tmp_path / "top", tmp_path / "top" / "mnt" / "ramdisk"):
        with pytest.raises(ValueError, match="is not an MJSynth folder.*90kDICT32px' holds them: pass that"):
            check_mjsynth_dir(given)


def _mjsynth_tree(root: Path, lines: list[str], images: list[str]) -> None:
    for rel in images:
        write_jpeg(root / rel, rel)
    for split in ("train", "val", "test"):
        (root / f"annotation_{split}.txt").write_text("\n".join(lines) + "\n")


def test_read_mjsynth_faulty_trees(tmp_path: Path) -> None:
    # 1. Repeated lines are counted once as used, then as duplicate_entry; '../' leaves data_dir: malformed.
    a = tmp_path / "a"
    _mjsynth_tree(a, ["./1/1/1_Hello_3.jpg 3", "./1/1/2_World_4.jpg 4", "./1/1/1_Hello_3.jpg 3", "1/1/2_World_4.jpg 4",
                      "./../b/1/1/1_Secret_1.jpg 1"], ["1/1/1_Hello_3.jpg", "1/1/2_World_4.jpg"])
    write_jpeg(tmp_path / "b/1/1/1_Secret_1.jpg", "Secret")
    stats = PrepareStats()
    assert [r.label for r in read_mjsynth(a, "train", stats)] == ["Hello", "World"]
    assert stats.skipped == {"duplicate_entry": 2, MALFORMED: 1}
    # 2. Absolute paths written where the archive was extracted on another machine: found under data_dir.
    b = tmp_path / "moved"
    _mjsynth_tree(b, [f"/mnt/ramdisk/max/90kDICT32px/{rel} {i}" for i, rel in
                      enumerate(["1/1/1_Hello_3.jpg", "2/1/2_World_4.jpg"])], ["1/1/1_Hello_3.jpg", "2/1/2_World_4.jpg"])
    records = list(read_mjsynth(b, "train"))
    assert [Path(r.path).relative_to(b.resolve()).as_posix() for r in records] == ["1/1/1_Hello_3.jpg", "2/1/2_World_4.jpg"]
    # 3. The first folder missing is not "images not extracted": lines from across the file are looked at too.
    c = tmp_path / "c"
    present = [f"2/1/{i}_Word_{i}.jpg" for i in range(30)]
    _mjsynth_tree(c, [f"./9/9/{i}_Gone_{i}.jpg {i}" for i in range(25)] + [f"./{rel} {i}" for i, rel in enumerate(present)],
                  present)
    stats = prepare_split(read_mjsynth(c, "train"), Charset.seed(), tmp_path / "out", "train", progress=False, root=c)
    assert stats.used == 30 and stats.skipped == {"missing_file": 25}
    # 4. gzip-compressed and UTF-16 annotation files are read; a file of no MJSynth lines at all says so.
    import gzip

    for name, data in [("gz", gzip.compress(b"./1/1/1_Hello_3.jpg 3\n")), ("u16", "./1/1/1_Hello_3.jpg 3\n".encode("utf-16"))]:
        d = tmp_path / name
        _mjsynth_tree(d, [], ["1/1/1_Hello_3.jpg"])
        (d / "annotation_train.txt").write_bytes(data)
        assert [r.label for r in read_mjsynth(d, "train")] == ["Hello"]
    (tmp_path / "u16" / "annotation_val.txt").write_text("<html>404</html>\n")
    with pytest.raises(ValueError, match="'annotation_val.txt' holds no MJSynth lines.*found '<html>404</html>'"):
        read_mjsynth(tmp_path / "u16", "val")


def test_a_damaged_jpeg_is_not_trained_on_and_prints_nothing(tmp_path: Path, capfd) -> None:
    # Bytes changed inside the scan: OpenCV decodes it (garbled), and libjpeg prints "Corrupt JPEG data" on fd 2.
    good = write_jpeg(tmp_path / "1/1/1_Hello_1.jpg", "Hello")
    bad = bytearray(good)
    bad[-40:-2] = bytes(38)
    (tmp_path / "1/1/2_Hello_2.jpg").write_bytes(bytes(bad))
    _mjsynth_tree(tmp_path, ["./1/1/1_Hello_1.jpg 1", "./1/1/2_Hello_2.jpg 2"], [])
    capfd.readouterr()
    stats = prepare_split(read_mjsynth(tmp_path, "train"), Charset.seed(), tmp_path / "out", "train", progress=False,
                          root=tmp_path)
    assert stats.used == 1 and dict(stats.skipped) == {"damaged_image": 1}
    assert stats.examples["damaged_image"] == ["1/1/2_Hello_2.jpg"]
    assert load_image(tmp_path / "1/1/2_Hello_2.jpg").shape[:2] == load_image(tmp_path / "1/1/1_Hello_1.jpg").shape[:2]
    assert capfd.readouterr().err == ""  # inference reads it as decoded, and quietly
    with pytest.raises(ImageError, match="damaged_image.*Corrupt JPEG"):
        load_image(tmp_path / "1/1/2_Hello_2.jpg", strict=True)


def test_a_file_too_big_for_a_word_image_is_refused_before_reading(tmp_path: Path, monkeypatch) -> None:
    from crnn_utils import images

    data = write_jpeg(tmp_path / "big.jpg", "big")
    monkeypatch.setattr(images, "MAX_FILE_BYTES", len(data) - 1)
    with pytest.raises(ImageError, match="too_large"):
        load_image(tmp_path / "big.jpg")


def test_load_image_reasons(tmp_path: Path) -> None:
    data = write_jpeg(tmp_path / "ok.jpg", "fine")
    (tmp_path / "padded.jpg").write_bytes(data + b"\0" * 10)
    (tmp_path / "cut.jpg").write_bytes(data[:-2])  # only the end marker missing
    (tmp_path / "huge.png").write_bytes(png_header_only(20_000, 20_000))  # Pillow refuses it already at open
    (tmp_path / "png.jpg").write_bytes(cv2.imencode(".png", word_image("png"))[1].tobytes())  # misnamed, fine
    # Bytes after the end marker (a phone's motion-photo video) are not a cut image; a cut mid-scan is.
    (tmp_path / "trailer.jpg").write_bytes(data + b"ftypmp42" + bytes(range(256)) * 40)
    (tmp_path / "midscan.jpg").write_bytes(data[: len(data) // 2])
    (tmp_path / "float.tif").write_bytes(cv2.imencode(".tiff", word_image("f").astype(np.float32) / 255)[1].tobytes())
    assert load_image(tmp_path / "padded.jpg").shape == load_image(tmp_path / "ok.jpg").shape
    assert load_image(tmp_path / "png.jpg").ndim == 2
    np.testing.assert_array_equal(load_image(tmp_path / "trailer.jpg"), load_image(tmp_path / "ok.jpg"))
    np.testing.assert_allclose(load_image(tmp_path / "float.tif"), word_image("f"), atol=1)  # 0..1 floats, scaled
    for name, reason in [("cut.jpg", "truncated_image"), ("midscan.jpg", "truncated_image"), ("huge.png", "too_large"),
                         ("gone.jpg", "missing_file")]:
        with pytest.raises(ImageError) as err:
            load_image(tmp_path / name)
        assert err.value.reason == reason


def _images(root: Path, names: list[str]) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / name), word_image(Path(name).stem))


def test_read_folder_names_as_labels(tmp_path: Path) -> None:
    _images(tmp_path, ["b.png", "sub/a.jpg", "Cat.PNG"])
    (tmp_path / "notes.txt").write_text("not an image")
    stats = PrepareStats()
    records = read_folder(tmp_path, stats)
    assert [(Path(r.path).relative_to(tmp_path).as_posix(), r.label) for r in records] == [
        ("Cat.PNG", "Cat"), ("b.png", "b"), ("sub/a.jpg", "a")]
    assert stats.source == "file names"


@pytest.mark.parametrize("stem, label", [
    ("Hello", "Hello"), ("Hello_3", "Hello"), ("12_Hello", "Hello"), ("12_Hello_345", "Hello"),  # MJSynth's own
    ("Hello (2)", "Hello"), ("B52_7", "B52"), ("7_B52", "B52"), ("2024", "2024"),
    # Ambiguous or not an index: kept whole, so the charset check reports what it cannot read.
    ("7_2024_12", "2024"),  # MJSynth's layout as this project's renderer writes a number
    ("7_snake_case_12", "snake_case"),  # between the first and last underscore, as read_mjsynth takes it
    ("2024_1", "2024_1"), ("New_York", "New_York"), ("a_b_c", "a_b_c"), ("1__3", "1__3"), ("_5", "_5"),
    ("Hello(2)", "Hello(2)"), ("Hello_", "Hello_"),
])
def test_label_from_file_name(stem: str, label: str) -> None:
    assert label_from_file_name(stem) == label


def test_read_folder_names_with_indices(tmp_path: Path) -> None:
    # A folder of crops where each word appears several times, named as people do to keep the names unique.
    _images(tmp_path, ["sale_1.png", "sale_2.png", "3_open.jpg", "12_Pontifically_58805.jpg", "exit (2).png"])
    assert sorted(r.label for r in read_folder(tmp_path)) == ["Pontifically", "exit", "open", "sale", "sale"]


def test_read_folder_labels_tsv(tmp_path: Path) -> None:
    _images(tmp_path, ["img/1.png", "img/2.png"])
    (tmp_path / "labels.tsv").write_text("path\tlabel\nimg/1.png\tHello\nimg/2.png\tWorld\nno tab here\n"
                                         "img/3.png\tGone\n")
    stats = PrepareStats()
    records = read_folder(tmp_path, stats)
    assert records == [Record(str(tmp_path / "img/1.png"), "Hello"), Record(str(tmp_path / "img/2.png"), "World"),
                       Record(str(tmp_path / "img/3.png"), "Gone")]
    assert stats.skipped == {MALFORMED: 1}
    # A header-less file keeps its first line.
    (tmp_path / "labels.tsv").write_text("img/2.png\tWorld\n")
    assert [r.label for r in read_folder(tmp_path)] == ["World"]


def _rel(records: list[Record], root: Path) -> list[tuple[str, str]]:
    return [(Path(r.path).relative_to(root).as_posix(), r.label) for r in records]


@pytest.mark.parametrize("name, text", [
    # trdg's labels.txt: a space after the name; the label may hold spaces itself.
    ("labels.txt", "filename label\na.png Hello\nsub/b.png New York\nlonely.png\n"),
    # ICDAR 2013/2015 gt.txt: name, "label" with escaped quotes.
    ("gt.txt", 'a.png, "Hello"\nsub/b.png, "New York"\nnot a record\n'),
    # CSV with a header in any column order (Kaggle, spreadsheets).
    ("labels.csv", 'text,file_name\nHello,a.png\n"New York",sub/b.png\nonly-one-field\n'),
    # Hugging Face imagefolder.
    ("metadata.jsonl", '{"file_name": "a.png", "text": "Hello"}\n{"file_name": "sub/b.png", "text": "New York"}\n{oops\n'),
    # A spreadsheet in a European locale: ';' between the fields, as CSV and as a plain list.
    ("labels.csv", 'Datei;text\na.png;Hello\nsub/b.png;"New York"\nonly-one-field\n'),
    ("gt.txt", 'a.png;Hello\nsub/b.png; "New York"\nnot a record\n'),
])
def test_read_folder_other_label_files(tmp_path: Path, name: str, text: str) -> None:
    _images(tmp_path, ["a.png", "sub/b.png"])
    (tmp_path / name).write_text(text)
    stats = PrepareStats()
    assert _rel(read_folder(tmp_path, stats), tmp_path) == [("a.png", "Hello"), ("sub/b.png", "New York")]
    assert stats.skipped == {MALFORMED: 1}
    assert find_label_file(tmp_path) == tmp_path / name


@pytest.mark.parametrize("name, text", [
    ("labels.tsv", "a.png\t Hello \nsub/b.png\tNew York\t\n"),
    ("labels.csv", "file_name,text\na.png, Hello\nsub/b.png,New York \n"),
    ("metadata.jsonl", '{"file_name": "a.png", "text": "Hello\\u00a0"}\n{"file_name": "sub/b.png", "text": " New York"}\n'),
])
def test_read_folder_strips_spaces_around_labels(tmp_path: Path, name: str, text: str) -> None:
    _images(tmp_path, ["a.png", "sub/b.png"])
    (tmp_path / name).write_text(text)
    assert _rel(read_folder(tmp_path), tmp_path) == [("a.png", "Hello"), ("sub/b.png", "New York")]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig", "utf-8"])
def test_read_folder_label_files_in_windows_encodings(tmp_path: Path, encoding: str) -> None:
    # Notepad's "Unicode" is UTF-16 with a byte-order mark; "utf-16-be" here carries none, so write it with one.
    _images(tmp_path, ["a.png", "sub/b.png"])
    text = "a.png\tHello\r\nsub/b.png\tNew York\r\n"
    data = b"\xfe\xff" + text.encode(encoding) if encoding == "utf-16-be" else text.encode(encoding)
    (tmp_path / "test_gt.txt").write_bytes(data)  # a name read_folder must find by its contents
    (tmp_path / "a.gt.txt").write_bytes("Hello".encode("utf-16"))
    assert _rel(read_folder(tmp_path), tmp_path) == [("a.png", "Hello"), ("sub/b.png", "New York")]
    (tmp_path / "test_gt.txt").unlink()
    assert [r.label for r in read_folder(tmp_path)] == ["Hello"]  # the .gt.txt sidecar, UTF-16 too


def test_read_folder_icdar_escapes_and_priority(tmp_path: Path) -> None:
    _images(tmp_path, ["word_1.png", "word_2.png"])
    (tmp_path / "gt.txt").write_text('word_1.png, "\\"HIGH"\r\nword_2.png, "it\'s"\r\n')
    assert [r.label for r in read_folder(tmp_path)] == ['"HIGH', "it's"]
    # labels.tsv comes first when a folder has several label files.
    (tmp_path / "labels.tsv").write_text("word_2.png\tTSV\n")
    assert [r.label for r in read_folder(tmp_path)] == ["TSV"]


def test_read_folder_labels_txt_file_names_with_spaces(tmp_path: Path) -> None:
    # Space-separated lines: the path ends at the first word with an image extension.
    _images(tmp_path, ["my photo.jpg", "shop sign 2.PNG"])
    (tmp_path / "labels.txt").write_text("my photo.jpg Hello World\nshop sign 2.PNG  OPEN \nno_label.png\n")
    stats = PrepareStats()
    assert _rel(read_folder(tmp_path, stats), tmp_path) == [("my photo.jpg", "Hello World"), ("shop sign 2.PNG", "OPEN")]
    assert stats.skipped == {MALFORMED: 1}
    # Paths written on Windows, with backslashes.
    _images(tmp_path, ["sub/c.png"])
    (tmp_path / "labels.tsv").write_text("sub\\c.png\tWindows\n")
    assert _rel(read_folder(tmp_path), tmp_path) == [("sub/c.png", "Windows")]


def test_read_folder_finds_a_label_file_of_any_name(tmp_path: Path) -> None:
    # Downloaded benchmarks name their lists freely; a top-level text file whose lines name images is the label file,
    # where the file-name fallback would have taken "word_1" for the word.
    _images(tmp_path, ["test/word_1.png", "test/word_2.png"])
    (tmp_path / "README.txt").write_text("Word crops from street photos.\nSee the paper.\n")
    (tmp_path / "test_gt.txt").write_text('test/word_1.png, "Tiredness"\ntest/word_2.png, "kills"\n')
    assert find_label_file(tmp_path) == tmp_path / "test_gt.txt"
    assert _rel(read_folder(tmp_path), tmp_path) == [("test/word_1.png", "Tiredness"), ("test/word_2.png", "kills")]
    # Two such lists: the user chooses, by giving one as data_dir (paths stay relative to its folder).
    (tmp_path / "train.csv").write_text("file_name,text\ntest/word_2.png,KILLS\n")
    with pytest.raises(ValueError, match="holds 2 label files \\(test_gt.txt, train.csv\\): give the one to read as data_dir"):
        read_folder(tmp_path)
    assert _rel(read_folder(tmp_path / "train.csv"), tmp_path) == [("test/word_2.png", "KILLS")]
    with pytest.raises(ValueError, match="is an image: give the folder"):
        read_folder(tmp_path / "test" / "word_1.png")


def test_read_folder_gt_txt_sidecars(tmp_path: Path) -> None:
    _images(tmp_path, ["line1.png", "sub/line2.png", "orphan.png"])
    (tmp_path / "line1.gt.txt").write_text("Hello\n")
    (tmp_path / "sub" / "line2.gt.txt").write_text("World")
    stats = PrepareStats()
    assert _rel(read_folder(tmp_path, stats), tmp_path) == [("line1.png", "Hello"), ("sub/line2.png", "World")]
    assert stats.skipped == {NO_LABEL: 1} and stats.examples[NO_LABEL] == ["orphan.png"]
    assert stats.source == ".gt.txt files"


def test_read_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist: give a folder of images or its label file"):
        read_folder(tmp_path / "nope")
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(ValueError, match="has no images: expected files ending in .jpg.*or one of labels.tsv.*or an LMDB"):
        read_folder(tmp_path)
    (tmp_path / "labels.tsv").write_text("path\tlabel\n")
    with pytest.raises(ValueError, match="lists no images"):
        read_folder(tmp_path)


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


def _png(text: str) -> bytes:
    return cv2.imencode(".png", word_image(text))[1].tobytes()


def test_read_folder_lmdb(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    jpeg = cv2.imencode(".jpg", word_image("Photo"))[1].tobytes()
    items = [(_png("Hello"), "Hello"), (jpeg, "Photo "), (None, "lost"), (b"not an image", "broken"), (_png("x"), None)]
    write_lmdb(tmp_path / "IIIT5k", items)
    stats = PrepareStats()
    records = read_folder(tmp_path / "IIIT5k", stats)
    assert [r.label for r in records] == ["Hello", "Photo", "broken"]
    assert [Path(r.path).suffix for r in records] == [".png", ".jpg", ".png"]
    np.testing.assert_array_equal(load_image(records[0].path), word_image("Hello"))  # the bytes, unchanged
    assert stats.skipped == {NO_IMAGE: 1, MALFORMED: 1} and stats.examples[NO_IMAGE] == ["image-000000003"]
    # The broken image is left to the image reader, which counts it as any damaged file.
    with pytest.raises(ImageError) as err:
        load_image(records[2].path)
    assert err.value.reason == "unreadable_image"
    # Read again: from the cache (not rewritten), same records, the same skips counted again; data.mdb itself works.
    stamp = Path(records[0].path).stat().st_mtime_ns
    again = PrepareStats()
    assert read_folder(tmp_path / "IIIT5k" / "data.mdb", again) == records and again.skipped == stats.skipped
    assert Path(records[0].path).stat().st_mtime_ns == stamp
    assert Path(records[0].path).is_relative_to(tmp_path / "cache" / "crnn_notebooks" / "lmdb")


def test_read_folder_lmdb_collection_and_errors(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    # The benchmarks' evaluation folder: one LMDB per set, read in name order.
    write_lmdb(tmp_path / "eval" / "SVT", [(_png("Hotel"), "Hotel")])
    write_lmdb(tmp_path / "eval" / "IC13", [(_png("Open"), "Open"), (_png("Exit"), "Exit")])
    records = []
    for folder in sorted((tmp_path / "eval").iterdir()):
        records += read_folder(folder)
    assert [r.label for r in read_folder(tmp_path / "eval")] == ["Open", "Exit", "Hotel"] == [r.label for r in records]
    sources = [PrepareStats(), PrepareStats()]
    read_folder(tmp_path / "eval", sources[0]), read_folder(tmp_path / "eval" / "SVT", sources[1])
    assert [st.source for st in sources] == ["LMDB IC13, SVT", "LMDB SVT"]
    out = unpack_lmdb(tmp_path / "eval" / "SVT", tmp_path / "svt_files")
    assert sorted(p.name for p in out.iterdir()) == ["000000001.png", "labels.jsonl", "skipped.json"]
    assert [r.label for r in read_folder(out)] == ["Hotel"]  # an ordinary folder now
    import lmdb

    env = lmdb.open(str(tmp_path / "other"), map_size=1 << 20)
    with env.begin(write=True) as txn:
        txn.put(b"key", b"value")
    env.close()
    with pytest.raises(ValueError, match="is an LMDB but not a word dataset: no 'num-samples' key"):
        read_folder(tmp_path / "other")
    write_lmdb(tmp_path / "zero_based", [(None, None)])
    env = lmdb.open(str(tmp_path / "zero_based"), map_size=1 << 20)
    with env.begin(write=True) as txn:  # keys counted from 0: none of image-000000001, label-000000001 is there
        txn.put(b"image-000000000", _png("Zero"))
        txn.put(b"label-000000000", b"Zero")
    env.close()
    assert [r.label for r in read_folder(tmp_path / "zero_based")] == ["Zero"]  # read from 0 (it was an error)
    write_lmdb(tmp_path / "empty", [(None, None)])  # num-samples 1, neither key: nothing to read
    with pytest.raises(ValueError, match="no image with its label in the LMDB"):
        read_folder(tmp_path / "empty")


def _savemat_struct(path: Path, name: str, rows: list[tuple], fields: tuple[str, ...]) -> None:
    from scipy.io import savemat

    arr = np.empty(len(rows), dtype=[(f, object) for f in fields])
    for i, row in enumerate(rows):
        arr[i] = row
    savemat(str(path), {name: arr})


def test_read_folder_iiit5k_mat_files(tmp_path: Path) -> None:
    # IIIT5K as it ships: train/ and test/ crops named by number, a .mat per split, a lexicon, character boxes.
    _images(tmp_path, ["test/1002_1.png", "test/1009_2.png", "train/1_1.png"])
    lexi = np.array(["PRIVATE", "HOTEL"], dtype=object)
    _savemat_struct(tmp_path / "testdata.mat", "testdata",
                    [("test/1002_1.png", "PRIVATE", lexi, lexi), ("test/1009_2.png", "2011", lexi, lexi)],
                    ("ImgName", "GroundTruth", "smallLexi", "mediumLexi"))
    _savemat_struct(tmp_path / "traindata.mat", "traindata", [("train/1_1.png", "You")], ("ImgName", "GroundTruth"))
    _savemat_struct(tmp_path / "testCharBound.mat", "testCharBound",
                    [("test/1002_1.png", "PRIVATE", np.zeros((7, 4)))], ("ImgName", "chars", "charBB"))
    (tmp_path / "lexicon.txt").write_text("PRIVATE\nHOTEL\n")
    # Two splits in one folder: the user picks one, by the error's own example (never the crops' numbers as labels).
    with pytest.raises(ValueError, match="holds 2 label files \\(testdata.mat, traindata.mat\\)"):
        read_folder(tmp_path)
    assert _rel(read_folder(tmp_path / "testdata.mat"), tmp_path) == [("test/1002_1.png", "PRIVATE"),
                                                                      ("test/1009_2.png", "2011")]
    (tmp_path / "traindata.mat").unlink()
    stats = PrepareStats()
    assert [r.label for r in read_folder(tmp_path, stats)] == ["PRIVATE", "2011"]  # found by its contents
    assert stats.source == "testdata.mat"
    with pytest.raises(ValueError, match="holds no struct array with an image name and a label field"):
        read_folder(tmp_path / "testCharBound.mat")


def test_read_folder_json_label_files(tmp_path: Path) -> None:
    import json

    _images(tmp_path, ["word_1.png", "crops/word_2.png"])
    # docTR's recognition folder: labels.json maps each file name to its word.
    (tmp_path / "labels.json").write_text(json.dumps({"word_1.png": "Tiredness", "crops/word_2.png": " kills"}))
    assert _rel(read_folder(tmp_path), tmp_path) == [("word_1.png", "Tiredness"), ("crops/word_2.png", "kills")]
    # MMOCR 1.x's textrecog_test.json, found by its contents; an item without text is counted, not fatal.
    (tmp_path / "labels.json").unlink()
    mmocr = {"metainfo": {"dataset_type": "TextRecogDataset"}, "data_list": [
        {"img_path": "word_1.png", "instances": [{"text": "Tiredness"}]},
        {"img_path": "crops/word_2.png", "instances": [{"text": "kills"}]},
        {"img_path": "crops/word_2.png", "instances": []}]}
    (tmp_path / "textrecog_test.json").write_text(json.dumps(mmocr))
    stats = PrepareStats()
    assert _rel(read_folder(tmp_path, stats), tmp_path) == [("word_1.png", "Tiredness"), ("crops/word_2.png", "kills")]
    assert stats.skipped == {MALFORMED: 1}
    # A list of objects with the usual column names.
    rows = [{"file_name": "word_1.png", "text": "Tiredness"}, {"filename": "crops/word_2.png", "label": "kills"}]
    (tmp_path / "list.json").write_text(json.dumps(rows))
    assert [r.label for r in read_folder(tmp_path / "list.json")] == ["Tiredness", "kills"]
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="is not valid JSON"):
        read_folder(tmp_path / "bad.json")


def test_read_folder_quoted_labels_in_every_layout(tmp_path: Path) -> None:
    # ICDAR's quoted labels, tab-separated or saved as .csv with a comma inside the quotes.
    _images(tmp_path, ["word_1.png", "word_2.png"])
    (tmp_path / "gt.txt").write_text('word_1.png\t"Tiredness"\nword_2.png\t"Hello, \\"you\\""\n')
    assert [r.label for r in read_folder(tmp_path)] == ["Tiredness", 'Hello, "you"']
    (tmp_path / "gt.txt").unlink()
    (tmp_path / "labels.csv").write_text('word_1.png, "Hello, World"\nword_2.png, "Hi"\n')
    assert [r.label for r in read_folder(tmp_path)] == ["Hello, World", "Hi"]


def test_read_folder_label_file_given_wins_and_nested_label_files(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    write_lmdb(tmp_path / "both", [(_png("FromLMDB"), "FromLMDB")])
    _images(tmp_path / "both", ["a.png"])
    (tmp_path / "both" / "labels.tsv").write_text("a.png\tFromTSV\n")
    assert [r.label for r in read_folder(tmp_path / "both" / "labels.tsv")] == ["FromTSV"]
    assert [r.label for r in read_folder(tmp_path / "both")] == ["FromLMDB"]
    # A Hugging Face imagefolder with one metadata.jsonl per split: never the file names ("0001") as labels.
    for split in ("train", "test"):
        _images(tmp_path / "hf" / split, ["0001.png"])
        (tmp_path / "hf" / split / "metadata.jsonl").write_text('{"file_name": "0001.png", "text": "Hello"}\n')
    with pytest.raises(ValueError, match="no label file at its top, but test/metadata.jsonl, train/metadata.jsonl below"):
        read_folder(tmp_path / "hf")
    assert [r.label for r in read_folder(tmp_path / "hf" / "train")] == ["Hello"]
    # A JSONL's first line is data, never a header: a bad one is counted like any other.
    (tmp_path / "hf" / "train" / "metadata.jsonl").write_text('{"file_name": "0001.png", "text": null}\n')
    stats = PrepareStats()
    with pytest.raises(ValueError, match="lists no images"):
        read_folder(tmp_path / "hf" / "train", stats)
    assert stats.skipped == {MALFORMED: 1}


def test_unpack_lmdb_into_an_unwritable_cache_says_what_to_do(tmp_path: Path, monkeypatch) -> None:
    write_lmdb(tmp_path / "SVT", [(_png("Hotel"), "Hotel")])
    (tmp_path / "cache").write_text("a file where the cache folder should be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(OSError, match="cannot unpack the LMDB .*set XDG_CACHE_HOME to a writable folder, or call "
                                      "crnn_utils.datasets.unpack_lmdb"):
        read_folder(tmp_path / "SVT")


def test_split_records_is_seeded_partition() -> None:
    records = [Record(f"/x/{i}.png", f"w{i}") for i in range(100)]
    a, b = split_records(records, 10, 5, seed=1), split_records(records, 10, 5, seed=1)
    assert a == b and a != split_records(records, 10, 5, seed=2)
    assert [len(a[s]) for s in ("train", "val", "test")] == [85, 10, 5]
    assert sorted(a["train"] + a["val"] + a["test"], key=records.index) == records
    with pytest.raises(ValueError, match="cannot take n_val=60 \\+ n_test=50 images out of the 100 labelled ones.*n_val=10, n_test=10"):
        split_records(records, 60, 50, seed=0)


def test_read_folder_takes_every_extension_opencv_decodes(tmp_path: Path) -> None:
    # A browser's "Save image as" writes .jfif; scanners and scripts write .pgm/.ppm. Skipping them said nothing.
    for name, ext in [("Hello.png", ".png"), ("World.jfif", ".jpg"), ("Sale.jpe", ".jpg"), ("Open.pgm", ".pgm"),
                      ("Shop.ppm", ".ppm")]:
        img = word_image(Path(name).stem)
        ok, data = cv2.imencode(ext, img if ext != ".ppm" else cv2.cvtColor(img, cv2.COLOR_GRAY2BGR))
        assert ok
        (tmp_path / name).write_bytes(data.tobytes())
    records = read_folder(tmp_path)
    assert sorted(r.label for r in records) == ["Hello", "Open", "Sale", "Shop", "World"]
    stats = prepare_split(records, Charset.seed(), tmp_path / "out", "train", progress=False)
    assert stats.used == 5 and not stats.skipped


def test_prepare_split_counts_a_file_it_may_not_read(tmp_path: Path, locked_files) -> None:
    _images(tmp_path, ["Hello.png", "World.png"])
    locked_files("World.png")
    stats = prepare_split(read_folder(tmp_path), Charset.seed(), tmp_path / "out", "train", progress=False)
    assert stats.skipped == {"permission_denied": 1}


def test_make_file_dataset_refuses_formats_tensorflow_cannot_decode(tmp_path: Path) -> None:
    from crnn_utils.datasets import make_file_dataset

    _images(tmp_path, ["a.png", "b.tif"])
    with pytest.raises(ValueError, match=r"not \.tif.*prepare_split"):
        make_file_dataset(read_folder(tmp_path), Charset.seed(), 2, 4)


def test_read_folder_counts_an_image_listed_twice(tmp_path: Path) -> None:
    # A list merged from two sources names some images twice; scored twice they would weigh double.
    _images(tmp_path, ["a.png", "b.png"])
    (tmp_path / "labels.tsv").write_text("a.png\tHello\nb.png\tWorld\na.png\tHello\n./a.png\tHullo\n")
    stats = PrepareStats()
    assert _rel(read_folder(tmp_path, stats), tmp_path) == [("a.png", "Hello"), ("b.png", "World")]
    assert stats.skipped == {"duplicate_entry": 2}


# ---- label files written elsewhere (a third probe of other people's folders, session 16) ---------------------------

@pytest.mark.parametrize("image, listed, text", [
    ("a.png", "labels.tsv", "/home/alice/data/a.png\tHello\n"),  # absolute, from another machine
    ("a.png", "labels.tsv", "C:\\data\\set\\a.png\tHello\n"),  # the same, written on Windows
    ("images/a.png", "labels.tsv", "/home/alice/data/images/a.png\tHello\n"),  # its tail under the folder
    ("images/a.png", "annotations/labels.tsv", "images/a.png\tHello\n"),  # paths from the dataset's root
])
def test_read_folder_finds_images_a_list_names_from_elsewhere(tmp_path: Path, image: str, listed: str, text: str) -> None:
    _images(tmp_path, [image])
    (tmp_path / listed).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / listed).write_text(text)
    records = read_folder(tmp_path / listed)
    assert [(Path(r.path).resolve(), r.label) for r in records] == [((tmp_path / image).resolve(), "Hello")]


def test_read_folder_unicode_normalisation_of_listed_names(tmp_path: Path) -> None:
    import unicodedata

    _images(tmp_path, [unicodedata.normalize("NFD", "café.png")])  # as a zip made on a Mac stores it
    (tmp_path / "labels.tsv").write_text(unicodedata.normalize("NFC", "café.png") + "\tcafe\n")
    assert Path(read_folder(tmp_path)[0].path).is_file()


def test_read_folder_refuses_a_list_whose_images_are_all_missing(tmp_path: Path) -> None:
    _images(tmp_path, ["a.png"])
    (tmp_path / "labels.tsv").write_text("gone/x.png\tHello\ngone/y.png\tWorld\n")
    with pytest.raises(ValueError, match="none of the 2 images 'labels.tsv' lists is there"):
        read_folder(tmp_path)


@pytest.mark.parametrize("name, text", [
    ("labels.tsv", "Hello\ta.png\nWorld\tsub/b.png\n"),  # label first
    ("labels.csv", "Hello,a.png\nWorld,sub/b.png\n"),  # no header, label first: the first row is data
    ("labels.csv", "0,a.png,Hello\n1,sub/b.png,World\n"),  # an index column first, no header
    ("labels.csv", "id,img_path,transcript\n0,a.png,Hello\n1,sub/b.png,World\n"),  # other column names
    ("labels.tsv", "a.png\tHello\t0.98\nsub/b.png\tWorld\t1\n"),  # a confidence after the label
])
def test_read_folder_finds_the_path_column(tmp_path: Path, name: str, text: str) -> None:
    _images(tmp_path, ["a.png", "sub/b.png"])
    (tmp_path / name).write_text(text)
    assert _rel(read_folder(tmp_path), tmp_path) == [("a.png", "Hello"), ("sub/b.png", "World")]


def test_read_folder_reads_a_windows_1252_list(tmp_path: Path) -> None:
    _images(tmp_path, ["a.png"])
    (tmp_path / "labels.csv").write_bytes("filename;label\na.png;Café\n".encode("cp1252"))  # Excel's "CSV"
    assert [r.label for r in read_folder(tmp_path)] == ["Café"]


@pytest.mark.parametrize("names, lists", [
    (["0001.png", "0002.png", "0003.png"], {"words.txt": "Hello\nWorld\nAgain\n"}),  # numbered crops, words apart
    (["img_1.png", "img_2.png"], {"labels/gt_train.txt": "img_1.png Hello\nimg_2.png World\n"}),  # list in a subfolder
    (["test/1002_1.png", "test/1009_2.png"], {"lexicon.txt": "PRIVATE\nSALE\n"}),  # IIIT5K's names, its .mat gone
    (["crop_0001.png", "crop_0002.png", "crop_0003.png"], {"labels.xlsx": "a spreadsheet"}),
])
def test_read_folder_will_not_guess_labels_from_poor_file_names(tmp_path: Path, names, lists) -> None:
    _images(tmp_path, names)
    for rel, text in lists.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    with pytest.raises(ValueError, match="file names make poor labels.*may hold them"):
        read_folder(tmp_path)
    for rel in lists:  # without those text files, file names are what there is ...
        (tmp_path / rel).unlink()
    if len(names) >= 3 and len({label_from_file_name(Path(n).stem) for n in names}) == 1:
        with pytest.raises(ValueError, match="would label 3 of the 3 images 'crop'"):  # ... unless all one word
            read_folder(tmp_path)
    else:
        assert len(read_folder(tmp_path)) == len(names)


def test_read_folder_takes_good_file_names_beside_a_text_file(tmp_path: Path) -> None:
    # Two words, one of them a number, and a README: the names are labels, no list is missing.
    _images(tmp_path, ["Hello.png", "2024.png"])
    (tmp_path / "README.txt").write_text("crops from my phone\n")
    assert sorted(r.label for r in read_folder(tmp_path)) == ["2024", "Hello"]


def test_read_folder_takes_a_bare_name_only_from_the_lists_own_folder(tmp_path: Path) -> None:
    # train/labels.tsv names a.png, which is missing there: the a.png one folder up is another image, not this one.
    _images(tmp_path, ["a.png", "train/b.png"])
    (tmp_path / "train" / "labels.tsv").write_text("a.png\tHello\nb.png\tWorld\n")
    records = read_folder(tmp_path / "train")
    assert records[0].path == str(tmp_path / "train" / "a.png") and not Path(records[0].path).is_file()


# ---- what the third probe left (session 18): commas in CSV labels, formats OpenCV lacks, crops that cannot hold text ----

@pytest.mark.parametrize("text", [
    "file_name,text\na.png,Hello, World\nb.png,Hi\nc.png,end,\n",  # the header names two columns, rows hold more
    "a.png,Hello, World\nb.png,Hi\nc.png,end,\n",  # no header
    "a.png,Hello, World,0.97\nb.png,Hi,0.5\nc.png,end,,0.9\n",  # no header, a score after each label
    "0,a.png,Hello, World\n1,b.png,Hi\n2,c.png,end,\n",  # an index column first
])
def test_read_folder_keeps_an_unquoted_comma_in_a_csv_label(tmp_path: Path, text: str) -> None:
    _images(tmp_path, ["a.png", "b.png", "c.png"])
    (tmp_path / "labels.csv").write_text(text)
    assert _rel(read_folder(tmp_path), tmp_path) == [("a.png", "Hello, World"), ("b.png", "Hi"), ("c.png", "end,")]


def test_read_folder_csv_columns_after_the_label_stay_out_of_it(tmp_path: Path) -> None:
    _images(tmp_path, ["a.png", "b.png"])
    (tmp_path / "labels.csv").write_text('file_name,text,split\na.png,Hello,train\nb.png,"Hi, you",val\n')
    assert _rel(read_folder(tmp_path), tmp_path) == [("a.png", "Hello"), ("b.png", "Hi, you")]


HEIC = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + bytes(200)  # an iPhone photo's first bytes


def test_formats_opencv_does_not_decode_are_counted_as_such(tmp_path: Path) -> None:
    from crnn_utils.recognizer import list_images

    _images(tmp_path, ["Hello.png"])
    (tmp_path / "World.heic").write_bytes(HEIC)
    (tmp_path / "Photo.jpg").write_bytes(HEIC)  # a phone's HEIC saved under .jpg
    (tmp_path / "Shop.jxl").write_bytes(b"\xff\x0a" + bytes(100))
    (tmp_path / "Damaged.jpg").write_bytes(b"\xff\xd8" + bytes(100) + b"\xff\xd9")  # a JPEG OpenCV could read, damaged
    for name, kind in [("World.heic", "HEIC/HEIF"), ("Photo.jpg", "HEIC/HEIF"), ("Shop.jxl", "JPEG XL")]:
        with pytest.raises(ImageError, match=f"{kind}.*convert it to PNG or JPEG") as err:
            load_image(tmp_path / name)
        assert err.value.reason == "unsupported_format"
    records = read_folder(tmp_path)
    assert sorted(r.label for r in records) == ["Damaged", "Hello", "Photo", "Shop", "World"]
    stats = prepare_split(records, Charset.seed(), tmp_path / "out", "train", progress=False)
    assert stats.used == 1 and stats.skipped == {"unsupported_format": 3, "unreadable_image": 1}
    assert [p.name for p in list_images(tmp_path)] == ["Damaged.jpg", "Hello.png", "Photo.jpg", "Shop.jxl", "World.heic"]


def test_a_damaged_avif_under_heifs_generic_brand_is_unreadable_not_heic(tmp_path: Path) -> None:
    # AVIF files may name HEIF's generic brand first (mif1) and "avif" among their compatible brands: OpenCV decodes
    # AVIF here, so a damaged one is unreadable_image, while the same brand with only HEIC brands stays HEIC.
    (tmp_path / "a.avif").write_bytes(b"\0\0\0\x1cftypmif1\0\0\0\0mif1avifmiaf" + bytes(200))
    (tmp_path / "b.heic").write_bytes(b"\0\0\0\x18ftypmif1\0\0\0\0mif1heic" + bytes(200))
    with pytest.raises(ImageError) as err:
        load_image(tmp_path / "a.avif")
    assert err.value.reason == "unreadable_image"
    with pytest.raises(ImageError, match="HEIC/HEIF") as err:
        load_image(tmp_path / "b.heic")
    assert err.value.reason == "unsupported_format"


def test_a_label_file_line_naming_a_heic_image_is_not_malformed(tmp_path: Path) -> None:
    _images(tmp_path, ["a.png"])
    (tmp_path / "b.HEIC").write_bytes(HEIC)
    (tmp_path / "labels.txt").write_text("a.png Hello\nb.HEIC World\n")
    reader = PrepareStats()
    records = read_folder(tmp_path, reader)
    assert _rel(records, tmp_path) == [("a.png", "Hello"), ("b.HEIC", "World")] and not reader.skipped
    stats = prepare_split(records, Charset.seed(), tmp_path / "out", "train", progress=False)
    assert stats.used == 1 and stats.skipped == {"unsupported_format": 1}


def test_a_folder_of_heic_photos_only_says_to_convert_them(tmp_path: Path) -> None:
    for name in ("Hello.heic", "World.heic", "Shop.HEIC"):
        (tmp_path / name).write_bytes(HEIC)
    with pytest.raises(ValueError, match=r"only images OpenCV does not decode \(3 \.heic, e\.g\. 'Hello\.heic'\)"):
        read_folder(tmp_path)
    with pytest.raises(ValueError, match="is an image"):
        read_folder(tmp_path / "Hello.heic")


def test_prepare_split_skips_crops_too_small_or_too_narrow_for_their_label(tmp_path: Path) -> None:
    # A 1x1 pixel and a 3-row sliver carry no word; a long word's crop standing on end (a vertical sign, a photo turned
    # without its EXIF tag) resized to 32 rows spans fewer time steps than the label needs. A short one may not
    # (standing HELLO, widened 2x, spans the 6 steps its letters and the blank between the Ls need): it is kept.
    cv2.imwrite(str(tmp_path / "dot.png"), np.zeros((1, 1), np.uint8))
    cv2.imwrite(str(tmp_path / "sliver.png"), np.zeros((3, 200), np.uint8))
    cv2.imwrite(str(tmp_path / "standing.png"), np.ascontiguousarray(np.rot90(word_image("MONIKER"))))
    cv2.imwrite(str(tmp_path / "short.png"), np.ascontiguousarray(np.rot90(word_image("HELLO"))))
    cv2.imwrite(str(tmp_path / "lying.png"), word_image("HELLO"))
    cv2.imwrite(str(tmp_path / "letter.png"), word_image("I")[:, :10])  # one narrow letter: 10 px hold one step
    records = [Record(str(tmp_path / n), label) for n, label in
               [("dot.png", "a"), ("sliver.png", "road"), ("standing.png", "MONIKER"), ("short.png", "HELLO"),
                ("lying.png", "HELLO"), ("letter.png", "I")]]
    stats = prepare_split(records, Charset.seed(), tmp_path / "out", "train", progress=False)
    assert stats.used == 3 and stats.skipped == {"too_small": 2, "too_narrow_for_label": 1}
    assert stats.examples["too_narrow_for_label"] == ["standing.png"]


# ---- what the fourth probe found (session 21): Mac zips, linked folders, the images folder given, broken lists ----

def test_read_folder_leaves_out_macos_junk_and_hidden_files(tmp_path: Path) -> None:
    # A zip made on a Mac: __MACOSX/ holds a '._name' metadata file per image, and .DS_Store sits beside them. Read as
    # images they were unreadable files labelled '._Hello', whose '.' and '_' charset="auto" then learnt.
    _images(tmp_path, ["crops/Hello.png", "crops/World.png"])
    (tmp_path / "__MACOSX" / "crops").mkdir(parents=True)
    for name in ("Hello", "World"):
        (tmp_path / "__MACOSX" / "crops" / f"._{name}.png").write_bytes(b"\x00\x05\x16\x07Mac OS X" + bytes(400))
    (tmp_path / "crops" / "._Hello.png").write_bytes(b"\x00\x05\x16\x07Mac OS X" + bytes(400))
    (tmp_path / "crops" / ".DS_Store").write_bytes(bytes(64))
    assert sorted(r.label for r in read_folder(tmp_path)) == ["Hello", "World"]
    from crnn_utils.recognizer import list_images  # what notebook 04 reads from a folder: the same two

    assert [p.name for p in list_images(tmp_path / "crops")] == ["Hello.png", "World.png"]


def test_read_folder_follows_linked_folders_once(tmp_path: Path) -> None:
    # crops/ is a link to where the images are kept (a shared disk); a link back up must not loop.
    store, top = tmp_path / "store", tmp_path / "top"
    _images(store, ["Hello.png", "World.png"])
    top.mkdir()
    (top / "crops").symlink_to(store, target_is_directory=True)
    (store / "loop").symlink_to(top, target_is_directory=True)
    assert sorted(r.label for r in read_folder(top)) == ["Hello", "World"]


def test_read_folder_points_at_the_label_file_of_the_folder_above(tmp_path: Path) -> None:
    # ICDAR's layout: gt.txt beside images/. Given images/ itself, the names 'word_1', ... are not the words.
    _images(tmp_path, [f"images/word_{i}.png" for i in range(1, 5)])
    (tmp_path / "gt.txt").write_text("".join(f'images/word_{i}.png, "W{i}"\n' for i in range(1, 5)))
    with pytest.raises(ValueError, match=f"one level up lists these images: give '{tmp_path}'"):
        read_folder(tmp_path / "images")
    assert [r.label for r in read_folder(tmp_path)] == ["W1", "W2", "W3", "W4"]


@pytest.mark.parametrize("content", [b"", b"<html>404 Not Found</html>", b"MATLAB 5.0" + bytes(200)])
def test_a_damaged_mat_file_is_not_a_label_list(tmp_path: Path, content: bytes) -> None:
    # A failed download saved as testdata.mat: the folder is read by its file names, and the file given as data_dir
    # says what it is not, naming it (scipy raised a bare IndexError or MatReadError).
    _images(tmp_path, ["Hello.png", "World.png"])
    (tmp_path / "testdata.mat").write_bytes(content)
    assert sorted(r.label for r in read_folder(tmp_path)) == ["Hello", "World"]
    with pytest.raises(ValueError, match="testdata.mat' is not a MATLAB file scipy can read"):
        read_folder(tmp_path / "testdata.mat")


def test_csv_style_doubled_quotes_in_a_text_list(tmp_path: Path) -> None:
    # pandas' to_csv(sep="\t") and csv.writer escape a quote by doubling it; ICDAR's gt.txt escapes it with \".
    _images(tmp_path, ["a.png", "b.png", "c.png"])
    (tmp_path / "labels.tsv").write_text('a.png\t"say ""hi"""\nb.png\t"""HIGH"\nc.png\t"plain"\n')
    assert [r.label for r in read_folder(tmp_path)] == ['say "hi"', '"HIGH', "plain"]
    (tmp_path / "gt.txt").write_text('a.png, "say \\"hi\\""\n')
    assert [r.label for r in read_folder(tmp_path / "gt.txt")] == ['say "hi"']


def test_read_mjsynth_says_when_the_images_are_not_extracted(tmp_path: Path) -> None:
    # The annotation files and lexicon without the numbered folders (a partial extraction): an error at once, not
    # minutes of counting 7 million missing_file skips into an empty split.
    lines = "".join(f"./{2000 + i // 100}/{i % 7}/{i}_Word_{i}.jpg {i}\n" for i in range(300))
    for split in ("train", "val", "test"):
        (tmp_path / f"annotation_{split}.txt").write_text(lines)
    (tmp_path / "lexicon.txt").write_text("word\n")
    with pytest.raises(FileNotFoundError, match="none of the first 20 images 'annotation_train.txt' names is there"):
        read_mjsynth(tmp_path, "train")
    write_jpeg(tmp_path / "2000/5/5_Word_5.jpg", "Word")  # one of them there: the rest are counted, as before
    assert len(list(read_mjsynth(tmp_path, "train"))) == 300


def test_a_limit_reads_no_further_than_the_images_it_uses(tmp_path: Path) -> None:
    # 100 images, each followed by a malformed line: a limit of 10 uses 10 and counts the 9 malformed lines between
    # them, not those of the records the parallel loader read ahead (it counted all 100).
    lines = []
    for i in range(100):
        write_jpeg(tmp_path / f"1/1/{i}_word_{i}.jpg", "word")
        lines += [f"./1/1/{i}_word_{i}.jpg {i}", "garbage"]
    for split in ("train", "val", "test"):
        (tmp_path / f"annotation_{split}.txt").write_text("\n".join(lines) + "\n")
    (tmp_path / "lexicon.txt").write_text("word\n")
    reader = PrepareStats()
    stats = prepare_split(read_mjsynth(tmp_path, "train", reader), Charset.seed(), tmp_path / "out", "train",
                          limit=10, progress=False)
    assert stats.used == 10 and reader.skipped == {MALFORMED: 9}
    assert prepare_split(read_mjsynth(tmp_path, "val"), Charset.seed(), tmp_path / "out", "val",
                         progress=False).used == 100  # without a limit, all of them


def test_scores_after_a_quoted_label_in_a_text_list(tmp_path: Path) -> None:
    # A recogniser's output kept as ground truth: 'a.png, "Hello", 0.98'. The .csv and .tsv readers dropped such
    # scores already; a comma- or semicolon-separated .txt kept them in the label ('"Hello", 0.98').
    _images(tmp_path, ["a.png", "b.png", "c.png", "d.png"])
    (tmp_path / "gt.txt").write_text('a.png, "Hello", 0.98\nb.png;"World";1\nc.png, "say \\"hi\\"", 0.5\n'
                                     'd.png,3,2,1\n')
    assert [r.label for r in read_folder(tmp_path)] == ["Hello", "World", 'say "hi"', "3,2,1"]


def test_an_lmdb_counted_from_zero_keeps_every_sample(tmp_path: Path, monkeypatch) -> None:
    # A home-made LMDB with keys image-000000000 ... n-1: the first sample was dropped and the last counted as malformed.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    write_lmdb(tmp_path / "mine", [(_png(w), w) for w in ("Hello", "World", "Sale")], start=0)
    stats = PrepareStats()
    assert [r.label for r in read_folder(tmp_path / "mine", stats)] == ["Hello", "World", "Sale"]
    assert not stats.skipped


def test_read_folder_will_not_take_numbered_names_in_one_folder_per_word(tmp_path: Path) -> None:
    # Hello/001.png, Hello/002.png, World/001.png: the words are the folder names, which read_folder does not guess.
    _images(tmp_path, ["Hello/001.png", "Hello/002.png", "World/001.png"])
    with pytest.raises(ValueError, match=r"2 subfolders \('Hello/001.png'\).*labels.tsv \('Hello/001.png<TAB>Hello'"):
        read_folder(tmp_path)
    (tmp_path / "labels.tsv").write_text("Hello/001.png\tHello\nHello/002.png\tHello\nWorld/001.png\tWorld\n")
    assert [r.label for r in read_folder(tmp_path)] == ["Hello", "Hello", "World"]


def test_per_image_txt_labels_and_lists_in_formats_not_read_say_what_to_do(tmp_path: Path) -> None:
    # img1.jpg beside img1.txt: labels one file per image under a name read_folder does not read (it reads .gt.txt).
    _images(tmp_path / "a", ["img1.jpg", "img2.jpg", "img3.jpg"])
    for i, word in enumerate(("Hello", "World", "Again"), start=1):
        (tmp_path / "a" / f"img{i}.txt").write_text(word)
    with pytest.raises(ValueError, match=r"3 images have a .txt of their own \('img1.txt'\).*'img1.gt.txt'"):
        read_folder(tmp_path / "a")
    # The same from a Windows tool, in capitals.
    _images(tmp_path / "w", ["IMG1.JPG", "IMG2.JPG"])
    for i, word in enumerate(("Hello", "World"), start=1):
        (tmp_path / "w" / f"IMG{i}.TXT").write_text(word)
    with pytest.raises(ValueError, match=r"2 images have a .txt of their own \('IMG1.TXT'\).*'IMG1.gt.txt'"):
        read_folder(tmp_path / "w")
    # ICDAR 2003's word.xml, which the poor-names error names: given as data_dir, it says it is not read.
    _images(tmp_path / "b", ["word/1/1.jpg", "word/1/2.jpg"])
    (tmp_path / "b" / "word.xml").write_text('<tagset><image file="word/1/1.jpg" tag="Hello"/></tagset>')
    with pytest.raises(ValueError, match=r"word.xml.*may hold them"):
        read_folder(tmp_path / "b")
    with pytest.raises(ValueError, match=r"does not read '.xml' lists \('word.xml'\): convert it"):
        read_folder(tmp_path / "b" / "word.xml")


# ---- a fifth probe of other people's folders (session 23): lists as real tools write them ---------------------------

@pytest.mark.parametrize("name, text", [
    ("annotation.txt", "./1/1/3_Hello_17.png 17\n./1/1/4_World_903.png 903\n"),  # MJSynth's list: an index, not a word
    ("labels.tsv", "file_name\ttext\tsplit\n1/1/3_Hello_17.png\tHello\ttrain\n1/1/4_World_903.png\tWorld\tval\n"),
    ("labels.tsv", "\tfile_name\ttext\n0\t1/1/3_Hello_17.png\tHello\n1\t1/1/4_World_903.png\tWorld\n"),  # pandas' index
    ("gt.txt", "1/1/3_Hello_17.png,Latin,Hello\n1/1/4_World_903.png,Latin,World\n"),  # ICDAR MLT: a script column
    ("gt.txt", '1/1/3_Hello_17.png "Hello"\n1/1/4_World_903.png    "World"\n'),  # ICDAR's, its tabs made spaces
    ("labels.tsv", "1/1/3_hello_17.PNG\tHello\n1/1/4_World_903.png\tWorld\n"),  # written where case does not matter
])
def test_read_folder_reads_lists_as_other_tools_write_them(tmp_path: Path, name: str, text: str) -> None:
    _images(tmp_path, ["1/1/3_Hello_17.png", "1/1/4_World_903.png"])
    (tmp_path / name).write_text(text)
    stats = PrepareStats()
    assert _rel(read_folder(tmp_path, stats), tmp_path) == [("1/1/3_Hello_17.png", "Hello"), ("1/1/4_World_903.png", "World")]
    assert not stats.skipped


def test_read_folder_other_tools_layouts(tmp_path: Path) -> None:
    import json
    import unicodedata

    # docTR: labels.json beside images/, its keys bare names; given images/, it says to give the folder above.
    _images(tmp_path / "doctr", ["images/img_1.jpg", "images/img_2.jpg"])
    (tmp_path / "doctr" / "labels.json").write_text(json.dumps({"img_1.jpg": "Hello", "img_2.jpg": "World"}))
    assert [r.label for r in read_folder(tmp_path / "doctr")] == ["Hello", "World"]
    with pytest.raises(ValueError, match="labels.json' one level up lists these images"):
        read_folder(tmp_path / "doctr" / "images")
    # OCRopus / GT4HistOCR: 010001.bin.png with 010001.gt.txt.
    _images(tmp_path / "ocropus", ["0001/010001.bin.png", "0001/010002.nrm.png"])
    (tmp_path / "ocropus" / "0001" / "010001.gt.txt").write_text("Hello\n")
    (tmp_path / "ocropus" / "0001" / "010002.gt.txt").write_text("World\n")
    assert [r.label for r in read_folder(tmp_path / "ocropus")] == ["Hello", "World"]
    # trdg: '{text}_{index}' names (a number word too) and its --output_mask masks, which are not words.
    _images(tmp_path / "trdg", ["Hello_0.jpg", "2024_1.jpg", "42_2.jpg", "Hello_0_mask.png", "2024_1_mask.png"])
    assert sorted(r.label for r in read_folder(tmp_path / "trdg")) == ["2024", "42", "Hello"]
    # A Mac's file names (NFD) give the same labels as typed ones (NFC): one class per letter.
    _images(tmp_path / "mac", [unicodedata.normalize("NFD", "café.png"), "Zürich.png"])
    assert sorted(r.label for r in read_folder(tmp_path / "mac")) == ["Zürich", "café"]
    assert all(r.label == unicodedata.normalize("NFC", r.label) for r in read_folder(tmp_path / "mac"))
    # Hashed names are no labels: the list beside them is named.
    _images(tmp_path / "hash", ["e3e70682c209.png", "f728b4fa4248.png", "23a7711a8133.png"])
    (tmp_path / "hash" / "annotations.xml").write_text("<annotations/>")
    with pytest.raises(ValueError, match="poor labels.*annotations.xml may hold them"):
        read_folder(tmp_path / "hash")
    # An archive: extract it first, given or inside the folder.
    (tmp_path / "words.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    with pytest.raises(ValueError, match="is an archive: extract it"):
        read_folder(tmp_path / "words.zip")
    (tmp_path / "zipped").mkdir()
    (tmp_path / "zipped" / "words.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    with pytest.raises(ValueError, match="has no images.*holds words.zip: extract it first"):
        read_folder(tmp_path / "zipped")
    # JPEG 2000, which OpenCV decodes here.
    ok, buf = cv2.imencode(".jp2", word_image("Hello"))
    if ok:
        (tmp_path / "jp2").mkdir()
        (tmp_path / "jp2" / "Hello.jp2").write_bytes(buf.tobytes())
        assert [r.label for r in read_folder(tmp_path / "jp2")] == ["Hello"]
        assert load_image(tmp_path / "jp2" / "Hello.jp2").shape == word_image("Hello").shape[:2]


def test_read_folder_excel_padding_and_code_pages(tmp_path: Path) -> None:
    # Excel pads every row to its widest: the empty last field is a column, not a comma in the label.
    _images(tmp_path / "x", ["a.png", "b.png", "c.png"])
    (tmp_path / "x" / "labels.csv").write_text("a.png,Hello,\nb.png,World,\nc.png,Sale,checked\n")
    assert [r.label for r in read_folder(tmp_path / "x")] == ["Hello", "World", "Sale"]
    # A list saved in a Russian or Chinese Windows code page is not read as garbled Windows-1252 labels ...
    for name, text, code in [("ru", "Привет", "cp1251"), ("zh", "简单", "gbk")]:
        _images(tmp_path / name, ["a.png", "b.png"])
        (tmp_path / name / "labels.csv").write_bytes(f"filename,label\na.png,{text}\nb.png,{text}\n".encode(code))
        with pytest.raises(ValueError, match="is not UTF-8.*garbled.*save it again as UTF-8"):
            read_folder(tmp_path / name)
    # ... while a Western one still is, accents and all.
    _images(tmp_path / "pt", ["a.png", "b.png", "c.png"])
    (tmp_path / "pt" / "labels.csv").write_bytes("filename,label\na.png,ações\nb.png,Größe\nc.png,Café\n".encode("cp1252"))
    assert [r.label for r in read_folder(tmp_path / "pt")] == ["ações", "Größe", "Café"]


# ---- what sessions 21-23 left (session 24): IAM's words.txt, Donut labels, Excel's sep= line, MJSynth splits that overlap ----

IAM_HEADER = "#--- words.txt ---#\n#\n# format: a01-000u-00-00 ok 154 408 768 27 51 AT A\n#\n"


def test_read_folder_iam_words(tmp_path: Path) -> None:
    # IAM ships words.txt in ascii.tgz (ids, not paths) and the images in words.tgz (a01/a01-000u/a01-000u-00-00.png).
    ids = ["a01-000u-00-00", "a01-000u-00-01", "a01-000u-00-02", "r06-022-03-05"]
    lines = [f"{ids[0]} ok 154 408 768 27 51 AT A", f"{ids[1]} ok 154 507 766 213 48 NN MOVE",
             f"{ids[2]} err 154 796 764 70 50 TO to", f"{ids[3]} ok 180 1 1062 1227 41 46 NN Mr."]  # 10-field form too
    rels = [f"{i.split('-')[0]}/{i.split('-')[0]}-{i.split('-')[1]}/{i}.png" for i in ids]
    for layout, words_txt, images in [("a", "ascii/words.txt", "words"), ("b", "words.txt", "words"), ("c", "words.txt", "")]:
        root = tmp_path / layout
        _images(root / images if images else root, rels)
        (root / words_txt).parent.mkdir(parents=True, exist_ok=True)
        (root / words_txt).write_text(IAM_HEADER + "\n".join(lines) + "\n")
        for given in (root, root / words_txt):
            stats = PrepareStats()
            records = read_folder(given, stats)
            assert [r.label for r in records] == ["A", "MOVE", "Mr."], (layout, given)
            assert all(Path(r.path).is_file() and Path(r.path).stem in ids for r in records)
            assert stats.skipped == {"iam_segmentation_err": 1} and stats.source == "IAM words.txt"
            assert stats.examples["iam_segmentation_err"] == [(f"{images}/" if images else "") + rels[2]]
    # The images folder alone: its names are ids, never labels; the error names the folder that holds words.txt.
    with pytest.raises(ValueError, match=r"IAM word images.*give '.*/a' as data_dir"):
        read_folder(tmp_path / "a" / "words")
    # words.txt without its images: say where they are expected.
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "words.txt").write_text(IAM_HEADER + "\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="IAM's word list, but none of its images.*extract IAM's words.tgz"):
        read_folder(tmp_path / "d")


def test_read_folder_donut_labels_and_excel_separators(tmp_path: Path) -> None:
    import json

    # Donut / SynthDoG: metadata.jsonl whose ground_truth is a JSON string holding gt_parse.text_sequence.
    _images(tmp_path / "donut", ["0.png", "1.png"])
    (tmp_path / "donut" / "metadata.jsonl").write_text("".join(
        json.dumps({"file_name": f"{i}.png", "ground_truth": json.dumps({"gt_parse": {"text_sequence": t}})}) + "\n"
        for i, t in enumerate(["Hello", "World"])))
    assert [r.label for r in read_folder(tmp_path / "donut")] == ["Hello", "World"]
    # Excel's 'sep=;' first line names the separator and is no row; the header after it is read as one.
    _images(tmp_path / "x", ["a.png", "b.png"])
    (tmp_path / "x" / "labels.csv").write_text("sep=;\r\nfile;text\r\na.png;Hello\r\nb.png;World\r\n")
    assert [r.label for r in read_folder(tmp_path / "x")] == ["Hello", "World"]
    (tmp_path / "x" / "labels.csv").write_text("sep=,\nfile,text\na.png,Hel;lo\nb.png,World\n")
    assert [r.label for r in read_folder(tmp_path / "x")] == ["Hel;lo", "World"]
    # No header, ';' inside the labels outnumbering the ',' that splits off the image: the ',' is the separator.
    (tmp_path / "x" / "labels.csv").write_text("a.png,A;B;C\nb.png,x;y\n")
    assert [r.label for r in read_folder(tmp_path / "x")] == ["A;B;C", "x;y"]
    (tmp_path / "x" / "labels.csv").write_text("a.png;Hello\nb.png;x,y\n")  # and the other way round
    assert [r.label for r in read_folder(tmp_path / "x")] == ["Hello", "x,y"]


def test_read_mjsynth_an_image_in_two_splits_is_used_in_the_first(tmp_path: Path) -> None:
    rels = [f"1/1/{i}_Word{i}_{i}.jpg" for i in range(6)]
    for rel in rels:
        write_jpeg(tmp_path / rel, rel)
    lines = [f"./{rel} {i}" for i, rel in enumerate(rels)]
    for split, chosen in (("train", lines[:4]), ("val", lines[3:5]), ("test", [lines[1], lines[5], lines[5]])):
        (tmp_path / f"annotation_{split}.txt").write_text("\n".join(chosen) + "\n")
    seen: dict = {}
    got, skipped = {}, {}
    for split in ("train", "val", "test"):
        stats = PrepareStats()
        got[split] = [r.label for r in read_mjsynth(tmp_path, split, stats, seen=seen)]
        skipped[split] = dict(stats.skipped)
    assert got == {"train": ["Word0", "Word1", "Word2", "Word3"], "val": ["Word4"], "test": ["Word5"]}
    assert skipped == {"train": {}, "val": {"in_earlier_split": 1}, "test": {"in_earlier_split": 1, "duplicate_entry": 1}}
    # Without a shared `seen`, each split is read on its own, as before.
    assert [r.label for r in read_mjsynth(tmp_path, "val")] == ["Word3", "Word4"]


# ---- a sixth probe (session 24): public datasets and tools as they ship ------------------------------------------------

def test_read_folder_finds_the_list_beside_or_above_the_images_folder(tmp_path: Path) -> None:
    import json

    # ICDAR 2015's test set: its ground truth, under its own name, beside the images folder and naming them bare.
    ic15 = tmp_path / "ic15"
    _images(ic15, [f"ch4_test_word_images_gt/word_{i}.png" for i in (1, 2, 3)])
    (ic15 / "Challenge4_Test_Task3_GT.txt").write_bytes(
        ("\ufeff" + "".join(f'word_{i}.png, "W{i}"\r\n' for i in (1, 2, 3))).encode())
    with pytest.raises(ValueError, match=r"Challenge4_Test_Task3_GT.txt' one level up lists these images: give '.*ic15'"):
        read_folder(ic15 / "ch4_test_word_images_gt")  # before: every image labelled 'word'
    assert _rel(read_folder(ic15), ic15) == [(f"ch4_test_word_images_gt/word_{i}.png", f"W{i}") for i in (1, 2, 3)]
    _images(ic15, ["other/word_1.png"])  # a second folder with the same name: no guess which one the list means
    stats = PrepareStats()
    assert _rel(read_folder(ic15, stats), ic15)[1:] == [(f"ch4_test_word_images_gt/word_{i}.png", f"W{i}") for i in (2, 3)]
    (ic15 / "other" / "word_1.png").unlink()
    # MMOCR 1.x: textrecog_test.json two levels above textrecog_imgs/test/.
    mm = tmp_path / "icdar2015"
    _images(mm, [f"textrecog_imgs/test/word_{i}.png" for i in (1, 2, 3)])
    (mm / "textrecog_test.json").write_text(json.dumps({"data_list": [
        {"img_path": f"textrecog_imgs/test/word_{i}.png", "instances": [{"text": f"W{i}"}]} for i in (1, 2, 3)]}))
    with pytest.raises(ValueError, match="textrecog_test.json' two levels up lists these images"):
        read_folder(mm / "textrecog_imgs" / "test")
    # Nothing anywhere: one word for every image is no labelling.
    _images(tmp_path / "bare", [f"word_{i}.png" for i in (1, 2, 3)])
    with pytest.raises(ValueError, match="would label 3 of the 3 images 'word'"):
        read_folder(tmp_path / "bare")


def test_read_folder_lists_of_ids_without_extensions(tmp_path: Path) -> None:
    # COCO-Text words (ICDAR 2017): train_words_gt.txt '1000000,EXIT' for train_words/1000000.jpg.
    coco = tmp_path / "coco"
    _images(coco, ["train_words/1000000.jpg", "train_words/1000001.jpg", "val_words/1000002.jpg"])
    (coco / "train_words_gt.txt").write_text("1000000,EXIT\n1000001,Hello, World\n")
    (coco / "val_words_gt.txt").write_text("1000002,STOP\n")
    assert _rel(read_folder(coco / "train_words_gt.txt"), coco) == [("train_words/1000000.jpg", "EXIT"),
                                                                     ("train_words/1000001.jpg", "Hello, World")]
    with pytest.raises(ValueError, match="poor labels.*holds 2 label files"):
        read_folder(coco / "train_words")  # before: labelled '1000000', '1000001'
    # A Kaggle-style train.csv 'id,text' beside train/<id>.png.
    kaggle = tmp_path / "kaggle"
    ids = ["e3e70682c209", "f728b4fa4248", "23a7711a8133"]
    _images(kaggle, [f"train/{i}.png" for i in ids])
    (kaggle / "train.csv").write_text("id,text\n" + "".join(f"{i},Word{n}\n" for n, i in enumerate(ids)))
    assert [r.label for r in read_folder(kaggle)] == ["Word0", "Word1", "Word2"]
    with pytest.raises(ValueError, match="train.csv' one level up lists these images"):
        read_folder(kaggle / "train")


def test_read_folder_labels_as_tools_write_them(tmp_path: Path) -> None:
    import json

    names = ["a.png", "b.png", "c.png"]
    _images(tmp_path, names)
    cases = [
        # pandas' to_csv(sep="\t") with its index: a number label is the label, not a score before the index.
        ("labels.tsv", "\tfile_name\ttext\n0\ta.png\t42\n1\tb.png\tHello\n2\tc.png\t7\n", ["42", "Hello", "7"]),
        ("labels.tsv", "Hello\ta.png\t0.98\n0\tb.png\t42\t0.9\nc.png\tWorld\t0.5\n", ["Hello", "42", "World"]),
        # A number that also ends the file name is the label: only MJSynth's 1_Hello_17.jpg carries an index there.
        ("labels.tsv", "a.png\t199\nb.png\tOPEN\nc.png\t7\n", ["199", "OPEN", "7"]),
        # A label starting with a quote does not swallow the rows after it.
        ("labels.csv", 'filename,words\na.png,Tiredness\nb.png,"HIGH\nc.png,kills\n', ["Tiredness", '"HIGH', "kills"]),
        # Numbers in JSON, as pandas and Hugging Face write a number column.
        ("metadata.jsonl", "".join(json.dumps({"file_name": n, "text": t}) + "\n" for n, t in zip(names, [42, "Hi", 7.0])),
         ["42", "Hi", "7"]),
        # JSON Lines saved as .json (Dataset.to_json), and pandas' default column-oriented to_json.
        ("labels.json", "".join(json.dumps({"file_name": n, "text": t}) + "\n" for n, t in zip(names, "xyz")), ["x", "y", "z"]),
        ("labels.json", json.dumps({"file_name": dict(enumerate(names)), "text": dict(enumerate(["p", "q", 3]))}),
         ["p", "q", "3"]),
        # Spaces beside an invisible character are trimmed too, and a byte-order mark that joined lists leave at a
        # line's start is no part of the path (review of session 25: 'Hello ', ' World' and a missing '\ufeffc.png').
        ("labels.tsv", "a.png\tHello \u200b\nb.png\t\u200b World\n\ufeffc.png\tThird\n", ["Hello", "World", "Third"]),
        # Invisible characters pasted from a web page or left by concatenated files, and a don't-care '###'.
        ("labels.tsv", "a.png\tHel\u200blo\nb.png\t\ufeffWorld\u200e\nc.png\t###\n", ["Hello", "World"]),
    ]
    for name, text, expected in cases:
        for old in tmp_path.glob("*.*"):
            if old.suffix != ".png":
                old.unlink()
        (tmp_path / name).write_text(text, encoding="utf-8")
        stats = PrepareStats()
        assert [r.label for r in read_folder(tmp_path, stats)] == expected, text
    assert stats.skipped == {"dont_care_label": 1}
    assert Charset.from_labels(["Hel\u200blo", "\u00adx", "\u200c"]).chars == "Helox\u200c"  # ZWNJ is spelling


def test_read_folder_text_encodings_line_by_line(tmp_path: Path) -> None:
    _images(tmp_path, ["a.png", "b.png", "c.png"])
    # UTF-8 with one line appended by a Windows tool in Windows-1252: both kinds of accents read.
    (tmp_path / "labels.tsv").write_bytes("a.png\tCafé\nb.png\tStraße\n".encode() + "c.png\tGrüße\n".encode("cp1252"))
    assert [r.label for r in read_folder(tmp_path)] == ["Café", "Straße", "Grüße"]
    # UTF-16 without its byte-order mark.
    (tmp_path / "labels.tsv").write_bytes("a.png\tHello\r\nb.png\tWorld\r\n".encode("utf-16-le"))
    assert [r.label for r in read_folder(tmp_path)] == ["Hello", "World"]


def test_read_folder_ppocrlabel_project_and_one_label_lists(tmp_path: Path) -> None:
    import json

    d = tmp_path / "shop"
    _images(d, ["IMG_1.jpg", "IMG_2.jpg", "crop_img/IMG_1_crop_0.jpg", "crop_img/IMG_2_crop_0.jpg"])
    box = json.dumps([{"transcription": "Open", "points": [[1, 1], [9, 1], [9, 5], [1, 5]], "difficult": False}])
    (d / "Label.txt").write_text(f"shop/IMG_1.jpg\t{box}\nshop/IMG_2.jpg\t{box}\n")
    (d / "fileState.txt").write_text(f"{d}/IMG_1.jpg\t1\n{d}/IMG_2.jpg\t1\n")
    (d / "rec_gt.txt").write_text("crop_img/IMG_1_crop_0.jpg\tOpen\ncrop_img/IMG_2_crop_0.jpg\tEXIT\n")
    assert [r.label for r in read_folder(d)] == ["Open", "EXIT"]  # before: 'holds 3 label files', Label.txt first
    for name in ("Label.txt", "fileState.txt"):
        with pytest.raises(ValueError, match="not words: give the recognition list.*rec_gt.txt"):
            read_folder(d / name)
    # A list whose every label is the same is no list of words.
    _images(tmp_path / "flags", [f"{i}.png" for i in range(10)])
    (tmp_path / "flags" / "checked.txt").write_text("".join(f"{i}.png\ttrue\n" for i in range(10)))
    with pytest.raises(ValueError, match="every one of the 10 labels in 'checked.txt' is 'true': a column of flags"):
        read_folder(tmp_path / "flags")


def test_file_names_lose_copy_marks_and_folders_below_are_named(tmp_path: Path) -> None:
    from crnn_utils.recognizer import _as_items

    assert [label_from_file_name(n) for n in ("Hello copy 2", "World - Copy", "World - Copy (2)", "carbon copy")] == \
        ["Hello", "World", "World", "carbon copy"]  # a first macOS copy, 'Hello copy', could be words: kept
    _images(tmp_path / "set", ["test/a.png", "images/b.png"])
    with pytest.raises(ValueError, match="no images directly in .*, but in its subfolders images, test"):
        _as_items(tmp_path / "set")  # before: recognize() read nothing and said nothing
    (tmp_path / "empty").mkdir()
    assert _as_items(tmp_path / "empty") == []


def test_the_sixth_probe_fixes_leave_other_layouts_alone(tmp_path: Path) -> None:
    # What a review of the fixes above found they broke at first; each layout read this way before them.
    cases = [
        # a comma in a file name, 'path label' lines: not an id row
        ({"1,000.png": 0, "2,50.png": 0, "3.png": 0}, "list.txt", "1,000.png 1,000\n2,50.png 2,50\n3.png 3\n",
         [("1,000.png", "1,000"), ("2,50.png", "2,50"), ("3.png", "3")]),
        # a path column named as no list names it, an 'id' column beside it: the image field is the path
        ({"crops/a.png": 0, "crops/b.png": 0, "0.png": 0}, "labels.csv", "id,crop_file,label\n0,crops/a.png,Hello\n1,crops/b.png,World\n",
         [("crops/a.png", "Hello"), ("crops/b.png", "World")]),
        # a number label first, a score after the path
        ({"a.png": 0, "b.png": 0}, "labels.tsv", "12\ta.png\t0.98\n345\tb.png\t0.91\n", [("a.png", "12"), ("b.png", "345")]),
        # a word label first, a number after the path: the word is the label ('3' was read in session 24's first fix),
        # while a number first is an index column ('0<TAB>b.png<TAB>42' reads 42)
        ({"a.png": 0, "b.png": 0}, "labels.tsv", "Hello\ta.png\t3\n0\tb.png\t42\n", [("a.png", "Hello"), ("b.png", "42")]),
        # list names in another case than the files, a thumbnail folder with the lowercase names beside them
        ({"IMG_1.PNG": 0, "IMG_2.PNG": 0, "thumbs/img_1.png": 0}, "labels.tsv", "img_1.png\tHello\nimg_2.png\tWorld\n",
         [("IMG_1.PNG", "Hello"), ("IMG_2.PNG", "World")]),
    ]
    for i, (files, name, text, expected) in enumerate(cases):
        root = tmp_path / str(i)
        _images(root, list(files))
        (root / name).write_text(text)
        assert _rel(read_folder(root), root) == expected, text
    # A list of one's own beside IAM's words.txt wins.
    root = tmp_path / "iam"
    _images(root, ["words/a01/a01-000u/a01-000u-00-00.png"])
    (root / "words.txt").write_text(IAM_HEADER + "a01-000u-00-00 ok 154 408 768 27 51 AT A\n")
    (root / "labels.tsv").write_text("words/a01/a01-000u/a01-000u-00-00.png\tA-fixed\n")
    assert [r.label for r in read_folder(root)] == ["A-fixed"]
    # One folder per word, numbered files: the folder hint, not "every image 'img'".
    _images(tmp_path / "perword", ["Hello/img_1.png", "Hello/img_2.png", "World/img_1.png", "World/img_2.png"])
    with pytest.raises(ValueError, match="if each folder is a word, list them in a labels.tsv"):
        read_folder(tmp_path / "perword")
    # UTF-16 without a mark holding a character whose low byte is zero (U+4E00).
    root = tmp_path / "u16"
    _images(root, ["a.png", "b.png", "c.png"])
    (root / "labels.txt").write_bytes("a.png\tHello\nb.png\tWorld\nc.png\t\u4e00\n".encode("utf-16-le"))
    assert [r.label for r in read_folder(root)] == ["Hello", "World", "\u4e00"]
    # Visible format characters are letters: an Arabic end of ayah stays, a zero-width space goes.
    assert Charset.from_labels(["\u06dd\u0661", "a\u200b"]).chars == "a\u0661\u06dd"


def test_read_folder_a_binary_file_under_a_list_name(tmp_path: Path) -> None:
    _images(tmp_path, ["a.png"])
    (tmp_path / "labels.txt").write_bytes(np.random.default_rng(0).integers(0, 256, 2000, dtype=np.uint8).tobytes())
    with pytest.raises(ValueError, match="'labels.txt' is not a text file"):  # before: a path of garbage 'is not there'
        read_folder(tmp_path)
    (tmp_path / "labels.txt").write_bytes(b"a.png\tHi\x00\n")  # one stray NUL is a label's problem, not the file's
    assert len(read_folder(tmp_path)) == 1
