"""The CRNN: the seed's architecture by default, with documented options, plus its two training constructions."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keras
from keras import layers

from .charset import SEED_CHARS
from .images import MAX_STRETCH

SEED_INPUT_SHAPE = (32, 128, 1)
SEED_NUM_CLASSES = len(SEED_CHARS) + 1  # 62 characters + the CTC blank
SEED_PARAMS = 6_619_711  # the seed's Keras summary, recomputed from the layer formulas in notebook 02

# (filters, kernel, pool after it, batch norm after it in the seed)
_CONVS = [
    (64, 3, (2, 2), False),
    (128, 3, (2, 2), False),
    (256, 3, None, False),
    (256, 3, (2, 1), False),
    (512, 3, None, True),
    (512, 3, (2, 1), True),
    (512, 2, None, False),
]

# Named model sizes that notebooks 02/03 choose between with one parameter.
MODEL_SIZES: dict[str, dict[str, Any]] = {
    # The seed, exactly:
    "seed": dict(width_multiplier=1.0, batchnorm="seed"),
    # Seed widths, batch norm after every conv:
    "seed_bn": dict(width_multiplier=1.0, batchnorm="all"),
    # The seed's widths with half's additions (6.7M): per image 1.5 points ahead of half on real crops, but 2.6x the
    # time per image on a CPU, so for machines where images are cheap (docs/experiments.md):
    "full": dict(width_multiplier=1.0, batchnorm="all", shortcut=True, bn_after_pool=True, input_norm=True,
                 polarity=True),
    # The default where the CPU has bfloat16 units (AMX, AVX512-BF16) or on a GPU (model_size="auto"):
    "half": dict(width_multiplier=0.5, batchnorm="all", shortcut=True, bn_after_pool=True, input_norm=True,
                 polarity=True),
    # The default on other CPUs:
    "cpu": dict(width_multiplier=0.25, batchnorm="all", lstm_units=64, shortcut=True, bn_after_pool=True,
                input_norm=True, polarity=True),
    # Tests and smoke runs:
    "tiny": dict(width_multiplier=0.125, batchnorm="all", lstm_units=32, shortcut=True, bn_after_pool=True,
                 input_norm=True, polarity=True),
}


@keras.saving.register_keras_serializable(package="crnn_utils")
class ReadingSpec(layers.Layer):
    """The identity on the image, carrying what reading needs in its config: the characters and max_stretch."""

    def __init__(self, chars: str, max_stretch: float = MAX_STRETCH, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.chars, self.max_stretch = str(chars), float(max_stretch)

    def call(self, inputs):
        return inputs

    def get_config(self) -> dict:
        return {**super().get_config(), "chars": self.chars, "max_stretch": self.max_stretch}


def model_spec(model: keras.Model) -> dict[str, Any] | None:
    """{"chars", "max_stretch"} carried by a model's ReadingSpec layer, or None for a model without one."""
    for layer in model.layers:
        if isinstance(layer, ReadingSpec):
            return {"chars": layer.chars, "max_stretch": layer.max_stretch}
    return None


def time_steps(input_width: int) -> int:
    """CTC time steps the conv stack yields for an input width (31 for 128)."""
    return input_width // 4 - 1


def build_crnn(
    input_shape: tuple[int, int, int] = SEED_INPUT_SHAPE,
    num_classes: int = SEED_NUM_CLASSES,
    width_multiplier: float = 1.0,
    batchnorm: str = "seed",
    lstm_units: int = 128,
    dropout: float = 0.2,
    shortcut: bool = False,
    bn_after_pool: bool = False,
    input_norm: bool = False,
    polarity: bool = False,
    name: str = "act_model",
    chars: str | None = None,
    max_stretch: float = MAX_STRETCH,
) -> keras.Model:
    """The inference model (the seed's `act_model`): image -> per-step class probabilities (batch, T, classes).

    With `chars`, the model carries its characters and `max_stretch` (a ReadingSpec layer after the input), so its
    .keras file alone is enough to read images: `Recognizer.from_model(path)`.
    """
    # 1. Check arguments before building anything, naming the allowed range.
    _check_build_args(input_shape, num_classes, width_multiplier, batchnorm, lstm_units, dropout, input_norm,
                      polarity, chars)
    height, width, _ = input_shape

    # 2. Seven convolutions, pools and batch norms, as in the seed. With bn_after_pool a batch norm that a pool
    #    follows moves after it: a max-pool commutes with BN's per-channel increasing map (γ > 0), and normalising
    #    the pooled map costs a quarter (or half) of the work, the step's costliest part on a CPU.
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs if chars is None else ReadingSpec(chars, max_stretch, name="reading_spec")(inputs)
    # With input_norm each image is shifted and scaled to mean 0, std 1 first (a LayerNormalization over the whole
    # image, no learnt parameters): a faint grey word and a black one reach the first conv alike, so the network does
    # not spend its few training steps learning to ignore contrast and brightness.
    if input_norm:
        x = layers.LayerNormalization(axis=[1, 2, 3], center=False, scale=False, epsilon=1e-4, name="image_norm")(x)
    # With polarity an image whose border is darker than its mean is then flipped (1 - x, after standardising: -x),
    # so light text on a dark sign and dark text on paper reach the first conv alike.
    if polarity:
        x = _light_background(x, height, width)
    x = _conv_stack(x, width_multiplier, batchnorm, bn_after_pool)

    # 3. Height 1 -> a sequence of time steps (a Reshape, not the seed's Lambda, so files load in safe mode).
    x = layers.Reshape((-1, x.shape[-1]), name="squeeze")(x)
    features = x

    # 4. Two bidirectional LSTMs read the sequence both ways.
    for i in (1, 2):
        lstm = layers.LSTM(lstm_units, return_sequences=True, dropout=dropout, name=f"lstm{i}")
        x = layers.Bidirectional(lstm, name=f"blstm{i}")(x)

    # 5. Optionally let the classifier see the conv features too: each column can then be read on its own
    #    from the first steps, which shortens the CTC plateau; the LSTMs add context on top.
    if shortcut:
        x = layers.Concatenate(name="shortcut")([features, x])
    # 6. Per-step class scores; softmax kept as its own layer so training can use the logits.
    logits = layers.Dense(num_classes, name="logits")(x)
    probs = layers.Activation("softmax", name="softmax", dtype="float32")(logits)
    return keras.Model(inputs, probs, name=name)


def _conv_stack(x, width_multiplier: float, batchnorm: str, bn_after_pool: bool):
    """The seed's seven convolutions with their pools and batch norms (filters scaled by width_multiplier)."""
    for i, (filters, kernel, pool, seed_bn) in enumerate(_CONVS, start=1):
        f = max(8, int(round(filters * width_multiplier)))
        x = layers.Conv2D(f, kernel, activation="relu", padding="valid" if kernel == 2 else "same", name=f"conv{i}")(x)
        bn = (batchnorm == "seed" and seed_bn) or (batchnorm == "all" and i < 7)
        late = bn and bn_after_pool and pool is not None
        if bn and not late:
            x = layers.BatchNormalization(name=f"bn{i}")(x)
        if pool is not None:
            x = layers.MaxPooling2D(pool_size=pool, strides=pool, name=f"pool{i}")(x)
        if late:
            x = layers.BatchNormalization(name=f"bn{i}")(x)
    return x


def _check_build_args(input_shape: tuple[int, int, int], num_classes: int, width_multiplier: float, batchnorm: str,
                      lstm_units: int, dropout: float, input_norm: bool, polarity: bool, chars: str | None) -> None:
    """One ValueError naming the allowed range for the first build_crnn argument that is out of it."""
    height, width, channels = input_shape
    if not 32 <= height <= 47:
        raise ValueError(f"input_shape height must be 32..47 so the conv stack ends at height 1 (got {height})")
    if time_steps(width) < 1:
        raise ValueError(f"input_shape width must be >= 8 to give at least one time step (got {width})")
    if channels not in (1, 3):
        raise ValueError(f"input_shape channels must be 1 or 3 (got {channels})")
    if not width_multiplier > 0:
        raise ValueError(f"width_multiplier must be > 0 (got {width_multiplier})")
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2: at least one character plus the blank (got {num_classes})")
    if batchnorm not in ("seed", "all", "none"):
        raise ValueError(f"batchnorm must be 'seed', 'all' or 'none' (got {batchnorm!r})")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1) (got {dropout})")
    if lstm_units < 1:
        raise ValueError(f"lstm_units must be >= 1 (got {lstm_units})")
    if polarity and not input_norm:
        raise ValueError("polarity=True needs input_norm=True: the flip compares the border with the image's mean")
    if chars is not None and len(chars) + 1 != num_classes:
        raise ValueError(f"chars has {len(chars)} characters, so num_classes must be {len(chars) + 1} (got {num_classes})")


def _light_background(x, height: int, width: int):
    """Flip a standardised image whose border is darker than its mean, so every word reaches conv1 dark on light."""
    # The border (top and bottom rows, first and last columns) is mostly background. Its mean, times a large gain
    # through tanh, is a smooth sign: +1 keeps the image, -1 flips it. A second weightless LayerNormalization
    # undoes the gain's scale when the border sits near the mean, so the image is never faded, only flipped.
    crops = {
        "top": ((0, height - 1), (0, 0)), "bottom": ((height - 1, 0), (0, 0)),
        "left": ((0, 0), (0, width - 1)), "right": ((0, 0), (width - 1, 0)),
    }
    means = [layers.GlobalAveragePooling2D(keepdims=True, name=f"edge_{side}_mean")(
        layers.Cropping2D(crop, name=f"edge_{side}")(x)) for side, crop in crops.items()]
    sign = layers.Activation("tanh", name="polarity_sign")(layers.Rescaling(20.0, name="polarity_gain")(
        layers.Average(name="edge_mean")(means)))
    x = layers.Multiply(name="polarity_flip")([x, sign])
    return layers.LayerNormalization(axis=[1, 2, 3], center=False, scale=False, epsilon=1e-6, name="polarity_norm")(x)


def build_named(model_size: str, num_classes: int = SEED_NUM_CLASSES, input_width: int = 128, **overrides: Any) -> keras.Model:
    """build_crnn with one of MODEL_SIZES ('seed', 'seed_bn', 'half', 'cpu', 'tiny')."""
    if model_size not in MODEL_SIZES:
        raise ValueError(f"model_size must be one of {sorted(MODEL_SIZES)} (got {model_size!r})")
    kwargs = {**MODEL_SIZES[model_size], **overrides}
    return build_crnn(input_shape=(32, input_width, 1), num_classes=num_classes, **kwargs)


def logits_model(act_model: keras.Model) -> keras.Model:
    """A model sharing act_model's weights that outputs the pre-softmax logits (for a stable CTC loss)."""
    return keras.Model(act_model.input, act_model.get_layer("logits").output, name="crnn_logits")


def model_config(model: keras.Model, **extra: Any) -> dict[str, Any]:
    """The facts notebook 03 needs to rebuild a model: input shape, classes, options."""
    return {"input_shape": list(model.input_shape[1:]), "num_classes": int(model.output_shape[-1]),
            "time_steps": int(model.output_shape[1]), "params": int(model.count_params()), **extra}


def save_model_config(config: dict[str, Any], model_dir: str | Path) -> Path:
    """Write model_dir/config.json."""
    path = Path(model_dir) / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2))
    return path


def layer_table(model: keras.Model) -> list[dict[str, Any]]:
    """One row per layer: name, type, output shape, parameters and forward FLOPs per image."""
    rows = []
    for layer in model.layers:
        out = layer.output.shape
        rows.append({"layer": layer.name, "type": type(layer).__name__, "output_shape": tuple(out),
                     "params": int(layer.count_params()), "flops": int(layer_flops(layer))})
    return rows


def layer_flops(layer: keras.layers.Layer) -> int:
    """Forward FLOPs per image (a multiply-add counts 2) of conv, dense and (bi)LSTM layers; 0 for the rest."""
    out = layer.output.shape
    if isinstance(layer, layers.Conv2D):
        kh, kw = layer.kernel_size
        cin = layer.input.shape[-1]
        return 2 * kh * kw * cin * out[1] * out[2] * out[3]
    if isinstance(layer, layers.Dense):
        return 2 * layer.input.shape[-1] * out[-1] * (out[1] if len(out) == 3 else 1)
    if isinstance(layer, layers.Bidirectional):
        lstm = layer.forward_layer
        steps, cin, units = layer.input.shape[1], layer.input.shape[-1], lstm.units
        return 2 * 2 * 4 * (cin + units) * units * steps  # 2 directions, 4 gates, multiply-add
    return 0


def column_receptive_fields(model: keras.Model) -> list[tuple[float, float]]:
    """For each output time step, the input pixel columns [start, end) its conv feature column sees."""
    # Track, along the width, the receptive field size, the jump between outputs and the first centre.
    rf, jump, start = 1.0, 1.0, 0.5
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            k = layer.kernel_size[1]
            pad = (k - 1) / 2 if layer.padding == "same" else 0.0
            start += ((k - 1) / 2 - pad) * jump
            rf += (k - 1) * jump
        elif isinstance(layer, layers.MaxPooling2D):
            k, s = layer.pool_size[1], layer.strides[1]
            start += (k - 1) / 2 * jump
            rf += (k - 1) * jump
            jump *= s
    steps = model.output_shape[1]
    width = model.input_shape[2]
    return [(max(0.0, start + t * jump - rf / 2), min(float(width), start + t * jump + rf / 2)) for t in range(steps)]
