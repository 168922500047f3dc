"""Words cropped from real street and shop photographs: OpenCV's scene-text samples and two licence plates.

The closest this project gets to the real benchmarks (IIIT5K, SVT, ICDAR) it cannot download: 50 words from
camera photos of signs, a shop front, a generator housing, barriers and a projector, with
uneven light, slight rotation, blur and JPEG noise. 43 words are boxed by hand in eleven photos of the opencv_contrib
`text` module's samples (the sample code cites ICDAR 2011); seven are whole crops as they ship: four word crops of the
same samples (labels from the sample's own lexicon), OpenCV's text-recognition tutorial image, and two plate crops
from `fast-plate-ocr`'s tests. Labels are the word as printed, read by eye; "FOSTER'S" is written without its
apostrophe (a class the seed charset lacks), plates without their spaces. With 50 words one standard error is about
5 points: it tells "reads real signs" from "does not", not one recipe from another. Words left out: the two of
"Wivenhoe Park", whose paint is partly gone, a logo, and text under about 12 px high.

Nothing here is downloaded at run time: fetch the images once with the package managers, then crop.

    apt-get download opencv-doc && dpkg-deb -x opencv-doc_*.deb /tmp/opencv-doc
    pip download --no-deps --no-binary :all: fast-plate-ocr==1.1.0 -d /tmp/plates && tar -xzf /tmp/plates/*.tar.gz -C /tmp/plates
    .venv/bin/python benchmarks/eval_sets/scene_photo_words.py /tmp/opencv-doc /tmp/plates --out runs/scene_photos
    .venv/bin/python benchmarks/score_folders.py runs/default runs/scene_photos
"""
from __future__ import annotations

import argparse
from pathlib import Path

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in the photo's pixels; None below means the whole image

# file name -> the words in it, in reading order.
WORDS: dict[str, list[tuple[Box | None, str]]] = {
    "scenetext01.jpg": [((275, 35, 432, 80), "NOTICE"), ((278, 85, 422, 125), "DOUBLE"),
                        ((275, 128, 428, 167), "PARKING"), ((272, 170, 425, 207), "PROHIBITED"),
                        ((284, 211, 311, 251), "AT"), ((312, 211, 346, 251), "ALL"), ((347, 211, 406, 251), "TIMES")],
    "scenetext02.jpg": [((433, 612, 604, 685), "Sports"), ((614, 627, 781, 691), "Centre"),
                        ((430, 756, 737, 830), "Conference"), ((739, 763, 896, 840), "Centre"),
                        ((433, 832, 525, 896), "Car"), ((535, 832, 678, 899), "Parks")],
    "scenetext03.jpg": [((132, 575, 186, 617), "the"), ((206, 548, 365, 623), "copy"), ((405, 545, 617, 605), "centre")],
    "scenetext04.jpg": [((420, 417, 480, 458), "GM"), ((486, 417, 553, 458), "125")],
    "scenetext05.jpg": [((473, 316, 525, 375), "NO"), ((530, 318, 690, 388), "PARKING"),
                        ((90, 173, 122, 211), "NO"), ((123, 177, 224, 224), "PARKING")],
    "scenetext06.jpg": [((240, 287, 315, 318), "priory"), ((322, 285, 450, 318), "galleries"),
                        ((460, 298, 485, 318), "at"), ((487, 294, 531, 320), "the"), ((535, 293, 590, 326), "ship"),
                        ((290, 150, 335, 175), "priory"), ((288, 175, 338, 197), "galleries")],
    "scenetext_segmented_word01.jpg": [((120, 216, 512, 304), "HOTEL")],
    "scenetext_segmented_word02.jpg": [((48, 216, 432, 312), "Stationery"), ((448, 224, 592, 296), "Box")],
    "scenetext_segmented_word03.jpg": [((136, 72, 488, 144), "Customer"), ((120, 155, 504, 227), "Freephone"),
                                       ((104, 240, 352, 317), "Private"), ((368, 240, 520, 312), "Hire"),
                                       ((168, 328, 448, 403), "Service")],
    "scenetext_segmented_word04.jpg": [((80, 280, 584, 376), "FOSTERS")],
    "scenetext_segmented_word05.jpg": [((176, 48, 496, 128), "SANYO"), ((184, 324, 346, 382), "PRO"),
                                       ((348, 336, 476, 382), "xtraX"), ((180, 382, 335, 404), "MULTIMEDIA"),
                                       ((339, 382, 476, 404), "PROJECTOR")],
    "scenetext_word01.jpg": [(None, "CHINA")], "scenetext_word02.jpg": [(None, "HERE")],
    "scenetext_word03.jpg": [(None, "riser")], "scenetext_word04.jpg": [(None, "Produkt")],
    "text_rec_test.png": [(None, "Welcome")],
    "test_plate_1.png": [(None, "AD799KB")], "test_plate_2.png": [(None, "KRW301")],
}


def find_sources(roots: list[Path]) -> dict[str, Path]:
    """Each file of WORDS found under the roots (first match by name); an error naming any that is missing."""
    found: dict[str, Path] = {}
    for root in roots:
        if not Path(root).is_dir():
            raise FileNotFoundError(f"'{root}' is not a folder: pass the folders the images were extracted to")
        for path in sorted(Path(root).rglob("*")):
            if path.name in WORDS and path.name not in found and path.is_file():
                found[path.name] = path
    missing = [name for name in WORDS if name not in found]
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} source images not found under {', '.join(map(str, roots))}: {', '.join(missing)}. "
            "They ship in Debian's opencv-doc package (apt-get download opencv-doc; dpkg-deb -x) and in the "
            "fast-plate-ocr 1.1.0 sdist (test/assets); see this script's docstring")
    return found


def write(roots: list[Path], out: Path) -> Path:
    """Crop every word into out/ as PNG files with a labels.tsv; returns out."""
    import cv2

    sources = find_sources(roots)
    out.mkdir(parents=True, exist_ok=True)
    lines, i = [], 0
    for name, words in WORDS.items():
        photo = cv2.imread(str(sources[name]), cv2.IMREAD_COLOR)
        if photo is None:
            raise ValueError(f"'{sources[name]}' is not a readable image")
        for box, word in words:
            if box is not None:
                x0, y0, x1, y1 = box
                if x1 > photo.shape[1] or y1 > photo.shape[0]:
                    raise ValueError(f"'{sources[name]}' is {photo.shape[1]}x{photo.shape[0]}, smaller than the box "
                                     f"of '{word}' {box}: not the photo this script was written for")
            crop = photo if box is None else photo[box[1]:box[3], box[0]:box[2]]
            cv2.imwrite(str(out / f"{i:02d}.png"), crop)
            lines.append(f"{i:02d}.png\t{word}\n")
            i += 1
    (out / "labels.tsv").write_text("".join(lines))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("roots", type=Path, nargs="+", help="folders holding the extracted packages (searched by file name)")
    ap.add_argument("--out", type=Path, default=Path("runs/scene_photos"))
    args = ap.parse_args()
    n = sum(len(w) for w in WORDS.values())
    print(f"wrote {n} crops to {write(args.roots, args.out)}")


if __name__ == "__main__":
    main()
