"""Raw-image exports (SavedModel 'raw', model_raw.tflite) read 256 word images of every shape as Recognizer does.

The model carries its charset and max_stretch (a ReadingSpec layer), so export_all takes them from it; 1.5 rather
than the default 2.0 shows that it does. tests/test_recognizer_export.py exports a model without that layer."""
from __future__ import annotations

import json

import cv2
import keras
import numpy as np
import pytest
import tensorflow as tf

from crnn_utils.charset import Charset
from crnn_utils.export import (
    CANVAS,
    MAX_SIDE,
    export_all,
    ids_to_texts,
    run_saved_model_raw,
    run_tflite,
    run_tflite_raw,
)
from crnn_utils.images import fit_size, preprocess, preprocess_canvas_tf
from crnn_utils.model import build_named
from crnn_utils.recognizer import Recognizer

CHARSET = Charset.seed()
STRETCH = 1.5  # the model's max_stretch
# (height, width) ranges of the word images: ordinary crops, long lines, close-ups, tiny ones.
SHAPES = {"plain": ((16, 64), (1.5, 8.0)), "wide": ((10, 40), (12.0, 60.0)), "close_up": ((100, 200), (0.6, 4.0)),
          "tiny": ((10, 14), (0.8, 3.0))}
# Sizes where rounding and resizing take their edge paths: rows unchanged (32), the width unchanged (64 -> 64),
# widths of exactly x.5 (101 * 32 / 96 * 1.5 = 50.5 rounds to 50, 51.5 to 52), one pixel, a full canvas.
EDGE_SIZES = [(32, 100), (48, 64), (96, 101), (96, 103), (1, 1), (10, 1), (1, 300), (256, 1024), (200, 12)]


def word_image(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A grey uint8 (h, w) word: random letters, font, size and stroke over a noisy gradient, dark on light or the reverse."""
    # 1. A background with a gradient and noise, so its border median is not simply white.
    light = rng.random() < 0.7
    base = rng.uniform(150, 250) if light else rng.uniform(10, 90)
    ramp = np.linspace(0, rng.uniform(-50, 50), w)[None, :] + np.linspace(0, rng.uniform(-30, 30), h)[:, None]
    img = np.clip(base + ramp + rng.normal(0, rng.uniform(1, 12), (h, w)), 0, 255).round().astype(np.uint8)
    # 2. The word, its cap height about half to 0.8 of the image's.
    word = "".join(rng.choice(list(CHARSET.chars), rng.integers(1, 12)))
    font = int(rng.choice([cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX]))
    (_, text_h), _ = cv2.getTextSize(word, font, 1.0, 1)
    scale = max(0.2, rng.uniform(0.5, 0.8) * h / text_h)
    ink = int(np.clip(base + (-1 if light else 1) * rng.uniform(80, 150), 0, 255))
    cv2.putText(img, word, (int(rng.integers(0, max(1, w // 8))), int(h * rng.uniform(0.7, 0.85))), font, scale, ink,
                max(1, int(scale * rng.uniform(1, 2.5))), cv2.LINE_AA)
    return img


@pytest.fixture(scope="module")
def words() -> list[np.ndarray]:
    """256 word images: the edge sizes, then the four kinds of SHAPES in turn (widths capped at the TFLite canvas)."""
    rng = np.random.default_rng(7)
    sizes = list(EDGE_SIZES)
    kinds = list(SHAPES.values())
    while len(sizes) < 256:
        (h_lo, h_hi), (r_lo, r_hi) = kinds[len(sizes) % len(kinds)]
        h = int(rng.integers(h_lo, h_hi + 1))
        sizes.append((h, int(np.clip(round(h * rng.uniform(r_lo, r_hi)), 1, CANVAS[1]))))
    return [word_image(rng, h, w) for h, w in sizes]


@pytest.fixture(scope="module")
def act_model() -> keras.Model:
    """The tiny model with random weights (fixed seed), its logits sharpened so texts and confidences vary."""
    keras.utils.set_random_seed(0)
    model = build_named("tiny", chars=CHARSET.chars, max_stretch=STRETCH)
    kernel, bias = model.get_layer("logits").get_weights()
    rng = np.random.default_rng(1)
    model.get_layer("logits").set_weights([rng.normal(0, 20, kernel.shape).astype(np.float32), bias])
    return model


@pytest.fixture(scope="module")
def exported(act_model, tmp_path_factory):
    return export_all(act_model, tmp_path_factory.mktemp("export"))  # charset and max_stretch from the model


@pytest.fixture(scope="module")
def expected(act_model, words):
    """Recognizer's greedy readings of the words, each read whole as the exports read it: their reference."""
    return Recognizer(act_model, CHARSET, max_stretch=STRETCH, trim=False).recognize(words, decoder="greedy")


def assert_same_readings(ids: np.ndarray, confidence: np.ndarray, expected, rtol: float) -> None:
    """Texts equal on every word, confidences within rtol; the figures are printed for the record."""
    texts = ids_to_texts(ids, CHARSET)
    differ = [(k, t, r.text) for k, (t, r) in enumerate(zip(texts, expected)) if t != r.text]
    ref = np.array([r.confidence for r in expected])
    rel = np.abs(confidence - ref) / np.maximum(ref, 1e-30)  # a path probability can underflow to 0 in both
    print(f"\n{len(texts) - len(differ)}/{len(texts)} texts equal; confidence relative difference max {rel.max():.2e}")
    assert not differ, f"{len(differ)} of {len(texts)} texts differ (index, export, Recognizer): {differ[:5]}"
    assert rel.max() < rtol


def test_the_words_are_a_fair_check(words, expected, act_model) -> None:
    # Varied sizes and varied readings; and the padding and resizing steps change the readings, so an export that
    # got either wrong would fail the comparisons below.
    heights = [w.shape[0] for w in words]
    assert len(words) == 256 and min(heights) == 1 and max(heights) == 256 and max(w.shape[1] for w in words) == 1024
    assert sum(w.shape[1] > 10 * w.shape[0] for w in words) >= 40 and sum(h >= 100 for h in heights) >= 40
    assert len({r.text for r in expected}) >= 100 and sum(r.confidence > 1e-20 for r in expected) >= 200
    recognizer = Recognizer(act_model, CHARSET, max_stretch=STRETCH, trim=False)
    reference = [r.text for r in expected]

    def changed_by(prep) -> int:
        """How many readings change when the words are preprocessed by `prep` instead (float [0, 1] input passes through)."""
        texts = [r.text for r in recognizer.recognize(np.stack([prep(w) for w in words]), decoder="greedy")]
        return sum(a != b for a, b in zip(texts, reference))

    def white_padded(image: np.ndarray) -> np.ndarray:
        out = preprocess(image, 32, 128, STRETCH)
        out[:, fit_size(*image.shape, 32, 128, STRETCH)[1]:] = 1.0
        return out

    def rows_bilinear(image: np.ndarray) -> np.ndarray:
        rows = cv2.resize(image, (image.shape[1], 32), interpolation=cv2.INTER_LINEAR)
        return preprocess(rows, 32, 128, STRETCH)

    assert changed_by(lambda w: preprocess(w, 32, 128, STRETCH)) == 0
    assert changed_by(lambda w: preprocess(w, 32, 128, 2.0)) >= 40  # the default, had export_all not read 1.5
    assert changed_by(white_padded) >= 40
    assert changed_by(rows_bilinear) >= 80


def test_in_graph_preprocessing_equals_preprocess(words) -> None:
    # On the image as its own canvas (SavedModel) and on the fixed canvas (TFLite): within 2 float32 steps.
    run = tf.function(preprocess_canvas_tf, reduce_retracing=True)
    worst = 0.0
    for image in words[:64]:
        h, w = image.shape
        canvas = np.full(CANVAS, 77, np.float32)  # what lies outside the image must not matter
        canvas[:h, :w] = image
        want = preprocess(image, 32, 128, STRETCH)
        for grey in (image.astype(np.float32), canvas):
            got = run(tf.constant(grey), tf.constant(h), tf.constant(w), 32, 128, STRETCH).numpy()
            worst = max(worst, float(np.abs(got - want).max()))
    assert worst <= 3e-7


def test_raw_saved_model_reads_as_recognizer(exported, words, expected) -> None:
    ids, confidence = run_saved_model_raw(exported["saved_model"], words)
    assert ids.shape == (256, 31) and ids.dtype == np.int32
    assert_same_readings(ids, confidence, expected, rtol=2e-4)
    # serving_default is the raw signature; 'preprocessed' keeps the old input.
    signatures = tf.saved_model.load(str(exported["saved_model"])).signatures
    assert set(signatures) == {"serving_default", "raw", "preprocessed"}
    assert signatures["serving_default"].structured_input_signature[1]["image"].dtype == tf.uint8
    batch = tf.constant(np.stack([preprocess(w, 32, 128, STRETCH) for w in words[:8]]))
    assert ids_to_texts(signatures["preprocessed"](images=batch)["ids"].numpy(), CHARSET) == [r.text for r in expected[:8]]


def test_raw_tflite_reads_as_recognizer(exported, words, expected) -> None:
    assert b"Flex" not in exported["tflite_raw"].read_bytes()  # builtin ops only
    ids, confidence = run_tflite_raw(exported["tflite_raw"], words)
    assert_same_readings(ids, confidence, expected, rtol=1e-3)
    batch = np.stack([preprocess(w, 32, 128, STRETCH) for w in words[:8]])
    assert ids_to_texts(run_tflite(exported["tflite"], batch)[0], CHARSET) == [r.text for r in expected[:8]]


def test_raw_helpers_refuse_what_they_cannot_read(exported, words) -> None:
    big = np.zeros((CANVAS[0] + 1, 40), np.uint8)
    with pytest.raises(ValueError, match="downscale"):
        run_tflite_raw(exported["tflite_raw"], big)
    with pytest.raises(ValueError, match="downscale"):
        run_saved_model_raw(exported["saved_model"], np.zeros((10, MAX_SIDE + 1), np.uint8))
    with pytest.raises(ValueError, match="grey"):
        run_tflite_raw(exported["tflite_raw"], np.zeros((20, 40, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        run_saved_model_raw(exported["saved_model"], words[20].astype(np.float32))
    with pytest.raises(ValueError, match="not a raw-image"):
        run_tflite_raw(exported["tflite"], words[20])
    # One image, (H, W) or (H, W, 1), reads as it does in a list; a SavedModel image beyond the canvas is fine.
    one = run_tflite_raw(exported["tflite_raw"], words[20][..., None])
    np.testing.assert_array_equal(one[0], run_tflite_raw(exported["tflite_raw"], [words[20]])[0])
    tall = np.concatenate([words[2]] * 3)  # 384 x 101
    assert tall.shape[0] > CANVAS[0] and run_saved_model_raw(exported["saved_model"], tall)[0].shape == (1, 31)


def test_preprocessing_json_documents_the_raw_inputs(exported) -> None:
    prep = json.loads(exported["preprocessing"].read_text())
    assert prep["max_stretch"] == STRETCH and prep["input"] == [32, 128, 1]
    assert exported["charset"].read_text(encoding="utf-8") == CHARSET.chars
    assert f"[1, {CANVAS[0]}, {CANVAS[1]}]" in prep["raw_inputs"]["tflite"]["image"]
    assert str(MAX_SIDE) in prep["raw_inputs"]["saved_model"]["image"]
