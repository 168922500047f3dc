"""Where the words are in an image of a few words (a sign, a label, a line of print): its letters' ink blobs, grouped
into lines, split into words at wide gaps. Not a scene-text detector: the image is expected to hold text and little
else."""
from __future__ import annotations

import cv2
import numpy as np

from .images import to_gray

Box = tuple[int, int, int, int]  # (top, bottom, left, right) in pixels, ends exclusive

WORK_SIDE = 1024  # letters are found with the image's long side at most this: a phone photo's 4000 px add nothing
MIN_LETTER = 0.4  # an ink blob lower than this share of the tallest blobs is a speck, a dot or punctuation
MIN_LINE = 0.4  # a line whose letters are lower than this share of the tallest line's is not text
WORD_GAP = 0.2  # a word gap is at least this share of the line's median letter height (a space is about 0.25 em)...
GAP_RATIO = 2.25  # ...and this many times the line's median gap (letters tracked far apart stay one word)
FEW_GAPS_WORD_GAP = 0.4  # under three gaps (joined script, two short words) are too few for a median: a wider gap
MAX_LETTERS = 2000  # more letter-sized blobs than this is a texture or a page, not a sign: no words are found
SHEARS = (0.0, 0.25, -0.25, 0.45, -0.45)  # slants tried, as a row's shift per row above the middle (italics)


def _ink(gray: np.ndarray) -> np.ndarray:
    """1 where a grey image has ink: the minority of Otsu's two tones (dark on light or light on dark)."""
    u8 = np.clip(gray, 0, 255).astype(np.uint8)
    _, dark = cv2.threshold(u8, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return dark if dark.mean() <= 0.5 else 1 - dark


def letters(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ink's blobs as a label image, and (x0, y0, x1, y1, label) of the letter-sized ones (no specks or frames)."""
    # 1. Connected blobs of ink.
    ink = _ink(gray)
    h, w = ink.shape
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    x, y, bw, bh = (stats[1:, k] for k in range(4))
    boxes = np.stack([x, y, x + bw, y + bh, np.arange(1, len(x) + 1)], 1)
    # 2. Not the background, a frame or a cut neighbour: a blob from side to side, or a tall bar at the left or right.
    spans = ((x == 0) & (x + bw == w)) | ((y == 0) & (y + bh == h))
    bar = ((x == 0) | (x + bw == w)) & (bh > 0.8 * h) & (bw < 0.3 * bh)
    boxes, bh = boxes[~(spans | bar)], bh[~(spans | bar)]
    if not len(boxes):
        return labels, boxes.reshape(0, 5)
    # 3. Letter-sized: at least MIN_LETTER of the tallest blobs' height (the 90th percentile, so one tall blob does
    #    not decide), which leaves out specks, i-dots, accents and punctuation. Too many is texture, not a sign.
    boxes = boxes[bh >= MIN_LETTER * np.percentile(bh, 90)]
    return labels, boxes if len(boxes) <= MAX_LETTERS else boxes[:0]


def text_lines(boxes: np.ndarray) -> list[np.ndarray]:
    """Letter boxes grouped into lines, top to bottom; lines of low blobs, and lone narrow blobs beside others, out."""
    lines: list[list[np.ndarray]] = []
    bands: list[tuple[float, float]] = []  # each line's median top and bottom: a letter joins the band with its middle
    for box in boxes[np.argsort((boxes[:, 1] + boxes[:, 3]) / 2, kind="stable")]:
        middle, height = (box[1] + box[3]) / 2, box[3] - box[1]
        for k, (top, bottom) in enumerate(bands):
            if top <= middle <= bottom and 0.5 * (bottom - top) <= height <= 2 * (bottom - top):
                lines[k].append(box)
                bands[k] = (float(np.median([b[1] for b in lines[k]])), float(np.median([b[3] for b in lines[k]])))
                break
        else:
            lines.append([box])
            bands.append((float(box[1]), float(box[3])))
    # A line of blobs much lower than the tallest line's letters is not text (specks, a logo's parts), nor, beside
    # other lines, one narrow blob (an arrow, a symbol, a cut letter of the next line); one wide blob is a word whose
    # letters touch (or an underline joins).
    heights = [bottom - top for top, bottom in bands]
    kept = [np.array(line) for line, height in zip(lines, heights) if height >= MIN_LINE * max(heights, default=0)
            and (len(line) > 1 or len(lines) == 1 or line[0][2] - line[0][0] >= 1.5 * (line[0][3] - line[0][1]))]
    return sorted(kept, key=lambda line: int(line[:, 1].min()))


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of True in a 1-D array, in order."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flags.astype(np.int8), [0]])))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def _columns(ink: np.ndarray, shear: float) -> list[tuple[int, int]]:
    """Runs of columns with ink once each row is shifted by shear × its height above the middle (italics upright)."""
    h, w = ink.shape
    m = np.float32([[1, shear, -shear * h / 2], [0, 1, 0]])
    return _runs(cv2.warpAffine(ink, m, (w, h), flags=cv2.INTER_NEAREST, borderValue=0).any(0))


def line_words(ink: np.ndarray, letter_height: float) -> list[tuple[int, int]]:
    """(left, right) of each word of a line's ink (its letters only), split at gaps wide enough to be spaces."""
    # 1. Ink columns at the slant that leaves the most empty columns between the first and the last ink.
    h, w = ink.shape
    best, shear = None, 0.0
    for k in SHEARS:
        runs = _columns(ink, k)
        empty = runs[-1][1] - runs[0][0] - sum(b - a for a, b in runs) if runs else 0
        if best is None or empty > best[0]:
            best, shear = (empty, runs), k
    columns, reach = best[1], int(np.ceil(abs(shear) * h / 2))  # a slanted word reaches this far past its columns
    if not columns:
        return []
    # 2. The wide gaps are word gaps.
    gaps = [b[0] - a[1] for a, b in zip(columns, columns[1:])]
    if len(gaps) >= 3:
        wide = max(WORD_GAP * letter_height, GAP_RATIO * float(np.median(gaps)))
    else:
        wide = FEW_GAPS_WORD_GAP * letter_height
    words, start = [], columns[0][0]
    for (_, end), gap, (nxt, _) in zip(columns, gaps, columns[1:]):
        if gap >= wide:
            words.append((start, end))
            start = nxt
    words.append((start, columns[-1][1]))
    return [(max(0, a - reach), min(w, b + reach)) for a, b in words]


def word_boxes(image: np.ndarray) -> list[list[Box]]:
    """The words of an image (0..255) of a few words, line by line (top to bottom, left to right), in its pixels."""
    # 1. Letter blobs on a grey copy no larger than WORK_SIDE.
    gray = to_gray(image)
    h, w = gray.shape
    if not gray.size:
        return []
    scale = min(1.0, WORK_SIDE / max(h, w))
    if scale < 1.0:
        gray = cv2.resize(gray, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    labels, boxes = letters(gray)
    sh, sw = gray.shape
    # 2. Each line's words, from its own letters' ink, with a margin of 0.15 of the line's height that stops halfway
    #    to the next word.
    out = []
    for line in text_lines(boxes):
        top, bottom = int(line[:, 1].min()), int(line[:, 3].max())
        ink = np.isin(labels[top:bottom], line[:, 4]).astype(np.uint8)  # this line's letters only
        spans = line_words(ink, float(np.median(line[:, 3] - line[:, 1])))
        margin = max(1, round(0.15 * (bottom - top)))
        t, b = max(0, top - margin), min(sh, bottom + margin)
        row = []
        for k, (left, right) in enumerate(spans):
            before = (left - spans[k - 1][1]) // 2 if k else margin
            after = (spans[k + 1][0] - right) // 2 if k + 1 < len(spans) else margin
            l, r = max(0, left - min(margin, before)), min(sw, right + min(margin, after))
            row.append((int(t / scale), min(h, int(np.ceil(b / scale))),
                        int(l / scale), min(w, int(np.ceil(r / scale)))))
        out.append(row)
    return out
