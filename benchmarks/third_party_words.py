"""Held-out words drawn by another renderer (TextRecognitionDataGenerator, `trdg`), to score a trained model on text
this project's generator never drew: other fonts, other backgrounds, trdg's own blur and wave distortion.

Nothing here is used for training. trdg 1.8 needs Pillow < 10, so it gets a throwaway virtual environment:

    python3.11 -m venv /tmp/trdg-venv
    /tmp/trdg-venv/bin/pip install "pillow<10" numpy opencv-python-headless tqdm requests beautifulsoup4 \
        arabic-reshaper python-bidi==0.4.2
    /tmp/trdg-venv/bin/pip install --no-deps trdg==1.8.0 wikipedia
    /tmp/trdg-venv/bin/python benchmarks/third_party_words.py --out runs/third_party

It writes two folders in the layout `read_folder` reads (images + labels.tsv), 2,000 words each (one standard error
of a word accuracy near 50 % is then 1.1 points), drawn 32, 48 or 64 px high, the height chosen per 25 words:
  plain  skew up to 2 degrees, no blur, no distortion;
  hard   skew up to 4 degrees, random Gaussian blur up to radius 2, random wave distortion both ways.
Words come from trdg's English dictionary (mostly rare words, so a language prior learnt from frequent words does not
help), in lower, Capitalised or UPPER case, on trdg's four background kinds (noise, plain, quasicrystal, photos).
Score a run on them with notebook 04 (`eval_dir`) or `benchmarks/score_folders.py RUN_DIR FOLDER...`.
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


def words(rng: random.Random, n: int, trdg_dir: Path) -> list[str]:
    """n words of 2-14 letters or digits from trdg's English dictionary, in mixed case."""
    ok = set(string.ascii_letters + string.digits)
    vocab = [w.strip() for w in (trdg_dir / "dicts" / "en.txt").read_text(encoding="utf-8").splitlines()]
    vocab = [w for w in vocab if w and set(w) <= ok and 2 <= len(w) <= 14]
    out = []
    for _ in range(n):
        w, u = rng.choice(vocab), rng.random()
        out.append(w.upper() if u < 0.15 else w.capitalize() if u < 0.4 else w)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("runs/third_party"))
    ap.add_argument("--per-background", type=int, default=500, help="words per background kind (4 kinds) per set")
    ap.add_argument("--chunk", type=int, default=25, help="words drawn at one height (trdg takes one size per generator)")
    ap.add_argument("--seed", type=int, default=123)
    args = ap.parse_args()

    import trdg
    from trdg.generators import GeneratorFromStrings

    trdg_dir = Path(trdg.__file__).parent
    rng = random.Random(args.seed)
    random.seed(args.seed)  # trdg draws fonts, skew and blur from the global generator
    for name, kwargs in SETS.items():
        folder = args.out / name
        folder.mkdir(parents=True, exist_ok=True)
        lines, n = [], 0
        for background in range(4):
            for start in range(0, args.per_background, args.chunk):
                batch = words(rng, min(args.chunk, args.per_background - start), trdg_dir)
                gen = GeneratorFromStrings(
                    batch, count=len(batch), size=rng.choice([32, 48, 64]), background_type=background,
                    text_color="#000000,#606060", margins=(4, 4, 4, 4), image_dir=str(trdg_dir / "images"), **kwargs)
                for img, label in gen:
                    if img is None:
                        continue
                    img.convert("RGB").save(folder / f"{n:04d}.png")
                    lines.append(f"{n:04d}.png\t{label}")
                    n += 1
        (folder / "labels.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"{name}: {n} words in {folder}")


if __name__ == "__main__":
    main()
