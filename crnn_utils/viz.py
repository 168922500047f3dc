"""Plots the notebooks show: word grids, boxed signs, histograms, architecture, receptive fields, curves, alignment."""
from __future__ import annotations

from collections import Counter
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

from .progress import progress_bar  # noqa: F401 (re-exported for callers of viz.progress_bar)

DPI = 80  # small committed notebooks


def _gray(img: np.ndarray) -> np.ndarray:
    img = np.asarray(img)
    return img[..., 0] if img.ndim == 3 and img.shape[-1] == 1 else img


def show_words(images: Sequence[np.ndarray], titles: Sequence[str], cols: int = 4, colors: Sequence[str] | None = None,
               width: float = 2.6, suptitle: str | None = None):
    """A grid of word images with a title under each (red titles mark errors when `colors` says so)."""
    rows = int(np.ceil(len(images) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * width, rows * 0.95), dpi=DPI, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i, (img, title) in enumerate(zip(images, titles)):
        ax = axes.ravel()[i]
        img = _gray(img)
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=1 if img.dtype.kind == "f" else 255)
        ax.set_title(title, fontsize=9, color=colors[i] if colors else "black", pad=2)
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    fig.tight_layout()
    return fig


def show_word_boxes(images: Sequence[np.ndarray], boxes: Sequence[Sequence[Sequence[tuple[int, int, int, int]]]],
                    texts: Sequence[str], cols: int = 2, width: float = 3.0):
    """Images of a few words with each word found boxed (layout.word_boxes), and the text read under each."""
    import textwrap

    from matplotlib.patches import Rectangle

    rows = int(np.ceil(len(images) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * width, rows * 1.9), dpi=DPI, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, img, lines, text in zip(axes.ravel(), images, boxes, texts):
        img = _gray(img)
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
        for top, bottom, left, right in (box for line in lines for box in line):
            ax.add_patch(Rectangle((left - 0.5, top - 0.5), right - left, bottom - top, fill=False, color="tab:orange",
                                   lw=1.5))
        ax.set_title("\n".join(textwrap.wrap(text, 34)), fontsize=8, pad=2)
    fig.tight_layout()
    return fig


def before_after(raws: Sequence[np.ndarray], processed: Sequence[np.ndarray], labels: Sequence[str]):
    """Raw images (any size) beside their 32x128 model inputs."""
    n = len(raws)
    fig, axes = plt.subplots(n, 2, figsize=(7, n * 0.9), dpi=DPI, squeeze=False)
    for i in range(n):
        raw = np.asarray(raws[i])
        axes[i, 0].imshow(_gray(raw), cmap="gray" if raw.ndim == 2 else None)
        axes[i, 0].set_title(f"raw {raw.shape[1]}x{raw.shape[0]}: {labels[i]}", fontsize=8, pad=2)
        axes[i, 1].imshow(_gray(processed[i]), cmap="gray", vmin=0, vmax=1)
        axes[i, 1].set_title("model input 128x32 (gray, /255, padded)", fontsize=8, pad=2)
        for ax in axes[i]:
            ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    return fig


def bar_counts(counts: dict | Counter, title: str, xlabel: str = "", top: int | None = None, ax=None):
    """A bar chart of counts (e.g. label lengths or character frequencies)."""
    items = sorted(counts.items()) if top is None else Counter(counts).most_common(top)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 2.6), dpi=DPI)
    ax.bar([str(k) for k, _ in items], [v for _, v in items], color="#4c72b0")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.tick_params(axis="x", labelsize=7)
    ax.figure.tight_layout()
    return ax.figure


def draw_architecture(rows: Sequence[dict]):
    """The CRNN drawn as a left-to-right stack of blocks, one per layer, labelled with output shapes."""
    colors = {"Conv2D": "#4c72b0", "MaxPooling2D": "#dd8452", "BatchNormalization": "#55a868",
              "Reshape": "#8172b3", "Bidirectional": "#c44e52", "Dense": "#937860", "Activation": "#da8bc3",
              "InputLayer": "#8c8c8c"}
    fig, ax = plt.subplots(figsize=(12, 3.2), dpi=DPI)
    x = 0.0
    for r in rows:
        shape = r["output_shape"]
        h = 0.4 + 2.2 * (shape[1] / 32 if len(shape) == 4 else 0.25)   # height ~ feature-map height
        w = 0.25 + 0.5 * np.log2(max(2, shape[-1])) / 9                  # width ~ channels
        ax.add_patch(plt.Rectangle((x, -h / 2), w, h, color=colors.get(r["type"], "#999"), alpha=0.85))
        label = f"{r['layer']}\n{'x'.join(str(s) for s in shape[1:])}"
        ax.text(x + w / 2, h / 2 + 0.08, label, ha="center", va="bottom", fontsize=6.5, rotation=90)
        x += w + 0.12
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colors.values()]
    ax.legend(handles, list(colors), loc="lower center", ncol=8, fontsize=7, bbox_to_anchor=(0.5, -0.25))
    ax.set_xlim(-0.1, x), ax.set_ylim(-1.5, 3.6), ax.axis("off")
    ax.set_title("CRNN: image -> conv feature maps (height shrinks to 1) -> 31 time steps -> BiLSTM -> classes",
                 fontsize=10)
    fig.tight_layout()
    return fig


def feature_maps(image: np.ndarray, maps: dict[str, np.ndarray], channels: int = 4):
    """The input and, per named layer, the first `channels` feature maps of one image."""
    fig, axes = plt.subplots(len(maps) + 1, channels, figsize=(channels * 2.6, (len(maps) + 1) * 0.85), dpi=DPI,
                             squeeze=False)
    for ax in axes.ravel():
        ax.set_xticks([]), ax.set_yticks([])
    axes[0, 0].imshow(_gray(image), cmap="gray")
    axes[0, 0].set_title("input 32x128", fontsize=8, pad=2)
    for ax in axes[0, 1:]:
        ax.axis("off")
    for row, (name, fmap) in enumerate(maps.items(), start=1):
        for c in range(channels):
            axes[row, c].imshow(fmap[..., c], cmap="viridis", aspect="auto")
            axes[row, c].set_title(f"{name} {fmap.shape[0]}x{fmap.shape[1]} ch{c}", fontsize=7, pad=2)
    fig.tight_layout()
    return fig


def receptive_fields(image: np.ndarray, fields: Sequence[tuple[float, float]], every: int = 5):
    """Each time step's column span drawn over the input; every `every`-th step highlighted with its span."""
    fig, ax = plt.subplots(figsize=(10, 3.2), dpi=DPI)
    ax.imshow(_gray(image), cmap="gray", extent=(0, image.shape[1], image.shape[0], 0))
    cmap = plt.get_cmap("tab10")
    for t, (a, b) in enumerate(fields):
        centre = (a + b) / 2
        ax.plot([centre, centre], [image.shape[0], image.shape[0] + 2], color="k", lw=0.8, clip_on=False)
        if t % every == 0:
            y = image.shape[0] + 4 + (t // every) * 2.2
            ax.plot([a, b], [y, y], color=cmap(t // every), lw=3, clip_on=False)
            ax.text(b + 1, y, f"t={t}: px {a:.0f}-{b:.0f}", fontsize=7, va="center", clip_on=False)
    ax.set_ylim(image.shape[0] + 4 + (len(fields) // every + 1) * 2.2, 0)
    ax.set_xlim(0, image.shape[1])
    ax.set_title("Receptive field of each time step's conv column (ticks: the 31 step centres)", fontsize=10)
    ax.set_yticks([])
    fig.tight_layout()
    return fig


def training_curves(history: dict[str, Sequence[float]]):
    """Loss, decoded word accuracy and CER, learning rate and blank share, per epoch."""
    epochs = np.arange(1, len(history.get("loss", [])) + 1)
    fig, axes = plt.subplots(1, 4, figsize=(14, 2.8), dpi=DPI)
    axes[0].plot(epochs, history.get("loss", []), label="train")
    if "val_loss" in history:
        axes[0].plot(epochs, history["val_loss"], label="val")
    axes[0].set_title("CTC loss"), axes[0].legend(fontsize=8), axes[0].set_yscale("log")
    for key, label in (("val_word_acc", "word acc"), ("val_word_acc_ci", "word acc (any case)")):
        if key in history:
            axes[1].plot(epochs, history[key], label=label)
    if "val_cer" in history:
        axes[1].plot(epochs, history["val_cer"], label="CER")
    axes[1].set_title("validation (decoded)"), axes[1].legend(fontsize=8), axes[1].set_ylim(0, 1)
    if "lr" in history:
        axes[2].plot(epochs, history["lr"])
    axes[2].set_title("learning rate (end of epoch)")
    if "blank_share" in history:
        axes[3].plot(epochs, history["blank_share"], color="#c44e52")
        axes[3].axhline(0.99, ls=":", color="gray")
    axes[3].set_title("share of steps predicted blank"), axes[3].set_ylim(0, 1.02)
    for ax in axes:
        ax.set_xlabel("epoch")
    fig.tight_layout()
    return fig


def accuracy_against_minutes(history: dict[str, Sequence[float]], key: str = "folder_word_acc",
                             title: str = "word accuracy on val_dir"):
    """`key` (a share per epoch) against training minutes, the best epoch and the learning rate shown: where a run heads."""
    minutes, acc = np.asarray(history["minutes"], float), np.asarray(history[key], float)
    fig, ax = plt.subplots(figsize=(6, 3), dpi=DPI)
    if "lr" in history:  # the rate explains the curve: it rises when a resumed run gets a larger budget
        rate = ax.twinx()
        rate.plot(minutes, np.asarray(history["lr"], float), color="0.6", lw=1, ls="--")
        rate.set_ylabel("learning rate (dashed)", color="0.45", fontsize=8)
        rate.tick_params(labelsize=7, colors="0.45")
        rate.set_ylim(bottom=0)
        ax.set_zorder(rate.get_zorder() + 1)  # the accuracy and its legend above the rate
        ax.patch.set_visible(False)
    ax.plot(minutes, acc * 100, marker=".", lw=1)
    if len(acc):
        best = int(np.nanargmax(acc))
        ax.scatter([minutes[best]], [acc[best] * 100], color="#c44e52", zorder=3,
                   label=f"best: {acc[best]:.1%} at {minutes[best]:.0f} min")
        ax.legend(fontsize=8, loc="lower right")
    ax.set_xlabel("training minutes"), ax.set_ylabel("%"), ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def alignment(image: np.ndarray, probs: np.ndarray, chars: str, fields: Sequence[tuple[float, float]] | None = None,
              title: str = ""):
    """The (T, classes) probability matrix under its image, each step under its pixel columns, argmax marked."""
    T, C = probs.shape
    width = image.shape[1]
    fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(10, 6.2), dpi=DPI, gridspec_kw={"height_ratios": [1, 3.2]},
                                   sharex=True)
    ax0.imshow(_gray(image), cmap="gray", extent=(0, width, image.shape[0], 0), aspect="auto")
    centres = [(a + b) / 2 for a, b in fields] if fields else list((np.arange(T) + 0.5) * width / T)
    step = width / T
    labels = list(chars) + ["-"]
    ax1.imshow(probs.T, aspect="auto", cmap="magma", extent=(centres[0] - step / 2, centres[-1] + step / 2, C, 0),
               interpolation="nearest")
    best = probs.argmax(-1)
    for t, k in enumerate(best):
        ax0.axvline(centres[t], color="cyan", lw=0.3, alpha=0.6)
        if k != C - 1:
            ax0.text(centres[t], image.shape[0] + 1, labels[k], ha="center", va="top", fontsize=9, color="#c44e52")
            ax1.add_patch(plt.Rectangle((centres[t] - step / 2, k), step, 1, fill=False, ec="cyan", lw=1))
    ax1.set_xlim(0, width)  # the whole image, with each step's cell under its own columns
    ax1.set_yticks(np.arange(C) + 0.5)
    ax1.set_yticklabels(labels, fontsize=5)
    ax1.set_ylabel("class (last row '-' = CTC blank)")
    ax1.set_xlabel("input pixel column (each cell = one time step under the columns it sees)")
    ax0.set_title(title, fontsize=10)
    ax0.set_yticks([])
    fig.tight_layout()
    return fig


def calibration(confidences: Sequence[float], correct: Sequence[bool], bins: int = 10):
    """Reliability diagram: accuracy per confidence bin against the diagonal, with bin counts."""
    conf, ok = np.asarray(confidences), np.asarray(correct, bool)
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(conf, edges) - 1, 0, bins - 1)
    acc = [ok[idx == b].mean() if (idx == b).any() else np.nan for b in range(bins)]
    n = [(idx == b).sum() for b in range(bins)]
    fig, ax = plt.subplots(figsize=(4.2, 3.4), dpi=DPI)
    ax.bar(edges[:-1] + 0.05, acc, width=0.09, color="#4c72b0", label="accuracy in bin")
    ax.plot([0, 1], [0, 1], ls=":", color="gray", label="perfect calibration")
    for b in range(bins):
        if n[b]:
            ax.text(edges[b] + 0.05, 0.02, str(n[b]), ha="center", fontsize=6, rotation=90, color="white")
    ax.set_xlabel("confidence"), ax.set_ylabel("word accuracy"), ax.legend(fontsize=7)
    ax.set_title("Confidence vs correctness", fontsize=10)
    fig.tight_layout()
    return fig
