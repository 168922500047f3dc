"""Deployable exports of a trained CRNN with greedy CTC decoding inside the graph: .keras, SavedModel and TFLite.

export_all writes, every output being {'ids': int32 (B, T) greedy label ids, blank-free, left-aligned, -1 padded;
'confidence': float32 (B,)}:

- saved_model/, signature 'serving_default' (also named 'raw'): image uint8 [1, H, W], one grey image of any size
  with 1 <= H, W <= MAX_SIDE (4096); the graph preprocesses it exactly as images.preprocess does.
  Signature 'preprocessed': images float32 [B, 32, 128, 1] in [0, 1], already preprocessed by the caller.
- model_raw.tflite, signature 'serving_default': image uint8 [1, 256, 1024] (CANVAS, export_all's `canvas`), one
  grey image placed at the top left, the rest of the canvas ignored; height and width int32 [1], its true size
  (1..256, 1..1024). TFLite needs static shapes, hence the canvas; builtin ops only. A larger image must be
  downscaled by the caller first.
- model.tflite, signature 'serving_default': images float32 [B, 32, 128, 1], preprocessed (as the SavedModel's
  'preprocessed').
- model.keras (the decoding model), charset.txt, and preprocessing.json (the preprocessing and these inputs).

The raw inputs are grey: convert a colour image first (cv2.cvtColor, 0.299 R + 0.587 G + 0.114 B), which rounds to
uint8 where Recognizer keeps the float grey. The in-graph preprocessing is images.preprocess_canvas_tf: its resizes
are OpenCV's area and bilinear weights as matrices, within 2 float32 steps of images.preprocess. The charset and
max_stretch come from the model's ReadingSpec layer when it has one. run_saved_model_raw and run_tflite_raw run grey
uint8 images through the raw exports from Python.
"""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any, Sequence

import keras
import numpy as np

from . import quiet_stderr
from .charset import Charset
from .images import MAX_STRETCH

KERAS_FILE = "model.keras"
SAVED_MODEL_DIR = "saved_model"
TFLITE_FILE = "model.tflite"
CHARSET_FILE = "charset.txt"
PREPROCESSING_FILE = "preprocessing.json"
RAW_TFLITE_FILE = "model_raw.tflite"
MAX_SIDE = 4096  # the raw SavedModel signature's bound on the image's height and width
CANVAS = (256, 1024)  # model_raw.tflite's fixed uint8 canvas (height, width); the image sits at its top left


@keras.saving.register_keras_serializable(package="crnn_utils")
class GreedyDecode(keras.layers.Layer):
    """Probabilities (B, T, C) -> {'ids': (B, T) int32 collapsed, blank-free, left-aligned, -1 padded; 'confidence': (B,)}."""

    def __init__(self, blank: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.blank = int(blank)

    def call(self, probs):
        """Greedy CTC decoding with TFLite builtin ops only (ARG_MAX, NOT_EQUAL, CUMSUM, ONE_HOT, SUM, LOG, EXP)."""
        import tensorflow as tf  # tf.argmax: keras.ops.argmax adds a sign-bit fix whose BitwiseAnd TFLite lacks

        # 1. Best class per step, kept when not blank and not a repeat of the previous step (ints, no logical_and).
        steps = probs.shape[1]
        best = tf.argmax(probs, axis=-1, output_type=tf.int32)
        prev = tf.concat([tf.fill(tf.shape(best[:, :1]), -1), best[:, :-1]], axis=1)
        keep = tf.cast(tf.not_equal(best, self.blank), tf.int32) * tf.cast(tf.not_equal(best, prev), tf.int32)
        # 2. Compact to the left: kept step t goes to slot cumsum(keep)[t] - 1; the rest to slot -1 (an all-zero one-hot).
        slot = tf.where(keep > 0, tf.cumsum(keep, axis=1) - 1, -tf.ones_like(keep))
        onehot = tf.one_hot(slot, steps, dtype=tf.int32)  # (B, T steps, T slots)
        ids = tf.reduce_sum(onehot * (best + 1)[:, :, None], axis=1) - 1  # empty slots -> -1
        # 3. Confidence: probability of the best path, as ctc.greedy_decode computes it.
        confidence = tf.exp(tf.reduce_sum(tf.math.log(tf.reduce_max(probs, axis=-1) + 1e-12), axis=-1))
        return {"ids": ids, "confidence": confidence}

    def get_config(self) -> dict:
        return {**super().get_config(), "blank": self.blank}


def _inference_config(config: Any) -> Any:
    """A layer config with every recurrent layer unrolled and its dropouts off (recursing into Bidirectional)."""
    if isinstance(config, dict):
        out = {k: _inference_config(v) for k, v in config.items()}
        if "unroll" in out:
            out["unroll"] = True
            out.update({k: 0.0 for k in ("dropout", "recurrent_dropout") if k in out})
        return out
    if isinstance(config, list):
        return [_inference_config(v) for v in config]
    return config


def inference_copy(act_model: keras.Model) -> keras.Model:
    """A copy of act_model with its weights whose LSTMs are unrolled and dropout-free: no TensorList or random ops to export."""
    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        return layer.__class__.from_config(_inference_config(layer.get_config()))

    model = keras.models.clone_model(act_model, clone_function=clone)
    model.set_weights(act_model.get_weights())
    return model


def decoding_model(act_model: keras.Model) -> keras.Model:
    """image (B, H, W, 1) -> {'ids': (B, T) int32 greedy label ids padded with -1, 'confidence': (B,)} (weights copied)."""
    model = inference_copy(act_model)
    blank = int(act_model.output_shape[-1]) - 1
    outputs = GreedyDecode(blank, name="greedy_decode")(model.output)
    return keras.Model(model.input, outputs, name="crnn_greedy")


def serving_module(model: keras.Model, max_stretch: float | None = None, canvas: tuple[int, int] = CANVAS):
    """A tf.Module: serve(images) (float32 [None, H, W, C]) -> the model's outputs as a dict ('probs' if one tensor);
    with max_stretch also serve_raw(image) and serve_canvas(image, height, width) on raw grey uint8 images."""
    import tensorflow as tf

    # 1. Weights as plain tf.Variables the module tracks (Keras variables captured directly became
    #    uninitialised, garbage-reading TFLite variables in TF 2.21).
    module = tf.Module()
    module.trainable = [tf.Variable(v.numpy(), trainable=False, name=v.name) for v in model.trainable_variables]
    module.non_trainable = [tf.Variable(v.numpy(), trainable=False, name=v.name) for v in model.non_trainable_variables]
    _, height, width, channels = model.input_shape

    # 2. A stateless call reads the weights from those variables.
    def serve(images):
        outputs, _ = model.stateless_call(module.trainable, module.non_trainable, images, training=False)
        return dict(outputs) if isinstance(outputs, dict) else {"probs": outputs}

    spec = tf.TensorSpec([None, height, width, channels], tf.float32, name="images")
    module.serve = tf.function(serve, input_signature=[spec])
    # 3. The raw-image entry points, preprocessing in the graph before the same call.
    if max_stretch is not None:
        _add_raw_serving(module, serve, tuple(model.input_shape[1:]), float(max_stretch), canvas)
    return module


def _add_raw_serving(module, serve, input_shape: tuple[int, int, int], max_stretch: float,
                     canvas: tuple[int, int]) -> None:
    """Give module serve_raw (uint8 [1, H, W], H and W up to MAX_SIDE) and serve_canvas (uint8 [1, *canvas], height, width)."""
    import tensorflow as tf

    from .images import preprocess_canvas_tf

    model_h, model_w, channels = input_shape

    def model_input(grey, h, w):
        """The preprocessed (1, model_h, model_w, channels) float32 batch of the grey image grey[:h, :w]."""
        x = preprocess_canvas_tf(tf.cast(grey, tf.float32), h, w, model_h, model_w, max_stretch)
        return tf.tile(x[None], [1, 1, 1, channels])  # a 3-channel model gets the grey image in each, as Recognizer

    # 1. Any size up to MAX_SIDE: the image is its own canvas.
    def serve_raw(image):
        size = tf.shape(image)[1:3]
        checks = [tf.debugging.assert_greater_equal(size, 1, message="the image is empty"),
                  tf.debugging.assert_less_equal(size, MAX_SIDE, message=f"image height and width must be at most "
                                                 f"{MAX_SIDE}: downscale it first")]
        with tf.control_dependencies(checks):
            return serve(model_input(image[0], size[0], size[1]))

    # 2. A fixed canvas for TFLite: the true size comes as inputs, clamped to the canvas.
    def serve_canvas(image, height, width):
        h = tf.clip_by_value(height[0], 1, canvas[0])
        w = tf.clip_by_value(width[0], 1, canvas[1])
        return serve(model_input(image[0], h, w))

    module.serve_raw = tf.function(serve_raw, input_signature=[tf.TensorSpec([1, None, None], tf.uint8, name="image")])
    module.serve_canvas = tf.function(serve_canvas, input_signature=[
        tf.TensorSpec([1, *canvas], tf.uint8, name="image"), tf.TensorSpec([1], tf.int32, name="height"),
        tf.TensorSpec([1], tf.int32, name="width")])


def _quiet_tf_logger():
    """TF's Python logger at ERROR for a while ('Assets written to <tmp path>' notices are noise in notebooks)."""
    import contextlib

    import tensorflow as tf

    @contextlib.contextmanager
    def quiet():
        logger = tf.get_logger()
        level = logger.level
        logger.setLevel("ERROR")
        try:
            yield
        finally:
            logger.setLevel(level)

    return quiet()


def _save(module, path: str | os.PathLike) -> Path:
    """tf.saved_model.save of a serving_module: 'preprocessed' always; 'serving_default' = 'raw' when it has serve_raw."""
    import tensorflow as tf

    signatures = {"serving_default": module.serve, "preprocessed": module.serve}
    if hasattr(module, "serve_raw"):
        signatures.update(serving_default=module.serve_raw, raw=module.serve_raw)
    with _quiet_tf_logger():
        tf.saved_model.save(module, str(path), signatures=signatures)
    return Path(path)


def saved_model(model: keras.Model, path: str | os.PathLike, max_stretch: float | None = None) -> Path:
    """SavedModel of inference_copy(model): signature 'preprocessed' (images -> dict); with max_stretch also 'raw', the
    'serving_default' then (grey uint8 [1, H, W] -> dict, preprocessed in the graph)."""
    return _save(serving_module(inference_copy(model), max_stretch), path)


def _convert(module, function, path: str | os.PathLike, select_tf_ops: bool = False) -> Path:
    """Write the TFLite conversion of one of module's tf.functions (signature 'serving_default'); builtin ops by default."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_concrete_functions([function.get_concrete_function()], module)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS] + (
        [tf.lite.OpsSet.SELECT_TF_OPS] if select_tf_ops else [])
    path = Path(path)
    with _quiet_tf_logger():
        path.write_bytes(converter.convert())
    return path


def tflite(model: keras.Model, path: str | os.PathLike, select_tf_ops: bool = False) -> Path:
    """TFLite of inference_copy(model) (decoding or act_model) from its serving concrete function; builtin ops only by default."""
    module = serving_module(inference_copy(model))
    return _convert(module, module.serve, path, select_tf_ops)


def tflite_raw(model: keras.Model, path: str | os.PathLike, max_stretch: float, canvas: tuple[int, int] = CANVAS) -> Path:
    """TFLite of inference_copy(model) on a raw grey uint8 image [1, *canvas] (top left) plus its height and width (int32 [1])."""
    module = serving_module(inference_copy(model), max_stretch, canvas)
    return _convert(module, module.serve_canvas, path)


def _keras_roundtrip_ok(model: keras.Model, path: Path) -> bool:
    """True when `path` loads in safe mode and reproduces the model's outputs on a random batch."""
    try:
        loaded = keras.models.load_model(path, compile=False)
        x = np.random.default_rng(0).random((2, *model.input_shape[1:]), dtype=np.float32)
        a, b = model.predict_on_batch(x), loaded.predict_on_batch(x)
        return all(np.allclose(a[k], b[k], atol=1e-6) for k in ("ids", "confidence"))
    except Exception:
        return False


def export_all(act_model: keras.Model, out_dir: str | os.PathLike, charset: Charset | str | None = None,
               max_stretch: float | None = None, canvas: tuple[int, int] = CANVAS) -> dict[str, Path]:
    """Write model.keras, saved_model/, model.tflite, model_raw.tflite, preprocessing.json and charset.txt (when known).

    charset and max_stretch default to those the model carries (a ReadingSpec layer); max_stretch then to MAX_STRETCH."""
    from .model import model_spec

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = decoding_model(act_model)
    paths: dict[str, Path] = {}
    # 1. The decoding model as .keras, checked to reload in safe mode (GreedyDecode is registered); else the act_model.
    paths["keras"] = out_dir / KERAS_FILE
    model.save(paths["keras"])
    if not _keras_roundtrip_ok(model, paths["keras"]):
        warnings.warn("the decoding model did not reload from .keras; saved the act_model (probabilities) instead")
        act_model.save(paths["keras"])
    # 2. The raw-image entry points preprocess as training did: they need the run's max_stretch.
    spec = model_spec(act_model) or {}
    charset = spec.get("chars") if charset is None else charset
    if max_stretch is None and "max_stretch" not in spec:
        warnings.warn(f"max_stretch not given: the raw-image exports widen short words up to {MAX_STRETCH} times (the "
                      "default); pass the value the model was trained with (dataset.json's max_stretch)")
    max_stretch = spec.get("max_stretch", MAX_STRETCH) if max_stretch is None else max_stretch
    # 3. SavedModel and both TFLite files from one serving module (one copy of the weights, traced once).
    module = serving_module(inference_copy(model), max_stretch, canvas)
    paths["saved_model"] = _save(module, out_dir / SAVED_MODEL_DIR)
    paths["tflite"] = _convert(module, module.serve, out_dir / TFLITE_FILE)
    paths["tflite_raw"] = _convert(module, module.serve_canvas, out_dir / RAW_TFLITE_FILE)
    # 4. The characters, so ids can be turned into text without the run directory.
    if charset is not None:
        chars = charset.chars if isinstance(charset, Charset) else str(charset)
        paths["charset"] = out_dir / CHARSET_FILE
        paths["charset"].write_text(chars, encoding="utf-8")
    # 5. The inputs of each export, and the preprocessing, for code that runs them without crnn_utils.
    paths["preprocessing"] = out_dir / PREPROCESSING_FILE
    paths["preprocessing"].write_text(json.dumps(preprocessing_info(act_model.input_shape[1:], max_stretch, canvas),
                                                 indent=2))
    return paths


def preprocessing_info(input_shape: Sequence[int], max_stretch: float, canvas: tuple[int, int] = CANVAS) -> dict:
    """What preprocessing.json says: the preprocessing images.preprocess does, and the inputs of each export."""
    height, width = int(input_shape[0]), int(input_shape[1])
    return {
        "input": [height, width, 1],
        "gray": "0.299 R + 0.587 G + 0.114 B, alpha over white (over black if white leaves the image flat)",
        "resize": f"to height {height} (area when shrinking, bilinear when enlarging), then the width times up to "
                  f"{max_stretch} but at most {width} px", "max_stretch": float(max_stretch),
        "pad": "on the right, with the median of the resized image's border pixels", "scale": "pixels / 255",
        "reference": "crnn_utils.images.preprocess",
        "raw_inputs": {  # grey uint8 images, preprocessed inside the graph as above
            "saved_model": {"signature": "serving_default (also named raw)",
                            "image": f"uint8 [1, H, W], one grey image, 1 <= H <= {MAX_SIDE}, 1 <= W <= {MAX_SIDE}"},
            "tflite": {"file": RAW_TFLITE_FILE, "signature": "serving_default",
                       "image": f"uint8 [1, {canvas[0]}, {canvas[1]}], one grey image at the top left, the rest ignored",
                       "height": f"int32 [1], the image's height, 1..{canvas[0]}",
                       "width": f"int32 [1], the image's width, 1..{canvas[1]}"},
            "larger": "downscale to fit first (cv2.INTER_AREA); texts may then differ a little from the full image's",
            "colour": "convert to grey uint8 first, with the weights above",
        },
        "preprocessed_inputs": {"saved_model": "signature preprocessed", "tflite": TFLITE_FILE,
                                "images": f"float32 [B, {height}, {width}, 1] in [0, 1], preprocessed as above"},
        "outputs": {"ids": "int32 [B, T]: label ids (charset.txt positions), blank-free, left-aligned, -1 padded",
                    "confidence": "float32 [B]: the probability of the greedy path"},
    }


def _batch(images: np.ndarray) -> np.ndarray:
    """Preprocessed images (N, H, W, C) or one (H, W, C) -> float32 (N, H, W, C)."""
    images = np.asarray(images, np.float32)
    return images[None] if images.ndim == 3 else images


def _interpreter(path: str | os.PathLike):
    """A TFLite interpreter for `path` (ai_edge_litert's when installed, else TensorFlow's)."""
    with warnings.catch_warnings():  # tf.lite.Interpreter warns it will move to ai_edge_litert
        warnings.simplefilter("ignore")
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            import tensorflow as tf

            Interpreter = tf.lite.Interpreter
        return Interpreter(model_path=str(path))


def tflite_outputs(path: str | os.PathLike, images: np.ndarray) -> dict[str, np.ndarray]:
    """Run a TFLite file's serving signature on preprocessed images; its outputs by name."""
    interpreter = _interpreter(path)
    images = _batch(images)
    if len(images) == 0:
        raise ValueError("images is empty: pass at least one preprocessed image")
    with quiet_stderr():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." on every first run
        runner = interpreter.get_signature_runner("serving_default")
        return {k: np.array(v) for k, v in runner(images=images).items()}


def run_tflite(path: str | os.PathLike, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ids (N, T) int32 padded with -1, confidence (N,)) from model.tflite on preprocessed images."""
    out = tflite_outputs(path, images)
    return out["ids"], out["confidence"]


def run_saved_model(path: str | os.PathLike, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ids, confidence) from the SavedModel's 'preprocessed' signature (older exports: 'serving_default') on preprocessed images."""
    import tensorflow as tf

    signatures = tf.saved_model.load(str(path)).signatures
    signature = signatures["preprocessed" if "preprocessed" in signatures else "serving_default"]
    out = signature(images=tf.constant(_batch(images)))
    return out["ids"].numpy(), out["confidence"].numpy()


def _grey_images(images: np.ndarray | Sequence[np.ndarray], bound: tuple[int, int], export: str) -> list[np.ndarray]:
    """One grey uint8 image ((H, W) or (H, W, 1)) or a sequence of them -> (H, W) arrays; ValueError otherwise or if too large."""
    items = [images] if isinstance(images, np.ndarray) else list(images)
    out = []
    for k, image in enumerate(items):
        image = np.asarray(image)
        # 1. Grey uint8 only: a colour or float image would be preprocessed differently from Recognizer's.
        if image.ndim == 3 and image.shape[-1] == 1:
            image = image[..., 0]
        if image.ndim != 2:
            raise ValueError(f"image {k} has shape {image.shape}: the raw exports take grey images (H, W); convert "
                             "colour first (cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)), pass several as a list")
        if image.dtype != np.uint8:
            raise ValueError(f"image {k} is {image.dtype}: the raw exports take uint8 pixels 0..255")
        # 2. Within the export's bound, and not empty.
        h, w = image.shape
        if min(h, w) < 1:
            raise ValueError(f"image {k} is empty ({h}x{w} pixels)")
        if h > bound[0] or w > bound[1]:
            raise ValueError(f"image {k} is {h}x{w} pixels (height x width), larger than the {bound[0]}x{bound[1]} "
                             f"the raw {export} takes: downscale it first (cv2.resize with cv2.INTER_AREA)")
        out.append(image)
    if not out:
        raise ValueError("no images: pass one grey uint8 image or a list of them")
    return out


def run_saved_model_raw(path: str | os.PathLike,
                        gray_uint8: np.ndarray | Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(ids (N, T), confidence (N,)) from the SavedModel's 'raw' signature on one grey uint8 image or a list, each up to MAX_SIDE."""
    import tensorflow as tf

    images = _grey_images(gray_uint8, (MAX_SIDE, MAX_SIDE), "SavedModel")
    signatures = tf.saved_model.load(str(path)).signatures
    if "raw" not in signatures:
        raise ValueError(f"{path} has no 'raw' signature (it takes preprocessed images): export it with export_all")
    outs = [signatures["raw"](image=tf.constant(image[None])) for image in images]
    return (np.concatenate([o["ids"].numpy() for o in outs]),
            np.concatenate([o["confidence"].numpy() for o in outs]))


def run_tflite_raw(path: str | os.PathLike,
                   gray_uint8: np.ndarray | Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(ids (N, T), confidence (N,)) from model_raw.tflite on one grey uint8 image, or a list, each placed on its canvas."""
    # 1. The canvas size from the file's own input.
    interpreter = _interpreter(path)
    with quiet_stderr():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." on every first run
        runner = interpreter.get_signature_runner("serving_default")
        inputs = runner.get_input_details()
    if set(inputs) != {"image", "height", "width"}:
        raise ValueError(f"{path} is not a raw-image TFLite export (inputs {sorted(inputs)}): use {RAW_TFLITE_FILE}")
    _, canvas_h, canvas_w = (int(n) for n in inputs["image"]["shape"])
    # 2. Each image at the canvas's top left, with its true size.
    ids, confidence = [], []
    for image in _grey_images(gray_uint8, (canvas_h, canvas_w), f"TFLite model {Path(path).name}"):
        canvas = np.zeros((1, canvas_h, canvas_w), np.uint8)
        canvas[0, :image.shape[0], :image.shape[1]] = image
        with quiet_stderr():
            out = runner(image=canvas, height=np.array([image.shape[0]], np.int32),
                         width=np.array([image.shape[1]], np.int32))
        ids.append(np.array(out["ids"]))
        confidence.append(np.array(out["confidence"]))
    return np.concatenate(ids), np.concatenate(confidence)


def ids_to_texts(ids: np.ndarray | Sequence[Sequence[int]], charset: Charset | str) -> list[str]:
    """Exported ids (N, T), -1 padded -> texts."""
    charset = charset if isinstance(charset, Charset) else Charset(charset)
    return [charset.decode([int(i) for i in row]) for row in np.asarray(ids)]
