"""Word images -> text with a trained CRNN: files or arrays in, one Result per item out (bad files never stop the rest)."""
from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence, Union

import numpy as np

from .charset import Charset
from .ctc import DECODERS, WordIndex, best_path_log_prob, build_lexicon, decode
from .language import coverage
from .layout import word_boxes
from .images import (MAX_STRETCH, UNREADABLE, ImageError, ink_channel, is_hidden_name, is_image_name, load_image,
                     preprocess, text_box)

Item = Union[str, os.PathLike, np.ndarray]
COLOUR_MODES = ("auto", "luminance")  # Recognizer(colour=...): also read the clearest colour channel, or grey only


@dataclass
class Result:
    """One recognised item: text, confidence in [0, 1], and error (None, or an ImageError reason such as 'unreadable_image')."""

    text: str
    confidence: float
    error: str | None = None
    ids: list[int] = field(default_factory=list)
    source: str | None = None  # the file path, or None for an array

    @property
    def ok(self) -> bool:
        """True when the item was read and decoded."""
        return self.error is None


def list_images(folder: str | os.PathLike) -> list[Path]:
    """The image files directly inside `folder` by extension (HEIC and the like too: read as unsupported_format), sorted; hidden ones (macOS's '._x.png') left out."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and is_image_name(p.name) and not is_hidden_name(p.name))


def _has_images(folder: Path, look: int = 1000) -> bool:
    """Whether one of the first `look` entries of `folder` is an image (scandir: a huge folder is not read whole)."""
    with os.scandir(folder) as entries:
        return any(is_image_name(e.name) and not is_hidden_name(e.name) for e in itertools.islice(entries, look))


def _as_items(items: Item | Iterable[Item]) -> list[Item]:
    """A folder, one path, one array, a batch array (N, H, W[, C]) or an iterable of paths/arrays -> a list of items."""
    if isinstance(items, (str, os.PathLike)):  # "" names no file (Path("") would be the current folder)
        if not (str(items) and Path(items).is_dir()):
            return [items]
        found = list_images(items)
        if not found:  # a dataset folder whose images sit one level down: say so rather than read nothing
            below = [d.name for d in sorted(Path(items).iterdir()) if d.is_dir() and not is_hidden_name(d.name)
                     and _has_images(d)]
            if below:
                raise ValueError(f"no images directly in '{items}', but in its subfolders {', '.join(below[:5])}: give "
                                 "one of those, or the list of files")
        return found
    if isinstance(items, np.ndarray):
        if items.ndim == 4 or (items.ndim == 3 and items.shape[-1] not in (1, 3, 4)):
            return list(items)  # (N, H, W, C) or (N, H, W): a batch
        return [items]  # (H, W) or (H, W, C): one image
    return list(items)


def _to_uint8_range(image: np.ndarray) -> np.ndarray:
    """Float images in [0, 1] (the model's own input range) -> 0..255, so `preprocess` sees pixel values."""
    if np.issubdtype(image.dtype, np.floating) and image.size and float(np.nanmax(image)) <= 1.0:
        return image * 255.0
    return image


class Recognizer:
    """A CRNN inference model plus its charset: images -> text with the greedy, beam, beam_lm or lexicon decoder."""

    def __init__(self, model, charset: Charset | str | None = None, lexicon: "Sequence[str] | WordIndex | None" = None,
                 max_stretch: float | None = None, colour: str = "auto", trim: bool = True) -> None:
        import tensorflow as tf

        from .model import model_spec
        from .training import act_from_train

        # 1. A model of per-step class scores, (batch, steps, classes); a training model (notebook 03's last.keras)
        #    ends in logits: read with its softmax, or the decoders would take logits for probabilities.
        shape = model.output_shape
        if not (isinstance(shape, tuple) and len(shape) == 3 and isinstance(shape[-1], int)):
            raise ValueError(f"this model outputs {shape}, not per-step class scores (batch, steps, classes): give the "
                             "inference model, checkpoints/best.keras (export/model.keras decodes inside itself)")
        model = act_from_train(model)
        # 2. The charset and max_stretch the model carries, unless given; then check the number of classes.
        spec = model_spec(model) or {}
        if charset is None and "chars" not in spec:
            raise ValueError("this model carries no charset (saved without a ReadingSpec layer): pass charset=..., or "
                             "use Recognizer.from_run_dir(run_dir), which reads it from dataset.json")
        charset = spec["chars"] if charset is None else charset
        max_stretch = spec.get("max_stretch", MAX_STRETCH) if max_stretch is None else max_stretch
        self.model = model
        self.charset = charset if isinstance(charset, Charset) else Charset(charset)
        classes = int(model.output_shape[-1])
        if classes != self.charset.num_classes:
            raise ValueError(f"model outputs {classes} classes but the charset needs {self.charset.num_classes} "
                             f"({len(self.charset)} characters + blank)")
        _, self.height, self.width, self.channels = model.input_shape
        self.max_stretch = max_stretch  # must be the value the model was trained with (dataset.json)
        # 3. Index the lexicon once (50k words take a tenth of a second).
        self.lexicon = None if lexicon is None else lexicon if isinstance(lexicon, WordIndex) else build_lexicon(lexicon)
        # 4. "auto": a colour image whose ink differs from its background more in one colour channel than in grey is
        #    read twice (grey, then that channel) and keeps the more confident reading; "luminance": grey only.
        self.colour = colour
        #    trim: an image whose word fills less than half its height (a loose crop) is also read from the word cut
        #    out of it (images.text_box), keeping the more confident reading.
        self.trim = trim
        # 5. Beam search with the English prior reads real words best (docs/experiments.md, "3. Decoding"); a charset of which
        #    the prior knows less than 90 % (other letters, many marks) gets plain beam search.
        self.decoder = "beam_lm" if coverage(self.charset) >= 0.9 else "beam"
        # 6. One traced graph for every batch size: no per-call setup as model.predict has (~5x faster at batch 1).
        spec = tf.TensorSpec([None, self.height, self.width, self.channels], tf.float32)
        self._infer = tf.function(lambda x: model(x, training=False), input_signature=[spec])

    @property
    def colour(self) -> str:
        """How colour images are read: "auto" (grey, and the ink channel when it shows the ink better) or "luminance"."""
        return self._colour

    @colour.setter
    def colour(self, mode: str) -> None:
        if mode not in COLOUR_MODES:
            raise ValueError(f"colour must be one of {', '.join(map(repr, COLOUR_MODES))} (got {mode!r})")
        self._colour = mode

    @classmethod
    def from_model(cls, path: str | os.PathLike, lexicon: "Sequence[str] | WordIndex | None" = None) -> "Recognizer":
        """Load a .keras model of notebook 03 (best.keras, or last.keras) in safe mode: nothing else needed."""
        import keras

        if not Path(path).is_file():
            raise FileNotFoundError(f"{path} not found: give a .keras file written by notebook 03 (checkpoints/best.keras)")
        return cls(keras.models.load_model(path, compile=False), lexicon=lexicon)  # safe_mode stays on

    @classmethod
    def pretrained(cls, lexicon: "Sequence[str] | WordIndex | None" = None) -> "Recognizer":
        """The model shipped with the package (trained on the project's synthetic words only), offline."""
        from .training import pretrained_file

        path = pretrained_file()
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: this installation ships no pretrained model")
        return cls.from_model(path, lexicon=lexicon)

    @classmethod
    def from_run_dir(cls, run_dir: str | os.PathLike, lexicon: "Sequence[str] | WordIndex | None" = None) -> "Recognizer":
        """Load run_dir/checkpoints/best.keras (safe mode); a model saved without its charset takes run_dir/data/dataset.json's."""
        import keras

        from .model import model_spec

        run_dir = Path(run_dir)
        model_path = run_dir / "checkpoints" / "best.keras"
        info_path = run_dir / "data" / "dataset.json"
        if not model_path.is_file():
            if not info_path.is_file():
                raise FileNotFoundError(f"{info_path} not found: run notebooks/01_dataset_preparation.ipynb with this run_dir first")
            raise FileNotFoundError(f"{model_path} not found: run notebooks/03_ctc_training.ipynb with this run_dir first")
        model = keras.models.load_model(model_path, compile=False)  # safe_mode stays on
        if model_spec(model) is not None:
            return cls(model, lexicon=lexicon)
        if not info_path.is_file():
            raise FileNotFoundError(f"{info_path} not found, and {model_path} carries no charset")
        info = json.loads(info_path.read_text())
        if "image_width" in info and int(info["image_width"]) != model.input_shape[2]:
            raise ValueError(f"dataset.json image_width {info['image_width']} != model input width {model.input_shape[2]}")
        # Runs prepared before max_stretch existed kept the aspect ratio (1.0).
        return cls(model, Charset(info["charset"]), lexicon=lexicon, max_stretch=float(info.get("max_stretch", 1.0)))

    def preprocess(self, items: Item | Iterable[Item]) -> tuple[np.ndarray, list[str | None], list[str | None]]:
        """Items -> (N, H, W, 1) float32 grey model inputs, the error reason per item (None when fine) and the source paths."""
        batch, errors, sources, _ = self._prepare(items)
        return batch, errors, sources

    def _prepare(self, items: Item | Iterable[Item]) -> tuple[np.ndarray, list[str | None], list[str | None],
                                                             list[dict]]:
        """preprocess, plus the other views to read: {index: input} of the ink channel, and of a loose crop's word."""
        items = _as_items(items)
        batch = np.zeros((len(items), self.height, self.width, 1), np.float32)
        errors: list[str | None] = [None] * len(items)
        sources: list[str | None] = [None] * len(items)
        channels: dict[int, np.ndarray] = {}
        words: dict[int, np.ndarray] = {}
        for i, item in enumerate(items):
            if isinstance(item, (str, os.PathLike)):
                sources[i] = str(item)
            try:
                image = self._load(item)
                # The one preprocessing used in training: grey, resize to height, widen/squeeze, pad to width.
                batch[i] = preprocess(image, self.height, self.width, self.max_stretch)
                channel = ink_channel(image) if self.colour == "auto" else None
                if channel is not None:
                    channels[i] = preprocess(channel, self.height, self.width, self.max_stretch)
                box = text_box(image) if self.trim else None
                if box is not None:
                    top, bottom, left, right = box
                    words[i] = preprocess(image[top:bottom, left:right], self.height, self.width, self.max_stretch)
            except ImageError as e:
                errors[i] = e.reason
        return batch, errors, sources, [channels, words]

    @staticmethod
    def _load(item: Item) -> np.ndarray:
        """A path through load_image (its ImageError reasons), or an array checked for a usable shape and values."""
        if isinstance(item, (str, os.PathLike)):
            return load_image(item)
        image = np.asarray(item)
        if image.ndim not in (2, 3) or image.size == 0 or (image.ndim == 3 and image.shape[-1] not in (1, 3, 4)):
            raise ImageError(UNREADABLE, None, f"array of shape {image.shape}")
        if image.dtype == bool:  # a mask: True is white
            image = image.astype(np.uint8) * 255
        if not (np.issubdtype(image.dtype, np.number) and np.isfinite(image).all()):
            raise ImageError(UNREADABLE, None, f"array of {image.dtype} with values that are not pixel values")
        return _to_uint8_range(image)

    def _predict(self, batch: np.ndarray, batch_size: int) -> np.ndarray:
        """Model probabilities for preprocessed images, batch_size at a time."""
        import tensorflow as tf

        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1 (got {batch_size})")
        if self.channels != 1:  # a model trained on 3-channel input gets the grey image in every channel
            batch = np.repeat(batch, self.channels, axis=-1)
        out = [self._infer(tf.constant(batch[i:i + batch_size])).numpy() for i in range(0, len(batch), batch_size)]
        if not out:
            return np.zeros((0, int(self.model.output_shape[1]), self.charset.num_classes), np.float32)
        return np.concatenate(out)

    def _read(self, items: Item | Iterable[Item], batch_size: int) -> tuple[np.ndarray, list[str | None], list[str | None]]:
        """Probabilities (N, T, classes; NaN rows for unreadable items), errors and sources: the model's one pass."""
        batch, errors, sources, views = self._prepare(items)
        ok = np.array([e is None for e in errors], bool)
        probs = np.full((len(batch), int(self.model.output_shape[1]), self.charset.num_classes), np.nan, np.float32)
        if ok.any():
            probs[ok] = self._predict(batch[ok], batch_size)
        for view in filter(None, views):  # another view's reading replaces the kept one where its best path is likelier
            index = np.array(sorted(view))
            other = self._predict(np.stack([view[i] for i in index]), batch_size)
            better = best_path_log_prob(other) > best_path_log_prob(probs[index])
            probs[index[better]] = other[better]
        return probs, errors, sources

    def probabilities(self, items: Item | Iterable[Item], batch_size: int = 256) -> np.ndarray:
        """Per-step class probabilities (N, T, classes) for plots; rows of unreadable items are NaN."""
        return self._read(items, batch_size)[0]

    def recognize(
        self,
        items: Item | Iterable[Item],
        decoder: str | None = None,
        batch_size: int = 256,
        beam_width: int = 10,
        max_distance: int = 2,
    ) -> list[Result]:
        """Read every item (paths, a folder, arrays of any size); one Result per item, by `decoder` (None: self.decoder)."""
        decoder = self.decoder if decoder is None else decoder
        return self.recognize_many(items, (decoder,), batch_size, beam_width, max_distance)[decoder]

    def read_text(self, items: Item | Iterable[Item], decoder: str | None = None,
                  batch_size: int = 256) -> list[Result]:
        """Read images of a few words (a sign, a line): each word found by its gaps, read, then joined by spaces."""
        items = _as_items(items)
        out: list[Result] = []
        chunk_size = min(batch_size, 32)  # photos held in memory at a time (a phone photo is tens of MB decoded)
        for start in range(0, len(items), chunk_size):
            chunk = items[start:start + chunk_size]
            # 1. Each image whole, and its words where layout.word_boxes finds several.
            pieces, owners, failed = [], [], {}
            for i, item in enumerate(chunk):
                try:
                    image = self._load(item)
                except ImageError as e:
                    failed[i] = e.reason
                    continue
                boxes = [box for line in word_boxes(image) for box in line]
                crops = [image[t:b, l:r] for t, b, l, r in boxes] if len(boxes) > 1 else []
                pieces += [image] + crops
                owners += [i] * (1 + len(crops))
            # 2. All of the chunk in one pass; then each image's text from its own readings.
            readings = self.recognize(pieces, decoder, batch_size) if pieces else []
            for i, item in enumerate(chunk):
                source = str(item) if isinstance(item, (str, os.PathLike)) else None
                if i in failed:
                    out.append(Result("", 0.0, error=failed[i], source=source))
                else:
                    whole, *words = [r for r, owner in zip(readings, owners) if owner == i]
                    out.append(_words_or_whole(whole, words, source))
        return out

    def recognize_many(
        self,
        items: Item | Iterable[Item],
        decoders: Sequence[str] = DECODERS,
        batch_size: int = 256,
        beam_width: int = 10,
        max_distance: int = 2,
    ) -> dict[str, list[Result]]:
        """Like recognize, with several decoders over one preprocessing and model pass: {decoder: Results}."""
        # 1. Check the decoders before any work.
        for decoder in decoders:
            if decoder not in DECODERS:
                raise ValueError(f"unknown decoder {decoder!r}; expected one of {', '.join(map(repr, DECODERS))}")
            if decoder == "lexicon" and self.lexicon is None:
                raise ValueError("decoder='lexicon' needs a lexicon: Recognizer(model, charset, lexicon=words)")
        # 2. Preprocess and run the model once; bad items get an error Result.
        probs, errors, sources = self._read(items, batch_size)
        ok = [i for i, e in enumerate(errors) if e is None]
        out = {d: [Result("", 0.0, error=e, source=s) for e, s in zip(errors, sources)] for d in decoders}
        if not ok:
            return out
        probs = probs[ok]
        # 3. Each CTC decoder on the same probabilities.
        for decoder in decoders:
            decoded = decode(probs, self.charset, decoder=decoder, beam_width=beam_width,  # beam_lm: english_prior,
                             lexicon=self.lexicon, max_distance=max_distance)             # built once per charset
            for i, d in zip(ok, decoded):
                out[decoder][i] = Result(d.text, d.confidence, None, list(d.ids), sources[i])
        return out


def _words_or_whole(whole: Result, words: list[Result], source: str | None) -> Result:
    """The words joined by spaces where they spell the whole image's reading or are likelier together; or the whole.

    The joined Result's ids are the words' label ids one after another, without a space (a charset may have none).
    """
    joined = Result(" ".join(r.text for r in words if r.text), float(np.prod([r.confidence for r in words])), None,
                    [k for r in words for k in r.ids], source)
    if words and (joined.text.replace(" ", "") == whole.text or joined.confidence > whole.confidence):
        return joined
    return Result(whole.text, whole.confidence, whole.error, whole.ids, source)


HEIGHT_BANDS = (16, 24, 32, 48, 64, 96)  # crop heights (px) where score_folder's by-height bands start


def height_band(height: int) -> tuple[int, str]:
    """The band of HEIGHT_BANDS a crop height falls in: (its lower edge, a name such as "32-47 px")."""
    low = max((b for b in HEIGHT_BANDS if b <= height), default=0)
    high = next((b - 1 for b in HEIGHT_BANDS if b > height), None)
    return low, (f"{low}-{high} px" if high is not None else f"{low}+ px")


def score_folder(recognizer: Recognizer, folder: str | os.PathLike, decoders: Sequence[str] = ("greedy",),
                 batch_size: int = 256, groups: Mapping[str, str] | None = None, text: bool = False) -> dict:
    """Score a labelled folder (any label format read_folder reads): {decoder: metrics}, unreadable, skipped, by-height accuracy.

    Unreadable images count as wrong (an empty reading, as a user would get); lines read_folder could not use are
    counted under "skipped" by reason. "greedy_any_case_by_height" gives the first decoder's any-case accuracy per
    band of image height (HEIGHT_BANDS), since small crops are blurred and large ones close-ups; "misread" the first
    12 words the first decoder got wrong, ignoring case ({"path", "label", "read", "error"}), to look at;
    "chars_not_in_model" the label characters the model cannot output, "labels_not_in_model" how many labels use
    them, "n_alnum36" how many labels keep a letter or digit (what word_acc_alnum36 is over). `groups` (file name ->
    group, such as the background kind) adds "greedy_any_case_by_group" alike; files it does not name fall in the
    group "other". `text` reads each image with read_text (labels of several words, separated by spaces).
    """
    from .datasets import PrepareStats, read_folder
    from .images import ImageError, image_size
    from .metrics import normalize_alnum, score, word_accuracy

    stats = PrepareStats()
    records = read_folder(folder, stats=stats)
    paths = [r.path for r in records]
    read = ({d: recognizer.read_text(paths, d, batch_size) for d in decoders} if text
            else recognizer.recognize_many(paths, decoders, batch_size=batch_size))
    labels = [" ".join(r.label.split()) if text else r.label for r in records]
    out: dict = {dec: score(labels, [res.text for res in rows]) for dec, rows in read.items()}
    first = read[decoders[0]]
    out["unreadable"] = sum(res.error is not None for res in first)
    # Characters of the labels the model has no class for: those words can only be read wrong.
    missing = set("".join(labels)) - set(recognizer.charset.chars) - ({" "} if text else set())
    out["chars_not_in_model"] = "".join(sorted(missing))
    out["n_alnum36"] = sum(bool(normalize_alnum(label)) for label in labels)  # what word_acc_alnum36 is over
    out["labels_not_in_model"] = sum(bool(missing.intersection(label)) for label in labels)
    out["skipped"] = dict(stats.skipped)
    out["misread"] = [{"path": r.path, "label": r.label, "read": res.text, "error": res.error}
                      for r, res in zip(records, first) if res.text.lower() != r.label.lower()][:12]
    def any_case_by(keys: Sequence, name: Callable = str) -> dict:
        """{name(key): {"n", "word_acc_ci"}} of the first decoder, one key per record, sorted by key."""
        members: dict = {}
        for i, key in enumerate(keys):
            members.setdefault(key, []).append(i)
        return {name(k): {"n": len(idx), "word_acc_ci": word_accuracy(
                    [labels[i] for i in idx], [first[i].text for i in idx], case_sensitive=False)}
                for k, idx in sorted(members.items())}

    def band(path: str) -> tuple[int, str]:
        try:
            size = image_size(path)
        except ImageError:
            size = None
        return height_band(size[1]) if size else (-1, "unreadable")

    out[f"{decoders[0]}_any_case_by_height"] = any_case_by([band(r.path) for r in records], name=lambda k: k[1])
    if groups is not None:
        out[f"{decoders[0]}_any_case_by_group"] = any_case_by([groups.get(Path(r.path).name, "other") for r in records])
    return out
