"""Training: recipes, the compiled model, callbacks (checkpoint, resume, time budget, decoded metrics), strategies."""
from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any, Iterable, NamedTuple

import keras
import numpy as np

from .charset import Charset
from .ctc import CTCLoss, SeedCTCLoss, blank_share, greedy_texts
from .metrics import cer, normalize_alnum, word_accuracy, word_accuracy_alnum
from .model import build_named, logits_model, model_spec

# Recipes: the seed's exact one, and the one chosen by experiment to get past the CTC plateau on a CPU.
RECIPES: dict[str, dict[str, Any]] = {
    "seed": dict(model_size="seed", learning_rate=1e-3, warmup_steps=0, schedule="constant", clipnorm=None,
                 loss_on="softmax", augment=False),
    "fast": dict(model_size="cpu", learning_rate=2e-3, warmup_steps=100, schedule="cosine", clipnorm=5.0,
                 loss_on="logits", augment=True),
}


def recipe(name: str, **overrides: Any) -> dict[str, Any]:
    """A copy of RECIPES[name] with overrides applied (None values are ignored)."""
    if name not in RECIPES:
        raise ValueError(f"recipe must be one of {sorted(RECIPES)} (got {name!r})")
    return {**RECIPES[name], **{k: v for k, v in overrides.items() if v is not None}}


def get_strategy(name: str = "auto"):
    """'auto' (MirroredStrategy on 2+ GPUs, else default), 'mirrored', or 'default'."""
    import tensorflow as tf

    if name == "auto":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "default":
        return tf.distribute.get_strategy()
    raise ValueError(f"strategy must be 'auto', 'mirrored' or 'default' (got {name!r})")


def build_training_model(cfg: dict[str, Any], num_classes: int, input_width: int = 128,
                         jit_compile: bool | str = "auto", precision: str = "float32",
                         spec: dict[str, Any] | None = None) -> tuple[keras.Model, keras.Model]:
    """(act_model, train_model): the inference model (carrying `spec`'s chars and max_stretch) and a compiled model sharing its weights."""
    act = build_named(cfg["model_size"], num_classes=num_classes, input_width=input_width,
                      **cfg.get("model_options", {}), **(spec or {}))
    fuse_batch_norms(act)
    if precision == "bfloat16":
        bf16_convolutions(act)
    train = act if cfg["loss_on"] == "softmax" else logits_model(act)
    compile_training_model(train, cfg, num_classes, jit_compile)
    return act, train


def fuse_batch_norms(model: keras.Model) -> int:
    """Let each image-shaped BatchNormalization train through TensorFlow's fused kernel (same weights, same files); returns how many."""
    # Keras 3 normalises in training with separate ops (moments, normalisation, their gradients): on a 2-core CPU the
    # `cpu` model's batch norms cost a sixth of a step. FusedBatchNormV3 does it in one op forward and one backward.
    # Only the layer's `call` is swapped, on this instance: files still hold plain BatchNormalization layers.
    fused = 0
    for layer in model.layers:
        if type(layer) is keras.layers.BatchNormalization and not hasattr(layer, "_crnn_plain_call"):
            layer._crnn_plain_call = layer.call
            layer.call = _fused_call(layer)
            fused += 1
    return fused


def _fused_call(layer: keras.layers.BatchNormalization):
    """The training-mode call of `layer` through tf.compat.v1.nn.fused_batch_norm; Keras's own call otherwise."""
    import tensorflow as tf

    def call(inputs, training=None, mask=None):
        usable = (training and layer.trainable and mask is None and len(inputs.shape) == 4 and layer.scale
                  and layer.center and layer.axis in (-1, 3) and inputs.dtype == tf.float32)
        if not usable:
            return layer._crnn_plain_call(inputs, training=training, mask=mask)
        out, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            inputs, layer.gamma, layer.beta, epsilon=layer.epsilon, is_training=True)[:3]
        # The op's variance carries Bessel's correction (n / (n - 1)); Keras's moving variance does not.
        n = tf.cast(tf.reduce_prod(tf.shape(inputs)[:3]), variance.dtype)
        variance = variance * (n - 1.0) / n
        momentum = layer.momentum
        layer.moving_mean.assign(layer.moving_mean * momentum + mean * (1.0 - momentum))
        layer.moving_variance.assign(layer.moving_variance * momentum + variance * (1.0 - momentum))
        return out

    return call


BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")  # Intel Xeon since Sapphire Rapids; Xeon Cooper Lake, AMD Zen 4 and later


def cpu_has_bf16(cpuinfo: str | Path = "/proc/cpuinfo") -> bool:
    """True on a CPU that multiplies bfloat16 natively (AMX-BF16 or AVX512-BF16), read from /proc/cpuinfo (Linux only)."""
    try:
        with open(cpuinfo) as f:
            return any(line.startswith("flags") and set(BF16_CPU_FLAGS) & set(line.split()) for line in f)
    except OSError:
        return False


def precision_mode(mixed_precision: bool | str = "auto") -> str:
    """Notebook 03's `mixed_precision` as 'float32', 'bfloat16' (convolutions, cpu_has_bf16) or 'float16' (GPUs)."""
    if mixed_precision == "auto":
        return "bfloat16" if not _gpu_present() and cpu_has_bf16() else "float32"
    named = {False: "float32", "float32": "float32", True: "float16", "float16": "float16", "bfloat16": "bfloat16"}
    if isinstance(mixed_precision, (bool, str)) and mixed_precision in named:
        return named[mixed_precision]
    raise ValueError("mixed_precision must be 'auto', 'bfloat16', 'float16' (True), or 'float32' (False) "
                     f"(got {mixed_precision!r})")


def resolve_model_size(model_size: str = "auto") -> str:
    """Notebook 02's `model_size`: "auto" is 'half' on a GPU or a CPU with bfloat16 units (cpu_has_bf16), else 'cpu'."""
    # On two cores with bfloat16 units the `half` model trains at ~200 images/s against ~410 for `cpu`, and in the
    # same 14 minutes two seeds of it read our own words 0.3 points and another renderer's 0.8-1.9 points better
    # (README, Results). Without them its float32 step is 2.6x slower than `cpu`'s, which sees each word only 1-2 times.
    if model_size != "auto":
        return model_size
    return "half" if _gpu_present() or cpu_has_bf16() else "cpu"


def _gpu_present() -> bool:
    """Whether TensorFlow sees a GPU (what both "auto"s above ask first)."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def bf16_convolutions(model: keras.Model) -> int:
    """Let each Conv2D compute in bfloat16 (float32 weights, inputs and outputs; same files); returns how many."""
    # On a CPU with AMX or AVX512-BF16, oneDNN runs bfloat16 convolutions natively: the `cpu` model's step, most of
    # it the conv stack, trains about 1.2x faster. The weights stay float32 (each step casts them), and so do the values
    # between layers, the batch norms and the LSTMs. As with fuse_batch_norms, only each instance's `call` is
    # swapped: saved files hold plain float32 layers, and a model loaded from them computes in float32.
    swapped = 0
    for layer in model.layers:
        if (type(layer) is keras.layers.Conv2D and not hasattr(layer, "_crnn_float32_call") and layer.groups == 1
                and layer.data_format == "channels_last"):
            layer._crnn_float32_call = layer.call
            layer.call = _bf16_conv_call(layer)
            swapped += 1
    return swapped


def _bf16_conv_call(layer: keras.layers.Conv2D):
    """`layer`'s convolution, bias and activation in bfloat16, the result cast back to float32."""
    import tensorflow as tf

    def call(inputs):
        x = tf.nn.conv2d(tf.cast(inputs, tf.bfloat16), tf.cast(layer.kernel, tf.bfloat16), strides=layer.strides,
                         padding=layer.padding.upper(), dilations=layer.dilation_rate)
        if layer.use_bias:
            x = tf.nn.bias_add(x, tf.cast(layer.bias, tf.bfloat16))
        if layer.activation is not None:
            x = layer.activation(x)
        return tf.cast(x, inputs.dtype)

    return call


def compile_training_model(train: keras.Model, cfg: dict[str, Any], num_classes: int,
                           jit_compile: bool | str = "auto") -> None:
    """Adam with the recipe's clipping and the recipe's CTC loss; the Schedule callback sets the learning rate."""
    opt = keras.optimizers.Adam(learning_rate=Schedule(cfg, total_steps=1).rate(0, 0.0), clipnorm=cfg["clipnorm"])
    loss_class = CTCLoss if cfg["loss_on"] == "logits" else SeedCTCLoss
    train.compile(optimizer=opt, loss=loss_class(num_classes - 1), jit_compile=jit_compile)
    if train.jit_compile:  # "auto" resolved to XLA (a GPU), or asked for: XLA cannot compile the CTC kernel
        train.compile(optimizer=opt, loss=loss_class(num_classes - 1, kernel=False), jit_compile=True)


def outputs_probabilities(model: keras.Model) -> bool:
    """True when the model's last layer is a softmax (the inference model; the seed recipe trains on it), False for logits."""
    return getattr(getattr(model.layers[-1], "activation", None), "__name__", "") == "softmax"


def act_from_train(train: keras.Model) -> keras.Model:
    """The inference (softmax) model of a training model, sharing weights."""
    if outputs_probabilities(train):
        return train
    probs = keras.layers.Activation("softmax", name="softmax", dtype="float32")(train.output)
    return keras.Model(train.input, probs, name="act_model")


def transfer_weights(source: keras.Model, target: keras.Model) -> tuple[list[str], str]:
    """Copy weights by layer name where shapes match, the classifier class by class; (layers copied, what the classifier kept)."""
    src_spec, tgt_spec = model_spec(source), model_spec(target)
    by_char = src_spec is not None and tgt_spec is not None and src_spec["chars"] != tgt_spec["chars"]
    copied, classifier = [], ""
    for layer in target.layers:
        try:
            src = source.get_layer(layer.name)
        except ValueError:
            continue
        sw, tw = src.get_weights(), layer.get_weights()
        if layer.name == "logits" and by_char and len(sw) == len(tw) == 2 and sw[0].shape[0] == tw[0].shape[0]:
            # Another charset (other characters, or the same ones in another order): each class takes the source's
            # weights of its own character, so no output changes meaning; characters the source lacks start fresh.
            classifier = _map_classes(sw, layer, src_spec["chars"], tgt_spec["chars"])
            copied.append(layer.name)
        elif not (layer.name == "logits" and by_char) and sw and len(sw) == len(tw) and all(
                a.shape == b.shape for a, b in zip(sw, tw)):
            layer.set_weights(sw)
            copied.append(layer.name)
    return copied, classifier


def _map_classes(source_weights: list[np.ndarray], layer: keras.layers.Layer, source_chars: str, chars: str) -> str:
    """Set a Dense classifier's columns from the source's column of the same character (and blank); say how many."""
    kernel, bias = (w.copy() for w in layer.get_weights())
    src_kernel, src_bias = source_weights
    index = {c: i for i, c in enumerate(source_chars)}
    pairs = [(j, index[c]) for j, c in enumerate(chars) if c in index] + [(len(chars), len(source_chars))]  # + blank
    for j, i in pairs:
        kernel[:, j], bias[j] = src_kernel[:, i], src_bias[i]
    layer.set_weights([kernel, bias])
    new = [c for c in chars if c not in index]
    return (f"classifier: {len(pairs) - 1} of {len(chars)} characters kept from the source model"
            + (f", {len(new)} new ({''.join(new[:20])}{'…' if len(new) > 20 else ''})" if new else ""))


# ---- callbacks -------------------------------------------------------------------------------------

def batched(forward, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """forward(tf batch) over in-memory images, batch_size at a time, as one float32 array."""
    import tensorflow as tf

    chunks = [forward(tf.constant(images[i:i + batch_size])) for i in range(0, len(images), batch_size)]
    return np.concatenate([np.asarray(c) for c in chunks]).astype(np.float32)


class DecodedMetrics(keras.callbacks.Callback):
    """Each epoch, on in-memory validation images: val_loss, greedy word accuracy, CER, blank share, LR, minutes.

    Use it instead of `fit(validation_data=...)`: one forward pass gives both the loss the checkpoint watches and
    the decoded metrics. Keras's own validation re-creates a tf.data iterator every epoch, and on 2 CPU cores
    freeing the previous one was measured to stall for up to 30 s, a third of an epoch of notebook 03.
    Put it first in the callback list so that later callbacks (checkpoint, CSV, early stopping) see its logs.
    """

    def __init__(self, act_model: keras.Model, images: np.ndarray, labels: list[str], charset: Charset,
                 show: int = 3, verbose: bool = True, batch_size: int = 256, spent_minutes: float = 0.0) -> None:
        super().__init__()
        self.act, self.images, self.labels, self.charset = act_model, images, labels, charset
        self.ids = np.asarray(charset.pad(labels, max(1, max(map(len, labels), default=1))), np.int32)
        self.show, self.verbose, self.batch_size = show, verbose, batch_size
        self.spent = spent_minutes * 60.0  # a resumed run's earlier minutes: "minutes" counts the whole run
        self.start, self._forward = time.time() - self.spent, None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.start = time.time() - self.spent

    def outputs(self) -> np.ndarray:
        """The training model's outputs (logits, or probabilities for the seed recipe) on the validation images."""
        import tensorflow as tf

        if self._forward is None:
            self._forward = tf.function(lambda x: self.model(x, training=False), reduce_retracing=True)
        return batched(self._forward, self.images, self.batch_size)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs if logs is not None else {}
        out = self.outputs()
        if getattr(self.model, "loss", None) is not None:
            logs["val_loss"] = float(keras.ops.convert_to_numpy(self.model.loss(self.ids, out)))
        probs = out if outputs_probabilities(self.model) else np.asarray(keras.ops.softmax(out, axis=-1))
        preds = greedy_texts(probs, self.charset)
        logs["val_word_acc"] = word_accuracy(self.labels, preds)
        logs["val_word_acc_ci"] = word_accuracy(self.labels, preds, case_sensitive=False)
        logs["val_cer"] = cer(self.labels, preds)
        logs["blank_share"] = blank_share(probs, self.charset.blank)
        logs["lr"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        logs["minutes"] = (time.time() - self.start) / 60.0
        if self.verbose:
            pairs = ", ".join(f"{t!r}->{p!r}" for t, p in zip(self.labels[: self.show], preds[: self.show]))
            hint = "  (all blanks: still on the CTC plateau)" if logs["blank_share"] > 0.99 else ""
            loss = f"loss {logs['loss']:.3f}, " if "loss" in logs else ""
            loss += f"val_loss {logs['val_loss']:.3f}, " if "val_loss" in logs else ""
            print(f"epoch {epoch + 1} ({logs['minutes']:.1f} min): {loss}word acc {logs['val_word_acc']:.1%}, "
                  f"CER {logs['val_cer']:.3f}, blank share {logs['blank_share']:.2f}{hint} | {pairs}")


class FolderAccuracy(keras.callbacks.Callback):
    """Each epoch, greedy word accuracy on a labelled folder's images (letters and digits, any case): "folder_word_acc".

    The scene-text benchmarks' protocol: labels and readings lowercased, everything but a-z and 0-9 dropped (a folder
    with words of other alphabets: whole words, any case). Put it
    before BestCheckpoint(monitor="folder_word_acc") to keep the checkpoint that reads that folder best.
    """

    def __init__(self, act_model: keras.Model, images: np.ndarray, labels: list[str], charset: Charset,
                 batch_size: int = 256, verbose: bool = True) -> None:
        super().__init__()
        self.act, self.images, self.labels, self.charset = act_model, images, labels, charset
        self.batch_size, self.verbose, self._forward = batch_size, verbose, None
        # Words of other alphabets have no letters or digits to compare: such a folder is scored whole, any case.
        self.alnum = all(normalize_alnum(label) for label in labels)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        import tensorflow as tf

        logs = logs if logs is not None else {}
        if self._forward is None:
            self._forward = tf.function(lambda x: self.act(x, training=False), reduce_retracing=True)
        probs = batched(self._forward, self.images, self.batch_size)
        read = greedy_texts(probs, self.charset)
        logs["folder_word_acc"] = (word_accuracy_alnum(self.labels, read) if self.alnum
                                   else word_accuracy(self.labels, read, case_sensitive=False))
        if self.verbose:
            print(f"epoch {epoch + 1}: {logs['folder_word_acc']:.1%} of the {len(self.labels)} folder words "
                  f"(greedy, {'letters and digits, ' if self.alnum else ''}any case)")


def folder_arrays(folder: str | Path, width: int = 128, max_stretch: float = 2.0) -> tuple[np.ndarray, list[str], int]:
    """(images (N, 32, width, 1), labels, unreadable count) of a labelled folder, preprocessed as the Recognizer does."""
    from .datasets import read_folder
    from .images import ImageError, load_image, preprocess

    images, labels, unreadable = [], [], 0
    for record in read_folder(folder):
        try:
            images.append(preprocess(load_image(record.path), 32, width, max_stretch))
        except ImageError:
            unreadable += 1
            continue
        labels.append(record.label)
    if not images:
        raise ValueError(f"{folder}: no readable labelled images")
    return np.stack(images).astype(np.float32), labels, unreadable


class BestCheckpoint(keras.callbacks.Callback):
    """The seed's checkpoint: save the inference model whenever `monitor` improves (finite values only).

    "val_loss" (the seed's choice) is lower-is-better; any other monitor, such as FolderAccuracy's
    "real_word_acc", is higher-is-better. `best` is the value to beat (a resumed run's).
    """

    def __init__(self, act_model: keras.Model, path: str | Path, best: float | None = None,
                 monitor: str = "val_loss") -> None:
        super().__init__()
        self.act, self.path, self.monitor = act_model, Path(path), monitor
        self.sign = 1.0 if monitor.endswith("loss") else -1.0  # compare sign * value: lower is better
        self.best = (math.inf * self.sign) if best is None or not math.isfinite(best) else float(best)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        val = (logs or {}).get(self.monitor)
        if val is not None and math.isfinite(val) and self.sign * val < self.sign * self.best:
            self.best = float(val)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.act.save(self.path)


class ResumeState(keras.callbacks.Callback):
    """Save the training model (weights + optimizer), the epoch, its optimizer steps and the minutes.

    It saves after every epoch and, with `every_steps` > 0, also every that many optimizer steps inside an epoch,
    so a run killed mid-epoch resumes losing at most `every_steps` steps (the interrupted epoch then starts over,
    from the steps already trained). Files are replaced atomically: a kill mid-save keeps the previous state.
    """

    def __init__(self, ckpt_dir: str | Path, best_cb: BestCheckpoint, schedule: Schedule | None = None,
                 every_steps: int = 0, speed: "Throughput | None" = None, init_from: str = "") -> None:
        super().__init__()
        self.dir, self.best_cb, self.schedule, self.every = Path(ckpt_dir), best_cb, schedule, int(every_steps)
        self.speed, self.init_from, self.epoch = speed, init_from, 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        steps = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        if self.every > 0 and steps % self.every == 0:
            self.save(epochs_done=self.epoch, steps=steps)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.save(epochs_done=epoch + 1, steps=int(keras.ops.convert_to_numpy(self.model.optimizer.iterations)))

    def save(self, epochs_done: int, steps: int) -> None:
        """Write last.keras and state.json (epochs completed, optimizer steps, the best value, minutes, speed, origin)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / "last.tmp.keras"
        self.model.save(tmp)
        tmp.replace(self.dir / "last.keras")
        best = self.best_cb.best if math.isfinite(self.best_cb.best) else None
        state = {"epoch": epochs_done, "steps": steps, "monitor": self.best_cb.monitor, "best": best,
                 "minutes": self.schedule.minutes_spent if self.schedule is not None else 0.0,
                 "init_from": self.init_from}
        if self.speed is not None:  # so that a resumed run's images/s covers the whole run, not its last part
            state |= {"timed_images": self.speed.images, "timed_seconds": round(self.speed.seconds, 3)}
        tmp_state = self.dir / "state.tmp.json"
        tmp_state.write_text(json.dumps(state))
        tmp_state.replace(self.dir / "state.json")


class Schedule(keras.callbacks.Callback):
    """The recipe's learning rate before every step, and a clean stop once the time budget is spent.

    'cosine' warms up linearly from a tenth of the peak over `warmup_steps`, then decays to 5 % of the peak as the run
    progresses. Progress is the larger of steps done / total_steps and minutes spent / minutes, so the anneal ends
    when the run ends, whichever limit ends it (epoch speed varies by 15 % between runs on the same CPU).
    'constant' keeps the peak (the seed). minutes=0 means no time limit; spent_minutes counts a resumed run's past.
    Training stops once total_steps are done, or the time budget is spent.
    """

    def __init__(self, cfg: dict[str, Any], total_steps: int, minutes: float = 0.0, spent_minutes: float = 0.0) -> None:
        super().__init__()
        if cfg["schedule"] not in ("constant", "cosine"):
            raise ValueError(f"schedule must be 'constant' or 'cosine' (got {cfg['schedule']!r})")
        self.peak, self.kind, self.warmup = float(cfg["learning_rate"]), cfg["schedule"], int(cfg["warmup_steps"])
        self.total, self.seconds, self.spent = max(1, int(total_steps)), minutes * 60.0, spent_minutes * 60.0
        self.hit, self.step, self.start = False, 0, time.time() - self.spent
        self.end: float | None = self.start + self.spent  # before training begins: the earlier minutes only

    def rate(self, step: int, seconds: float) -> float:
        """The learning rate at a step, `seconds` into the run."""
        if self.kind == "constant":
            return self.peak
        if step < self.warmup:
            return self.peak * (0.1 + 0.9 * step / self.warmup)
        progress = (step - self.warmup) / max(1, self.total - self.warmup)
        if self.seconds > 0:
            progress = max(progress, seconds / self.seconds)
        return self.peak * (0.05 + 0.475 * (1 + math.cos(math.pi * min(1.0, progress))))

    @property
    def minutes_spent(self) -> float:
        """Training minutes so far (or until training ended), a resumed run's earlier ones included."""
        return ((self.end or time.time()) - self.start) / 60.0

    @property
    def budget_left(self) -> bool:
        """False once a time budget is set and spent."""
        return self.seconds <= 0 or time.time() - self.start < self.seconds

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.start, self.end = time.time() - self.spent, None
        self.step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def on_train_end(self, logs: dict | None = None) -> None:
        self.end = time.time()

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.model.optimizer.learning_rate.assign(self.rate(self.step, time.time() - self.start))

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.step += 1
        if not self.budget_left:
            self.hit = True
        if self.hit or self.step >= self.total:  # the budget spent, or the planned steps done (mid-epoch for a plan
            self.model.stop_training = True       # that is not a whole number of epochs)


class NaNGuard(keras.callbacks.Callback):
    """Stop at the first NaN or infinite batch loss, naming the epoch and batch (no garbage checkpoint follows)."""

    def __init__(self) -> None:
        super().__init__()
        self.epoch, self.bad = 0, None

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.bad = (self.epoch + 1, batch)
            self.model.stop_training = True
            print(f"Loss became {loss} at epoch {self.epoch + 1}, batch {batch}: training stopped. "
                  "Lower learning_rate or keep clipnorm; the last good checkpoint is kept.")


class Throughput(keras.callbacks.Callback):
    """Images per second of training (excluding validation), over all batches; a resumed run adds its earlier ones."""

    def __init__(self, batch_size: int, images: int = 0, seconds: float = 0.0) -> None:
        super().__init__()
        self.batch_size, self.images, self.seconds, self._t = batch_size, int(images), float(seconds), 0.0

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._t = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.seconds += time.perf_counter() - self._t
        self.images += self.batch_size

    @property
    def images_per_second(self) -> float:
        """Training images per second so far."""
        return self.images / self.seconds if self.seconds else 0.0


def _saved_state(ckpt_dir: Path) -> dict | None:
    """state.json of a resumable run in ckpt_dir (its last.keras beside it), or None."""
    if not (ckpt_dir / "last.keras").is_file() or not (ckpt_dir / "state.json").is_file():
        return None
    return json.loads((ckpt_dir / "state.json").read_text())


def resumed_origin(ckpt_dir: str | Path) -> str | None:
    """What the run that ckpt_dir would resume started from ("" = scratch), or None: nothing to resume, or not recorded."""
    state = _saved_state(Path(ckpt_dir))
    return state.get("init_from") if state else None


def resumable_steps(ckpt_dir: str | Path) -> int:
    """Optimizer steps trained by the run that ckpt_dir would resume (0 when there is nothing to resume)."""
    state = _saved_state(Path(ckpt_dir))
    return int(state.get("steps", 0)) if state else 0


def load_resume_state(ckpt_dir: str | Path) -> tuple[keras.Model | None, dict]:
    """(training model, state) saved by ResumeState, or (None, {}) when there is nothing to resume."""
    state = _saved_state(Path(ckpt_dir))
    if state is None:
        return None, {}
    return keras.models.load_model(Path(ckpt_dir) / "last.keras"), state  # safe_mode stays on


def validation_arrays(dataset: Iterable, limit: int, charset: Charset) -> tuple[np.ndarray, list[str]]:
    """Up to `limit` images and label texts from a (images, ids) dataset (0 means all), for DecodedMetrics."""
    limit = limit or 10**12
    images, labels = [], []
    for x, y in dataset:
        images.append(np.asarray(x))
        labels.extend(charset.decode(row) for row in np.asarray(y).tolist())
        if len(labels) >= limit:
            break
    return np.concatenate(images)[:limit], labels[:limit]


class TrainingStart(NamedTuple):
    """What build_or_resume hands notebook 03: the models and where training stands."""

    act: keras.Model
    train: keras.Model
    initial_epoch: int
    best: float | None  # the checkpoint's best monitored value so far (None: nothing saved yet)
    minutes_spent: float
    note: str
    timed: tuple[int, float] = (0, 0.0)  # training images and seconds of a resumed run's earlier calls, for Throughput


def build_or_resume(
    run_dir: str | Path,
    cfg: dict[str, Any],
    num_classes: int,
    input_width: int = 128,
    init_from: str = "",
    strategy=None,
    jit_compile: bool | str = "auto",
    precision: str = "float32",
    spec: dict[str, Any] | None = None,
    monitor: str = "val_loss",
) -> TrainingStart:
    """Resume run_dir from its last saved state, or start a new model (fine-tuned from init_from when given)."""
    import contextlib

    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    ckpt_dir = Path(run_dir) / "checkpoints"
    with scope:
        # 1. Resume: weights, optimizer (and so its step counter), the epoch reached and the minutes spent.
        train, state = load_resume_state(ckpt_dir)
        if train is not None:
            _check_resumable(train, cfg, num_classes, input_width, ckpt_dir, spec)
            fuse_batch_norms(train)
            if precision == "bfloat16":
                bf16_convolutions(train)
            best = state.get("best") if state.get("monitor", "val_loss") == monitor else None
            note = (f"resumed from {ckpt_dir.name}/last.keras at {state.get('steps', 0):,} steps "
                    f"({state['epoch']} epochs completed)")
            if best is None and state.get("best") is not None:
                note += f"; best.keras is now chosen by {monitor}, not {state.get('monitor')}"
            return TrainingStart(act_from_train(train), train, int(state["epoch"]), best,
                                 float(state.get("minutes", 0.0)), note,
                                 (int(state.get("timed_images", 0)), float(state.get("timed_seconds", 0.0))))
        # 2. Fresh model, optionally initialised from another model file (fine-tuning).
        act, train = build_training_model(cfg, num_classes, input_width, jit_compile, precision, spec)
        note = "new model"
        if init_from:
            path = pretrained_file() if init_from == "pretrained" else Path(init_from)
            if not path.is_file():
                raise FileNotFoundError(f"init_from={init_from!r} does not exist (give a best.keras from another run)")
            copied, classifier = transfer_weights(keras.models.load_model(path, compile=False), act)
            rebuilt = [l.name for l in act.layers if l.weights and l.name not in copied]
            note = f"fine-tuning from {init_from}: {len(copied)} layers copied" + (
                f", rebuilt for the new charset: {rebuilt}" if rebuilt else "") + (f"; {classifier}" if classifier else "")
    return TrainingStart(act, train, 0, None, 0.0, note)


def _check_resumable(saved: keras.Model, cfg: dict[str, Any], num_classes: int, input_width: int,
                     ckpt_dir: Path, spec: dict[str, Any] | None = None) -> None:
    """Refuse to resume a saved model of another shape, recipe or charset than cfg builds (01 or 02 re-run since)."""
    act = build_named(cfg["model_size"], num_classes=num_classes, input_width=input_width,
                      **cfg.get("model_options", {}))
    expected = act if cfg["loss_on"] == "softmax" else logits_model(act)
    again = (f"notebook 01 or 02 changed since. Delete {ckpt_dir} to start over, or use a new run_dir")
    if (outputs_probabilities(saved) != outputs_probabilities(expected)
            or [tuple(w.shape) for w in saved.weights] != [tuple(w.shape) for w in expected.weights]):
        raise ValueError(
            f"{ckpt_dir / 'last.keras'} holds another model ({saved.count_params():,} parameters, output "
            f"{saved.output_shape}) than this run trains ({cfg['model_size']!r}: {expected.count_params():,}, "
            f"{num_classes} classes): " + again)
    saved_spec = model_spec(saved)
    if spec and saved_spec and saved_spec["chars"] != spec["chars"]:
        raise ValueError(f"{ckpt_dir / 'last.keras'} was trained on other characters ({saved_spec['chars'][:40]!r}) "
                         f"than this run's ({spec['chars'][:40]!r}): " + again)


def pretrained_file() -> Path:
    """The pretrained model shipped inside the package (crnn_utils/pretrained/model.keras)."""
    return Path(__file__).resolve().parent / "pretrained" / "model.keras"


def pretrained_config() -> dict[str, Any]:
    """The pretrained model's config.json: its model_size, recipe and training figures."""
    path = pretrained_file().with_name("config.json")
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: this installation ships no pretrained model")
    return json.loads(path.read_text())


def check_training_data(counts: dict[str, int], batch_size: int, min_train: int = 8) -> None:
    """One-line errors for an empty or tiny dataset, or a batch larger than the data."""
    n_train, n_val = counts.get("train", 0), counts.get("val", 0)
    if n_train < min_train:
        raise ValueError(f"only {n_train} training images: re-run notebook 01 with n_train >= {min_train}")
    if n_val < 1:
        raise ValueError("no validation images: re-run notebook 01 with n_val >= 1")
    if batch_size > n_train:
        raise ValueError(f"batch_size={batch_size} is larger than the {n_train} training images; use <= {n_train}")
