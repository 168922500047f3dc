"""Records to model input: prepare_split writes checked, preprocessed TFRecord shards; make_dataset and
make_file_dataset feed them (or image files) to the model through tf.data, with augmentation."""
from __future__ import annotations

import json
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from .charset import EMPTY_LABEL, OUT_OF_CHARSET, TOO_LONG, Charset, ctc_min_steps
from .images import IMG_HEIGHT, IMG_WIDTH, MAX_STRETCH, MISSING_FILE, ImageError, fit_size, load_image, preprocess
from .progress import progress_bar
# The readers of other tools' layouts live in crnn_utils.readers; their names stay importable from here.
from .readers import (DONT_CARE, DUPLICATE, IAM_BAD_SEGMENTATION, IN_EARLIER_SPLIT, LABEL_FILES, MALFORMED,  # noqa: F401
                      NO_IMAGE, NO_LABEL, ListedPaths, check_mjsynth_dir, find_label_file, label_from_file_name,
                      mjsynth_split_of, read_folder, read_mjsynth, unpack_lmdb)
from .records import SPLITS, PrepareStats, Record, shown_path  # noqa: F401


# Skip reasons for images that decode but cannot carry their label (dataset.json keys).
TOO_SMALL = "too_small"  # fewer than MIN_ROWS rows or MIN_COLUMNS columns: a 1x1 image, a cropping slip
TOO_NARROW = "too_narrow_for_label"  # resized, it spans fewer CTC steps than its label needs: a vertical or rotated crop
MIN_ROWS, MIN_COLUMNS = 4, 2


def _load_one(record: Record, charset: Charset, steps: int, width: int,
              max_stretch: float) -> tuple[Record, np.ndarray | None, str | None]:
    reason = charset.skip_reason(record.label, steps)
    if reason is not None:
        return record, None, reason
    try:
        raw = load_image(record.path, strict=True)  # an image its codec calls corrupt is not trained on
        h, w = raw.shape[:2]
        if h < MIN_ROWS or w < MIN_COLUMNS:
            return record, None, TOO_SMALL
        # Text the model reads left to right: the ink must span at least one time step per character (and blank).
        if fit_size(h, w, IMG_HEIGHT, width, max_stretch)[1] * (steps + 1) // width < ctc_min_steps(record.label):
            return record, None, TOO_NARROW
        img = preprocess(raw, IMG_HEIGHT, width, max_stretch)
    except ImageError as e:
        return record, None, e.reason
    except Exception:  # anything a codec throws on a damaged file
        return record, None, "unreadable_image"
    return record, np.round(img[..., 0] * 255).astype(np.uint8), None


def prepare_split(
    records: Iterable[Record],
    charset: Charset,
    out_dir: str | Path,
    split: str,
    time_steps: int = 31,
    width: int = IMG_WIDTH,
    shard_size: int = 20_000,
    limit: int | None = None,
    progress: bool = True,
    total: int | None = None,
    max_stretch: float = MAX_STRETCH,
    root: str | Path | None = None,
) -> PrepareStats:
    """Load, check and preprocess records into TFRecord shards `out_dir/{split}-NNNNN.tfrecord`; count every skip."""
    import tensorflow as tf

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob(f"{split}-*.tfrecord"):
        old.unlink()
    stats = PrepareStats()
    writer, shard = None, 0
    bar = progress_bar(total=limit or total, desc=f"{split}", unit="img", enabled=progress)
    # 1. Decode and preprocess on two threads (OpenCV releases the GIL); records stream, never held in full.
    with ThreadPoolExecutor(max_workers=2) as pool:
        wanted = None if limit is None else lambda: limit - stats.used
        for record, img, reason in _imap(pool, records, charset, time_steps, width, max_stretch, wanted=wanted):
            if limit is not None and stats.used >= limit:
                break
            bar.update(1)
            if reason is not None:
                stats.skip(reason, shown_path(record.path, root))
                continue
            # 2. Write the uint8 pixels and the class ids; a new shard every `shard_size` images.
            if writer is None or stats.used % shard_size == 0 and stats.used:
                if writer is not None:
                    writer.close()
                writer = tf.io.TFRecordWriter(str(out_dir / f"{split}-{shard:05d}.tfrecord"))
                shard += 1
            writer.write(_example(img, charset.encode(record.label), record.label))
            stats.used += 1
            stats.lengths[len(record.label)] += 1
            stats.chars.update(record.label)
    bar.close()
    if writer is not None:
        writer.close()
    return stats


class Source:
    """Where a run's words come from, split by split: an MJSynth folder (the renderer's or the real archive), streamed,
    or a labelled folder in any layout read_folder takes, shuffled once into train, val and test."""

    def __init__(self, kind: str, source_dir: str | Path, n_val: int = 0, n_test: int = 0, seed: int = 0) -> None:
        self.kind, self.dir = kind, Path(source_dir)
        self.reader_stats = PrepareStats()  # a folder's label lines that name no image, its images without a label
        self.splits: dict[str, list[Record]] | None = None
        if kind in ("synthetic", "mjsynth"):
            self.layout = check_mjsynth_dir(source_dir)  # not an MJSynth folder: one error naming what it lacks
        else:
            self.splits = split_records(read_folder(source_dir, self.reader_stats), n_val, n_test, seed)

    def describe(self) -> str:
        """One line: the files found, or the labels' origin and the images per split."""
        if self.splits is None:
            return "MJSynth layout: " + ", ".join(sorted(p.name for p in self.layout.values()))
        return (f"labels from {self.reader_stats.source} | {({k: len(v) for k, v in self.splits.items()})} labelled "
                f"images | not usable: {dict(self.reader_stats.skipped)}")

    def records(self, split: str, stats: PrepareStats | None = None, seen: dict | None = None) -> Iterator[Record]:
        """One split's Records; an MJSynth image that an earlier split given the same `seen` listed is skipped."""
        if self.splits is not None:
            return iter(self.splits[split])
        return read_mjsynth(self.dir, split, stats=stats, seen=seen)


def prepare_splits(source: Source, charset: Charset, out_dir: str | Path, limits: dict[str, int], time_steps: int = 31,
                   width: int = IMG_WIDTH, max_stretch: float = MAX_STRETCH) -> dict[str, PrepareStats]:
    """prepare_split for every split with a limit above 0 (no test image is also a training one); one error when
    the train or val split kept nothing."""
    stats: dict[str, PrepareStats] = {}
    listed: dict = {}  # every split's MJSynth paths
    for split in SPLITS:
        if not limits.get(split):
            continue
        counted = PrepareStats()  # malformed annotation lines, counted by the reader
        stats[split] = prepare_split(source.records(split, counted, listed), charset, out_dir, split,
                                     time_steps=time_steps, width=width, limit=limits[split], max_stretch=max_stretch,
                                     root=source.dir)
        stats[split].merge(counted)
    if "train" in stats:
        stats["train"].merge(source.reader_stats)  # a folder's reading problems, counted once, under train
    check_prepared(stats)
    return stats


def check_prepared(stats: dict[str, PrepareStats]) -> None:
    """Raise one line when the train or val split kept no image: how many were seen, the main reason, what to do."""
    for split in ("train", "val"):
        st = stats.get(split)
        if st is None or st.used:
            continue
        if not st.seen:
            raise ValueError(f"{split}: the source holds no images for this split")
        reason, n = st.skipped.most_common(1)[0]
        example = (st.examples.get(reason) or ["?"])[0]
        hint = {OUT_OF_CHARSET: 'the labels hold characters the charset lacks: run with charset="auto"',
                MISSING_FILE: "the files it names are not there: check data_dir",
                MALFORMED: "its lines are not MJSynth's './1/1/3_Hello_17.jpg 17'",
                TOO_LONG: "the labels are too long for the CTC steps: a larger image_width gives more",
                EMPTY_LABEL: "the labels are empty",
                IN_EARLIER_SPLIT: "its annotation file lists only images an earlier split lists too: check the split files",
                IAM_BAD_SEGMENTATION: "IAM marks every word of it 'err'"}.get(reason, "the files are damaged or not images: check the download")
        raise ValueError(f"{split}: none of the {st.seen} inputs is usable ({reason}: {n}, e.g. '{example}'); {hint}")


def _imap(pool: ThreadPoolExecutor, records: Iterable[Record], charset: Charset, steps: int, width: int,
          max_stretch: float, window: int = 256,
          wanted: Callable[[], int] | None = None) -> Iterator[tuple[Record, np.ndarray | None, str | None]]:
    """Ordered parallel map over a stream, with a bounded number of images in flight, never more than `wanted()`."""
    from collections import deque

    # Reading no further than the images still wanted keeps the reader's own counts (malformed lines) to what the
    # split used: a limit of 10 once counted the malformed lines of 256 records read ahead.
    stream, pending, done = iter(records), deque(), False
    while True:
        while not done and len(pending) < (window if wanted is None else min(window, wanted())):
            record = next(stream, None)
            if record is None:
                done = True
            else:
                pending.append(pool.submit(_load_one, record, charset, steps, width, max_stretch))
        if not pending:
            return
        yield pending.popleft().result()


def _example(img: np.ndarray, ids: Sequence[int], label: str) -> bytes:
    import tensorflow as tf

    feature = {
        "image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[img.tobytes()])),
        "ids": tf.train.Feature(int64_list=tf.train.Int64List(value=list(ids))),
        "label": tf.train.Feature(bytes_list=tf.train.BytesList(value=[label.encode("utf-8")])),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def shard_paths(data_dir: str | Path, split: str) -> list[str]:
    """The TFRecord shards of one split written by prepare_split, sorted."""
    return sorted(str(p) for p in Path(data_dir).glob(f"{split}-*.tfrecord"))


def split_labels(data_dir: str | Path, split: str) -> list[str]:
    """The label texts of one split's shards, shard by shard (no images decoded): e.g. a folder run's own word list."""
    import tensorflow as tf

    spec = {"label": tf.io.FixedLenFeature([], tf.string)}
    batches = tf.data.TFRecordDataset(shard_paths(data_dir, split)).batch(8192).map(
        lambda r: tf.io.parse_example(r, spec)["label"])
    return [b.decode("utf-8") for batch in batches for b in batch.numpy()]


def run_lexicon(data_dir: str | Path, lexicon_path: str = "") -> tuple[list[str], str]:
    """(words, where they come from) for lexicon decoding: lexicon_path, the renderer's list, a folder run's labels, else the generator's."""
    data_dir = Path(data_dir)
    rendered = data_dir / "synth" / "lexicon.txt"
    source = Path(lexicon_path) if lexicon_path else rendered if rendered.is_file() else None
    if source:
        return source.read_text(encoding="utf-8").split(), source.name
    if load_dataset_info(data_dir)["dataset"] == "folder":  # your own words, in your own charset
        return sorted(set(split_labels(data_dir, "train"))), "the run's training labels"
    from .synth import lexicon

    return lexicon(), "the generator word list"


def load_dataset_info(data_dir: str | Path) -> dict:
    """Read run_dir/data/dataset.json, with one clear error when notebook 01 has not run."""
    path = Path(data_dir) / "dataset.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run notebooks/01_dataset_preparation.ipynb with this run_dir first")
    return json.loads(path.read_text())


def make_dataset(
    paths: Sequence[str],
    batch_size: int,
    max_label_len: int,
    blank: int,
    width: int = IMG_WIDTH,
    shuffle: bool = False,
    augment: bool = False,
    repeat: bool = False,
    seed: int = 0,
    with_text: bool = False,
    pass_images: int = 0,
    images_seen: int = 0,
):
    """tf.data from shards: batch the records, parse and (augment) whole batches, prefetch -> (images, labels).

    With `augment`, `pass_images` (the split's size) lets the geometric warp in once the stream repeats (`warp_ramp`);
    `images_seen` is what a resumed run already trained on. Without `pass_images` nothing is warped.
    """
    import tensorflow as tf

    if not paths:
        raise ValueError("no shards given: run notebook 01 (it writes run_dir/data/*.tfrecord)")
    spec = {
        "image": tf.io.FixedLenFeature([], tf.string),
        "ids": tf.io.VarLenFeature(tf.int64),
        "label": tf.io.FixedLenFeature([], tf.string),
    }

    # Parsing and augmenting a batch at a time costs a few ops per batch instead of per image: on 2 cores the
    # input pipeline shares the CPU with the train step, so every op it saves is training time.
    def parse_batch(index, serialized):
        ex = tf.io.parse_example(serialized, spec)
        img = tf.reshape(tf.io.decode_raw(ex["image"], tf.uint8), [-1, IMG_HEIGHT, width, 1])
        img = tf.cast(img, tf.float32) / 255.0
        ids = tf.sparse.to_dense(ex["ids"], default_value=blank)[:, :max_label_len]
        ids = tf.pad(ids, [[0, 0], [0, max_label_len - tf.shape(ids)[1]]], constant_values=blank)
        ids = tf.ensure_shape(tf.cast(ids, tf.int32), [None, max_label_len])
        if augment:
            seen = tf.cast(images_seen + index * batch_size, tf.float32)
            position = images_seen // batch_size + index  # a resumed stream does not replay the first draws
            img = augment_tf(img, seed, warp_ramp(seen, pass_images) if pass_images else 0.0, position)
        return (img, ids, ex["label"]) if with_text else (img, ids)

    ds = tf.data.TFRecordDataset(list(paths), num_parallel_reads=min(len(paths), 4))
    if shuffle:
        ds = ds.shuffle(10_000, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size).enumerate().map(parse_batch, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


TF_DECODES = (".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".gif")  # what tf.io.decode_image reads


def make_file_dataset(records, charset, batch_size: int, max_label_len: int, width: int = 128,
                      shuffle: bool = False, augment: bool = False, repeat: bool = False, seed: int = 0,
                      max_stretch: float = MAX_STRETCH, images_seen: int = 0):
    """tf.data straight from JPEG/PNG/BMP/GIF files (no shards): read, decode_tf, preprocess_tf, (augment), batch.

    TensorFlow's decoders keep pixels as stored: no EXIF turn, no GIF transparency. Phone photos and other formats
    belong in prepare_split, which reads every file through load_image and counts what it cannot use. With
    `augment`, the geometric warp comes in once the files repeat (`warp_ramp`), `images_seen` after a resume.
    """
    import tensorflow as tf

    from .images import decode_tf, preprocess_tf

    other = sorted({Path(r.path).suffix.lower() for r in records} - set(TF_DECODES))
    if other:
        raise ValueError(f"make_file_dataset decodes {', '.join(TF_DECODES)} files only, not {', '.join(other)}: "
                         "write shards with prepare_split and use make_dataset")
    # Labels that cannot be trained on are dropped here; prepare_split is where they are counted by reason.
    usable = [r for r in records if charset.skip_reason(r.label, width // 4 - 1) is None]
    if not usable:
        raise ValueError("no usable records: every label is empty, out of the charset or too long")
    # 1. Paths and padded labels are small: keep them as tensors and shuffle them all (a full-size buffer).
    paths = tf.constant([r.path for r in usable])
    labels = tf.constant(np.asarray(charset.pad([r.label for r in usable], max_label_len), np.int32))
    ds = tf.data.Dataset.from_tensor_slices((paths, labels))
    if shuffle:
        ds = ds.shuffle(len(usable), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()

    # 2. Read, decode and preprocess in parallel, with the same preprocessing as inference (preprocess_tf).
    def load(index, path_ids):
        path, ids = path_ids
        img = preprocess_tf(decode_tf(tf.io.read_file(path)), IMG_HEIGHT, width, max_stretch)
        share = warp_ramp(images_seen + index, len(usable))  # the warp once the files repeat, as make_dataset
        return (augment_tf(img, seed, share, images_seen + index) if augment else img), ids

    # 3. Nothing is dropped silently: a file that fails to decode stops the stream with TensorFlow's error
    #    (prepare_split reads every file first and counts what it cannot use, by reason).
    ds = ds.enumerate().map(load, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


# Geometric warp during training: the share of images warped once the data repeats, and how far.
WARP_SHARE, WARP_SHEAR, WARP_SQUEEZE, WARP_SHIFT = 0.5, 0.3, (0.95, 1.25), 2.0


def warp_ramp(images_seen, pass_images: int):
    """The share of images to warp after `images_seen` of a split of `pass_images`: 0, then up to WARP_SHARE."""
    import tensorflow as tf

    # A model that has seen few of the words gains nothing from distorting them (at 64k images, one pass, warping
    # from the start cost 1-2 points); one that sees each word many times overfits without it. So the share is 0 on
    # the first pass, rises linearly over the second, and stays at WARP_SHARE from the third.
    passes = tf.cast(images_seen, tf.float32) / float(max(1, pass_images))
    return WARP_SHARE * tf.clip_by_value(passes - 1.0, 0.0, 1.0)


def _draws(seed, index):
    """A stateless uniform sampler keyed by (seed, batch index, draw number): the same seed gives the same draws."""
    import tensorflow as tf

    # Stateless ops make every draw a function of the run's seed and the batch's position in the stream, whatever
    # order tf.data's parallel map runs the batches in: the same seed trains the same model, bit for bit.
    key = tf.cast(tf.stack([tf.cast(seed, tf.int64), tf.cast(index, tf.int64)]), tf.int64)
    counter = iter(range(1, 1000))

    def uniform(shape, lo=0.0, hi=1.0):
        sub = tf.random.experimental.stateless_fold_in(key, next(counter))
        return tf.random.stateless_uniform(shape, sub, lo, hi)

    def normal(shape):
        return tf.random.stateless_normal(shape, tf.random.experimental.stateless_fold_in(key, next(counter)))

    return uniform, normal


def warp_tf(images, share=WARP_SHARE, seed: int = 0, index=0):
    """Shear, shrink vertically and shift a random `share` of a (B, 32, W, 1) batch; borders continued."""
    import tensorflow as tf

    # One ImageProjectiveTransformV3 for the whole batch (about 2 ms for 32 images), skipped when share is 0. The
    # text is never narrowed: thin letters would lose the time steps `max_stretch` gave them. Sampling
    # rows 0.95-1.25x apart leaves the text 0.8-1.05 of its height; the edge rows continue outward (NEAREST), so a
    # crop tight to its ink can get short streaks above or below, as a smudged print would.
    b, h = tf.shape(images)[0], tf.cast(tf.shape(images)[1], tf.float32)
    uniform, _ = _draws(seed, index)
    draw = lambda lo, hi: uniform([b], lo, hi)
    on = tf.cast(draw(0.0, 1.0) < share, tf.float32)
    k = draw(-WARP_SHEAR, WARP_SHEAR) * on            # x_in = x + k (y - cy): italic either way
    s = 1.0 + (draw(*WARP_SQUEEZE) - 1.0) * on         # y_in = cy + s (y - cy) + dy: smaller text, shifted
    dy = draw(-WARP_SHIFT, WARP_SHIFT) * on
    cy, zero, one = (h - 1.0) / 2.0, tf.zeros([b]), tf.ones([b])
    transform = tf.stack([one, k, -k * cy, zero, s, cy - s * cy + dy, zero, zero], axis=1)
    warp = lambda: tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transform, output_shape=tf.shape(images)[1:3], fill_value=0.0,
        interpolation="BILINEAR", fill_mode="NEAREST")
    return tf.cond(tf.reduce_max(on) > 0, warp, lambda: tf.identity(images))


def augment_tf(images, seed: int = 0, warp_share=WARP_SHARE, index=0):
    """Augment preprocessed images, one draw each: warp (a share), contrast, brightness, polarity, blur, noise.

    Takes one (32, W, 1) image or a batch (B, 32, W, 1); a batch is augmented with a handful of vectorised ops.
    Every draw is stateless, keyed by `seed` and `index` (the batch's position in the stream): the same pair
    gives the same augmentation in any process.
    """
    import tensorflow as tf

    single = images.shape.rank == 3
    img = images[None] if single else images
    uniform, normal = _draws(seed + 7919, index)  # other draws than warp_tf's
    per_image = lambda lo=0.0, hi=1.0: uniform([tf.shape(img)[0], 1, 1, 1], lo, hi)
    # 1. Shear, vertical shrink and shift (warp_tf), for a share of the images.
    img = warp_tf(img, warp_share, seed, index)
    # 2. Contrast and brightness around each image's mean, then a polarity flip for 10 % of images.
    mean = tf.reduce_mean(img, axis=[1, 2, 3], keepdims=True)
    img = (img - mean) * per_image(0.75, 1.25) + mean + per_image(-0.1, 0.1)
    img = tf.where(per_image() < 0.1, 1.0 - img, img)
    # 3. A light box blur for 15 % of images (defocus, low resolution).
    img = tf.where(per_image() < 0.15, box_blur3(img), img)
    # 4. Gaussian sensor noise of random strength.
    img = img + normal(tf.shape(img)) * per_image(0.0, 0.03)
    img = tf.clip_by_value(img, 0.0, 1.0)
    return img[0] if single else img


def box_blur3(images):
    """The 3x3 mean of each pixel's neighbours inside the image: tf.nn.avg_pool2d(images, 3, 1, "SAME"), 10x faster."""
    import tensorflow as tf

    # TensorFlow's AvgPool on one channel took 23 ms of CPU per batch of 32 on a 2-core AVX2 machine, nine tenths of
    # the whole input pipeline, on the cores the train step needs; six shifted adds cost 2 ms.
    def sums(x):
        p = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
        rows = p[:, :-2] + p[:, 1:-1] + p[:, 2:]
        return rows[:, :, :-2] + rows[:, :, 1:-1] + rows[:, :, 2:]

    return sums(images) / sums(tf.ones_like(images[:1]))  # at the border, divide by the pixels there are (as SAME does)


def split_records(records: Sequence[Record], n_val: int, n_test: int, seed: int = 0) -> dict[str, list[Record]]:
    """Seeded shuffle, then n_val records to val, n_test to test and the rest to train."""
    if n_val < 0 or n_test < 0 or n_val + n_test > len(records):
        k = max(1, len(records) // 10)
        raise ValueError(f"cannot take n_val={n_val} + n_test={n_test} images out of the {len(records)} labelled ones: "
                         f"give smaller values (about a tenth each: n_val={k}, n_test={k})")
    shuffled = list(records)
    random.Random(seed).shuffle(shuffled)
    return {"train": shuffled[n_val + n_test :], "val": shuffled[:n_val], "test": shuffled[n_val : n_val + n_test]}

