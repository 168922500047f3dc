"""The one progress bar of long work (reading, preparing, rendering), so that the core needs no plotting module."""
from __future__ import annotations

import os


def progress_bar(iterable=None, *, enabled: bool = True, **kwargs):
    """tqdm.auto's bar (a widget in Jupyter), off when `enabled` is False or CRNN_PROGRESS=0 (set by make run)."""
    from tqdm.auto import tqdm

    # A notebook saved by papermill keeps only a widget's first frame ("0%"): make run's notebooks are for reading.
    off = not enabled or os.environ.get("CRNN_PROGRESS", "1") == "0"
    return tqdm(iterable, disable=off, mininterval=2.0, **kwargs)
