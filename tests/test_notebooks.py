"""Notebook tier: the four notebooks chained with papermill on tiny parameters, and nbval over the committed ones."""
import json
import re
import subprocess
import sys
from pathlib import Path

import papermill as pm
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from run_notebooks import NOTEBOOKS, run_chain  # noqa: E402

# Small enough for CI on 2 cores; the model is the 'tiny' one so a minute of training reads something.
TINY = {
    "01": {"n_train": 600, "n_val": 64, "n_test": 64, "seed": 0},
    "02": {"model_size": "tiny"},
    "03": {"epochs": 2, "batch_size": 32, "steps_per_epoch": 10, "time_budget_minutes": 3.0, "val_decode_images": 64},
    "04": {"n_test": 64, "beam_width": 4, "images_dir": str(ROOT / "data" / "samples"),
           "signs_dir": str(ROOT / "data" / "signs"), "eval_dir": str(ROOT / "data" / "samples")},
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chained_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("run") / "tiny"
    run_chain(str(run_dir), TINY, timeout=900)
    return run_dir


def test_every_contract_file_is_written(chained_run):
    for rel in ["data/dataset.json", "model/config.json", "model/summary.txt", "checkpoints/best.keras",
                "history.csv", "train_summary.json", "eval/metrics.json", "eval/predictions.csv",
                "export/model.tflite"] + NOTEBOOKS:
        assert (chained_run / rel).exists(), rel


def test_dataset_json_counts(chained_run):
    info = json.loads((chained_run / "data" / "dataset.json").read_text())
    assert info["num_classes"] == 63 and len(info["charset"]) == 62
    assert info["counts"] == {"train": 600, "val": 64, "test": 64}
    for split, seen in info["seen"].items():
        assert seen == info["counts"][split] + sum(info["skipped"][split].values())
    from crnn_utils.synth import font_counts
    assert info["fonts"] == font_counts()   # the installed fonts are part of the generator


def test_model_config(chained_run):
    cfg = json.loads((chained_run / "model" / "config.json").read_text())
    assert cfg["model_size"] == "tiny" and cfg["time_steps"] == 31 and cfg["num_classes"] == 63


def test_train_summary(chained_run):
    s = json.loads((chained_run / "train_summary.json").read_text())
    assert s["epochs_run"] == 2 and s["best_val_loss"] is not None
    for key in ("val_word_accuracy", "val_cer", "wall_seconds", "images_per_second"):
        assert key in s
    assert 0 <= s["val_word_accuracy"] <= 1 and s["images_per_second"] > 0 and s["init_from"] is None
    history = (chained_run / "history.csv").read_text().splitlines()
    assert len(history) == 3 and "val_word_acc" in history[0] and "blank_share" in history[0]


def test_metrics_json(chained_run):
    m = json.loads((chained_run / "eval" / "metrics.json").read_text())
    for decoder in ("greedy", "beam", "lexicon"):
        assert m[decoder]["n_images"] == 64
        assert {"word_accuracy", "word_accuracy_ci", "cer"} <= set(m[decoder])
    for name, check in m["export_check"].items():
        assert check["same text as Keras"] == 1.0, name
    # eval_dir: the samples are labelled by their file names; the broken one counts as read wrong.
    n_files = len(list((ROOT / "data" / "samples").iterdir()))
    assert m["eval_dir"]["greedy"]["n"] == n_files and m["eval_dir"]["unreadable"] == 1
    lines = (chained_run / "eval" / "predictions.csv").read_text().splitlines()
    assert lines[0].startswith("image,label,prediction") and len(lines) == 65


def test_notebook_04_reads_with_the_pretrained_model(chained_run, tmp_path):
    """model="pretrained": notebook 04 reads the run's test split and the samples with the shipped model, and says so."""
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(chained_run / "data", run_dir / "data")  # notebook 01's output only: no model of the run
    run_chain(str(run_dir), {"04": {**TINY["04"], "model": "pretrained", "do_export": False, "lexicon_images": 16}},
              only=["04"], timeout=900)
    m = json.loads((run_dir / "eval" / "metrics.json").read_text())
    assert m["model"].startswith("the pretrained model")
    # The tiny run's own model reads almost nothing after 20 steps; the shipped one reads the rendered test words and
    # the real photographed samples (a broken file among them counts as wrong).
    assert m["greedy"]["n_images"] == 64 and m["greedy"]["word_accuracy_ci"] > 0.6
    assert m["eval_dir"]["greedy"]["word_acc_ci"] >= 0.7


def test_notebook_01_reads_an_icdar_style_folder(tmp_path):
    """dataset="folder" end to end on someone else's layout: gt.txt lines, a bad line, a missing file, all counted."""
    import cv2

    from crnn_utils.synth import SyntheticWords

    folder = tmp_path / "crops"
    folder.mkdir()
    gen = SyntheticWords(seed=3)
    lines = []
    for i in range(40):
        img, label = gen.render(i)
        cv2.imwrite(str(folder / f"word_{i + 1}.png"), img)
        lines.append(f'word_{i + 1}.png, "{label}"')
    lines[5:5] = ["this line names no image", 'word_99.png, "Missing"']
    (folder / "gt.txt").write_text("\r\n".join(lines) + "\r\n")
    run_dir = tmp_path / "run"
    run_chain(str(run_dir), {"01": {"dataset": "folder", "data_dir": str(folder), "n_train": 100, "n_val": 4,
                                    "n_test": 4}}, only=["01"], timeout=600)
    info = json.loads((run_dir / "data" / "dataset.json").read_text())
    skipped = {reason: sum(info["skipped"][s].get(reason, 0) for s in info["skipped"])
               for reason in ("malformed_annotation", "missing_file")}
    assert skipped == {"malformed_annotation": 1, "missing_file": 1}
    # Every line is accounted for: 40 images, the missing file and the bad line.
    assert sum(info["seen"].values()) == 42 and sum(info["counts"].values()) == 40


@pytest.mark.parametrize("kind, message", [
    ("cyrillic", "train: none of the 12 inputs is usable (out_of_charset: 12, e.g. "),
    ("empty_jpegs", "train: none of the 12 inputs is usable (empty_file: 12, e.g. '1/1/0_Word_0.jpg')"),
])
def test_notebook_01_says_why_no_image_was_usable(tmp_path, kind, message):
    """A source none of whose training images can be used stops with one line, not a deep traceback in a plot."""
    import cv2
    import numpy as np

    src = tmp_path / "src"
    src.mkdir()
    if kind == "cyrillic":  # labels the seed charset cannot hold
        for i in range(16):
            cv2.imwrite(str(src / f"{i}.png"), np.full((32, 80), 200, np.uint8))
        (src / "labels.tsv").write_text("".join(f"{i}.png\tПривет\n" for i in range(16)), encoding="utf-8")
        params = {"dataset": "folder", "n_val": 2, "n_test": 2}
    else:  # an MJSynth tree whose images are all empty files
        for split, n in (("train", 12), ("val", 2), ("test", 2)):
            lines = []
            for i in range(n):
                rel = f"{split}/1/{i}_Word_{i}.jpg" if split != "train" else f"1/1/{i}_Word_{i}.jpg"
                (src / rel).parent.mkdir(parents=True, exist_ok=True)
                (src / rel).write_bytes(b"")
                lines.append(f"./{rel} {i}")
            (src / f"annotation_{split}.txt").write_text("\n".join(lines) + "\n")
        params = {"dataset": "mjsynth", "n_val": 2, "n_test": 2}
    with pytest.raises(pm.PapermillExecutionError) as err:
        pm.execute_notebook(str(ROOT / "notebooks" / NOTEBOOKS[0]), str(tmp_path / "out.ipynb"),
                            parameters={"run_dir": str(tmp_path / "r"), "data_dir": str(src), **params},
                            cwd=str(ROOT), kernel_name="python3", progress_bar=False, execution_timeout=300)
    assert err.value.ename == "ParameterError" and message in err.value.evalue, err.value.evalue
    if kind == "cyrillic":
        assert 'charset="auto"' in err.value.evalue


def test_resume_rerun_does_not_retrain(chained_run):
    """Re-running 03 on the same run_dir resumes: nothing left to do at epochs=2, history unchanged."""
    before = (chained_run / "history.csv").read_text()
    first = json.loads((chained_run / "train_summary.json").read_text())
    run_chain(str(chained_run), TINY, only=["03"], timeout=600)
    assert (chained_run / "history.csv").read_text() == before
    s = json.loads((chained_run / "train_summary.json").read_text())
    assert "resumed" in s["note"] and s["epochs_run"] == 2
    # The record still describes the run: its speed is the run's, not the 0 images/s of a call that trained nothing.
    assert s["images_per_second"] == pytest.approx(first["images_per_second"], abs=0.15) and s["images_per_second"] > 0
    assert s["images_seen"] == first["images_seen"]
    assert s["minutes_trained"] == pytest.approx(first["minutes_trained"], abs=0.02)   # the state saved at epoch end


def test_fine_tuning_with_defaults_takes_its_own_rate_and_length(chained_run, tmp_path):
    """init_from="pretrained" alone: rate 5e-4 and 15 passes over the 600 training words (282 steps, mid-epoch stop)."""
    run = tmp_path / "tuned"
    run.mkdir()
    (run / "data").symlink_to(chained_run / "data")
    run_chain(str(run), {"03": {"init_from": "pretrained", "batch_size": 32, "steps_per_epoch": 100,
                                "time_budget_minutes": 0, "val_decode_images": 64}}, only=["03"], timeout=900)
    s = json.loads((run / "train_summary.json").read_text())
    assert s["config"]["learning_rate"] == 5e-4 and s["config"]["model_size"] == "half"
    assert s["images_seen"] == 282 * 32 and s["epochs_run"] == 3 and s["epochs_requested"] == 3
    assert "fine-tuning defaults: learning rate 0.0005, 282 steps (15 passes over 600 images)" in s["note"]
    assert s["init_from"] == "pretrained"   # what scripts/publish_pretrained.py reads


@pytest.mark.parametrize("index, params, message", [
    (0, {"dataset": "mjsnth"}, "dataset='mjsnth' is not allowed"),
    (0, {"n_train": -5}, "n_train=-5 is out of range"),
    (0, {"charset": "aab"}, "charset='aab'"),
    (2, {"mixed_precision": "fp16"}, "mixed_precision='fp16' is not allowed"),
    (2, {"init_from": "runs/none/best.keras"}, "init_from='runs/none/best.keras' does not exist"),
])
def test_bad_parameter_stops_with_one_line(tmp_path, index, params, message):
    with pytest.raises(pm.PapermillExecutionError) as err:
        pm.execute_notebook(str(ROOT / "notebooks" / NOTEBOOKS[index]), str(tmp_path / "out.ipynb"),
                            parameters={"run_dir": str(tmp_path / "r"), **params}, cwd=str(ROOT),
                            kernel_name="python3", progress_bar=False, execution_timeout=300)
    assert err.value.ename == "ParameterError" and message in err.value.evalue
    # The failing cell is the check cell right after the injected parameters, not something deep inside.
    nb = json.loads((tmp_path / "out.ipynb").read_text())
    failed = [i for i, c in enumerate(nb["cells"]) if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    injected = next(i for i, c in enumerate(nb["cells"]) if "injected-parameters" in c["metadata"].get("tags", []))
    first_code_after = next(i for i in range(injected + 1, len(nb["cells"])) if nb["cells"][i]["cell_type"] == "code")
    assert failed == [first_code_after]


def test_misspelled_parameter_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="unknown parameter"):
        run_chain(str(tmp_path / "r"), {"01": {"n_trian": 5}}, only=["01"])


def test_nbval_over_committed_notebooks(tmp_path):
    """nbval --nbval-lax on copies of the committed notebooks with tiny parameters injected (outputs kept)."""
    from papermill.parameterize import parameterize_notebook
    import nbformat

    run_dir = tmp_path / "nbval_run"
    for name in NOTEBOOKS:
        nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        nb = parameterize_notebook(nb, {"run_dir": str(run_dir), **TINY[name[:2]]})
        for cell in nb.cells:  # nbval compares only cells with an execution count; the injected one has none
            if "injected-parameters" in cell.metadata.get("tags", []):
                cell.execution_count = None
        nbformat.write(nb, tmp_path / name)
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "--nbval-cell-timeout=900",
         "-p", "no:cacheprovider", "-q", *[str(tmp_path / n) for n in NOTEBOOKS]],
        cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert out.returncode == 0, out.stdout[-4000:]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_parameter_line_parses(name):
    """papermill silently drops a parameter whose comment it cannot parse (an '=' or a quote in it): none may be lost."""
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "exactly one cell tagged 'parameters'"
    assigned = [line.split("=")[0].strip() for line in cells[0].source.splitlines()
                if line and not line.startswith("#") and "=" in line]
    assert sorted(pm.inspect_notebook(str(ROOT / "notebooks" / name))) == sorted(assigned)
    assert "run_dir" in assigned


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_skeleton(name):
    """Title, purpose paragraph, a Setup section, a Summary, kernelspec python3, small committed outputs."""
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith(f"# {name[:2]} ·")
    headings = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown"]
    assert "## Setup" in headings and any(h.startswith("## Summary") for h in headings)
    # The Summary, then a last section whose code cell writes the machine-readable results.
    summary = max(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.startswith("## Summary"))
    rest = nb.cells[summary + 1:]
    assert [c.cell_type for c in rest] == ["markdown", "code"] and re.match(r"## \d+\. Write ", rest[0].source)
    assert "write_text(" in rest[1].source or "write_report(" in rest[1].source or "save_model_config(" in rest[1].source
    assert nb.metadata["kernelspec"]["name"] == "python3"
    # papermill looks for the parameters cell through cell.metadata.tags, and fails on a cell that has none.
    assert all("tags" in c.metadata for c in nb.cells), "a cell without metadata.tags breaks papermill"
    assert (ROOT / "notebooks" / name).stat().st_size < 3_000_000
    text = (ROOT / "notebooks" / name).read_text(encoding="utf-8")
    assert not re.findall(r'(?:^|[\s"\'(=])/(?:tmp|home|root|Users|work)/', text), "an absolute machine path is committed"
    assert not [c for c in nb.cells if "execution" in c.metadata or "papermill" in c.metadata], \
        "per-cell timings are committed: publish with scripts/publish_notebooks.py"


def _labelled_folder(folder, words):
    """Render `words` (the project's generator draws any characters its fonts have) into folder/labels.tsv."""
    import cv2

    from crnn_utils.synth import render_words

    folder.mkdir()
    lines = []
    for i, (word, img) in enumerate(zip(words, render_words(words, seed=5))):
        cv2.imwrite(str(folder / f"{i}.png"), img)
        lines.append(f"{i}.png\t{word}")
    (folder / "labels.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("alphabet", ["0123456789abcdefghijklmnopqrstuvwxyz", "abcdeéèêàâçñöüßø"])
def test_the_chain_runs_on_a_users_own_charset(tmp_path, alphabet):
    """A folder whose labels use only digits and lowercase letters (captcha-like), or letters outside ASCII, runs
    01 -> 04 with charset="auto": no notebook may assume the seed's characters."""
    import numpy as np

    rng = np.random.default_rng(0)
    words = ["".join(rng.choice(list(alphabet), size=rng.integers(3, 7))) for _ in range(240)]
    _labelled_folder(tmp_path / "crops", words)
    run_dir = tmp_path / "run"
    run_chain(str(run_dir), {
        "01": {"dataset": "folder", "data_dir": str(tmp_path / "crops"), "charset": "auto", "n_train": 200,
               "n_val": 20, "n_test": 20},
        "02": {"model_size": "tiny"},
        "03": {"epochs": 1, "steps_per_epoch": 5, "batch_size": 16, "time_budget_minutes": 2.0},
        "04": {"n_test": 20, "lexicon_images": 20, "do_export": False},
    }, timeout=600)
    info = json.loads((run_dir / "data" / "dataset.json").read_text())
    assert set(info["charset"]) == set("".join(words)) and info["num_classes"] == len(info["charset"]) + 1
    metrics = json.loads((run_dir / "eval" / "metrics.json").read_text())
    assert metrics["greedy"]["n_images"] == 20
    # The checkpoint is a model on its own: its charset is the run's, not the seed's.
    from crnn_utils.recognizer import Recognizer

    assert Recognizer.from_model(run_dir / "checkpoints" / "best.keras").charset.chars == info["charset"]
