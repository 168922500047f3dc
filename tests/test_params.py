"""crnn_utils.params: notebook parameter checks that fail with one line naming what is allowed."""
from __future__ import annotations

from pathlib import Path

import pytest

from crnn_utils.params import ParameterError, check_choice, check_number


def test_check_choice_returns_allowed_value():
    assert check_choice("decoder", "beam", ["greedy", "beam", "lexicon"]) == "beam"
    assert check_choice("n", 2, range(5)) == 2


def test_check_choice_error_names_allowed_values():
    with pytest.raises(ParameterError) as e:
        check_choice("decoder", "fast", ("greedy", "beam", "lexicon"))
    msg = str(e.value)
    assert "decoder='fast'" in msg
    assert "['greedy', 'beam', 'lexicon']" in msg
    assert isinstance(e.value, ValueError)


def test_check_choice_works_with_generators():
    with pytest.raises(ParameterError, match=r"\[0, 1, 2\]"):
        check_choice("k", 5, (i for i in range(3)))


def test_check_number_accepts_in_range():
    assert check_number("lr", 1e-3, low=0, high=1) == 1e-3
    assert check_number("epochs", 5, low=1, integer=True) == 5
    assert check_number("x", 0, low=0, high=0) == 0
    assert check_number("x", -3.5) == -3.5


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        (dict(value=0, low=1, high=10), "in [1, 10]"),
        (dict(value=11, low=1, high=10), "in [1, 10]"),
        (dict(value=-1, low=0), ">= 0"),
        (dict(value=2.5, high=1), "<= 1"),
    ],
)
def test_check_number_out_of_range_names_range(kwargs, expected):
    with pytest.raises(ParameterError) as e:
        check_number("batch_size", **kwargs)
    msg = str(e.value)
    assert msg.startswith(f"batch_size={kwargs['value']!r}")
    assert "out of range" in msg and expected in msg


@pytest.mark.parametrize("value", ["8", None, True, False, [1]])
def test_check_number_rejects_non_numbers(value):
    with pytest.raises(ParameterError, match="must be a number"):
        check_number("lr", value)


@pytest.mark.parametrize("value", [2.0, 2.5, "2", True])
def test_check_number_integer(value):
    with pytest.raises(ParameterError, match="must be an integer"):
        check_number("epochs", value, integer=True)


def test_render_traceback_is_one_line():
    with pytest.raises(ParameterError) as e:
        check_choice("model_size", "huge", ["seed", "cpu"])
    lines = e.value._render_traceback_()
    assert isinstance(lines, list) and len(lines) == 1
    assert lines[0] == f"ParameterError: {e.value}"
    assert "\n" not in lines[0]
    assert "model_size='huge'" in lines[0] and "['seed', 'cpu']" in lines[0]


def test_one_line_errors_turns_a_readers_error_into_a_parameter_error():
    from crnn_utils.params import one_line_errors

    with pytest.raises(ParameterError, match="^data_dir 'x' does not exist$"):
        with one_line_errors():
            raise FileNotFoundError("data_dir 'x' does not exist")
    with pytest.raises(KeyError):  # anything else is a bug, shown with its traceback
        with one_line_errors():
            raise KeyError("x")


def test_from_checkout_root_moves_only_out_of_a_checkouts_notebooks_folder(tmp_path, monkeypatch, capsys):
    from crnn_utils.params import from_checkout_root

    root = tmp_path / "checkout"
    (root / "notebooks").mkdir(parents=True)
    (root / "crnn_utils").mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    monkeypatch.chdir(root / "notebooks")
    assert from_checkout_root() == root
    assert Path.cwd() == root and "repository root" in capsys.readouterr().out
    # Anywhere else (the root itself, a user's own notebooks/ folder without the package beside it): no move.
    assert from_checkout_root() == root and capsys.readouterr().out == ""
    other = tmp_path / "mine" / "notebooks"
    other.mkdir(parents=True)
    monkeypatch.chdir(other)
    assert from_checkout_root() == other and Path.cwd() == other
