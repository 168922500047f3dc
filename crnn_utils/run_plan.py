"""What a training run will do, resolved from notebook 03's parameters and its run_dir: recipe, model size, charset,
steps, precision and the checkpoint's measure."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .charset import Charset
from .params import ParameterError, check_choice, check_number

SCRATCH_EPOCHS = 60     # epochs=0 from scratch: 60 epochs, which the time budget usually ends first
FINETUNE_RATE = 5e-4    # learning_rate=0 with init_from: the best of 2e-4 / 5e-4 / 1e-3 on real crops (docs/results.md)
FINETUNE_PASSES = 15    # epochs=0 with init_from: 15 passes over the training split read as well as 30 or 60, or better


def check_training_params(*, recipe: str, strategy: str, epochs: int, batch_size: int, learning_rate: float,
                          time_budget_minutes: float, steps_per_epoch: int, early_stopping_patience: int,
                          val_decode_images: int, save_every_steps: int, mixed_precision: Any, jit_compile: Any,
                          op_determinism: Any, init_from: str, val_dir: str) -> None:
    """Raise a one-line ParameterError for the first of notebook 03's parameters that is out of range."""
    from .training import RECIPES

    check_choice("recipe", recipe, sorted(RECIPES))
    check_choice("strategy", strategy, ["auto", "mirrored", "default"])
    for name, value, low in (("epochs", epochs, 0), ("batch_size", batch_size, 1),
                             ("steps_per_epoch", steps_per_epoch, 0), ("early_stopping_patience", early_stopping_patience, 1),
                             ("val_decode_images", val_decode_images, 0), ("save_every_steps", save_every_steps, 0)):
        check_number(name, value, low, integer=True)
    check_number("learning_rate", learning_rate, 0)
    check_number("time_budget_minutes", time_budget_minutes, 0)
    check_choice("mixed_precision", mixed_precision, ["auto", "bfloat16", "float16", "float32", False, True])
    check_choice("jit_compile", jit_compile, [False, True])
    check_choice("op_determinism", op_determinism, [False, True])
    if init_from and init_from != "pretrained" and not Path(init_from).is_file():
        raise ParameterError(f"init_from={init_from!r} does not exist: give \"pretrained\" or the best.keras of another run")
    if val_dir and not Path(val_dir).exists():
        raise ParameterError(f"val_dir={val_dir!r} does not exist: give a labelled folder (any layout notebook 01 reads)")


@dataclass
class TrainingPlan:
    """A run's resolved settings: the dataset.json of notebook 01, the recipe (with the model size), the charset."""

    info: dict[str, Any]
    cfg: dict[str, Any]
    charset: Charset
    steps_per_epoch: int
    precision: str
    monitor: str   # what best.keras is chosen by: "val_loss", or "folder_word_acc" with a val_dir
    note: str      # how the model size was chosen, when not by notebook 02, and the fine-tuning defaults
    init_from: str = ""  # what the weights start from ("" = scratch); a resumed run keeps the one it started with
    epochs: int = SCRATCH_EPOCHS
    total_steps: int = 0  # the steps the learning rate anneals over and training stops at (a time budget may end it sooner)

    def table(self, time_budget_minutes: float) -> dict[str, Any]:
        """The settings a reader checks before training, as {name: value}."""
        return {**self.cfg, "precision": self.precision, "epochs": self.epochs, "steps per epoch": self.steps_per_epoch,
                "steps": self.total_steps, "time budget (min)": time_budget_minutes,
                "train images": self.info["counts"]["train"],
                "classes": self.charset.num_classes, "best.keras chosen by": self.monitor}


def plan_training(run_dir: str | Path, recipe: str = "fast", *, learning_rate: float = 0.0, batch_size: int = 32,
                  steps_per_epoch: int = 0, epochs: int = 0, init_from: str = "", mixed_precision: Any = "auto",
                  val_dir: str = "") -> TrainingPlan:
    """Resolve a run from run_dir's data (notebook 01) and model choice (notebook 02, or the pretrained model's)."""
    from . import training
    from .datasets import load_dataset_info

    info = load_dataset_info(Path(run_dir) / "data")  # names notebook 01 if it has not run
    training.check_training_data(info["counts"], batch_size)
    model_cfg = Path(run_dir) / "model" / "config.json"
    model_size = (json.loads(model_cfg.read_text())["model_size"] if model_cfg.is_file()
                  else training.resolve_model_size("auto"))  # notebook 02's default
    note = ""
    origin = training.resumed_origin(Path(run_dir) / "checkpoints")
    if origin is not None and origin != init_from:  # a resumed run keeps its rate, steps and architecture
        note = (f"init_from={init_from!r} is not used: this run_dir resumes a run that started from "
                f"{origin or 'scratch'!r} (use a new run_dir to start over)")
        init_from = origin
    if init_from == "pretrained":  # fine-tuning keeps the pretrained architecture, whatever notebook 02 chose
        model_size = training.pretrained_config()["model_size"]
        note += ("; " if note else "") + (
            f"init_from='pretrained': training the pretrained model's architecture ({model_size!r})")
    finetune = bool(init_from) and recipe == "fast"  # the seed recipe keeps its own rate
    cfg = training.recipe(recipe, learning_rate=learning_rate or (FINETUNE_RATE if finetune else None),
                          **({} if recipe == "seed" else {"model_size": model_size}))
    train = info["counts"]["train"]
    steps = steps_per_epoch or math.ceil(train / batch_size)
    if epochs:
        total = epochs * steps
    elif finetune:  # a few thousand crops are soon learnt by heart: more passes read no better (README, fine-tuning)
        total = max(math.ceil(FINETUNE_PASSES * train / batch_size), 2 * cfg["warmup_steps"])
    else:
        total = SCRATCH_EPOCHS * steps
    if finetune and not (learning_rate and epochs):
        note += ("; " if note else "") + "fine-tuning defaults: " + ", ".join(
            ([] if learning_rate else [f"learning rate {FINETUNE_RATE:g}"])
            + ([] if epochs else [f"{total:,} steps ({total * batch_size / train:.0f} passes over {train:,} images)"]))
    return TrainingPlan(info, cfg, Charset(info["charset"]), steps, training.precision_mode(mixed_precision),
                        "folder_word_acc" if val_dir else "val_loss", note, init_from, math.ceil(total / steps), total)
