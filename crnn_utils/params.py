"""Notebook parameters: checks that stop with one line saying what is allowed, and the folder relative ones mean."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator


class ParameterError(ValueError):
    """A bad notebook parameter; Jupyter shows only its one-line message."""

    def _render_traceback_(self) -> list[str]:  # IPython's hook: print this instead of the traceback
        return [f"ParameterError: {self}"]


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return value if it is one of `allowed`, else raise ParameterError naming them."""
    allowed = list(allowed)
    if value not in allowed:
        raise ParameterError(f"{name}={value!r} is not allowed; use one of {allowed}")
    return value


def check_number(name: str, value: Any, low: float | None = None, high: float | None = None,
                 integer: bool = False) -> Any:
    """Return value if it is a number within [low, high] (an int when `integer`), else raise ParameterError."""
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type:
        kind = "an integer" if integer else "a number"
        raise ParameterError(f"{name}={value!r} must be {kind}")
    if (low is not None and value < low) or (high is not None and value > high):
        rng = f">= {low}" if high is None else f"<= {high}" if low is None else f"in [{low}, {high}]"
        raise ParameterError(f"{name}={value!r} is out of range; it must be {rng}")
    return value


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Inside the block, a reader's ValueError or OSError (its message says what to do) stops as a one-line ParameterError."""
    try:
        yield
    except ParameterError:
        raise
    except (ValueError, OSError) as e:
        raise ParameterError(str(e)) from None


def from_checkout_root() -> Path:
    """Move to the repository root when Jupyter started the kernel in its notebooks/ folder; return the working folder.

    make run and papermill run the notebooks from the root, while JupyterLab and nbval start each kernel in the
    notebook's own folder, where `run_dir = "runs/default"` would quietly mean notebooks/runs/default.
    """
    here = Path.cwd()
    root = here.parent
    if here.name == "notebooks" and (root / "pyproject.toml").is_file() and (root / "crnn_utils").is_dir():
        os.chdir(root)
        print("working folder: moved from notebooks/ to the repository root, where relative paths such as run_dir point")
        return root
    return here
