"""crnn_utils.run_plan: notebook 03's parameters checked, and a run resolved from its run_dir."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from crnn_utils.params import ParameterError
from crnn_utils.run_plan import check_training_params, plan_training

GOOD = dict(recipe="fast", strategy="auto", epochs=2, batch_size=8, learning_rate=0.0, time_budget_minutes=0,
            steps_per_epoch=0, early_stopping_patience=4, val_decode_images=0, save_every_steps=0,
            mixed_precision="auto", jit_compile=False, op_determinism=False, init_from="", val_dir="")


def _run_dir(tiny_shards: Path, tmp_path: Path, model_size: str = "") -> Path:
    """A run_dir with notebook 01's shards and record, and notebook 02's model choice when model_size is given."""
    run = tmp_path / "run"
    shutil.copytree(tiny_shards, run / "data")
    (run / "data" / "dataset.json").write_text(json.dumps({
        "charset": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", "image_width": 128,
        "max_stretch": 2.0, "max_label_len": 16, "counts": {"train": 64, "val": 16, "test": 16}}))
    if model_size:
        (run / "model").mkdir()
        (run / "model" / "config.json").write_text(json.dumps({"model_size": model_size}))
    return run


def test_check_training_params_accepts_the_defaults_and_names_a_bad_one(tmp_path: Path) -> None:
    check_training_params(**GOOD)
    for bad, message in ((dict(recipe="slow"), "recipe"), (dict(epochs=-1), "epochs"), (dict(batch_size=2.5), "batch_size"),
                         (dict(mixed_precision="int8"), "mixed_precision"), (dict(learning_rate=-1), "learning_rate"),
                         (dict(init_from=str(tmp_path / "none.keras")), "init_from"),
                         (dict(val_dir=str(tmp_path / "nothing")), "val_dir")):
        with pytest.raises(ParameterError, match=message):
            check_training_params(**{**GOOD, **bad})


def test_plan_training_reads_the_run_dir(tiny_shards: Path, tmp_path: Path) -> None:
    run = _run_dir(tiny_shards, tmp_path, model_size="tiny")
    plan = plan_training(run, "fast", batch_size=8, mixed_precision=False)
    assert plan.cfg["model_size"] == "tiny" and plan.steps_per_epoch == 8 and plan.precision == "float32"
    assert plan.monitor == "val_loss" and plan.charset.num_classes == 63 and not plan.note
    assert plan.table(0)["train images"] == 64 and plan.epochs == 60 and plan.total_steps == 60 * 8
    tuned = plan_training(run, "fast", batch_size=8, learning_rate=1e-4, epochs=3, init_from="pretrained", val_dir="x")
    assert tuned.cfg["learning_rate"] == 1e-4 and tuned.monitor == "folder_word_acc"
    assert (tuned.epochs, tuned.total_steps) == (3, 24) and "defaults" not in tuned.note
    assert tuned.cfg["model_size"] == "half" and "pretrained model's architecture" in tuned.note
    with pytest.raises(ValueError, match="larger than the 64 training images"):
        plan_training(run, "fast", batch_size=100)


def test_fine_tuning_defaults_to_its_own_rate_and_fifteen_passes(tiny_shards: Path, tmp_path: Path) -> None:
    run = _run_dir(tiny_shards, tmp_path)
    scratch = plan_training(run, "fast", batch_size=2, steps_per_epoch=10)
    assert scratch.cfg["learning_rate"] == 2e-3 and (scratch.epochs, scratch.total_steps) == (60, 600)
    tuned = plan_training(run, "fast", batch_size=2, steps_per_epoch=100, init_from="pretrained")
    # 15 passes over 64 images at 2 a step: 480 steps, in 5 epochs of 100 (the last one stops at step 480).
    assert tuned.cfg["learning_rate"] == 5e-4 and (tuned.epochs, tuned.total_steps) == (5, 480)
    assert "learning rate 0.0005, 480 steps (15 passes over 64 images)" in tuned.note
    few = plan_training(run, "fast", batch_size=8, init_from="pretrained")   # 120 steps: at least twice the warm-up
    assert few.total_steps == 2 * few.cfg["warmup_steps"] == 200
    seed = plan_training(run, "seed", batch_size=8, init_from="pretrained")   # the seed recipe keeps its own rate
    assert seed.cfg["learning_rate"] == 1e-3 and seed.total_steps == 60 * 8


def test_a_resumed_run_keeps_what_it_started_from(tiny_shards: Path, tmp_path: Path) -> None:
    """Resuming a fine-tuning run without init_from must not turn it into a run from scratch (rate, steps, model)."""
    run = _run_dir(tiny_shards, tmp_path, model_size="tiny")
    (run / "checkpoints").mkdir()
    (run / "checkpoints" / "last.keras").write_bytes(b"")   # plan_training reads state.json only
    (run / "checkpoints" / "state.json").write_text(json.dumps({"epoch": 1, "steps": 8, "init_from": "pretrained"}))
    plan = plan_training(run, "fast", batch_size=8)
    assert plan.init_from == "pretrained" and plan.cfg["learning_rate"] == 5e-4 and plan.cfg["model_size"] == "half"
    assert "init_from='' is not used" in plan.note
    (run / "checkpoints" / "state.json").write_text(json.dumps({"epoch": 1, "steps": 8, "init_from": ""}))
    scratch = plan_training(run, "fast", batch_size=8, init_from="pretrained")
    assert scratch.init_from == "" and scratch.cfg["model_size"] == "tiny" and "is not used" in scratch.note
    (run / "checkpoints" / "state.json").write_text(json.dumps({"epoch": 1, "steps": 8}))   # older runs: not recorded
    older = plan_training(run, "fast", batch_size=8, init_from="pretrained")
    assert older.init_from == "pretrained" and "is not used" not in older.note
