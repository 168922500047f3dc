"""Words cropped from a real photograph: scikit-image's `page` sample, a camera photo of a printed book page.

The only photographed text this project can reach offline. 44 words, boxed by hand (the boxes below were found by
thresholding the ink against a blurred background, then checked by eye) and labelled as printed, punctuation
included ("background.", "Here,"), so `word_acc_alnum36` is the benchmarks' protocol (lowercase letters and digits
compared). It is printed document text, not scene text: uneven light, a slight curve, lens blur, one typeface. With
44 words one standard error is about 7 points, so it tells "reads a photo" from "does not", not one recipe from
another. Caveat: the generator also uses this photo as one of its 18 background textures (never with its words as
labels), so the model has seen crops of it as clutter to ignore.

    .venv/bin/python benchmarks/eval_sets/photographed_page_words.py --out runs/photo_page
    .venv/bin/python benchmarks/score_folders.py runs/default runs/photo_page
"""
from __future__ import annotations

import argparse
from pathlib import Path

# (x, y, width, height) in the 384x191 photo, and the word as printed.
WORDS = [
    ((5, 12, 139, 22), "Region-based"), ((150, 13, 144, 22), "segmentation"),
    ((4, 48, 22, 13), "Let"), ((31, 52, 18, 10), "us"), ((54, 49, 29, 14), "first"),
    ((89, 50, 71, 13), "determine"), ((166, 50, 58, 14), "markers"), ((229, 51, 17, 13), "of"),
    ((250, 51, 26, 13), "the"), ((282, 51, 36, 13), "coins"), ((323, 50, 27, 14), "and"),
    ((355, 49, 23, 13), "the"), ((4, 65, 80, 17), "background."), ((87, 68, 42, 13), "These"),
    ((132, 68, 57, 14), "markers"), ((192, 71, 24, 11), "are"), ((219, 69, 42, 16), "pixels"),
    ((262, 69, 32, 13), "that"), ((296, 71, 22, 11), "we"), ((320, 70, 24, 11), "can"),
    ((347, 66, 31, 14), "label"), ((4, 84, 100, 17), "unambiguously"), ((109, 88, 18, 11), "as"),
    ((132, 86, 43, 14), "either"), ((180, 87, 44, 16), "object"), ((230, 90, 17, 10), "or"),
    ((253, 86, 84, 17), "background."), ((343, 85, 35, 13), "Here,"), ((4, 99, 23, 13), "the"),
    ((30, 102, 54, 13), "markers"), ((87, 106, 24, 10), "are"), ((114, 103, 41, 14), "found"),
    ((158, 105, 17, 13), "at"), ((178, 104, 26, 14), "the"), ((206, 105, 29, 14), "two"),
    ((237, 106, 60, 13), "extreme"), ((300, 104, 36, 16), "parts"), ((338, 102, 16, 13), "of"),
    ((355, 101, 23, 13), "the"), ((5, 116, 64, 17), "histogram"), ((71, 120, 16, 13), "of"),
    ((88, 123, 32, 14), "grey"), ((122, 122, 50, 14), "values:"), ((40, 172, 48, 11), "markers"),
]
MARGIN = 2  # pixels added on every side, as a word box drawn around the letters has


def write(out: Path) -> Path:
    """Crop the words into out/ as PNG files with a labels.tsv; returns out."""
    import cv2
    import skimage.data

    page = skimage.data.page()
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, ((x, y, w, h), word) in enumerate(WORDS):
        y0, x0 = max(0, y - MARGIN), max(0, x - MARGIN)
        crop = page[y0:y + h + MARGIN, x0:x + w + MARGIN]
        cv2.imwrite(str(out / f"{i:02d}.png"), crop)
        lines.append(f"{i:02d}.png\t{word}\n")
    (out / "labels.tsv").write_text("".join(lines))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("runs/photo_page"))
    print(f"wrote {len(WORDS)} crops to {write(ap.parse_args().out)}")


if __name__ == "__main__":
    main()
