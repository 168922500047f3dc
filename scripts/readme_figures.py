"""Draw the README's two figures from the shipped pretrained model: what it reads, and how its long run learnt.

    .venv/bin/python scripts/readme_figures.py

writes docs/images/reading.png (the pretrained model reading data/samples, greedy and with the English prior) and
docs/images/long_run.png (greedy word accuracy on the run's real validation folder against training minutes, from
crnn_utils/pretrained/history.csv).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "images"


def reading_figure(out: Path) -> None:
    """The samples with the pretrained model's reading under each (red where it differs from the file's word)."""
    from crnn_utils import viz
    from crnn_utils.images import ImageError, load_image
    from crnn_utils.readers import label_from_file_name
    from crnn_utils.recognizer import Recognizer, list_images

    rec = Recognizer.pretrained()
    files, pictures = [], []
    for path in list_images(ROOT / "data" / "samples"):
        try:
            pictures.append(load_image(path))
            files.append(path)
        except ImageError:
            continue  # the deliberately broken sample
    read = rec.recognize(files)
    truth = [label_from_file_name(p.stem) for p in files]
    fig = viz.show_words(pictures, [f"{r.text} ({r.confidence:.2f})" for r in read], cols=4,
                         colors=["black" if r.text == t else "crimson" for r, t in zip(read, truth)])
    fig.savefig(out, dpi=viz.DPI, bbox_inches="tight")


def long_run_figure(out: Path) -> None:
    """The pretrained run's accuracy on its validation folder of real crops against training minutes."""
    from crnn_utils import viz

    history = pd.read_csv(ROOT / "crnn_utils" / "pretrained" / "history.csv")
    fig = viz.accuracy_against_minutes(history.to_dict("list"),
                                       title="pretrained run: greedy word accuracy on real crops (choose part)")
    if "stage" in history:  # a run continued from the model shipped before: mark where each stage starts
        ax = fig.axes[0]
        for stage, rows in list(history.groupby("stage"))[1:]:
            start = history["minutes"][rows.index[0] - 1]
            ax.axvline(start, color="0.3", lw=0.8, ls=":")
            ax.annotate(f"stage {stage}", (start, ax.get_ylim()[1]), xytext=(-3, -10), textcoords="offset points",
                        fontsize=7, color="0.3", ha="right")
    fig.savefig(out, dpi=viz.DPI, bbox_inches="tight")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    reading_figure(OUT / "reading.png")
    long_run_figure(OUT / "long_run.png")
    print(f"wrote {OUT / 'reading.png'} and {OUT / 'long_run.png'}")


if __name__ == "__main__":
    main()
