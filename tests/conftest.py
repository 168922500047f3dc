"""Shared fixtures: a tiny rendered dataset in shards, built once per session."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest


@pytest.fixture(scope="session")
def tiny_shards(tmp_path_factory):
    """64 train / 16 val synthetic words rendered, read back through the MJSynth reader and written as shards."""
    from crnn_utils import datasets, synth
    from crnn_utils.charset import Charset

    root = tmp_path_factory.mktemp("tiny")
    synth.write_mjsynth_layout(root / "synth", {"train": 64, "val": 16, "test": 16}, seed=1, workers=1, progress=False)
    cs = Charset.seed()
    for split in datasets.SPLITS:
        datasets.prepare_split(datasets.read_mjsynth(root / "synth", split), cs, root / "data", split, progress=False)
    return root / "data"


@pytest.fixture
def locked_files(monkeypatch):
    """locked_files("World.png"): reading a file whose path ends so raises PermissionError (root reads mode 000)."""
    import numpy as np

    real = np.fromfile

    def lock(*suffixes: str) -> None:
        def fromfile(path, *args, **kwargs):
            if str(path).endswith(suffixes):
                raise PermissionError(13, "Permission denied")
            return real(path, *args, **kwargs)

        monkeypatch.setattr(np, "fromfile", fromfile)

    return lock
