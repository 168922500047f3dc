"""scripts/run_notebooks.py: the chain's time limit shortens notebook 03's training on slower machines only; the committed
notebooks as scripts/publish_notebooks.py leaves them."""
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import run_notebooks  # noqa: E402
from run_notebooks import NOTEBOOKS, RESERVE_PER_01_SECOND, RESERVE_SECONDS, training_budget  # noqa: E402


def test_fast_machine_keeps_the_default_budget():
    # 01 in 114 s and 02 in 11 s (the README's AMD machine): 15.8 min would be left, the default 12.5 stays.
    assert training_budget(12.5, 19.5, elapsed=125, seconds_01=114) == 12.5


def test_slow_machine_trains_for_what_is_left():
    # 01 in 307 s and 02 in 22 s (the README's Intel machine).
    budget = training_budget(12.5, 19.5, elapsed=329, seconds_01=307)
    expected = (19.5 * 60 - 329 - RESERVE_SECONDS - RESERVE_PER_01_SECOND * 307) / 60
    assert abs(budget - expected) < 0.01 and 9 < budget < 12.5


def test_budget_never_drops_below_a_minute():
    assert training_budget(12.5, 5, elapsed=600, seconds_01=590) == 1.0


@pytest.fixture
def fake_chain(monkeypatch, tmp_path):
    """run_chain with papermill replaced by a recorder and a clock in which 01 takes 300 s and 02 takes 20 s."""

    def run(params, since=None, **kw):
        ticks = ([] if since is not None else [0.0]) + [0.0, 300.0, 300.0, 320.0] + [320.0] * 20
        clock, calls = iter(ticks), {}
        monkeypatch.setattr(run_notebooks.time, "time", lambda: next(clock))
        monkeypatch.setattr(run_notebooks.pm, "execute_notebook",
                            lambda src, out, parameters, **_: calls.setdefault(
                                Path(src).name[:2], {k: v for k, v in parameters.items() if k != "run_dir"}))
        run_notebooks.run_chain(str(tmp_path / "r"), params, since=since, **kw)
        return calls

    return run


def test_chain_passes_the_shortened_budget_to_03_only(fake_chain):
    calls = fake_chain({}, minutes=19.5)
    expected = training_budget(12.5, 19.5, elapsed=320, seconds_01=300)
    assert calls["03"] == {"time_budget_minutes": expected} and expected < 12.5
    assert calls["01"] == calls["02"] == calls["04"] == {}  # defaults are not injected
    # A budget the user gives wins; no limit leaves 03 alone.
    assert fake_chain({"03": {"time_budget_minutes": 2.0}}, minutes=19.5)["03"] == {"time_budget_minutes": 2.0}
    assert fake_chain({}, minutes=0.0)["03"] == {}


def test_time_before_the_chain_counts_when_since_is_given(fake_chain):
    # make started 150 s before the chain (the install): 470 s are spent when 03 starts, not 320.
    calls = fake_chain({}, only=["01", "02", "03"], minutes=19.5, since=-150.0)
    assert calls["03"]["time_budget_minutes"] == training_budget(12.5, 19.5, elapsed=470, seconds_01=300)
    assert calls["03"]["time_budget_minutes"] < training_budget(12.5, 19.5, elapsed=320, seconds_01=300)


def test_a_long_training_budget_is_not_cut_by_the_cell_timeout(monkeypatch, tmp_path):
    # `-p 03:time_budget_minutes=60` (the README's MJSynth example) used to be killed at the 1800 s cell timeout.
    assert run_notebooks.cell_timeout(1800, 60.0) == 60 * 60 + 900
    assert run_notebooks.cell_timeout(1800, 15.0) == 1800 and run_notebooks.cell_timeout(1800, 0.0) == 1800
    assert run_notebooks.cell_timeout(0, 60.0) is None
    limits = {}
    monkeypatch.setattr(run_notebooks.pm, "execute_notebook",
                        lambda src, out, parameters, execution_timeout, **_: limits.setdefault(
                            Path(src).name[:2], execution_timeout))
    run_notebooks.run_chain(str(tmp_path / "r"), {"03": {"time_budget_minutes": 60.0}}, only=["02", "03"])
    assert limits == {"02": 1800, "03": 60 * 60 + 900}


def test_a_stale_injected_cell_is_replaced_on_a_default_run(monkeypatch, tmp_path):
    # papermill replaces an injected-parameters cell only when it injects something: a committed 03 once kept its
    # slower machine's `time_budget_minutes = 10.6`, and every default `make run` after it trained 10.6 minutes.
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell('run_dir = "runs/default"\nbudget = 15.0', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("budget = 10.6", metadata={"tags": ["injected-parameters"]}),
        nbformat.v4.new_code_cell("print(f'budget {budget}')"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (tmp_path / "notebooks").mkdir()
    nbformat.write(nb, tmp_path / "notebooks" / "01_probe.ipynb")
    monkeypatch.setattr(run_notebooks, "ROOT", tmp_path)
    monkeypatch.setattr(run_notebooks, "NOTEBOOKS", ["01_probe.ipynb"])
    monkeypatch.chdir(tmp_path)
    run_notebooks.run_chain("runs/default", {}, timeout=120)
    out = nbformat.read(tmp_path / "runs" / "default" / "01_probe.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in out.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert printed == "budget 15.0\n"


@pytest.mark.parametrize("name", run_notebooks.NOTEBOOKS)
def test_committed_notebooks_carry_no_injected_parameters(name):
    # A reader who runs a committed notebook in JupyterLab would get the values of the run that executed it.
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    assert not [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    # papermill rewrites its record of the parameters only when it injects some, so a run that injected nothing kept
    # the notebook's old record (03 once showed a slower machine's time_budget_minutes=10.6), which readers see too.
    assert nb.metadata.get("papermill", {}).get("parameters", {}) == {}


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebooks_carry_no_run_debris(name):
    # What publish_notebooks.py leaves out: saved widget state (finished progress bars) and object addresses.
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    assert "widgets" not in nb.metadata
    texts = [o.get("data", {}).get("text/plain", "") for c in nb.cells for o in c.get("outputs", [])]
    assert not [t for t in texts if re.search(r" at 0x[0-9a-fA-F]+", t)]


def test_publish_cleans_an_executed_notebook():
    import nbformat

    sys.path.insert(0, str(ROOT / "scripts"))
    from publish_notebooks import clean

    nb = nbformat.v4.new_notebook(metadata={"papermill": {"parameters": {"x": 1}, "input_path": "notebooks/04.ipynb",
                                                          "output_path": "/tmp/fresh/runs/default/04.ipynb"},
                                            "widgets": {"state": {}}})
    nb.cells = [nbformat.v4.new_code_cell("x = 1", execution_count=1, metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("x = 2", execution_count=2, metadata={"tags": ["injected-parameters"]}),
                nbformat.v4.new_code_cell("s", execution_count=3, outputs=[nbformat.v4.new_output(
                    "execute_result", {"text/plain": "<Styler at 0x7f0639c45090>"}, execution_count=3)])]
    out = clean(nb)
    assert [c.source for c in out.cells] == ["x = 1", "s"] and [c.execution_count for c in out.cells] == [1, 2]
    assert out.metadata.papermill["parameters"] == {} and "widgets" not in out.metadata
    assert out.metadata.papermill["output_path"] == "runs/default/04.ipynb"   # no machine folder
    assert out.metadata.papermill["input_path"] == "notebooks/04.ipynb"
    assert out.cells[1].outputs[0]["data"]["text/plain"] == "<Styler>"


def test_parameters_parse_as_literals_and_expand_the_home_folder():
    params = run_notebooks.parse_params(["03:epochs=2", "03:val_dir=~/crops", "01:charset=seed", "03:lr=1e-3"])
    assert params == {"03": {"epochs": 2, "val_dir": str(Path.home() / "crops"), "lr": 1e-3},
                      "01": {"charset": "seed"}}


def test_digits_given_to_a_text_parameter_stay_text(fake_chain):
    # `-p 01:charset=1234567890` parses as a number; the notebook's charset is text.
    params = run_notebooks.parse_params(["01:charset=1234567890", "01:n_train=100"])
    assert fake_chain(params, only=["01"])["01"] == {"charset": "1234567890", "n_train": 100}


def test_resume_refuses_01_parameters_the_run_was_not_made_with(fake_chain, tmp_path):
    import nbformat

    run = tmp_path / "r"
    (run / "data").mkdir(parents=True)
    (run / "data" / "dataset.json").write_text("{}")
    made = nbformat.v4.new_notebook(metadata={"papermill": {"parameters": {"run_dir": "elsewhere", "n_train": 100}}})
    nbformat.write(made, run / NOTEBOOKS[0])
    # The same command again (as `make long-run` types it) resumes; another n_train or data_dir would be ignored.
    assert "01" not in fake_chain({"01": {"n_train": 100}}, only=["01"], resume=True)
    with pytest.raises(SystemExit, match=r"made with n_train=100, data_dir=''.*n_train=200, data_dir='x' would be ignored"):
        fake_chain({"01": {"n_train": 200, "data_dir": "x"}}, only=["01"], resume=True)


@pytest.mark.parametrize("init, expected", [("", None), ("pretrained", "pretrained")])
def test_long_run_continues_the_shipped_model_only_when_asked(init, expected):
    """`make long-run INIT=pretrained` hands init_from to notebook 03; without INIT it trains from scratch."""
    import shlex
    import subprocess

    out = subprocess.run(["make", "-n", "long-run", "STAMP=", f"INIT={init}", "LONG_DIR=/tmp/x"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    words = shlex.split(out.replace("\\\n", " "))
    params = run_notebooks.parse_params([words[i + 1] for i, w in enumerate(words) if w == "-p"])
    assert params["03"].get("init_from") == expected
    assert params["03"]["time_budget_minutes"] == 240 and params["01"]["n_train"] == 300_000
