"""Deployable exports of a trained CRNN with greedy CTC decoding inside the graph: .keras, SavedModel and TFLite."""
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

KERAS_FILE = "model.keras"
SAVED_MODEL_DIR = "saved_model"
TFLITE_FILE = "model.tflite"
CHARSET_FILE = "charset.txt"
PREPROCESSING_FILE = "preprocessing.json"


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


def serving_module(model: keras.Model):
    """A tf.Module whose `serve(images)` (float32 [None, H, W, C]) returns the model's outputs as a dict ('probs' if one tensor)."""
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
    return module


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


def saved_model(model: keras.Model, path: str | os.PathLike) -> Path:
    """tf.saved_model.save of a tf.Module (weights of inference_copy(model)) with signature 'serving_default': images -> dict."""
    import tensorflow as tf

    module = serving_module(inference_copy(model))
    with _quiet_tf_logger():
        tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})
    return Path(path)


def tflite(model: keras.Model, path: str | os.PathLike, select_tf_ops: bool = False) -> Path:
    """TFLite of inference_copy(model) (decoding or act_model) from its serving concrete function; builtin ops only by default."""
    import tensorflow as tf

    module = serving_module(inference_copy(model))
    converter = tf.lite.TFLiteConverter.from_concrete_functions([module.serve.get_concrete_function()], module)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS] + (
        [tf.lite.OpsSet.SELECT_TF_OPS] if select_tf_ops else [])
    path = Path(path)
    with _quiet_tf_logger():
        path.write_bytes(converter.convert())
    return path


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
               max_stretch: float | None = None) -> dict[str, Path]:
    """Write model.keras (decoding model), saved_model/, model.tflite (+ charset.txt, preprocessing.json when given)."""
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
    # 2. SavedModel and TFLite of the same decoding graph: images -> {'ids', 'confidence'}.
    paths["saved_model"] = saved_model(model, out_dir / SAVED_MODEL_DIR)
    paths["tflite"] = tflite(model, out_dir / TFLITE_FILE)
    # 3. The characters, so ids can be turned into text without the run directory.
    if charset is not None:
        chars = charset.chars if isinstance(charset, Charset) else str(charset)
        paths["charset"] = out_dir / CHARSET_FILE
        paths["charset"].write_text(chars, encoding="utf-8")
    # 4. How to turn a photo into the model's input, for code that runs the exports without crnn_utils.
    if max_stretch is not None:
        _, height, width, _ = act_model.input_shape
        paths["preprocessing"] = out_dir / PREPROCESSING_FILE
        paths["preprocessing"].write_text(json.dumps({
            "input": [int(height), int(width), 1],
            "gray": "0.299 R + 0.587 G + 0.114 B, alpha over white (over black if white leaves the image flat)",
            "resize": f"to height {height} (area when shrinking, bilinear when enlarging), then the width times up to "
                      f"{max_stretch} but at most {width} px", "max_stretch": float(max_stretch),
            "pad": "on the right, with the median of the resized image's border pixels", "scale": "pixels / 255",
            "reference": "crnn_utils.images.preprocess"}, indent=2))
    return paths


def _batch(images: np.ndarray) -> np.ndarray:
    """Preprocessed images (N, H, W, C) or one (H, W, C) -> float32 (N, H, W, C)."""
    images = np.asarray(images, np.float32)
    return images[None] if images.ndim == 3 else images


def tflite_outputs(path: str | os.PathLike, images: np.ndarray) -> dict[str, np.ndarray]:
    """Run a TFLite file's serving signature on preprocessed images; its outputs by name."""
    with warnings.catch_warnings():  # tf.lite.Interpreter warns it will move to ai_edge_litert
        warnings.simplefilter("ignore")
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            import tensorflow as tf

            Interpreter = tf.lite.Interpreter
        interpreter = Interpreter(model_path=str(path))
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
    """(ids, confidence) from the SavedModel's serving_default signature on preprocessed images."""
    import tensorflow as tf

    signature = tf.saved_model.load(str(path)).signatures["serving_default"]
    out = signature(images=tf.constant(_batch(images)))
    return out["ids"].numpy(), out["confidence"].numpy()


def ids_to_texts(ids: np.ndarray | Sequence[Sequence[int]], charset: Charset | str) -> list[str]:
    """Exported ids (N, T), -1 padded -> texts."""
    charset = charset if isinstance(charset, Charset) else Charset(charset)
    return [charset.decode([int(i) for i in row]) for row in np.asarray(ids)]
