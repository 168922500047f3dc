"""crnn_utils.viz: the figures say what their data say."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from crnn_utils import viz  # noqa: E402


def test_accuracy_against_minutes_marks_the_best_epoch_and_draws_the_rate_when_known():
    history = {"minutes": [1.0, 2.0, 3.0], "folder_word_acc": [0.5, 0.7, 0.6], "lr": [2e-3, 1e-3, 1e-4]}
    fig = viz.accuracy_against_minutes(history)
    assert len(fig.axes) == 2  # accuracy, and the learning rate on a twin axis
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["best: 70.0% at 2 min"]
    assert list(fig.axes[1].get_lines()[0].get_ydata()) == history["lr"]
    history.pop("lr")
    assert len(viz.accuracy_against_minutes(history).axes) == 1
