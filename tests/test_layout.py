"""layout: the lines and words of an image of a few words, found by their gaps."""
from __future__ import annotations

import cv2
import numpy as np

from crnn_utils.layout import word_boxes

FONT = cv2.FONT_HERSHEY_SIMPLEX


def render(text: str, scale: float = 1.5, thickness: int = 3, pad: int = 12) -> np.ndarray:
    """Dark text on a light grey line image, `pad` pixels all round."""
    (w, h), base = cv2.getTextSize(text, FONT, scale, thickness)
    image = np.full((h + base + 2 * pad, w + 2 * pad), 230, np.uint8)
    cv2.putText(image, text, (pad, pad + h), FONT, scale, 20, thickness, cv2.LINE_AA)
    return image


def ink_columns(image: np.ndarray) -> tuple[int, int]:
    """First and one past the last column holding dark pixels."""
    xs = np.flatnonzero((image < 128).any(0))
    return int(xs[0]), int(xs[-1]) + 1


def test_a_line_of_words_gives_one_box_per_word_in_reading_order() -> None:
    image = render("OPEN 24 HOURS")
    (line,) = word_boxes(image)
    assert len(line) == 3
    # Left to right, not overlapping, each holding its word's ink whole and none of the next word's.
    assert all(a[3] <= b[2] for a, b in zip(line, line[1:]))
    for box, word, start in zip(line, ("OPEN", "24", "HOURS"), (0, len("OPEN "), len("OPEN 24 "))):
        first, last = ink_columns(render(word))
        offset = ink_columns(render("OPEN 24 HOURS"[:start] + word))[1] - last  # where the word starts in the line
        assert box[2] <= first + offset and box[3] >= last + offset, (word, box)
    between = image[:, line[0][3]: line[1][2]]
    assert between.size and (between > 128).all()
    rows = np.flatnonzero((image < 128).any(1))
    assert all(box[0] < rows[0] and box[1] > rows[-1] for box in line)  # the letters' rows, with a margin


def test_two_lines_are_read_top_to_bottom() -> None:
    top, bottom = render("NO"), render("PARKING")
    top = cv2.copyMakeBorder(top, 0, 0, 0, bottom.shape[1] - top.shape[1], cv2.BORDER_CONSTANT, value=230)
    lines = word_boxes(np.vstack([top, bottom]))
    assert [len(line) for line in lines] == [1, 1]
    assert lines[0][0][1] <= top.shape[0] + 2 <= lines[1][0][0] + 4  # the first box above the second
    assert lines[1][0][3] - lines[1][0][2] > 2 * (lines[0][0][3] - lines[0][0][2])  # PARKING is the wide one


def test_one_word_stays_one_word_tight_tracked_or_with_a_cut_neighbour() -> None:
    assert [len(line) for line in word_boxes(render("Stationery"))] == [1]
    tracked = np.full((60, 330), 230, np.uint8)  # B L A C K: letters far apart, evenly
    for i, letter in enumerate("BLACK"):
        cv2.putText(tracked, letter, (10 + 65 * i, 45), FONT, 1.5, 20, 3, cv2.LINE_AA)
    assert [len(line) for line in word_boxes(tracked)] == [1]
    cut = render("Sports")
    cut[:, :4] = 20  # the edge of the next letter, cut by the crop's side
    assert [len(line) for line in word_boxes(cut)] == [1]


def test_slanted_words_are_split_at_their_slanted_gap() -> None:
    image = render("swift lizard")
    h, w = image.shape
    slant = np.float32([[1, -0.35, 0.35 * h], [0, 1, 0]])  # italic: the top of each letter leans right
    italic = cv2.warpAffine(image, slant, (w + h // 2, h), borderValue=230)
    assert [len(line) for line in word_boxes(italic)] == [2]


def test_light_on_dark_large_and_colour_images_give_the_same_words() -> None:
    image = render("NO PARKING")
    boxes = word_boxes(image)
    assert [len(line) for line in boxes] == [2]
    assert word_boxes(255 - image) == boxes
    assert word_boxes(np.dstack([image, image // 2, image])) == boxes
    big = word_boxes(cv2.resize(image, None, fx=6, fy=6, interpolation=cv2.INTER_CUBIC))  # over WORK_SIDE
    assert [len(line) for line in big] == [2]
    assert np.allclose(np.array(big[0]), np.array(boxes[0]) * 6, atol=14)


def test_nothing_is_found_in_a_flat_or_a_tiny_image() -> None:
    assert word_boxes(np.full((50, 200), 128, np.uint8)) == []
    assert word_boxes(np.zeros((1, 1), np.uint8)) == []
