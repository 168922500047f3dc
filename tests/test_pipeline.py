"""Records to model input: prepare_split's skips and shards, tf.data round trips, augmentation, split_records."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from word_files import EXPECTED_SKIPS, GOOD, make_mjsynth, word_image, write_images

from crnn_utils.charset import Charset
from crnn_utils.datasets import (PrepareStats, Record, make_dataset, prepare_split, read_folder, read_mjsynth,
                                 run_lexicon, shard_paths, split_labels, split_records)


@pytest.fixture(scope="module")
def mjsynth(tmp_path_factory) -> Path:
    """A small MJSynth-layout folder with good images and one bad input of every kind in the train split."""
    return make_mjsynth(tmp_path_factory.mktemp("mjsynth"))


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
    # 3. The labels alone, without decoding an image (notebook 04's lexicon of a folder run).
    assert sorted(split_labels(tmp_path, "train")) == sorted(texts)
    # 4. Notebook 04's lexicon: a folder run's own words; a word list given wins; other runs, the generator's words.
    (tmp_path / "dataset.json").write_text('{"dataset": "folder"}')
    assert run_lexicon(tmp_path) == (sorted(set(texts)), "the run's training labels")
    (tmp_path / "words.txt").write_text("alpha beta\n")
    assert run_lexicon(tmp_path, str(tmp_path / "words.txt")) == (["alpha", "beta"], "words.txt")
    (tmp_path / "dataset.json").write_text('{"dataset": "mjsynth"}')
    words, named = run_lexicon(tmp_path)
    assert named == "the generator word list" and len(words) == 50_000


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


def test_prepare_split_counts_a_file_it_may_not_read(tmp_path: Path, locked_files) -> None:
    write_images(tmp_path, ["Hello.png", "World.png"])
    locked_files("World.png")
    stats = prepare_split(read_folder(tmp_path), Charset.seed(), tmp_path / "out", "train", progress=False)
    assert stats.skipped == {"permission_denied": 1}


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
    monkeypatch.setattr(datasets, "augment_tf", lambda img, seed, share, *_: tf.fill(tf.shape(img), tf.cast(share, tf.float32)))
    share = lambda **kw: [float(x[0, 0, 0, 0]) for x, _ in datasets.make_dataset(
        shards, 4, 4, charset.blank, augment=True, repeat=True, **kw).take(6)]
    half = datasets.WARP_SHARE / 2
    assert share(pass_images=8) == pytest.approx([0, 0, 0, half, datasets.WARP_SHARE, datasets.WARP_SHARE])
    assert share(pass_images=8, images_seen=12) == pytest.approx([half] + [datasets.WARP_SHARE] * 5)  # resumed
    assert share() == [0.0] * 6  # without the split's size, nothing is warped


def test_make_file_dataset_refuses_formats_tensorflow_cannot_decode(tmp_path: Path) -> None:
    from crnn_utils.datasets import make_file_dataset

    write_images(tmp_path, ["a.png", "b.tif"])
    with pytest.raises(ValueError, match=r"not \.tif.*prepare_split"):
        make_file_dataset(read_folder(tmp_path), Charset.seed(), 2, 4)


def test_split_records_is_seeded_partition() -> None:
    records = [Record(f"/x/{i}.png", f"w{i}") for i in range(100)]
    a, b = split_records(records, 10, 5, seed=1), split_records(records, 10, 5, seed=1)
    assert a == b and a != split_records(records, 10, 5, seed=2)
    assert [len(a[s]) for s in ("train", "val", "test")] == [85, 10, 5]
    assert sorted(a["train"] + a["val"] + a["test"], key=records.index) == records
    with pytest.raises(ValueError, match="cannot take n_val=60 \\+ n_test=50 images out of the 100 labelled ones.*n_val=10, n_test=10"):
        split_records(records, 60, 50, seed=0)


def test_source_and_prepare_splits_on_an_mjsynth_folder(mjsynth: Path, tmp_path: Path) -> None:
    from crnn_utils.datasets import Source, prepare_splits

    source = Source("mjsynth", mjsynth)
    assert source.describe().startswith("MJSynth layout: annotation_")
    stats = prepare_splits(source, Charset.seed(), tmp_path, {"train": 100, "val": 100, "test": 0})
    assert set(stats) == {"train", "val"}  # a limit of 0 skips the split
    assert stats["train"].used == len(GOOD) and dict(stats["train"].skipped) == EXPECTED_SKIPS
    assert not shard_paths(tmp_path, "test")


def test_source_splits_a_folder_once_and_counts_its_reading_problems_under_train(tmp_path: Path) -> None:
    from crnn_utils.datasets import Source, prepare_splits

    words = [f"word{i}" for i in range(12)]
    write_images(tmp_path / "in", [f"{w}.png" for w in words])
    (tmp_path / "in" / "labels.tsv").write_text("".join(f"{w}.png\t{w}\n" for w in words) + "a line with no tab\n")
    source = Source("folder", tmp_path / "in", n_val=3, n_test=2, seed=0)
    assert {k: len(v) for k, v in source.splits.items()} == {"train": 7, "val": 3, "test": 2}
    assert "labels.tsv" in source.describe()
    stats = prepare_splits(source, Charset.seed(), tmp_path / "out", {"train": 100, "val": 100, "test": 100})
    assert sum(st.used for st in stats.values()) == 12
    assert dict(stats["train"].skipped) == {"malformed_annotation": 1} and not stats["val"].skipped  # counted once
    with pytest.raises(ValueError, match="none of the"):  # a charset none of the labels fit: one clear error
        prepare_splits(source, Charset("xyz"), tmp_path / "out2", {"train": 100, "val": 100, "test": 0})
