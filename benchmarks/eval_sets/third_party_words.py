"""Held-out words drawn by another renderer (TextRecognitionDataGenerator, `trdg`), to score a trained model on text
this project's generator never drew: other fonts, other backgrounds, trdg's own blur and wave distortion.

Nothing here is used for training. trdg 1.8 needs Pillow < 10, so it gets a throwaway virtual environment:

    python3.11 -m venv /tmp/trdg-venv
    /tmp/trdg-venv/bin/pip install "pillow<10" numpy opencv-python-headless tqdm requests beautifulsoup4 \
        arabic-reshaper python-bidi==0.4.2
    /tmp/trdg-venv/bin/pip install --no-deps trdg==1.8.0 wikipedia
    /tmp/trdg-venv/bin/python benchmarks/eval_sets/third_party_words.py --out runs/third_party

It writes two folders in the layout `read_folder` reads (images + labels.tsv), 2,000 words each (one standard error
of a word accuracy near 50 % is then 1.1 points), drawn 32, 48 or 64 px high, the height chosen per 25 words:
  plain  skew up to 2 degrees, no blur, no distortion;
  hard   skew up to 4 degrees, random Gaussian blur up to radius 2, random wave distortion both ways.
Words come from trdg's English dictionary (mostly rare words, so a language prior learnt from frequent words does not
help), in lower, Capitalised or UPPER case, on trdg's four background kinds (noise, plain, quasicrystal, photos).
With `--fonts DIR` it also writes a third set, `fonts`: plain settings, but drawn in every font file under DIR
instead of trdg's own. Fonts that neither trdg nor our generator has measure how far the model reads faces it never
saw; the set in docs/results.md was drawn from Debian's URW, Liberation, FreeFont, League Spartan, Comic Neue, Cantarell
and Lobster packages, and Asana Math (Helvetica, Arial, Times, Courier, Palatino, Century, Bookman, Avant Garde, Zapf Chancery
clones, narrow and script faces among them), unpacked without installing them, so our renderer cannot find them:

    mkdir -p /tmp/debfonts && cd /tmp/debfonts && apt-get download fonts-urw-base35 fonts-liberation2 \
        fonts-freefont-ttf fonts-cantarell fonts-lobster fonts-comic-neue fonts-league-spartan fonts-oflb-asana-math
    for d in *.deb; do dpkg-deb -x "$d" x; done; cd -
    /tmp/trdg-venv/bin/python benchmarks/eval_sets/third_party_words.py --out runs/third_party --fonts /tmp/debfonts/x

With `--lines` it writes a fourth set, `lines`: plain settings, 2-4 words to an image, separated by trdg's spaces,
for reading a line of words (`Recognizer.read_text`, `benchmarks/text_lines.py`); 125 lines per background kind.

Beside labels.tsv, each folder gets backgrounds.tsv, each image's background kind, which score_folders.py reads to
give the accuracy per kind. Score a run on them with notebook 04 (`eval_dir`) or `benchmarks/score_folders.py RUN_DIR FOLDER...`.
"""
from __future__ import annotations

import argparse
import random
import string
from pathlib import Path

SETS = {
    "plain": dict(random_skew=True, skewing_angle=2, blur=0, distorsion_type=0),
    "hard": dict(random_skew=True, skewing_angle=4, blur=2, random_blur=True, distorsion_type=3,
                 distorsion_orientation=2),
}


BACKGROUNDS = ("noise", "plain", "quasicrystal", "photo")  # trdg's background_type 0-3, written to backgrounds.tsv


def words(rng: random.Random, n: int, trdg_dir: Path, per_image: tuple[int, int] = (1, 1)) -> list[str]:
    """n texts of per_image words (2-14 letters or digits from trdg's English dictionary, in mixed case) each."""
    ok = set(string.ascii_letters + string.digits)
    vocab = [w.strip() for w in (trdg_dir / "dicts" / "en.txt").read_text(encoding="utf-8").splitlines()]
    vocab = [w for w in vocab if w and set(w) <= ok and 2 <= len(w) <= 14]
    out = []
    for _ in range(n):
        text = []
        # One word a text draws no count, so the one-word sets stay the words they were.
        for _ in range(rng.randint(*per_image) if per_image[0] != per_image[1] else 1):
            w, u = rng.choice(vocab), rng.random()
            text.append(w.upper() if u < 0.15 else w.capitalize() if u < 0.4 else w)
        out.append(" ".join(text))
    return out


# Faces that map a-z to pictures (URW's Dingbats and Symbol): a glyph check cannot tell them from letters.
PICTURE_FACES = ("StandardSymbols", "D050000L")


def usable(path: Path) -> bool:
    """True for a face that draws a glyph of its own for each of a-z A-Z 0-9 and is not a picture face."""
    from PIL import ImageFont

    if path.name.startswith(PICTURE_FACES):
        return False
    try:
        font = ImageFont.truetype(str(path), 32)
    except OSError:
        return False
    missing = bytes(font.getmask("\ue000"))  # a private-use code point: the face's "no glyph" drawing
    drawn = [font.getmask(c) for c in string.ascii_letters + string.digits]
    return all(m.getbbox() is not None and bytes(m) != missing for m in drawn)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("runs/third_party"))
    ap.add_argument("--per-background", type=int, default=500, help="words per background kind (4 kinds) per set; the lines set draws a quarter as many images")
    ap.add_argument("--chunk", type=int, default=25, help="words drawn at one height (trdg takes one size per generator)")
    ap.add_argument("--seed", type=int, default=123)
    ap.add_argument("--fonts", type=Path, help="also write the set 'fonts', drawn in the .ttf/.otf files under this folder")
    ap.add_argument("--lines", action="store_true", help="also write the set 'lines': 2-4 words to an image")
    ap.add_argument("--sets", nargs="*", help="write only these sets (e.g. fonts); default: all")
    args = ap.parse_args()

    import trdg
    from trdg.generators import GeneratorFromStrings

    trdg_dir = Path(trdg.__file__).parent
    rng = random.Random(args.seed)
    random.seed(args.seed)  # trdg draws fonts, skew and blur from the global generator
    sets = dict(SETS)
    if args.fonts:  # after the others, so plain and hard stay the same words and images
        faces = sorted(str(p) for p in args.fonts.rglob("*") if p.suffix.lower() in (".ttf", ".otf") and usable(p))
        print(f"fonts: {len(faces)} faces under {args.fonts}")
        sets["fonts"] = {**SETS["plain"], "fonts": faces}
    if args.lines:
        sets["lines"] = SETS["plain"]
    for name, kwargs in sets.items():
        if name in ("fonts", "lines"):  # their own seeds: the same set whether or not the others were drawn first
            rng = random.Random(args.seed + 1 + (name == "lines"))
            random.seed(args.seed + 1 + (name == "lines"))
        if args.sets and name not in args.sets:
            continue
        folder = args.out / name
        folder.mkdir(parents=True, exist_ok=True)
        per_image, per_background = ((1, 1), args.per_background)
        if name == "lines":  # 2-4 words an image, a quarter as many images
            per_image, per_background = (2, 4), args.per_background // 4
        lines, kinds, n = [], [], 0
        for background in range(4):
            for start in range(0, per_background, args.chunk):
                batch = words(rng, min(args.chunk, per_background - start), trdg_dir, per_image)
                gen = GeneratorFromStrings(
                    batch, count=len(batch), size=rng.choice([32, 48, 64]), background_type=background,
                    text_color="#000000,#606060", margins=(4, 4, 4, 4), image_dir=str(trdg_dir / "images"), **kwargs)
                for img, label in gen:
                    if img is None:
                        continue
                    img.convert("RGB").save(folder / f"{n:04d}.png")
                    lines.append(f"{n:04d}.png\t{label}")
                    kinds.append(f"{n:04d}.png\t{BACKGROUNDS[background]}")
                    n += 1
        (folder / "labels.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (folder / "backgrounds.tsv").write_text("\n".join(kinds) + "\n", encoding="utf-8")
        print(f"{name}: {n} images in {folder}")


if __name__ == "__main__":
    main()
