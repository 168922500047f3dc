"""Tesseract beside the CRNN: the `tesseract` program on the same images (single-word mode, `--psm 8`, by default)."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Sequence, Union

import numpy as np

Item = Union[str, os.PathLike, np.ndarray]


def available() -> bool:
    """Whether the `tesseract` program is on the PATH (apt-get install tesseract-ocr)."""
    return shutil.which("tesseract") is not None


def version() -> str | None:
    """Tesseract's first version line, or None when it is not installed."""
    if not available():
        return None
    return subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.splitlines()[0]


def read_words(items: Sequence[Item], psm: int = 8, keep: str | None = None) -> list[str]:
    """One `tesseract IMAGE stdout --psm PSM` per image (files, or arrays: grey in [0, 1] or uint8); its text, trimmed.

    `keep` drops every character not in it (a charset's characters), so Tesseract is scored on what the CRNN can say.
    """
    if not available():
        raise FileNotFoundError("tesseract is not installed: apt-get install tesseract-ocr")
    texts = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, item in enumerate(items):
            # 1. Arrays are written as PNG files first, as a user would hand them to the program.
            path = item if not isinstance(item, np.ndarray) else _as_png(item, Path(tmp) / f"{i}.png")
            run = subprocess.run(["tesseract", str(path), "stdout", "--psm", str(psm)], capture_output=True, text=True)
            # 2. One word: spaces removed (psm 8 may still split a word in two); other modes: words, single-spaced.
            words = [w if keep is None else "".join(c for c in w if c in keep) for w in run.stdout.split()]
            texts.append(("" if psm == 8 else " ").join(w for w in words if w))
    return texts


def _as_png(image: np.ndarray, path: Path) -> Path:
    """Write a grey or colour array (floats in [0, 1], or 0..255) to `path` as PNG."""
    import cv2

    image = np.asarray(image)
    if np.issubdtype(image.dtype, np.floating):
        image = np.clip(image * 255.0 if image.max() <= 1.0 else image, 0, 255)
    image = image.astype(np.uint8)
    cv2.imwrite(str(path), image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image)
    return path
