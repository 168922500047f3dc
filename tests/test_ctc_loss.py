"""crnn_utils.ctc: CTCLoss against tf.nn.ctc_loss, the seed's training model, serialization, label arrays, greedy decoding."""
from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from crnn_utils.charset import Charset  # noqa: E402
from crnn_utils.ctc import (  # noqa: E402
    CTCLoss,
    blank_share,
    build_seed_training_model,
    greedy_decode,
    greedy_texts,
    label_arrays,
)
from crnn_utils.model import build_crnn, build_named, logits_model  # noqa: E402

CS = Charset.seed()
BLANK = CS.blank
LABELS = ["hello", "a", "Zz9", "abcdefghij", "aa"]  # different lengths, repeats in "hello" and "aa"
MAX_LEN = 12
STEPS = 31


def random_logits(n=len(LABELS), steps=STEPS, classes=63, seed=0):
    return (np.random.default_rng(seed).normal(size=(n, steps, classes)) * 2).astype("float32")


def reference_loss(labels, logits):
    """tf.nn.ctc_loss with explicit label and logit lengths, per example."""
    y = label_arrays(labels, CS, MAX_LEN)
    return tf.nn.ctc_loss(
        labels=tf.constant(y),
        logits=tf.constant(logits),
        label_length=tf.constant([len(s) for s in labels], tf.int32),
        logit_length=tf.constant([logits.shape[1]] * len(labels), tf.int32),
        logits_time_major=False,
        blank_index=BLANK,
    ).numpy()


# ---- label_arrays ------------------------------------------------------------------------------

def test_label_arrays_pad_with_blank():
    y = label_arrays(LABELS, CS, MAX_LEN)
    assert y.dtype == np.int32 and y.shape == (5, MAX_LEN)
    assert y[0].tolist() == CS.encode("hello") + [BLANK] * 7
    assert y[1].tolist() == [0] + [BLANK] * 11
    assert y[4].tolist() == [0, 0] + [BLANK] * 10
    assert all(CS.decode(row) == s for row, s in zip(y, LABELS))
    assert label_arrays([], CS, 4).shape == (0, 4)


# ---- CTCLoss vs tf.nn.ctc_loss -----------------------------------------------------------------

def test_ctc_loss_matches_tf_per_example():
    logits = random_logits()
    y = label_arrays(LABELS, CS, MAX_LEN)
    ref = reference_loss(LABELS, logits)
    got = np.asarray(CTCLoss(BLANK, reduction="none")(y, logits))
    assert got.shape == (5,)
    np.testing.assert_allclose(got, ref, atol=1e-4, rtol=0)
    # Different labels give different losses: the lengths were really used.
    assert len(set(np.round(got, 3))) == 5


def test_ctc_loss_default_reduction_is_mean():
    logits = random_logits(seed=1)
    y = label_arrays(LABELS, CS, MAX_LEN)
    ref = reference_loss(LABELS, logits)
    assert float(CTCLoss(BLANK)(y, logits)) == pytest.approx(float(ref.mean()), abs=1e-4)


def test_ctc_loss_negative_ids_are_padding():
    logits = random_logits(seed=2)
    y = label_arrays(LABELS, CS, MAX_LEN)
    neg = np.where(y == BLANK, -1, y)
    mixed = y.copy()
    mixed[:, -1] = -7  # some negative, some blank padding
    loss = CTCLoss(BLANK, reduction="none")
    ref = reference_loss(LABELS, logits)
    np.testing.assert_allclose(np.asarray(loss(neg, logits)), ref, atol=1e-4, rtol=0)
    np.testing.assert_allclose(np.asarray(loss(mixed, logits)), ref, atol=1e-4, rtol=0)


def test_ctc_loss_accepts_float_labels():
    logits = random_logits(seed=3)
    y = label_arrays(LABELS, CS, MAX_LEN).astype("float32")  # Keras may hand y_true as float
    np.testing.assert_allclose(
        np.asarray(CTCLoss(BLANK, reduction="none")(y, logits)), reference_loss(LABELS, logits), atol=1e-4, rtol=0
    )


def test_ctc_loss_prefers_the_right_label():
    # Logits that spell "hello" (h e l <blank> l o ...) should give "hello" a far lower loss than "help".
    path = CS.encode("hel") + [BLANK] + CS.encode("lo") + [BLANK] * (STEPS - 6)
    logits = np.full((2, STEPS, 63), -5.0, np.float32)
    logits[:, np.arange(STEPS), path] = 5.0
    y = label_arrays(["hello", "help"], CS, MAX_LEN)
    loss = np.asarray(CTCLoss(BLANK, reduction="none")(y, logits))
    assert loss[0] < 1.0 < 10.0 < loss[1]


def test_seed_training_model_matches_ctc_loss():
    act = build_crnn()
    lm = logits_model(act)
    rng = np.random.default_rng(4)
    x = rng.random((len(LABELS), 32, 128, 1)).astype("float32")
    y = label_arrays(LABELS, CS, MAX_LEN)
    train = build_seed_training_model(act, MAX_LEN)
    assert [tuple(i.shape) for i in train.inputs] == [(None, 32, 128, 1), (None, MAX_LEN), (None, 1), (None, 1)]
    seed_loss = np.asarray(train(
        [x, y.astype("float32"), np.full((5, 1), STEPS, "int64"), np.array([[len(s)] for s in LABELS], "int64")],
        training=False,
    ))
    assert seed_loss.shape == (5, 1)
    ours = np.asarray(CTCLoss(BLANK, reduction="none")(y, lm(x, training=False)))
    np.testing.assert_allclose(seed_loss[:, 0], ours, atol=1e-4, rtol=0)


# ---- serialization -----------------------------------------------------------------------------

def test_ctc_loss_config_round_trip():
    loss = CTCLoss(blank=9, name="my_ctc")
    cfg = loss.get_config()
    assert cfg["blank"] == 9 and cfg["name"] == "my_ctc"
    again = CTCLoss.from_config(cfg)
    assert isinstance(again, CTCLoss) and again.blank == 9 and again.name == "my_ctc"
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert isinstance(restored, CTCLoss) and restored.blank == 9
    logits = random_logits(n=2, classes=10, seed=5)
    y = np.array([[1, 2, 9], [3, -1, 9]], np.int32)
    np.testing.assert_allclose(np.asarray(restored(y, logits)), np.asarray(loss(y, logits)), atol=1e-6)


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_compiled_model_saves_and_loads_in_safe_mode(tmp_path):
    act = build_named("tiny", lstm_units=8)
    model = logits_model(act)
    model.compile(optimizer="adam", loss=CTCLoss(BLANK))
    x = np.random.default_rng(6).random((len(LABELS), 32, 128, 1)).astype("float32")
    y = label_arrays(LABELS, CS, MAX_LEN)
    before = model.evaluate(x, y, verbose=0)
    path = tmp_path / "compiled.keras"
    model.save(path)
    loaded = keras.models.load_model(path)  # safe_mode=True by default
    assert isinstance(loaded.loss, CTCLoss) and loaded.loss.blank == BLANK
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=0)
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(before, abs=1e-4)


# ---- greedy decoding and blank share -----------------------------------------------------------

def one_hot(path, classes=63, peak=0.9):
    probs = np.full((len(path), classes), (1 - peak) / (classes - 1), np.float32)
    probs[np.arange(len(path)), path] = peak
    return probs


def test_greedy_decode_merges_repeats_and_drops_blanks():
    a, b = CS.encode("ab")
    path = [a, a, BLANK, a, b, b, BLANK, BLANK]
    out = greedy_decode(one_hot(path), CS)  # 2-D input is one image
    assert len(out) == 1
    assert out[0].text == "aab"
    assert out[0].ids == [a, a, b]
    assert out[0].confidence == pytest.approx(0.9 ** len(path), rel=1e-4)


def test_greedy_decode_batch_and_all_blank():
    h = CS.encode("hello")
    p1 = one_hot([h[0], h[1], h[2], BLANK, h[3], h[4]])
    p2 = one_hot([BLANK] * 6)
    out = greedy_decode(np.stack([p1, p2]), CS)
    assert [d.text for d in out] == ["hello", ""]
    assert out[1].ids == []
    assert greedy_texts(np.stack([p1, p2]), CS) == ["hello", ""]
    assert 0.0 < out[0].confidence <= 1.0


def test_blank_share():
    a = CS.encode("a")[0]
    probs = np.stack([one_hot([BLANK, BLANK, a, BLANK]), one_hot([a, a, a, BLANK])])
    assert blank_share(probs, BLANK) == pytest.approx(4 / 8)
    assert blank_share(one_hot([BLANK] * 5), BLANK) == 1.0
    assert blank_share(one_hot([a] * 5), BLANK) == 0.0
