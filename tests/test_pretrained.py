"""The shipped pretrained model: its records agree with it, it reads the samples, and a plain `pip install .` carries it."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "crnn_utils" / "pretrained"


def test_pretrained_model_matches_its_records():
    """model.keras carries the charset and stretch that config.json states, is under 15 MB, and came from a real run."""
    from crnn_utils.recognizer import Recognizer

    config = json.loads((SHIPPED / "config.json").read_text())
    summary = json.loads((SHIPPED / "train_summary.json").read_text())
    rec = Recognizer.pretrained()
    assert rec.charset.chars == config["charset"]
    assert rec.max_stretch == config["max_stretch"]
    assert rec.model.count_params() == config["params"]
    assert (SHIPPED / "model.keras").stat().st_size <= 15e6
    assert summary["checkpoint_chosen_by"] == config["checkpoint_chosen_by"]
    # A model trained in stages (a long run continued from the model shipped before) totals them; its last stage is
    # the run that train_summary.json describes.
    stages = config.get("stages") or [{"images_seen": summary["images_seen"], "epochs_run": summary["epochs_run"]}]
    assert stages[-1]["images_seen"] == summary["images_seen"] and stages[-1]["epochs_run"] == summary["epochs_run"]
    assert config["images_seen"] == sum(s["images_seen"] for s in stages)
    history = (SHIPPED / "history.csv").read_text().splitlines()
    assert history[0].startswith("epoch,") and len(history) - 1 == sum(s["epochs_run"] for s in stages)



def test_pretrained_records_name_no_machine_path():
    """The shipped records speak of the run's own files, never of the folders of the machine that trained it."""
    import re

    for path in sorted(SHIPPED.glob("*.json")):
        found = re.findall(r'"(?:/|[A-Za-z]:\\\\)[^"]*"|(?:/root|/home|/tmp|/Users)/\S*', path.read_text())
        assert not found, f"{path.name} names machine paths: {found[:3]}"


def test_pretrained_model_reads_the_sample_photos():
    """Recognizer.pretrained() reads the real photographed words of data/samples; the broken file is reported, not read."""
    from crnn_utils.recognizer import Recognizer, score_folder

    scores = score_folder(Recognizer.pretrained(), ROOT / "data" / "samples", decoders=("greedy",))
    assert scores["unreadable"] == 1  # broken.jpg, a truncated file kept to show the error
    readable = scores["greedy"]["n"] - scores["unreadable"]
    correct = round(scores["greedy"]["word_acc_ci"] * scores["greedy"]["n"])  # its letter case is less sure
    assert readable >= 13 and correct >= readable - 2, scores["misread"]


def test_pretrained_model_reads_a_loose_crop_as_the_tight_one():
    """A photo with a wide margin around its word reads as its tight crop: the word is also read cut out (trim)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from loose_crops import with_margin

    from crnn_utils.images import load_image
    from crnn_utils.recognizer import Recognizer

    rec = Recognizer.pretrained()
    tight = [load_image(ROOT / "data" / "samples" / name) for name in ("Freephone.jpg", "NOTICE.jpg", "Welcome.jpg",
                                                                         "SANYO.jpg")]
    loose = [with_margin(image, 1.0, 1.0) for image in tight]   # the word a third of the height, background around it
    expected = [r.text for r in rec.recognize(tight, "greedy")]
    assert [r.text for r in rec.recognize(loose, "greedy")] == expected
    rec.trim = False  # read as they are, some are misread
    assert [r.text for r in rec.recognize(loose, "greedy")] != expected


def test_read_text_reads_signs_word_by_word():
    """read_text finds a sign's words by their gaps and joins them with spaces; read whole, the sign is misread."""
    from crnn_utils.recognizer import Recognizer

    rec = Recognizer.pretrained()
    signs = [ROOT / "data" / "signs" / name for name in ("parking.jpg", "car_parks.jpg")]  # real photos
    read = rec.read_text(signs, "greedy")
    assert [r.text for r in read] == ["DOUBLE PARKING PROHIBITED AT ALL TIMES", "Conference Centre Car Parks"], read
    assert all(0 < r.confidence <= 1 and r.ok for r in read)
    assert rec.recognize(signs[1], "greedy")[0].text != read[1].text.replace(" ", "")  # whole, it is misread


def test_read_text_reads_one_word_photos_as_recognize_does():
    """On the single-word photos (and a broken file) read_text gives recognize's text; a plate's groups come apart."""
    from crnn_utils.recognizer import Recognizer, list_images

    rec = Recognizer.pretrained()
    photos = list_images(ROOT / "data" / "samples")
    words, texts = rec.recognize(photos, "greedy"), rec.read_text(photos, "greedy")
    plate = [p.name for p in photos].index("AD799KB.png")  # three groups with gaps: read apart, and likelier so
    assert texts[plate].text == "AD 799 KB" and texts[plate].confidence > words[plate].confidence
    del words[plate], texts[plate]
    assert [(r.text, r.error, r.source) for r in texts] == [(r.text, r.error, r.source) for r in words]
    assert [r.confidence for r in texts] == pytest.approx([r.confidence for r in words], abs=1e-4)


@pytest.mark.slow
def test_plain_install_ships_and_loads_the_pretrained_model(tmp_path):
    """A non-editable install (wheel, then --target) loads the model from the installed package, outside the checkout."""
    # 1. Build a wheel from a copy of the package (setuptools writes build/ beside the sources).
    src = tmp_path / "src"
    shutil.copytree(ROOT / "crnn_utils", src / "crnn_utils", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--quiet", "-w", str(wheels)],
                   check=True, cwd=tmp_path)
    (wheel,) = wheels.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("model.keras", "config.json", "dataset.json", "train_summary.json", "history.csv"):
        assert f"crnn_utils/pretrained/{name}" in names
    # 2. Install it elsewhere and load the model from there, in a process that starts outside the checkout.
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", str(wheel), "--no-deps", "--quiet", "--target", str(target)],
                   check=True, cwd=tmp_path)
    code = ("import crnn_utils; from crnn_utils.recognizer import Recognizer; import numpy as np; "
            "rec = Recognizer.pretrained(); print(crnn_utils.__file__); "
            "print(len(rec.recognize([np.full((32, 100), 255, np.uint8)])))")
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    where, count = out.stdout.split()[-2:]
    assert Path(where).is_relative_to(target) and count == "1"
