"""The console scripts, run as a user runs them: crnn-read and crnn-eval in a subprocess."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from crnn_utils.charset import Charset
from crnn_utils.model import build_named

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
BIN = Path(sys.executable).parent


def _run(cmd: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    exe = BIN / cmd
    assert exe.is_file(), f"{exe} missing: install the package (pip install -e .) so its console scripts exist"
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=300, cwd=cwd)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    """A tiny untrained model that carries the seed charset: enough to exercise the commands."""
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    cs = Charset.seed()
    build_named("tiny", num_classes=cs.num_classes, chars=cs.chars).save(path)
    return path


def test_help() -> None:
    for cmd in ("crnn-read", "crnn-eval"):
        out = _run(cmd, "--help")
        assert out.returncode == 0 and "--model" in out.stdout and "--run-dir" in out.stdout


def test_read_prints_a_line_per_image_and_the_reason_for_a_bad_file(model_file) -> None:
    out = _run("crnn-read", SAMPLES, "--model", model_file, "--decoder", "greedy")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    files = sorted(p for p in SAMPLES.iterdir() if p.is_file())
    assert [line.split("\t")[0] for line in lines] == [str(p) for p in files]
    broken = next(line for line in lines if line.startswith(str(SAMPLES / "broken.jpg")))
    assert broken.split("\t")[3] == "truncated_image"  # a JPEG header, then nothing: said as such
    good = [line.split("\t") for line in lines if "broken" not in line]
    assert all(len(fields) == 3 and 0.0 <= float(fields[2]) <= 1.0 for fields in good)
    assert f"model {model_file}" in out.stderr


def test_read_json_and_the_exit_status(model_file, tmp_path) -> None:
    out = _run("crnn-read", SAMPLES / "hello.png", SAMPLES / "broken.jpg", "--model", model_file, "--json")
    rows = json.loads(out.stdout)
    assert out.returncode == 0 and [r["error"] for r in rows] == [None, "truncated_image"]
    # Non-zero only when nothing could be read.
    out = _run("crnn-read", SAMPLES / "broken.jpg", tmp_path / "missing.png", "--model", model_file)
    assert out.returncode == 1 and len(out.stdout.splitlines()) == 2
    out = _run("crnn-read", SAMPLES, "--model", tmp_path / "none.keras")
    assert out.returncode == 2 and "none.keras not found" in out.stderr


def test_read_without_a_model_option_says_which_model_it_uses(tmp_path) -> None:
    out = _run("crnn-read", SAMPLES / "hello.png", cwd=tmp_path)  # no runs/default here
    assert out.returncode == 0, out.stderr
    assert "the pretrained model (no model in runs/default)" in out.stderr


def test_eval_prints_three_protocols_and_cer_per_decoder(model_file, tmp_path) -> None:
    out = _run("crnn-eval", SAMPLES, "--model", model_file, "--decoders", "greedy", "beam", "--json", tmp_path / "s.json")
    assert out.returncode == 0, out.stderr
    assert "case-sensitive" in out.stdout and "letters+digits" in out.stdout and "CER" in out.stdout
    lines = out.stdout.splitlines()
    assert [line.split()[0] for line in lines[2:4]] == ["greedy", "beam"]
    assert lines[4].startswith("greedy, any case, by crop height: unreadable 0% (n=1), ") and len(lines) == 5
    scores = json.loads((tmp_path / "s.json").read_text())
    n = len([p for p in SAMPLES.iterdir() if p.is_file()])
    assert scores["greedy"]["n"] == n and scores["unreadable"] == 1


def test_colour_option_reads_grey_only_or_refuses_an_unknown_mode(model_file) -> None:
    # The pretrained model on the sample photos (in colour): read grey only, some confidence differs.
    grey, auto = (_run("crnn-read", SAMPLES, "--model", "pretrained", "--decoder", "greedy", "--json", *flag)
                  for flag in (("--colour", "luminance"), ()))
    assert grey.returncode == auto.returncode == 0, grey.stderr + auto.stderr
    grey, auto = json.loads(grey.stdout), json.loads(auto.stdout)
    assert [r["path"] for r in grey] == [r["path"] for r in auto]
    assert any(g["confidence"] != a["confidence"] for g, a in zip(grey, auto))
    out = _run("crnn-eval", SAMPLES, "--model", model_file, "--colour", "rgb")
    assert out.returncode == 2 and "invalid choice: 'rgb'" in out.stderr


def test_no_trim_reads_a_loose_crop_as_it_is(tmp_path) -> None:
    # NOTICE.jpg with a margin of its height all round: cut out by default, read whole with --no-trim.
    import cv2

    image = cv2.imread(str(SAMPLES / "NOTICE.jpg"))
    h = image.shape[0]
    loose = tmp_path / "loose.png"
    cv2.imwrite(str(loose), cv2.copyMakeBorder(image, h, h, h, h, cv2.BORDER_REPLICATE))
    runs = [_run("crnn-read", loose, "--model", "pretrained", "--decoder", "greedy", "--json", *flag)
            for flag in ((), ("--no-trim",))]
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    trimmed, whole = (json.loads(r.stdout)[0] for r in runs)
    assert trimmed["text"] == "NOTICE" and trimmed["confidence"] > whole["confidence"]


def test_text_reads_the_words_of_a_sign(tmp_path) -> None:
    # A rendered two-word sign: --text prints its words with a space; without it, one word.
    import cv2
    import numpy as np

    sign = np.full((70, 360), 235, np.uint8)
    cv2.putText(sign, "NO PARKING", (12, 52), cv2.FONT_HERSHEY_SIMPLEX, 1.6, 30, 3, cv2.LINE_AA)
    cv2.imwrite(str(tmp_path / "sign.png"), sign)
    runs = [_run("crnn-read", tmp_path / "sign.png", "--model", "pretrained", "--decoder", "greedy", *flag)
            for flag in (("--text",), ())]
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    assert [r.stdout.split("\t")[1] for r in runs] == ["NO PARKING", "NOPARKING"]


def test_eval_text_scores_signs_word_by_word(tmp_path) -> None:
    # data/signs: two of the four signs read word for word with --text; without it none, and a note names --text.
    signs = SAMPLES.parent / "signs"
    runs = [_run("crnn-eval", signs, "--model", "pretrained", "--decoders", "greedy", "--json", tmp_path / f"{i}.json",
                 *flag) for i, flag in enumerate((("--text",), ()))]
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    as_text, as_word = (json.loads((tmp_path / f"{i}.json").read_text()) for i in range(2))
    assert as_text["greedy"]["word_acc_ci"] == 0.5 and as_text["chars_not_in_model"] == ""
    assert as_word["greedy"]["word_acc_ci"] == 0.0 and "--text reads each image" in runs[1].stdout


def test_lexicon_decoder_without_a_word_list_names_the_option(model_file) -> None:
    out = _run("crnn-read", SAMPLES / "hello.png", "--model", model_file, "--decoder", "lexicon")
    assert out.returncode == 2 and "--decoder lexicon needs --lexicon FILE" in out.stderr


def test_eval_says_when_labels_hold_characters_the_model_cannot_output(model_file, tmp_path) -> None:
    import shutil

    for name in ("hello.png", "Coffee.png"):
        shutil.copy(SAMPLES / name, tmp_path / name)
    (tmp_path / "labels.tsv").write_text("hello.png\thello\nCoffee.png\tMüller\n", encoding="utf-8")
    out = _run("crnn-eval", tmp_path, "--model", model_file)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert [line.split()[0] for line in lines[2:4]] == ["greedy", "beam_lm"]  # the model's default decoder
    assert "note: 1 label(s) use characters this model cannot output (ü)" in out.stdout
