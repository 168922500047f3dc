"""crnn_utils.model: the seed architecture, its options and argument checks, FLOPs, receptive fields, saving."""
from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from crnn_utils.charset import Charset  # noqa: E402
from crnn_utils.model import (  # noqa: E402
    MODEL_SIZES,
    SEED_NUM_CLASSES,
    SEED_PARAMS,
    build_crnn,
    build_named,
    column_receptive_fields,
    layer_table,
    logits_model,
    time_steps,
)


def batch(width=128, n=2, seed=0):
    return np.random.default_rng(seed).random((n, 32, width, 1)).astype("float32")


def run(model, x):
    return np.asarray(model(x, training=False))


def check_probs(probs, steps, classes, n=2):
    assert probs.shape == (n, steps, classes)
    assert np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)


@pytest.fixture(scope="module")
def seed_model():
    return build_crnn()


def test_seed_model_shape_and_params(seed_model):
    assert seed_model.input_shape == (None, 32, 128, 1)
    assert seed_model.output_shape == (None, 31, 63)
    assert SEED_NUM_CLASSES == 63 == Charset.seed().num_classes
    assert seed_model.count_params() == 6_619_711 == SEED_PARAMS


def test_seed_model_runs(seed_model):
    check_probs(run(seed_model, batch()), 31, 63)


def test_seed_layers_match_seed():
    names = [layer.name for layer in build_crnn().layers]
    assert [n for n in names if n.startswith("bn")] == ["bn5", "bn6"]
    assert [n for n in names if n.startswith("conv")] == [f"conv{i}" for i in range(1, 8)]
    assert "blstm1" in names and "blstm2" in names and "logits" in names and names[-1] == "softmax"


def test_time_steps():
    assert time_steps(128) == 31
    assert time_steps(256) == 63
    assert time_steps(8) == 1
    assert time_steps(7) == 0


@pytest.fixture(scope="module")
def named():
    return {size: build_named(size) for size in MODEL_SIZES}


@pytest.mark.parametrize("size", sorted(MODEL_SIZES))
def test_named_sizes_build_and_run(named, size):
    assert named[size].output_shape == (None, 31, 63)
    check_probs(run(named[size], batch()), 31, 63)


def test_named_sizes_params(named):
    assert set(named) == {"seed", "seed_bn", "full", "half", "cpu", "tiny"}
    assert named["seed"].count_params() == SEED_PARAMS
    assert named["seed_bn"].count_params() > SEED_PARAMS  # extra batch norms
    assert named["half"].count_params() < SEED_PARAMS / 2
    # full: the seed's widths (conv 7 has 512 filters) with half's additions, so a few more parameters than the seed
    assert named["full"].get_layer("conv7").output.shape[-1] == 512
    assert SEED_PARAMS < named["full"].count_params() < 1.01 * SEED_PARAMS
    assert named["cpu"].count_params() < named["half"].count_params()
    assert named["tiny"].count_params() < named["cpu"].count_params()
    assert named["cpu"].get_layer("blstm1").forward_layer.units == 64
    assert named["tiny"].get_layer("blstm1").forward_layer.units == 32
    # The CPU sizes feed the conv features to the classifier too (the shortcut); the seed does not.
    assert named["cpu"].get_layer("shortcut").output.shape[-1] == 128 + 128
    assert "shortcut" not in [layer.name for layer in named["seed"].layers]


def test_build_named_overrides_and_width():
    model = build_named("tiny", num_classes=5, input_width=64, lstm_units=8)
    assert model.output_shape == (None, 15, 5)
    assert model.get_layer("blstm2").forward_layer.units == 8


def test_build_named_unknown_size():
    with pytest.raises(ValueError, match="model_size"):
        build_named("huge")


@pytest.mark.parametrize(
    "kwargs, width, steps, classes",
    [
        (dict(batchnorm="all"), 128, 31, 63),
        (dict(batchnorm="none"), 128, 31, 63),
        (dict(width_multiplier=0.5), 128, 31, 63),
        (dict(width_multiplier=0.25, lstm_units=32), 128, 31, 63),
        (dict(width_multiplier=0.25, lstm_units=16, dropout=0.0), 128, 31, 63),
        (dict(width_multiplier=0.25, input_shape=(32, 256, 1)), 256, 63, 63),
        (dict(width_multiplier=0.25, num_classes=10), 128, 31, 10),
    ],
)
def test_options_build_and_run(kwargs, width, steps, classes):
    model = build_crnn(**kwargs)
    assert model.output_shape == (None, steps, classes)
    check_probs(run(model, batch(width)), steps, classes)


def test_batchnorm_option_counts():
    def bns(model):
        return [layer.name for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]

    kw = dict(width_multiplier=0.25, lstm_units=8)
    assert len(bns(build_crnn(batchnorm="all", **kw))) == 6
    assert bns(build_crnn(batchnorm="none", **kw)) == []
    assert bns(build_crnn(batchnorm="seed", **kw)) == ["bn5", "bn6"]


def test_bn_after_pool_moves_only_the_pooled_batch_norms():
    def order(model):
        return [layer.name for layer in model.layers if layer.name.startswith(("conv", "bn", "pool"))]

    kw = dict(width_multiplier=0.125, batchnorm="all", lstm_units=8)
    before, after = order(build_crnn(**kw)), order(build_crnn(bn_after_pool=True, **kw))
    assert sorted(before) == sorted(after)  # the same layers ...
    for i in (1, 2, 4, 6):  # ... but a pooled conv's batch norm comes after its pool
        assert before.index(f"bn{i}") < before.index(f"pool{i}") and after.index(f"bn{i}") > after.index(f"pool{i}")
    for i in (3, 5):
        assert after.index(f"bn{i}") == after.index(f"conv{i}") + 1
    assert all(MODEL_SIZES[size].get("bn_after_pool") for size in ("half", "cpu", "tiny"))
    assert not any(MODEL_SIZES[size].get("bn_after_pool") for size in ("seed", "seed_bn"))


def test_bn_after_pool_is_the_same_function_at_inference():
    # With positive scales BN is an increasing map per channel, which commutes with a max-pool: the two layouts
    # compute the same thing from the same weights (trained statistics differ, since they see different values).
    kw = dict(width_multiplier=0.125, batchnorm="all", lstm_units=8, shortcut=True)
    a, b = build_crnn(**kw), build_crnn(bn_after_pool=True, **kw)
    rng = np.random.default_rng(1)
    for layer in a.layers:
        weights = layer.get_weights()
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = (w.shape for w in weights)
            weights = [rng.uniform(0.5, 2, gamma), rng.normal(0, 1, beta), rng.normal(0, 1, mean), rng.uniform(0.5, 2, var)]
            layer.set_weights(weights)
        b.get_layer(layer.name).set_weights(weights)
    np.testing.assert_allclose(run(a, batch()), run(b, batch()), atol=1e-5)


def test_width_multiplier_scales_filters():
    half = build_crnn(width_multiplier=0.5, lstm_units=8)
    quarter = build_crnn(width_multiplier=0.25, lstm_units=8)
    assert half.get_layer("conv1").filters == 32 and half.get_layer("conv7").filters == 256
    assert quarter.get_layer("conv1").filters == 16 and quarter.get_layer("conv5").filters == 128


def test_lstm_units_option():
    model = build_crnn(width_multiplier=0.25, lstm_units=24)
    assert model.get_layer("blstm1").forward_layer.units == 24
    assert model.get_layer("logits").input.shape[-1] == 48


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(input_shape=(20, 128, 1)), "height"),
        (dict(input_shape=(48, 128, 1)), "height"),
        (dict(input_shape=(32, 4, 1)), "width"),
        (dict(input_shape=(32, 128, 2)), "channels"),
        (dict(width_multiplier=0), "width_multiplier"),
        (dict(width_multiplier=-1), "width_multiplier"),
        (dict(num_classes=1), "num_classes"),  # an empty charset plus the blank
        (dict(num_classes=0), "num_classes"),
        (dict(batchnorm="some"), "batchnorm"),
        (dict(batchnorm=True), "batchnorm"),
        (dict(dropout=1.0), "dropout"),
        (dict(lstm_units=0), "lstm_units"),
        (dict(polarity=True), "input_norm"),  # the flip needs the standardised image
    ],
)
def test_bad_arguments_raise_naming_them(kwargs, word):
    with pytest.raises(ValueError, match=word):
        build_crnn(**kwargs)


def test_layer_table_flops(seed_model):
    rows = layer_table(seed_model)
    assert [r["layer"] for r in rows] == [layer.name for layer in seed_model.layers]
    total = sum(r["flops"] for r in rows)
    assert 1.6e9 < total < 1.7e9
    assert total == pytest.approx(1.6457e9, rel=1e-4)
    assert sum(r["params"] for r in rows) == SEED_PARAMS
    by_name = {r["layer"]: r for r in rows}
    # conv1: 3x3x1 kernel, 64 filters, 32x128 output, multiply-add = 2.
    assert by_name["conv1"]["flops"] == 2 * 3 * 3 * 1 * 64 * 32 * 128
    assert by_name["conv1"]["output_shape"] == (None, 32, 128, 64)
    assert by_name["logits"]["flops"] == 2 * 256 * 63 * 31
    assert by_name["pool1"]["flops"] == 0


def test_column_receptive_fields(seed_model):
    rf = column_receptive_fields(seed_model)
    assert len(rf) == 31
    starts = [a for a, _ in rf]
    ends = [b for _, b in rf]
    assert all(0.0 <= a < b <= 128.0 for a, b in rf)
    assert starts == sorted(starts) and ends == sorted(ends)
    centres = [(a + b) / 2 for a, b in rf]
    assert all(c2 > c1 for c1, c2 in zip(centres, centres[1:]))
    assert starts[-1] > starts[0] and ends[-1] > ends[0]
    # Away from the clipped edges, neighbouring steps are 4 input pixels apart (two 2x width pools).
    assert rf[15][0] - rf[14][0] == pytest.approx(4.0)


def test_column_receptive_fields_follow_width():
    rf = column_receptive_fields(build_crnn(input_shape=(32, 256, 1), width_multiplier=0.25, lstm_units=8))
    assert len(rf) == 63
    assert rf[-1][1] == 256.0


def test_save_and_load_safe_mode(tmp_path):
    model = build_named("tiny")
    x = batch(seed=1)
    before = run(model, x)
    path = tmp_path / "tiny.keras"
    model.save(path)
    loaded = keras.models.load_model(path)  # safe_mode=True by default: no Lambda layers allowed
    np.testing.assert_array_equal(run(loaded, x), before)
    assert loaded.count_params() == model.count_params()
    assert loaded.output_shape == model.output_shape


def test_logits_model_shares_weights():
    model = build_named("tiny")
    lm = logits_model(model)
    assert lm.output_shape == (None, 31, 63)
    x = batch(seed=2)
    logits = run(lm, x)
    probs = run(model, x)
    np.testing.assert_allclose(np.asarray(keras.ops.softmax(logits, axis=-1)), probs, atol=1e-6)
    # Same variables: changing the act model's logits layer changes the logits model too.
    w, b = model.get_layer("logits").get_weights()
    model.get_layer("logits").set_weights([w, b + 1.0])
    np.testing.assert_allclose(run(lm, x), logits + 1.0, atol=1e-5)


def test_input_norm_reads_a_faint_word_as_a_dark_one():
    # The CPU sizes standardise each image first: lower contrast or a brighter background reaches the first conv
    # unchanged, so the model need not learn that invariance from data. The seed stays exactly the seed.
    import numpy as np

    from crnn_utils.model import build_named

    model = build_named("tiny")
    assert model.get_layer("image_norm").count_params() == 0
    x = np.random.default_rng(0).random((2, 32, 128, 1)).astype("float32")
    faint = 0.3 * x + 0.6  # a third of the contrast, on a light background
    np.testing.assert_allclose(model(faint, training=False), model(x, training=False), atol=2e-4)
    assert "image_norm" not in [layer.name for layer in build_named("seed").layers]


def test_polarity_reads_light_on_dark_as_dark_on_light():
    # With polarity the image is flipped when its border is darker than its mean: white text on a dark sign and black
    # text on paper reach the first conv as the same image, so the model's output does not change under 1 - x.
    import keras
    import numpy as np

    from crnn_utils.model import build_named

    flipped = build_named("tiny")
    plain = build_named("tiny", polarity=False)
    assert sum(layer.count_params() for layer in flipped.layers if "polarity" in layer.name or "edge" in layer.name) == 0
    page = np.ones((2, 32, 128, 1), "float32")
    page[:, 10:22, 20:100] = 0.1  # a dark bar (the ink) on light paper
    page += np.random.default_rng(0).random(page.shape).astype("float32") * 0.2
    np.testing.assert_allclose(flipped(1.0 - page, training=False), flipped(page, training=False), atol=2e-4)
    # Without it the two polarities give different outputs, so the check above can fail.
    assert np.abs(np.asarray(plain(1.0 - page, training=False)) - np.asarray(plain(page, training=False))).max() > 1e-3
    # Both reach conv1 as dark ink (below the mean) on a light background (above it).
    to_conv1 = keras.Model(flipped.input, flipped.get_layer("polarity_norm").output)
    for image in (page, 1.0 - page):
        seen = np.asarray(to_conv1(image))
        assert seen[0, 15, 60, 0] < 0 < seen[0, 2, 5, 0]
