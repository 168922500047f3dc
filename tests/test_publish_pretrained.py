"""scripts/publish_pretrained.py: a run that continued the shipped model is published as its next stage."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "crnn_utils" / "pretrained"
sys.path.insert(0, str(ROOT / "scripts"))


def _fake_run(run_dir: Path, record: dict, epochs: int = 3, minutes: float = 30.0) -> None:
    """A finished long run's records around the shipped model's weights (as if it had trained `epochs` more)."""
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "data").mkdir()
    (run_dir / "model").mkdir()
    shutil.copy(SHIPPED / "model.keras", run_dir / "checkpoints" / "best.keras")
    dataset = json.loads((SHIPPED / "dataset.json").read_text()) | {
        "synth_options": {"p_bold": 0.15}, "fonts": {"families": 116, "faces": 867}}
    (run_dir / "data" / "dataset.json").write_text(json.dumps(dataset))
    (run_dir / "model" / "config.json").write_text(json.dumps({"model_size": "full"}))
    summary = json.loads((SHIPPED / "train_summary.json").read_text()) | {
        "epochs_run": epochs, "minutes_trained": minutes, "images_seen": 32_000} | record
    (run_dir / "train_summary.json").write_text(json.dumps(summary))
    rows = [{"epoch": e, "folder_word_acc": 0.9, "lr": 5e-4, "minutes": minutes * (e + 1) / epochs}
            for e in range(epochs)]
    pd.DataFrame(rows).to_csv(run_dir / "history.csv", index=False)


@pytest.mark.parametrize("record", [
    {"init_from": "pretrained", "note": "resumed from checkpoints/last.keras at 800 steps"},  # notebook 03 records it
    {"note": "fine-tuning from pretrained: 20 layers copied"},  # runs from before the field: their note says it
], ids=["init_from", "note"])
def test_a_continued_run_becomes_the_next_stage(tmp_path, record):
    """Stages, totals and one history on one time axis; the architecture stays the shipped one's."""
    from publish_pretrained import publish

    out = tmp_path / "pretrained"
    shutil.copytree(SHIPPED, out)
    before = json.loads((out / "config.json").read_text())
    before_rows = len(pd.read_csv(out / "history.csv"))
    _fake_run(tmp_path / "run", record)
    config = publish(tmp_path / "run", out)

    stages_before = len(before.get("stages") or [before])
    *earlier, last = config["stages"]
    assert len(earlier) == stages_before
    assert last == {"generator": "116 font families (867 faces); p_bold=0.15", "minutes_trained": 30.0,
                    "images_seen": 32_000, "epochs_run": 3, "init_from": "pretrained"}
    assert config["images_seen"] == sum(s["images_seen"] for s in config["stages"]) == before["images_seen"] + 32_000
    assert config["model_size"] == before["model_size"]
    history = pd.read_csv(out / "history.csv")
    n = stages_before
    assert len(history) == before_rows + 3 and list(history["stage"].iloc[-4:]) == [n, n + 1, n + 1, n + 1]
    assert history["minutes"].is_monotonic_increasing and history["epoch"].is_unique
    assert history["minutes"].iloc[-1] == pytest.approx(sum(s["minutes_trained"] for s in earlier) + 30.0)
    assert json.loads((out / "config.json").read_text()) == config


def test_a_run_from_scratch_replaces_the_records(tmp_path):
    """Without init_from the run is published alone: no stages, its own history and totals."""
    from publish_pretrained import publish

    out = tmp_path / "pretrained"
    shutil.copytree(SHIPPED, out)
    _fake_run(tmp_path / "run", {"init_from": None, "note": "resumed from checkpoints/last.keras at 800 steps"})
    config = publish(tmp_path / "run", out)
    assert "stages" not in config and config["images_seen"] == 32_000 and config["model_size"] == "full"
    assert len(pd.read_csv(out / "history.csv")) == 3
