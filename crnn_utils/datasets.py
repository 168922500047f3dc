"""Where words come from (MJSynth, your folder, the synthetic generator) and how they reach the model (shards, tf.data)."""
from __future__ import annotations

import codecs
import functools
import itertools
import json
import os
import random
import re
import zlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, NamedTuple, Sequence

import numpy as np

from .charset import EMPTY_LABEL, OUT_OF_CHARSET, TOO_LONG, Charset, ctc_min_steps, without_invisible
from .images import (IMAGE_EXTENSIONS, IMG_HEIGHT, IMG_WIDTH, MAX_STRETCH, MISSING_FILE, ImageError, fit_size, is_file, is_hidden_name, is_image_name,
                     load_image, preprocess)

SPLITS = ("train", "val", "test")


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

    from .viz import progress_bar

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
                stats.skip(reason, _shown_path(record.path, root))
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


def _shown_path(path: str, root: str | Path | None = None) -> str:
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
            img = augment_tf(img, seed, warp_ramp(seen, pass_images) if pass_images else 0.0)
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
        return (augment_tf(img, seed, share) if augment else img), ids

    # 3. A file that fails to decode is dropped instead of stopping training (prepare_split counts them).
    ds = ds.enumerate().map(load, num_parallel_calls=tf.data.AUTOTUNE).ignore_errors()
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


def warp_tf(images, share=WARP_SHARE):
    """Shear, shrink vertically and shift a random `share` of a (B, 32, W, 1) batch; borders continued."""
    import tensorflow as tf

    # One ImageProjectiveTransformV3 for the whole batch (about 2 ms for 32 images), skipped when share is 0. The
    # text is never narrowed: thin letters would lose the time steps `max_stretch` gave them (session 12). Sampling
    # rows 0.95-1.25x apart leaves the text 0.8-1.05 of its height; the edge rows continue outward (NEAREST), so a
    # crop tight to its ink can get short streaks above or below, as a smudged print would.
    b, h = tf.shape(images)[0], tf.cast(tf.shape(images)[1], tf.float32)
    draw = lambda lo, hi: tf.random.uniform([b], lo, hi)
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


def augment_tf(images, seed: int = 0, warp_share=WARP_SHARE):
    """Augment preprocessed images, one draw each: warp (a share), contrast, brightness, polarity, blur, noise.

    Takes one (32, W, 1) image or a batch (B, 32, W, 1); a batch is augmented with a handful of vectorised ops.
    """
    import tensorflow as tf

    single = images.shape.rank == 3
    img = images[None] if single else images
    per_image = lambda lo=0.0, hi=1.0: tf.random.uniform([tf.shape(img)[0], 1, 1, 1], lo, hi)
    # 1. Shear, vertical shrink and shift (warp_tf), for a share of the images.
    img = warp_tf(img, warp_share)
    # 2. Contrast and brightness around each image's mean, then a polarity flip for 10 % of images.
    mean = tf.reduce_mean(img, axis=[1, 2, 3], keepdims=True)
    img = (img - mean) * per_image(0.75, 1.25) + mean + per_image(-0.1, 0.1)
    img = tf.where(per_image() < 0.1, 1.0 - img, img)
    # 3. A light box blur for 15 % of images (defocus, low resolution).
    img = tf.where(per_image() < 0.15, box_blur3(img), img)
    # 4. Gaussian sensor noise of random strength.
    img = img + tf.random.normal(tf.shape(img)) * per_image(0.0, 0.03)
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


# Skip reason for an annotation or labels.tsv line that names no usable (path, label) pair.
MALFORMED = "malformed_annotation"
MJSYNTH_NESTED = "mnt/ramdisk/max/90kDICT32px"  # where the MJSynth tarball puts its files


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
                 seen: dict[int, str] | None = None) -> Iterator[Record]:
    """Stream one split of an MJSynth folder as Records (absolute path, label); malformed and repeated lines are counted
    in stats, and, given the same `seen` for every split, an image an earlier split listed is skipped in the later one."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    files = check_mjsynth_dir(data_dir)  # errors now, not at the first next()
    prefix = os.path.join(Path(data_dir).expanduser().resolve(), "")  # ends with a separator: + is join, but faster
    _check_images_extracted(files[split], prefix)
    derived = files[split].name == "annotation.txt"
    return _stream_mjsynth(files[split], prefix, split if derived else None, stats, seen=seen, split=split)


def _check_images_extracted(annotation: Path, prefix: str, probe: int = 20) -> None:
    """Raise when the file holds no MJSynth lines, or when none of `probe` images it names, from its head and from
    across the file, exists (the archive's images not there)."""
    # Else a partly extracted archive (the annotation files without the numbered folders) walks all 7 million lines,
    # minutes, to count every one as a missing_file, and the split ends empty. One missing folder at the head of the
    # file is not that: lines from across the file are looked at too.
    head = list(itertools.islice(_stream_mjsynth(annotation, prefix, None, None, dedupe=False), probe))
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
    return _open_text(path)  # as label files: UTF-16 by its mark, ...


IN_EARLIER_SPLIT = "in_earlier_split"  # an MJSynth image that an earlier split's file lists too: used there only


def _stream_mjsynth(path: Path, prefix: str, derived_split: str | None, stats: PrepareStats | None,
                    dedupe: bool = True, seen: dict[int, str] | None = None, split: str = "") -> Iterator[Record]:
    # Hashes of the paths so far, and the split that listed each: a line repeated would train (and score) twice, and
    # a test image also listed for training would be scored on a word the model learnt.
    listed: dict[int, str] = {} if seen is None else seen
    moved: list[str] = []  # the folder an absolute path from another machine started with, once found
    with _open_annotation(path) as f:
        for line in f:  # one line at a time: flat memory for MJSynth's 7-9 million lines
            parts = line.split()
            # 1. With a single annotation.txt, a hash of the path picks the split (stable across runs and machines).
            if derived_split is not None and mjsynth_split_of(parts[0] if parts else "") != derived_split:
                continue
            record = _parse_mjsynth(parts, prefix)
            if record is None:
                if stats is not None:
                    stats.skip(MALFORMED, line.strip()[:80] or "<blank line>")
                continue
            # 2. Absolute paths written where the archive was extracted elsewhere ('/mnt/ramdisk/max/90kDICT32px/1/...'):
            #    the same tail under data_dir.
            if not record.path.startswith(prefix) and not os.path.isfile(record.path):
                record = _moved(record, prefix, moved)
            if dedupe:
                key = hash(record.path)
                if key in listed:
                    if stats is not None:
                        stats.skip(DUPLICATE if listed[key] == split else IN_EARLIER_SPLIT, line.strip()[:80])
                    continue
                listed[key] = split
            yield record


def _moved(record: Record, prefix: str, moved: list[str]) -> Record:
    """A record whose absolute path lies on another machine, re-rooted under prefix when its tail is there."""
    if moved and record.path.startswith(moved[0]):
        return Record(prefix + record.path[len(moved[0]):], record.label)
    parts = record.path.split("/")
    for i in range(1, len(parts) - 1):
        if os.path.isfile(prefix + "/".join(parts[i:])):
            moved[:] = ["/".join(parts[:i]) + "/"]
            return Record(prefix + "/".join(parts[i:]), record.label)
    return record


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


# Label files read_folder looks for at the folder's top, in this order, and the column names it understands.
LABEL_FILES = ("labels.tsv", "labels.txt", "gt.txt", "labels.csv", "metadata.csv", "metadata.jsonl", "labels.json")
PATH_COLUMNS = ("path", "file_name", "filename", "file", "image", "image_path", "img", "name", "image_name",
                "img_name", "img_path", "file_path", "filepath", "image_file", "image_id")
LABEL_COLUMNS = ("label", "text", "transcription", "word", "identity", "ground_truth", "gt", "words", "transcript",
                 "label_text", "string")
NO_LABEL = "no_label_file"  # sidecar mode: an image without its name.gt.txt


def read_folder(data_dir: str | Path, stats: PrepareStats | None = None) -> list[Record]:
    """Records of a labelled folder (or label file): an LMDB, IAM's words.txt, a label file, else name.gt.txt sidecars,
    else file names; labels in NFC without invisible characters, '###' (illegible) counted as dont_care_label."""
    import unicodedata

    _clear_listings()  # folder listings of an earlier call may be stale
    records = []
    try:
        for r in _read_folder(data_dir, stats):
            # One Unicode form for every label: a Mac writes 'café' in file names as 'cafe' + a combining accent (NFD),
            # which would be two classes for charset="auto" and one more CTC step than the word has. Invisible
            # characters pasted from a web page or left by concatenated files (a zero-width space, a byte-order
            # mark) are no letters. Spaces around a label are a spreadsheet's or an editor's, never the word's.
            label = without_invisible(unicodedata.normalize("NFC", r.label)).strip()
            if label and not label.strip("#"):  # '###': ICDAR's (and MLT's, Total-Text's '#') mark of an illegible word
                if stats is not None:
                    stats.skip(DONT_CARE, _shown_path(r.path, data_dir))
                continue
            records.append(Record(r.path, label))
    finally:
        _clear_listings()  # a listing of a million-file folder is tens of MB
    return records


def _clear_listings() -> None:
    """Forget the folder listings and encodings kept while one folder or label file is read."""
    _lower_names.cache_clear()
    _listing.cache_clear()
    _sniff_encoding.cache_clear()


DONT_CARE = "dont_care_label"  # a label of only '#': the word is marked illegible, no text to learn or score


def _read_folder(data_dir: str | Path, stats: PrepareStats | None) -> list[Record]:
    kind, root, found = _folder_plan(data_dir)
    if stats is not None:
        stats.source = _describe(kind, root, found)
    if kind == "lmdb":
        return _read_lmdbs(found, stats)
    if kind == "iam":
        return _read_iam(found, stats)
    if kind == "label_file":
        if (holds := _not_words(found)) is not None:
            raise ValueError(f"'{found.name}' holds {holds}, not words: give the recognition list (PPOCRLabel writes "
                             "rec_gt.txt and crop_img/ with File > Export Recognition Result) as data_dir")
        if found.suffix.lower() != ".mat" and _binary(found):
            raise ValueError(f"'{found.name}' is not a text file (its first bytes are binary: a download that failed, "
                             "or another format under a text name): give the list of 'path<TAB>label' lines")
        if found.suffix.lower() in UNREAD_SUFFIXES:
            raise ValueError(f"read_folder does not read '{found.suffix}' lists ('{found.name}'): convert it to lines "
                             "'relative/path<TAB>label' in a labels.tsv (or CSV/JSON/JSONL with file_name and text)")
        records = _read_label_file(root, found, stats)
        if _garbled(r.label for r in records[:1000]) and found.suffix.lower() != ".mat" and _text_encoding(found) == "cp1252":
            sample = next(r.label for r in records if any(ord(c) > 127 for c in r.label))
            raise ValueError(f"'{found.name}' is not UTF-8, and read as Windows-1252 (Excel's Western 'CSV') its labels "
                             f"come out garbled ('{sample}'): save it again as UTF-8 (Excel: 'CSV UTF-8')")
        if not records:
            raise ValueError(f"'{found}' lists no images: expected lines 'relative/path<TAB>label' "
                             "(or 'path label', 'path, \"label\"', CSV/JSON/JSONL with file_name and text)")
        flags = {r.label.strip().lower() for r in records[:1000]}
        if len(records) >= 10 and len(flags) == 1 and flags <= {"0", "1", "true", "false", "yes", "no", "ok", "x", "checked"}:
            raise ValueError(f"every one of the {len(records)} labels in '{found.name}' is '{records[0].label}': a column "
                             "of flags, not of words; give the list that holds the words")
        if not any(is_file(r.path) for r in records):  # else every line would be a missing_file, and no data
            raise ValueError(f"none of the {len(records)} images '{found.name}' lists is there (the first: "
                             f"'{records[0].path}'): paths in a label file are read relative to its folder, '{root}'")
        return records
    if kind == "sidecars":
        records = []
        for image in found:
            sidecar = _sidecar(image)
            if sidecar is not None:
                with _open_text(sidecar) as f:
                    text = f.read()
                records.append(Record(str(image), text))
            elif stats is not None:
                stats.skip(NO_LABEL, _shown_path(str(image), root))
        return records
    # Otherwise the file name is the label, less the numbers people add to keep names unique.
    return [Record(str(p), label) for p, label in zip(found, _labels_from_names(found))]


def _describe(kind: str, root: Path, found: list[Path] | Path) -> str:
    """A plan of _folder_plan in words, for PrepareStats.source."""
    if kind == "lmdb":
        return "LMDB " + ", ".join(str(p.relative_to(root)) if p != root else p.name for p in found)
    return {"label_file": lambda: found.name, "iam": lambda: f"IAM {found.name}", "sidecars": lambda: ".gt.txt files", "names": lambda: "file names"}[kind]()


def _folder_plan(data_dir: str | Path) -> tuple[str, Path, list[Path] | Path]:
    """How read_folder reads data_dir: ("lmdb", root, folders), ("iam", root, words.txt), ("label_file", root, file),
    ("sidecars" or "names", root, images)."""
    path = Path(data_dir).expanduser().resolve()
    if not path.exists():
        raise FileNotFoundError(f"data_dir '{data_dir}' does not exist: give a folder of images or its label file")
    if path.is_file() and is_image_name(path.name):
        raise ValueError(f"data_dir '{data_dir}' is an image: give the folder that holds the images, or their label file")
    if path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES):
        raise ValueError(f"data_dir '{data_dir}' is an archive: extract it (e.g. python -m zipfile -e, tar -xf) and "
                         "give the folder it makes")
    if path.name in (LMDB_FILE, "lock.mdb") and path.is_file():
        path = path.parent
    root = path if path.is_dir() else path.parent
    # 0. A text-recognition LMDB (the benchmarks' usual packing) is unpacked once into files, then read like a folder;
    #    a label file given as data_dir is read instead.
    if path.is_dir() and (root / LMDB_FILE).is_file():
        return "lmdb", root, [root]
    # 1. IAM's words.txt (ids, not paths: 'a01-000u-00-00 ok 154 408 768 27 51 AT A'), given or in its ascii/ folder.
    known = path.is_dir() and any((root / n).is_file() for n in LABEL_FILES)  # a list of one's own wins
    given = path.is_file() and path.suffix.lower() == ".txt" and _is_iam_words(path)  # a JSON or a .mat is no words.txt
    words = (path if given else None) if path.is_file() else None if known else _iam_words_in(root)
    if words is not None:
        return "iam", words.parent, words
    # 2. A label file wins: the one given, one of LABEL_FILES, or the one text file at the top that lists images.
    label_file = _find_label_file(path)
    if label_file is not None:
        return "label_file", root, label_file
    # Files of a format OpenCV does not decode (HEIC, ...) are listed too: prepare_split counts them as unsupported_format.
    every = _walk_files(root)
    files = [p for p in every if is_image_name(p.name)]
    stems = {p.with_suffix("") for p in files}  # trdg's --output_mask writes Hello_0_mask.png beside Hello_0.jpg
    files = [p for p in files if not (p.stem.endswith("_mask") and p.with_name(p.stem[:-5]) in stems)]
    if not any(p.suffix.lower() in IMAGE_EXTENSIONS for p in files):
        if lmdbs := sorted(p.parent for p in every if p.name == LMDB_FILE):
            return "lmdb", root, lmdbs  # e.g. the evaluation folder of IIIT5k_3000/, SVT/, IC13_857/, ...
        if files:
            kinds = Counter(p.suffix.lower() for p in files)
            raise ValueError(f"folder '{data_dir}' has only images OpenCV does not decode ("
                             + ", ".join(f"{n} {ext}" for ext, n in kinds.most_common())
                             + f", e.g. '{files[0].name}'): convert them to PNG or JPEG first")
        archives = [p.name for p in every if p.name.lower().endswith(ARCHIVE_SUFFIXES)][:3]
        inside = f"; it holds {', '.join(archives)}: extract it first" if archives else ""
        raise ValueError(f"folder '{data_dir}' has no images: expected files ending in "
                         f"{', '.join(IMAGE_EXTENSIONS)}, or one of {', '.join(LABEL_FILES)}, or an LMDB (data.mdb)"
                         + inside)
    # 3. Ground-truth sidecars as tesstrain and OCRopus keep them: word.png next to word.gt.txt.
    if any(_sidecar(p) is not None for p in files):
        return "sidecars", root, files
    # 4. Label files one level down (a Hugging Face imagefolder's train/metadata.jsonl, test/...): one split at a time,
    #    never the file names of images that have labels elsewhere.
    nested = sorted(d / n for d in root.iterdir() if d.is_dir() for n in LABEL_FILES if (d / n).is_file())
    if nested:
        raise ValueError(f"'{data_dir}' has no label file at its top, but {', '.join(str(p.relative_to(root)) for p in nested)}"
                         f" below it: give one of those folders as data_dir, e.g. '{nested[0].parent}'")
    # 5. File names, unless they look like indices ('0001', 'img_1', _poor_labels) while the labels may be elsewhere:
    #    in the list of the folder above, in per-image .txt files, in a list read_folder does not know (or in a
    #    subfolder), or in the names of one folder per word. Guessing would train on '0001' or 'img'.
    labels = _labels_from_names(files)
    if 2 * sum(bool(_IAM_ID.fullmatch(p.stem)) for p in files) > len(files):  # IAM's words/a01/a01-000u/*.png
        words = _iam_words_in(root.parent) or _iam_words_in(root.parent.parent)
        where = "their labels are in IAM's words.txt (ascii.tgz): give the folder that holds it, or words.txt itself"
        if words is not None:
            give = words.parent.parent if words.parent.name == "ascii" else words.parent
            where = f"'{words}' is there: give '{give}' as data_dir"
        raise ValueError(f"'{data_dir}' holds IAM word images, whose names are ids ('{files[0].stem}'), not words; {where}")
    if _poor_labels(labels):
        # data_dir may be the images folder of a dataset whose label file sits one level up (ICDAR's gt.txt beside
        # images/): its paths then start with this folder's name.
        # Or beside it under another name (ICDAR 2015's Challenge4_Test_Task3_GT.txt beside ch4_test_word_images_gt/,
        # its names bare), or two levels up (MMOCR's textrecog_test.json above textrecog_imgs/test/).
        for up, where in ((root.parent, "one level up"), (root.parent.parent, "two levels up")):
            try:
                above = _find_label_file(up) if up != root else None
            except ValueError as e:  # several lists up there: still that folder is the one to give
                raise ValueError(f"'{data_dir}': the file names make poor labels ('{labels[0]}', ...); {e}") from None
            if above is not None and _lists_images(up, above):
                raise ValueError(f"'{data_dir}': the file names make poor labels ('{labels[0]}', '{labels[-1]}', ...), "
                                 f"and '{above}' {where} lists these images: give '{up}' as data_dir")
        texts = [p for p in every if p.suffix.lower() in LIST_SUFFIXES][:5]
        txts = {p.with_suffix(""): p for p in every if p.suffix.lower() == ".txt"}  # IMG1.TXT from a Windows tool too
        beside = [txts[p.with_suffix("")] for p in files if p.with_suffix("") in txts]
        if 2 * len(beside) >= len(files):  # img1.jpg with img1.txt: one label file per image, under another name
            raise ValueError(
                f"'{data_dir}': the file names make poor labels ('{labels[0]}', ...), and {len(beside)} images have a "
                f".txt of their own ('{beside[0].name}'): read_folder reads one label file per "
                f"image when it is named like '{beside[0].stem}.gt.txt' (tesstrain's way): rename them so")
        if texts:
            raise ValueError(
                f"'{data_dir}': no label file read_folder knows, and the file names make poor labels ('{labels[0]}', "
                f"'{labels[-1]}', ...), while {', '.join(str(t.relative_to(root)) for t in texts)} may hold them: give "
                "that list as data_dir, as 'path<TAB>label' lines (or 'path label', CSV/JSON/JSONL with file_name and text)")
        # One folder per word ('Hello/001.png', 'Hello/002.png'): the folder names may be the words, or may not
        # ('train/', 'batch_2/'), so say how to give them rather than train on '001'.
        folders = Counter(p.parent.name for p in files if p.parent != root)
        if len(folders) > 1 and 2 * sum(folders.values()) >= len(files):
            first = files[0].relative_to(root)
            raise ValueError(
                f"'{data_dir}': the file names make poor labels ('{labels[0]}', '{labels[-1]}', ...) and the images sit "
                f"in {len(folders)} subfolders ('{first}'): if each folder is a word, list them in a labels.tsv "
                f"('{first.as_posix()}<TAB>{first.parent.name}' lines) and give this folder again")
        word, n = Counter(labels).most_common(1)[0]
        if len(files) >= 3 and 10 * n >= 9 * len(files):  # 'word_1.png', 'word_2.png', ...: every image 'word'
            raise ValueError(f"'{data_dir}': the file names would label {n} of the {len(files)} images '{word}' "
                             f"('{files[0].name}', ...), and no list of their words was found here or up to two "
                             "levels up: give the label file as data_dir, or list them in a labels.tsv")
    return "names", root, files


IAM_WORDS = "words.txt"  # the IAM Handwriting Database's word list (its ascii.tgz), beside the words/ it names
_IAM_ID = re.compile(r"[a-z]\d\d-\d{3}[a-z]?-\d\d-\d\d")
_IAM_LINE = re.compile(rf"({_IAM_ID.pattern}) (ok|err?) -?\d+ (?:\S+ ){{5,6}}(.+)")
IAM_BAD_SEGMENTATION = "iam_segmentation_err"  # a words.txt line marked 'err': the word's box may cut it


def _iam_words_in(folder: Path) -> Path | None:
    """IAM's word list in a dataset folder: its words.txt, or ascii/words.txt as IAM's ascii.tgz extracts it."""
    return next((w for w in (folder / IAM_WORDS, folder / "ascii" / IAM_WORDS) if w.is_file() and _is_iam_words(w)), None)


def _is_iam_words(path: Path, lines: int = 50) -> bool:
    """Whether most of the first lines of a text file, less '#' comments, are IAM words.txt lines."""
    try:
        with _open_text(path) as f:
            head = [x.strip() for x in itertools.islice((x for x in f if x.strip() and not x.startswith("#")), lines)]
    except OSError:
        return False
    return bool(head) and 2 * sum(bool(_IAM_LINE.fullmatch(x)) for x in head) > len(head)


def _read_iam(words: Path, stats: PrepareStats | None) -> list[Record]:
    """Records of IAM's words.txt: 'a01-000u-00-00 ok ... A' -> words/a01/a01-000u/a01-000u-00-00.png, 'A'."""
    rows, bad = [], []
    with _open_text(words) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            m = _IAM_LINE.fullmatch(line.strip())
            if m is None:
                if stats is not None:
                    stats.skip(MALFORMED, line.strip()[:80])
                continue
            wid, flag, label = m.groups()
            form = wid.split("-")
            rel = Path(form[0], f"{form[0]}-{form[1]}", wid + ".png")
            (rows if flag == "ok" else bad).append((rel, label))  # IAM's own note: "er: segmentation of word can be bad"
    # words.tgz extracts to a01/a01-000u/...; people keep that under words/ beside words.txt or beside ascii/.
    bases = [b / sub for b in (words.parent, words.parent.parent) for sub in ("words", "")]
    base = next((b for b in bases for rel, _ in rows[:: max(1, len(rows) // 20)] if (b / rel).is_file()), None)
    if base is None:
        raise ValueError(f"'{words}' is IAM's word list, but none of its images is under "
                         f"{' or '.join(repr(str(b)) for b in bases[:2])}: extract IAM's words.tgz into '{bases[0]}'")
    for rel, _ in bad if stats is not None else ():  # named from the dataset's root, as the other skips are
        stats.skip(IAM_BAD_SEGMENTATION, (Path(base.name) / rel).as_posix() if base.name == "words" else rel.as_posix())
    return [Record(str(base / rel), label) for rel, label in rows]


def _sidecar(image: Path) -> Path | None:
    """The ground-truth file of one image: 'word.png' -> 'word.gt.txt' (tesstrain), '010001.bin.png' -> '010001.gt.txt' (OCRopus)."""
    for stem in dict.fromkeys((image.stem, image.name.split(".")[0])):
        if stem and (text := image.with_name(stem + ".gt.txt")).is_file():
            return text
    return None


def _poor_labels(labels: list[str]) -> bool:
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


_HASH_NAME = re.compile(r"[0-9a-fA-F]{8,}|[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".gz", ".7z", ".rar")

# Files that may hold labels: those read_folder finds by itself, and those it does not read (an error says to convert).
READ_SUFFIXES = (".txt", ".tsv", ".csv", ".jsonl", ".json", ".mat")
UNREAD_SUFFIXES = (".xml", ".xlsx", ".xls", ".ods", ".parquet", ".yaml", ".yml", ".pkl")
LIST_SUFFIXES = (*READ_SUFFIXES, ".lst", *UNREAD_SUFFIXES)


def _walk_files(root: Path) -> list[Path]:
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


# ---- LMDB (deep-text-recognition-benchmark's layout: num-samples, image-%09d, label-%09d, counted from 1) ----------

LMDB_FILE = "data.mdb"
NO_IMAGE = "no_image_in_lmdb"  # an LMDB label whose image key is missing
_MAGIC = ((b"\x89PNG", ".png"), (b"\xff\xd8", ".jpg"), (b"BM", ".bmp"), (b"GIF8", ".gif"), (b"II*\x00", ".tif"),
          (b"MM\x00*", ".tif"), (b"RIFF", ".webp"))


def _read_lmdbs(folders: Sequence[Path], stats: PrepareStats | None) -> list[Record]:
    records: list[Record] = []
    for folder in folders:
        out = unpack_lmdb(folder, stats=stats)
        records += _read_label_file(out, out / "labels.jsonl", stats)
    if not records:
        raise ValueError(f"no image with its label in the LMDB at {', '.join(map(str, folders))}: expected keys "
                         "num-samples, image-000000001, label-000000001, ... (counted from 1, or from 0)")
    return records


def unpack_lmdb(lmdb_dir: str | Path, out_dir: str | Path | None = None, stats: PrepareStats | None = None,
                progress: bool = True) -> Path:
    """Write a text-recognition LMDB's images as files plus labels.jsonl (once, cached) and return that folder."""
    try:
        import lmdb
    except ImportError as e:  # a dependency, but say what to do if someone's environment lacks it
        raise ImportError("reading an LMDB dataset needs the lmdb package: pip install lmdb") from e
    from .viz import progress_bar

    src = Path(lmdb_dir).expanduser().resolve()
    # 1. One cache folder per database file and version of it; labels.jsonl, written last, marks it complete.
    if out_dir is None:
        st = (src / LMDB_FILE).stat()
        key = zlib.crc32(f"{src}|{st.st_size}|{st.st_mtime_ns}".encode())
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        cache = (Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache") / "crnn_notebooks" / "lmdb"
        out_dir = cache / f"{src.name}-{key:08x}"
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OSError(f"cannot unpack the LMDB at '{src}' into '{out}' ({e.strerror}): set XDG_CACHE_HOME to a writable "
                      "folder, or call crnn_utils.datasets.unpack_lmdb(lmdb_dir, out_dir) and read out_dir") from None
    done, skips_file = out / "labels.jsonl", out / "skipped.json"
    if not done.is_file():
        # 2. Every label-i with its image-i. A label without an image is counted; an image that does not decode is
        #    written as it is and left to load_image, which counts it as unreadable like any damaged file.
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
        skips_file.write_text(json.dumps(skipped))
        tmp = done.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text("".join(rows), encoding="utf-8")
        os.replace(tmp, done)
    # 3. What could not be unpacked is counted on every read, the cached ones too.
    if stats is not None and skips_file.is_file():
        for reason, name in json.loads(skips_file.read_text()):
            stats.skip(reason, name)
    return out


# A file manager's second copy: "Hello (2)" (Windows, browsers), "Hello - Copy", "Hello - Copy (2)" (Windows),
# "Hello copy 2" (macOS; its first copy, "Hello copy", could be the words "carbon copy", so it stays).
_COPY_MARK = re.compile(r" \(\d+\)$| - Copy( \(\d+\))?$| copy \d+$")


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


def _labels_from_names(files: Sequence[Path]) -> list[str]:
    """The labels of a folder's file names: label_from_file_name, and trdg's '{text}_{index}' read as one folder."""
    # trdg names every image '{text}_{i}', i = 0, 1, 2...: then '2024_1' is the number 2024, its index stripped,
    # which one name alone cannot tell from a plate '2024_1'.
    labels = [label_from_file_name(p.stem) for p in files]
    ends = [re.fullmatch(r"(.+)_(\d+)", _COPY_MARK.sub("", p.stem)) for p in files]
    if len(files) >= 3 and all(ends) and len({m.group(2) for m in ends}) == len(files):
        labels = [m.group(1) if label == m.group(0) else label for m, label in zip(ends, labels)]
    return labels


def find_label_file(data_dir: str | Path) -> Path | None:
    """The label file read_folder uses: data_dir itself if a file, the first of LABEL_FILES, the one that lists images."""
    _clear_listings()
    try:
        return _find_label_file(data_dir)
    finally:
        _clear_listings()


def _find_label_file(data_dir: str | Path) -> Path | None:
    root = Path(data_dir)
    if root.is_file():
        return root
    known = next((root / n for n in LABEL_FILES if (root / n).is_file()), None)
    if known is not None:
        return known
    # Other people name their lists freely (test_gt.txt, annotation.txt, IIIT5K's converted test.txt): a text file at
    # the top counts when most of its first lines name an image that is there. Two such files is a choice for the user.
    lists = [p for p in sorted(root.glob("*")) if p.is_file() and p.suffix.lower() in READ_SUFFIXES
             and not p.name.endswith(".gt.txt") and _lists_images(root, p) and _not_words(p) is None]
    if len(lists) > 1:
        raise ValueError(f"'{data_dir}' holds {len(lists)} label files ({', '.join(p.name for p in lists)}): "
                         "give the one to read as data_dir, e.g. data_dir='" + str(root / lists[0].name) + "'")
    return lists[0] if lists else None


def _not_words(path: Path, lines: int = 20) -> str | None:
    """What a list of images holds when it is not their words (PPOCRLabel's detection boxes or checked marks), else None."""
    if path.name == "fileState.txt":
        return "PPOCRLabel's marks of the photos checked"
    if path.suffix.lower() != ".txt":
        return None
    try:
        with _open_text(path) as f:
            head = [line for _, line in zip(range(lines), f) if line.strip()]
    except OSError:
        return None
    boxes = sum('"transcription"' in line and '"points"' in line for line in head)
    return "detection boxes (PPOCRLabel's Label.txt, PaddleOCR's det_gt)" if head and 2 * boxes > len(head) else None


def _lists_images(root: Path, path: Path, lines: int = 20) -> bool:
    """Whether most of the first `lines` rows of a label file name an existing image under root."""
    try:
        rows = [row for _, (row, _) in zip(range(lines), (r for r in _file_rows(path) if r[1].strip()))]
    except Exception:  # unreadable as a list (a truncated .mat, an HTML error page saved as .mat, ...): not one
        return False
    home = _images_home(root, [row[0] for row in rows if row is not None])
    found = sum(1 for row in rows if row is not None and row[0] and _under(root, row[0], home).is_file())
    return found > 0 and found >= len(rows) / 2


def _binary(path: Path, probe: int = 4096) -> bool:
    """Whether a file that should be text starts with bytes no text has: one in twenty a control character (not UTF-16)."""
    if _text_encoding(path).startswith("utf-16"):
        return False
    with open(path, "rb") as f:
        head = f.read(probe)
    controls = sum(b < 32 and b not in (9, 10, 12, 13) for b in head)
    return len(head) >= 64 and 20 * controls >= len(head)


def _text_encoding(path: str | Path) -> str:
    """The encoding a label file is in: UTF-16 (by its byte-order mark, or by the zero byte beside every ASCII one),
    UTF-8, else Windows-1252 (Excel's "CSV" in a Western locale)."""
    # One look at the first 4 MB per file: finding, checking and reading one list opens it up to five times.
    try:
        st = os.stat(path)
    except OSError:
        return "utf-8-sig"
    return _sniff_encoding(str(path), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _sniff_encoding(path: str, size: int, mtime_ns: int, probe: int = 1 << 22) -> str:
    """_text_encoding of one version (size, modification time) of a file."""
    # Windows Notepad's "Unicode" and Excel's "Unicode text" save UTF-16; "utf-8-sig" also drops UTF-8's mark. A file
    # whose first 4 MB are not UTF-8 was saved by a Western-locale Windows program: "Café" is b"Caf\xe9" there.
    try:
        with open(path, "rb") as f:
            head = f.read(probe)
    except OSError:
        return "utf-8-sig"
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    # Without its mark (.NET's Encoding.Unicode to a stream, some exporters): ASCII text has a zero beside every
    # byte, on one side; a few zeros on the other side are characters such as U+4E00.
    even, odd = head[0:2 * (len(head) // 2):2], head[1:2 * (len(head) // 2):2]
    for zeros, others, name in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if len(zeros) >= 4 and 10 * zeros.count(0) >= 7 * len(zeros) and 20 * others.count(0) <= len(others):
            return name
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)  # a character cut at the end is not an error
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8-sig"


def _open_text(path: str | Path, newline: str | None = None):
    """A label or annotation file opened as text: UTF-16 as such; otherwise UTF-8 line by line, where any bytes that
    are not UTF-8 are read as Windows-1252, so a list with one line appended by a Windows tool keeps 'Café' in both."""
    encoding = _text_encoding(path)
    if encoding.startswith("utf-16"):
        return open(path, encoding=encoding, errors="replace", newline=newline)
    return open(path, encoding="utf-8-sig", errors=_CP1252_FALLBACK, newline=newline)


def _cp1252_bytes(error: UnicodeError) -> tuple[str, int]:
    """A codec error handler: the bytes UTF-8 could not decode, read as Windows-1252."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start:error.end].decode("cp1252", errors="replace"), error.end


_CP1252_FALLBACK = "crnn_notebooks.cp1252"
codecs.register_error(_CP1252_FALLBACK, _cp1252_bytes)


def _garbled(labels: Iterable[str]) -> bool:
    """Whether labels decoded as Windows-1252 look like text of another code page: most of their non-ASCII characters
    in runs of three or more ('Ïðèâåò' for Russian, '¼òµ¥' for Chinese), where Western words have one or two ('Café', 'ações')."""
    runs = total = 0
    for label in labels:
        for m in re.finditer(r"[^\x00-\x7f]+", label):
            total += len(m.group())
            runs += len(m.group()) if len(m.group()) >= 3 else 0
    return total >= 4 and 5 * runs >= 3 * total


def _file_rows(path: Path) -> Iterator[tuple[tuple[str, str] | None, str]]:
    """(path, label) or None, and the raw line, for each row of a label file in any format read_folder reads."""
    if path.suffix.lower() in (".mat", ".json"):
        yield from (_mat_rows if path.suffix.lower() == ".mat" else _json_file_rows)(path)
        return
    with _open_text(path, newline="") as f:
        yield from _label_rows(f, path.suffix)


def _label_rows(lines: Iterable[str], suffix: str) -> Iterator[tuple[tuple[str, str] | None, str]]:
    """(path, label) or None, and the raw line, for each line of a label file in the format its suffix names."""
    suffix = suffix.lower()
    if suffix == ".csv":
        return _csv_rows(lines)
    parse = _json_row if suffix == ".jsonl" else _text_row
    return (parse(line) for line in lines)


def _under(root: Path, rel: str, home: ImagesHome | None = None) -> Path:
    """The image a label file names: root / rel when it is there, else the first that is of the same path read as
    written on Windows (backslashes), from another machine (absolute: its tail under root), relative to the folder
    above root (a list kept in annotations/), in the other Unicode normalisation (a zip made on a Mac), in another
    letter case, or, for a bare name or an id, in the list's images folder `home` (_images_home); else root / rel."""
    import unicodedata

    first = root / rel
    if is_file(first):
        return first
    text = rel.replace("\\", "/")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if parts and parts[0].endswith(":"):  # C:
        parts = parts[1:]
    tails = ["/".join(parts[i:]) for i in range(len(parts))]
    for tail in tails:
        for form in ("NFC", "NFD"):
            # A bare name only in the list's own folder, or in its images/ (docTR keeps labels.json beside images/).
            for base in (root, root.parent) if "/" in tail else (root, root / "images"):
                candidate = base / unicodedata.normalize(form, tail)
                if is_file(candidate):
                    return candidate
    # A list written on Windows or a Mac, whose file systems ignore case: 'img_001.jpg' for IMG_001.JPG.
    if parts and (found := _case_insensitive(root / "/".join(parts))) is not None:
        return found
    # A list kept beside the images' folder, naming them bare ('word_1.png', ICDAR's test ground truth) or by an id
    # without its extension (COCO-Text's '1000000,EXIT' for train_words/1000000.jpg).
    if home is not None and len(parts) == 1 and (found := home.find(parts[0])) is not None:
        return found
    return root / text if "\\" in rel else first


class ImagesHome(NamedTuple):
    """The folder a list's bare names or ids point into, and its images by stem."""

    folder: Path
    stems: dict[str, str]

    def find(self, name: str) -> Path | None:
        """The image `name` (a bare file name, or an id without extension) names in this folder, or None."""
        if is_image_name(name):
            return self.folder / name if is_file(self.folder / name) else None
        return self.folder / self.stems[name] if name in self.stems else None


def _images_home(root: Path, names: Sequence[str], most: int = 64) -> ImagesHome | None:
    """Where a list's bare names or ids point when root does not hold them: root itself (ids) or the one of its (at
    most `most`) subfolders that holds most of them; None when none holds half of them or two hold as many."""
    bare = [n.strip() for n in names if n and "/" not in n and "\\" not in n][:50]
    bare = [n for n in bare if is_image_name(n) and not is_file(root / n) or not is_image_name(n) and _ID_NAME.fullmatch(n)]
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


DUPLICATE = "duplicate_entry"  # a label file or MJSynth annotation listing an image it already listed (the first counts)


def _read_label_file(root: Path, path: Path, stats: PrepareStats | None) -> list[Record]:
    records, listed = [], set()
    # A byte-order mark left inside the path column of lists joined together is no part of a file name.
    rows = (((without_invisible(row[0]), row[1]) if row is not None else None, raw) for row, raw in _file_rows(path))
    head = list(itertools.islice(rows, 51))
    home = _images_home(root, [row[0] for row, _ in head if row is not None])  # where bare names point
    for i, (row, raw) in enumerate(itertools.chain(head, rows)):
        # A first line that names neither a file nor an image is a header (JSON, JSONL and .mat have none).
        if i == 0 and path.suffix.lower() not in (".json", ".jsonl", ".mat") and (
                row is None or not _under(root, row[0], home).is_file() and not is_image_name(row[0])):
            continue
        # A line that cannot be split into path and label is counted, not fatal; a listed but absent file is
        # left to prepare_split, which counts it as missing_file.
        if row is None or not row[0]:
            if stats is not None:
                stats.skip(MALFORMED, raw.strip()[:80] or "<blank line>")
            continue
        # The same image twice ("a.png" and "./a.png" too) would count twice in a score and train twice: keep the first.
        image = _under(root, row[0], home)
        key = os.path.normpath(image)
        if key in listed:
            if stats is not None:
                stats.skip(DUPLICATE, raw.strip()[:80])
            continue
        listed.add(key)
        records.append(Record(str(image), _mjsynth_word(row[0], _donut_text(row[1]).strip())))
    return records


def _donut_text(label: str) -> str:
    """The text of a Donut/SynthDoG label ('{"gt_parse": {"text_sequence": "Hello"}}', a JSON string); other labels as they are."""
    if not label.lstrip().startswith('{"gt_parse"'):
        return label
    try:
        parse = json.loads(label)["gt_parse"]
    except (ValueError, KeyError, TypeError):
        return label
    if isinstance(parse, dict):
        parse = next((parse[k] for k in ("text_sequence", *LABEL_COLUMNS) if isinstance(parse.get(k), str)), parse)
    return parse if isinstance(parse, str) else label


def _mjsynth_word(rel: str, label: str) -> str:
    """The word of an MJSynth annotation line read as a label file: './1/1/3_Hello_17.jpg 17' -> 'Hello', not '17'."""
    # MJSynth's second column is the word's index in lexicon.txt; the word itself is in the file name, between the
    # first and the last underscore, and the name ends with that same index. Any other label is kept as written.
    stem = Path(rel.replace("\\", "/")).stem
    parts = stem.split("_")
    mjsynth = label.isdigit() and len(parts) >= 3 and parts[0].isdigit() and parts[-1] == label  # not 'price_199.png'
    return label_from_file_name(stem) if mjsynth else label


def _text_row(line: str) -> tuple[tuple[str, str] | None, str]:
    """'path<TAB>label', 'path, "label"' (ICDAR gt.txt; or ';'), 'id,label' (an image named by an id: COCO-Text), or
    'image.ext label' (path and label may hold spaces)."""
    line = line.rstrip("\r\n")
    if "\t" in line:
        fields = line.split("\t")
        # The path is the field that names an image (an index column may come first, the label may come first);
        # the label is the field after it (before it when the path is last). A tab is never part of a word, so
        # further columns ('a.png<TAB>Hello<TAB>train') are not the label's, nor is a score ('a.png<TAB>Hello<TAB>0.98'),
        # while a number right after the path is the label ('0<TAB>a.png<TAB>42': pandas' index first).
        at = next((j for j, x in enumerate(fields) if is_image_name(x)), 0)
        before, after = fields[:at], fields[at + 1:]
        label_first = before and (not after or all(map(_is_score, after))
                                  or all(map(_is_number, after)) and not _is_number(before[-1]))  # 'Hello<TAB>a.png<TAB>3'
        label = fields[at - 1] if label_first else after[0] if after else ""  # 'Hello<TAB>a.png<TAB>0.98' too
        return (fields[at].strip(), _unquote(_without_script(label, "\t"))), line
    for sep in (",", ";"):  # ';' where a European spreadsheet wrote the list
        head, found, tail = line.partition(sep)
        if found and is_image_name(head):
            return (head.strip(), _quoted_label(_without_script(tail, sep), sep)), line
        if found and is_image_name(tail) and not is_image_name(head):  # 'Hello,a.png'
            return (tail.strip(), _unquote(head)), line
        if found and _ID_NAME.fullmatch(head.strip()) and tail.strip() and \
                not any(map(is_image_name, re.split(r"[,; ]", line))):  # COCO-Text's '1000000,EXIT': an image's id
            return (head.strip(), _quoted_label(tail, sep)), line
    # 'image.ext label': the path ends at the first word with an image extension, so 'my photo.jpg Hello' reads too.
    words = line.split(" ")
    end = next((i for i, w in enumerate(words) if is_image_name(w)), None)
    label = " ".join(words[end + 1:]).strip() if end is not None else ""
    return ((" ".join(words[:end + 1]).strip(), _unquote(label)) if label else None), line  # 'word_1.png "Hello"'


_ID_NAME = re.compile(r"(?=[\w-]*\d)[\w-]+")  # an image named by an id, without its extension: '1000000', 'e3e70682c209'

# The script column of ICDAR MLT's word ground truth ('word_1.png,Latin,Hello'), which is not part of the word.
MLT_SCRIPTS = ("Latin", "Arabic", "Chinese", "Japanese", "Korean", "Bangla", "Hindi", "Symbols", "Mixed", "None")


def _without_script(tail: str, sep: str) -> str:
    """The label after 'path,' less an MLT script name before it: 'Latin,Hello' -> 'Hello'; any other tail as it is."""
    head, found, rest = tail.partition(sep)
    return rest if found and head.strip() in MLT_SCRIPTS and rest.strip() else tail


def _quoted_label(tail: str, sep: str) -> str:
    """The label after 'path,': ICDAR's '"Hello"' unquoted, and '"Hello", 0.98' less the scores after the quotes."""
    # Only a quoted label can be told from the numbers after it: in 'a.png,3,2,1' the commas may be the word's own.
    text = tail.strip()
    if text.startswith('"') and not text.endswith('"'):
        import csv

        fields = next(csv.reader([text], delimiter=sep, skipinitialspace=True, escapechar="\\"), [])
        if len(fields) >= 2 and len(_without_scores(fields, keep=1)) == 1:
            return fields[0]
    return _unquote(tail)


def _without_scores(fields: list[str], keep: int) -> list[str]:
    """Fields less the numbers at their end (confidences after a label), keeping at least `keep` fields."""
    end = len(fields)
    while end > keep and _is_number(fields[end - 1]):
        end -= 1
    return fields[:end]


def _is_score(text: str) -> bool:
    """Whether text is a confidence: a fraction with a point, 0 to 1 ('0.98'), not an index or a number word ('42')."""
    return "." in text and _is_number(text) and 0.0 <= float(text) <= 1.0


def _is_number(text: str) -> bool:
    """Whether text is a number, as a confidence or an index column holds."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def _unquote(label: str) -> str:
    """ICDAR's '"Tiredness"' -> 'Tiredness' (with its escapes \\" and \\\\); a label without both quotes as it is."""
    text = label.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        inner = text[1:-1]
        if '""' in inner and '\\"' not in inner:  # CSV's escaping ('say ""hi""'), as pandas and csv.writer write it
            return inner.replace('""', '"')
        return inner.replace('\\"', '"').replace('\\\\', '\\')
    return label


def _mat_rows(path: Path) -> Iterator[tuple[tuple[str, str] | None, str]]:
    """(path, label) rows of a MATLAB file's struct array, as IIIT5K ships them (testdata.mat: ImgName, GroundTruth)."""
    from scipy.io import loadmat

    try:
        data = loadmat(str(path), squeeze_me=True)
    except Exception as e:  # truncated, not a MATLAB file at all, or MATLAB 7.3 (HDF5), which scipy does not read
        raise ValueError(f"'{path}' is not a MATLAB file scipy can read ({type(e).__name__}: {e}); "
                         "a MATLAB 7.3 file needs saving again with save(..., '-v7')") from e
    for name, value in data.items():
        # Field names as MATLAB users write them: ImgName, GroundTruth, image_path, ...
        fields = [f.lower().replace("_", "") for f in (getattr(getattr(value, "dtype", None), "names", None) or ())]
        find = lambda names: next((fields.index(n) for n in (n.replace("_", "") for n in names) if n in fields), None)
        p, q = find((*PATH_COLUMNS, "imgname")), find(LABEL_COLUMNS)
        if name.startswith("__") or p is None or q is None:
            continue
        for row in np.atleast_1d(value):
            rel, label = row[p], row[q]
            yield ((rel, label) if isinstance(rel, str) and isinstance(label, str) else None), f"{rel!r}, {label!r}"[:80]
        return
    raise ValueError(f"'{path}' holds no struct array with an image name and a label field "
                     f"(e.g. IIIT5K's ImgName and GroundTruth)")


def _json_file_rows(path: Path) -> Iterator[tuple[tuple[str, str] | None, str]]:
    """(path, label) rows of a JSON label file: docTR's {"img.png": "label"}, MMOCR's data_list, a list of objects,
    pandas' column-oriented to_json, or JSON Lines under a .json name."""
    with _open_text(path) as f:
        text = f.read()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        if not e.msg.startswith("Extra data"):
            raise ValueError(f"'{path}' is not valid JSON ({e})") from None
        # JSON Lines under a .json name: Hugging Face's Dataset.to_json and pandas' to_json(lines=True) write that.
        for line in text.splitlines():
            if line.strip():
                yield _json_row(line)
        return
    columns = {k.lower(): v for k, v in data.items()} if isinstance(data, dict) else {}
    p = next((columns[n] for n in PATH_COLUMNS if isinstance(columns.get(n), dict)), None)
    q = next((columns[n] for n in LABEL_COLUMNS if isinstance(columns.get(n), dict)), None)
    if p is not None and q is not None:
        # pandas' default DataFrame.to_json: {"file_name": {"0": "a.png", ...}, "text": {"0": "Hello", ...}}
        for key, rel in p.items():
            text = _json_text(q.get(key))
            ok = isinstance(rel, str) and text is not None
            yield ((rel, text) if ok else None), f"{rel!r}: {q.get(key)!r}"[:80]
    elif isinstance(data, dict) and isinstance(data.get("data_list"), list):
        # MMOCR 1.x (textrecog_test.json): {"img_path": ..., "instances": [{"text": ...}]}, one instance per crop.
        for item in data["data_list"]:
            inst = item.get("instances") if isinstance(item, dict) else None
            text = _json_text(inst[0].get("text")) if isinstance(inst, list) and inst and isinstance(inst[0], dict) else None
            rel = item.get("img_path") if isinstance(item, dict) else None
            ok = isinstance(rel, str) and text is not None
            yield ((rel, text) if ok else None), json.dumps(item)[:80]
    elif isinstance(data, dict):
        for rel, label in data.items():
            text = _json_text(label)
            yield ((rel, text) if text is not None else None), f"{rel}: {label!r}"[:80]
    elif isinstance(data, list):
        for item in data:
            yield _json_row(json.dumps(item))[0], json.dumps(item)[:80]
    else:
        raise ValueError(f"'{path}' is JSON but neither a {{file: label}} object nor a list of records")


def _json_row(line: str) -> tuple[tuple[str, str] | None, str]:
    """One JSONL object with a path key and a label key (Hugging Face imagefolder's metadata.jsonl)."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return None, line
    if not isinstance(obj, dict):
        return None, line
    rel = next((obj[k] for k in PATH_COLUMNS if isinstance(obj.get(k), str)), None)
    label = next((text for k in LABEL_COLUMNS if (text := _json_text(obj.get(k))) is not None), None)
    return ((rel, label) if rel is not None and label is not None else None), line


def _json_text(value: object) -> str | None:
    """A JSON label as text: a string, or a whole number as pandas and Hugging Face write a number column (42, 42.0)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None


def _csv_rows(f) -> Iterator[tuple[tuple[str, str] | None, str]]:
    """CSV rows as (path, label): columns named as in PATH_COLUMNS/LABEL_COLUMNS when there is a header, else 0, 1."""

    # A spreadsheet set to a European locale saves "CSV" with ";" between the fields: Excel may say so in a first line.
    lines = iter(f)
    first = next(lines, "")
    told = re.fullmatch(r"\ufeff?sep=(.)\r?\n?", first)  # Excel's 'sep=;' line: the separator, said, and no row
    if told:
        first = next(lines, "")
    peek = [first, *itertools.islice(lines, 19)]
    lines = itertools.chain(peek[1:], lines)
    sep = told.group(1) if told else _csv_separator(peek)
    # Excel writes every row with as many fields as its widest ('a.png,Hello,' when one row has a note): when most of
    # the first rows end in an empty field, the file has that many columns and the label is one field, not 'Hello,'.
    head = [first, *itertools.islice(lines, 49)]
    rows = [r for r in (_csv_fields(line, sep) for line in head) if any(x.strip() for x in r)]
    counts = Counter(len(r) for r in rows)
    common, n = counts.most_common(1)[0] if counts else (0, 0)
    padded = common >= 3 and len(rows) >= 2 and 5 * n >= 4 * len(rows) and \
        5 * sum(len(r) == common and not r[-1].strip() for r in rows) >= 3 * len(rows)
    cols, width = (0, 1), (common if padded else None)
    # One row a line: a label never spans lines, and a lone quote ('a.png,"HIGH', a sign's text) must not swallow the
    # rows after it, as csv.reader's quoted field would, to the end of the file.
    for i, line in enumerate(itertools.chain(head, lines)):
        fields = _csv_fields(line, sep)
        if not fields:
            continue
        raw = sep.join(fields)
        lower = [x.strip().lower() for x in fields]
        if i == 0:
            p = next((lower.index(n) for n in PATH_COLUMNS if n in lower), None)
            q = next((lower.index(n) for n in LABEL_COLUMNS if n in lower), None)
            if p is None and "id" in lower and not any(is_image_name(x) for row in rows[1:] for x in row):
                p = lower.index("id")  # a Kaggle 'id,text' list: images named by the id, without an extension
            if p is not None and q is not None:
                cols, width = (p, q), len(fields)
                yield (fields[p], fields[q]), raw  # the header: read_folder's first-line rule drops it
                continue
        if cols == (0, 1) and len(fields) >= 2 and not is_image_name(fields[0]):
            # No header named the columns: the path is the field that names an image ('Hello,a.png', an index first),
            # the label the field after it (before it when the path comes last).
            at = next((j for j, x in enumerate(fields) if is_image_name(x)), None)
            if at is not None:
                label = _csv_tail(fields, at + 1, width, sep, line) if at + 1 < len(fields) else fields[at - 1]
                yield (fields[at].strip(), label), raw
                continue
        ok = len(fields) > max(cols)
        label = _csv_tail(fields, cols[1], width, sep, line) if ok and cols[1] > cols[0] else fields[cols[1]] if ok else ""
        yield ((fields[cols[0]].strip(), label) if ok else None), raw


def _csv_fields(line: str, sep: str) -> list[str]:
    """One CSV line's fields; in a line whose quotes do not pair up ('a.png,"HIGH') a quote is a character like any other."""
    import csv

    if '"' not in line:  # most lines: what csv.reader with skipinitialspace gives, five times faster
        text = line.rstrip("\r\n")
        return [x.lstrip(" ") for x in text.split(sep)] if text else []
    # skipinitialspace: 'word_1.png, "Hello, World"' (ICDAR's gt.txt saved as .csv) keeps its quoted comma.
    quoting = csv.QUOTE_MINIMAL if line.count('"') % 2 == 0 else csv.QUOTE_NONE
    return next(csv.reader([line], delimiter=sep, skipinitialspace=True, quoting=quoting), [])


def _csv_separator(head: list[str]) -> str:
    """',' or ';': the one that splits an image name off more of the first rows, else the one the first line has more of."""

    def naming(sep: str) -> int:
        return sum(any(is_image_name(x) for x in _csv_fields(line, sep)) for line in head)

    by_name = {sep: naming(sep) for sep in (",", ";")}
    if by_name[","] != by_name[";"]:  # 'a.png,A;B;C' has more ';' than ',', and its ',' splits off the image
        return max(by_name, key=by_name.get)
    first = head[0] if head else ""
    return ";" if first.count(";") > first.count(",") else ","


def _csv_tail(fields: list[str], start: int, width: int | None, sep: str, line: str) -> str:
    """The label of a CSV row from column `start` on: 'a.png,Hello, World' (more fields than the header names, or no
    header) has an unquoted separator in its label and keeps it, less trailing scores; other rows give fields[start]."""
    rest = _without_scores(fields[start:], keep=1)  # 'a.png,Hello,0.98': a score, not part of the word
    if len(rest) == 1 or width is not None and start + 1 < width or '"' in line:
        return rest[0]
    parts = line.rstrip("\r\n").split(sep)[start:start + len(rest)]  # the row's own text: spaces after a comma kept
    return sep.join(parts) if sep.join(x.lstrip() for x in parts) == sep.join(rest) else sep.join(rest)


def split_records(records: Sequence[Record], n_val: int, n_test: int, seed: int = 0) -> dict[str, list[Record]]:
    """Seeded shuffle, then n_val records to val, n_test to test and the rest to train."""
    if n_val < 0 or n_test < 0 or n_val + n_test > len(records):
        k = max(1, len(records) // 10)
        raise ValueError(f"cannot take n_val={n_val} + n_test={n_test} images out of the {len(records)} labelled ones: "
                         f"give smaller values (about a tenth each: n_val={k}, n_test={k})")
    shuffled = list(records)
    random.Random(seed).shuffle(shuffled)
    return {"train": shuffled[n_val + n_test :], "val": shuffled[:n_val], "test": shuffled[n_val : n_val + n_test]}


def shard_labels(paths: Sequence[str]) -> Iterator[str]:
    """The label texts stored in shards, in order, without decoding any pixels."""
    import tensorflow as tf

    spec = {"label": tf.io.FixedLenFeature([], tf.string)}
    for raw in tf.data.TFRecordDataset(list(paths)):
        yield tf.io.parse_single_example(raw, spec)["label"].numpy().decode("utf-8")
