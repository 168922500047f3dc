"""environment.yml (conda) and pyproject.toml (pip) must list the same dependencies."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _yml_pip_deps() -> list[str]:
    deps, in_pip = [], False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if re.match(r"\s*-\s*pip:\s*$", line):
            in_pip = True
            continue
        m = re.match(r'\s*-\s*"([^"]+)"', line)
        if in_pip and m and m.group(1) != "-e .":
            deps.append(m.group(1))
    return deps


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert sorted(_yml_pip_deps()) == sorted(project["dependencies"])


def test_environment_yml_pins_python_311():
    assert re.search(r"^\s*-\s*python=3\.11\s*$", (ROOT / "environment.yml").read_text(), re.M)


def test_design_dependencies_present():
    names = {re.split(r"[<>=~!\[ ]", d)[0].lower() for d in _yml_pip_deps()}
    for needed in ("jupyterlab", "tensorflow", "matplotlib", "numpy", "opencv-python", "nbval", "papermill"):
        assert needed in names
