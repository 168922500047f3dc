"""Notebook parameter checks that stop with one line saying what is allowed, not a deep traceback."""
from __future__ import annotations

from contextlib import contextmanager
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
