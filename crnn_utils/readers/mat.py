"""MATLAB label files as (path, label) rows: a struct array with an image-name and a label field (IIIT5K's .mat)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np

from .rows import LABEL_COLUMNS, PATH_COLUMNS, Row


def mat_rows(path: Path) -> Iterator[Row]:
    """(path, label) rows of a MATLAB file's struct array, as IIIT5K ships them (testdata.mat: ImgName, GroundTruth)."""
    from scipy.io import loadmat

    try:
        data = loadmat(str(path), squeeze_me=True)
    except Exception as e:  # truncated, not a MATLAB file at all, or MATLAB 7.3 (HDF5), which scipy does not read
        raise ValueError(f"'{path}' is not a MATLAB file scipy can read ({type(e).__name__}: {e}); "
                         "a MATLAB 7.3 file needs saving again with save(..., '-v7')") from e
    for name, value in data.items():
        # Field names as MATLAB users write them: ImgName, GroundTruth, image_path, ...
        fields = [f.lower().replace("_", "") for f in (getattr(getattr(value, "dtype", None), "names", None) or ())]
        find = lambda names: next((fields.index(n) for n in (n.replace("_", "") for n in names) if n in fields), None)
        p, q = find((*PATH_COLUMNS, "imgname")), find(LABEL_COLUMNS)
        if name.startswith("__") or p is None or q is None:
            continue
        for row in np.atleast_1d(value):
            rel, label = row[p], row[q]
            yield ((rel, label) if isinstance(rel, str) and isinstance(label, str) else None), f"{rel!r}, {label!r}"[:80]
        return
    raise ValueError(f"'{path}' holds no struct array with an image name and a label field "
                     f"(e.g. IIIT5K's ImgName and GroundTruth)")
