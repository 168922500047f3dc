"""crnn_utils.ctc: CTCLoss against tf.nn.ctc_loss, the seed's training model, serialization, label arrays, greedy decoding."""
from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from crnn_utils.charset import Charset  # noqa: E402
from crnn_utils.ctc import (  # noqa: E402
    CTCLoss,
    ctc_loss,
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


def _loss_and_grad(logits, y, lengths, blank, kernel):
    x = tf.constant(logits)
    with tf.GradientTape() as tape:
        tape.watch(x)
        per_word = ctc_loss(tf.constant(y), x, tf.constant(lengths), blank, kernel=kernel)
        total = tf.reduce_sum(tf.where(tf.math.is_finite(per_word), per_word, 0.0))
    return per_word.numpy(), tape.gradient(total, x).numpy()


@pytest.mark.parametrize("blank", [BLANK, 0])
def test_ctc_kernel_gives_keras_ops_loss_and_gradient(blank):
    # The kernel path (sparse labels) against keras.ops.ctc_loss (kernel=False), value and gradient, with the
    # blank last (this project) and first (keras.ops' default); "abcdefghij" padded with stray ids past its length.
    logits = random_logits(seed=7)
    y = label_arrays(LABELS, CS, MAX_LEN)
    if blank == 0:
        y = np.where(y == BLANK, 0, y + 1) % 63
    lengths = np.array([len(s) for s in LABELS], np.int32)
    y[3, lengths[3]:] = 5  # whatever lies past a label's length is ignored
    fast, fast_grad = _loss_and_grad(logits, y, lengths, blank, kernel=True)
    ref, ref_grad = _loss_and_grad(logits, y, lengths, blank, kernel=False)
    np.testing.assert_allclose(fast, ref, atol=1e-4, rtol=0)
    np.testing.assert_allclose(fast_grad, ref_grad, atol=2e-4, rtol=0)  # float32: two algorithms, gradients of size ~1
    assert np.abs(ref_grad).max() > 1e-3  # a real gradient was compared


def test_ctc_kernel_gives_inf_where_a_label_cannot_fit():
    # 5 steps hold "abc" (3) and "aab" (2 + 1 doubled = 4) but not "abcdef" (6) or "aaab" (4 + 2 doubled = 6):
    # the kernel alone would raise on those, and on the empty label. They get an infinite loss (keras.ops.ctc_loss
    # gives its log-space floor, several hundred), and the empty label the all-blank path's loss, as from keras.ops.
    words = ["abc", "abcdef", "aab", "aaab", ""]
    y = label_arrays(words, CS, 8)
    lengths = np.array([len(w) for w in words], np.int32)
    logits = random_logits(n=5, steps=5, seed=8)
    fast, fast_grad = _loss_and_grad(logits, y, lengths, BLANK, kernel=True)
    ref, ref_grad = _loss_and_grad(logits, y, lengths, BLANK, kernel=False)
    assert np.isfinite(fast).tolist() == [True, False, True, False, True]
    assert np.isfinite(ref).all() and ref[[1, 3]].min() > 500
    np.testing.assert_allclose(fast[[0, 2, 4]], ref[[0, 2, 4]], atol=1e-4, rtol=0)
    np.testing.assert_allclose(fast_grad[[0, 2, 4]], ref_grad[[0, 2, 4]], atol=2e-4, rtol=0)
    assert np.all(fast_grad[[1, 3]] == 0) and np.abs(fast_grad[[0, 2, 4]]).max() > 1e-3


def test_jit_compiled_training_uses_the_dense_ctc():
    from crnn_utils import training
    cfg = {**training.recipe("fast"), "model_size": "tiny"}
    _, eager = training.build_training_model(cfg, 63, jit_compile=False)
    _, jitted = training.build_training_model(cfg, 63, jit_compile=True)
    assert eager.loss.kernel and not jitted.loss.kernel
    x = np.random.default_rng(9).random((len(LABELS), 32, 128, 1)).astype("float32")
    history = jitted.fit(x, label_arrays(LABELS, CS, MAX_LEN), epochs=1, verbose=0)  # XLA compiles the whole step
    assert np.isfinite(history.history["loss"][0])


# ---- serialization -----------------------------------------------------------------------------

def test_ctc_loss_config_round_trip():
    loss = CTCLoss(blank=9, name="my_ctc")
    cfg = loss.get_config()
    assert cfg["blank"] == 9 and cfg["name"] == "my_ctc"
    again = CTCLoss.from_config(cfg)
    assert isinstance(again, CTCLoss) and again.blank == 9 and again.name == "my_ctc" and again.kernel
    assert not CTCLoss.from_config(CTCLoss(9, kernel=False).get_config()).kernel
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
