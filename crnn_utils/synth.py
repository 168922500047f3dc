"""An offline MJSynth-like word renderer: lexicon words in many fonts, blended onto photos, with camera-like damage."""
from __future__ import annotations

import glob
import os
import string
import sys
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator, Sequence

import cv2
import numpy as np

# Fonts that cover a-z A-Z 0-9 with codepoints but draw symbols, boxes or small caps instead.
_FONT_DENYLIST = ("LastResort", "MathTeX", "cmex", "cmsy", "cmmi", "STIXNonUni", "STIXSiz", "AmaticSC")


@lru_cache(maxsize=1)
def available_fonts() -> dict[str, list[str]]:
    """Every usable face, grouped by family: matplotlib's, font-*/fontpkg-* packages', packaged font bytes, system
    fonts. A face is a file path, or "path#Instance" for a named weight of a variable font."""
    import matplotlib
    from fontTools.ttLib import TTFont

    # 1. Candidate files from the places fonts live.
    roots = [os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf")]
    for pattern in ("font_*", "fontpkg_*"):  # pimoroni's font-* packages, one Google Fonts family per fontpkg-*
        roots += glob.glob(os.path.join(sys.prefix, "lib*", "python3*", "site-packages", pattern, "files"))
    roots += ["/usr/share/fonts", "/usr/local/share/fonts", os.path.expanduser("~/.fonts")]
    roots += [str(_unpack_packaged_fonts())]
    files: dict[str, str] = {}
    for root in roots:
        for path in sorted(glob.glob(os.path.join(root, "**", "*.[ot]tf"), recursive=True)):
            stem = Path(path).stem
            if any(bad in stem for bad in _FONT_DENYLIST) or stem in files:
                continue  # one file per face (the .ttf and .otf of a face are the same drawing)
            files[stem] = os.path.realpath(path)
    # 2. Keep faces whose character map covers the seed charset and that draw lower case; group by family.
    need = [ord(c) for c in string.ascii_letters + string.digits]
    families: dict[str, list[str]] = defaultdict(list)
    for stem, path in sorted(files.items()):
        try:
            font = TTFont(path, lazy=True, fontNumber=0)
            cmap = font.getBestCmap() or {}
            variable = "fvar" in font
        except Exception:
            continue
        if not all(c in cmap for c in need) or _draws_caps_only(path):
            continue
        family = stem.split("-")[0].split("[")[0]
        family = "STIXGeneral" if family.startswith("STIX") else "ComputerModern" if family.startswith("cm") else family
        families[family] += _weights(path) if variable else [path]
    return {f: faces for f, faces in families.items() if faces}


def font_counts() -> dict[str, int]:
    """How many font families and faces the generator draws from here (dataset.json records it: it is the generator)."""
    fonts = available_fonts()
    return {"families": len(fonts), "faces": sum(len(faces) for faces in fonts.values())}


def _weights(path: str) -> list[str]:
    """A variable font's named instances as "path#Name", without the hairline weights a sign never uses."""
    try:
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in _font(path, 32).get_variation_names()]
    except Exception:  # Pillow built without variable-font support: the default instance only
        return [path]
    keep = [n for n in names if not any(thin in n.replace(" ", "") for thin in ("Thin", "ExtraLight", "Hairline"))]
    return [f"{path}#{n}" for n in keep] or [path]


def _draws_caps_only(path: str) -> bool:
    """True for a face that draws lower case as capitals or small caps (Bebas Neue, Bungee): its label would lie.
    Each of a, e, g, r is compared with its capital, both cropped to their ink and scaled to one size."""
    from PIL import Image, ImageDraw

    def glyph(c: str) -> np.ndarray | None:
        im = Image.new("L", (120, 120), 0)
        ImageDraw.Draw(im).text((20, 10), c, font=_font(path, 64), fill=255)
        a = np.asarray(im) > 127
        rows, cols = np.flatnonzero(a.any(1)), np.flatnonzero(a.any(0))
        if not len(rows):
            return None
        return cv2.resize(a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].astype(np.uint8), (24, 24)) > 0

    try:
        same = 0
        for c in "aegr":
            low, cap = glyph(c), glyph(c.upper())
            if low is None or cap is None:
                return True
            same += (low & cap).sum() / max(1, (low | cap).sum()) > 0.75
    except Exception:
        return True
    return same >= 3


# Fonts shipped as bytes inside Python packages: pymupdf-fonts' text faces (its key -> our file stem) and Pillow's own
# default face. The mono twins of FiraGO and Ubuntu are left out: same letter shapes, and shop signs are rarely mono.
_PYMUPDF_FACES = {
    "figo": "FiraGO-Regular", "figbo": "FiraGO-Bold", "figit": "FiraGO-Italic", "figbi": "FiraGO-BoldItalic",
    "notos": "NotoSans-Regular", "notosbo": "NotoSans-Bold",
    "notosit": "NotoSans-Italic", "notosbi": "NotoSans-BoldItalic",
    "ubuntu": "Ubuntu-Regular", "ubuntubo": "Ubuntu-Bold", "ubuntuit": "Ubuntu-Italic", "ubuntubi": "Ubuntu-BoldItalic",
    "cascadia": "CascadiaMono-Regular", "cascadiab": "CascadiaMono-Bold",
    "spacemo": "SpaceMono-Regular", "spacembo": "SpaceMono-Bold",
}


def _unpack_packaged_fonts() -> Path:
    """Write the fonts that Python packages hold as bytes (pymupdf-fonts, Pillow's Aileron) once to a cache folder."""
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "crnn_notebooks" / "fonts"
    from PIL import ImageFont

    loaders: dict[str, Callable[[], bytes]] = {"Aileron-Regular": lambda: ImageFont.load_default(12).font_bytes}
    try:
        import pymupdf_fonts

        loaders.update({stem: pymupdf_fonts.fontbuffers[key] for key, stem in _PYMUPDF_FACES.items()
                        if key in pymupdf_fonts.fontbuffers})
    except (ImportError, ValueError):  # optional (ValueError: a Python without lzma); fewer families without it
        pass
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for stem, load in loaders.items():
            path = folder / f"{stem}.ttf"
            if not path.exists():
                tmp = path.with_suffix(f".{os.getpid()}.tmp")  # parallel renderers may race: write, then rename
                tmp.write_bytes(bytes(load()))
                os.replace(tmp, path)
    except (OSError, AttributeError):  # a read-only home or an old Pillow: use what is already there
        pass
    return folder


@lru_cache(maxsize=1)
def lexicon(size: int = 50_000) -> list[str]:
    """The `size` most frequent English words made only of letters and digits (wordfreq, offline)."""
    from wordfreq import top_n_list

    ok = set(string.ascii_letters + string.digits)
    words = [w for w in top_n_list("en", size * 2) if w and set(w) <= ok]
    return words[:size]


@lru_cache(maxsize=1)
def _textures() -> list[np.ndarray]:
    """Natural photos shipped with scikit-image and matplotlib, as RGB uint8, used as backgrounds."""
    import skimage.data as sd

    out = []
    for name in ("astronaut", "brick", "camera", "chelsea", "coffee", "coins", "grass", "gravel", "rocket",
                 "hubble_deep_field", "immunohistochemistry", "moon", "page", "text", "horse", "clock", "cell"):
        try:
            img = getattr(sd, name)()
        except Exception:  # a sample that would need a download: skip it, never fetch
            continue
        img = np.asarray(img)
        if img.dtype != np.uint8:
            img = (255 * (img.astype(np.float32) / max(1, img.max()))).astype(np.uint8)
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, -1)
        out.append(np.ascontiguousarray(img[..., :3]))
    try:
        import matplotlib.cbook as cbook

        with cbook.get_sample_data("grace_hopper.jpg") as f:
            data = np.frombuffer(f.read(), np.uint8)
        out.append(cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB))
    except Exception:
        pass
    return out


@dataclass
class SynthConfig:
    """Knobs of the generator; the defaults aim at real photographed word crops, not at an easy own split."""

    lexicon_size: int = 50_000
    p_random_string: float = 0.12   # random alphanumeric strings (licence plates, codes)
    p_number: float = 0.10          # numbers (prices, years, house numbers)
    max_len: int = 16               # longer words exist but squeeze below legibility at 128 px
    p_photo_background: float = 0.45
    p_border: float = 0.15
    p_shadow: float = 0.15
    p_perspective: float = 0.5
    p_curve: float = 0.12
    p_neighbours: float = 0.15      # bits of adjacent words at the crop edges, as real crops have
    p_low_res: float = 0.2
    output_height: int = 32         # images are written 32 px high like MJSynth's
    p_clean: float = 0.2            # plain, well-contrasted words (printed labels, screens): they also end the CTC plateau sooner
    p_tight: float = 0.5            # crop to the ink, as word boxes in photos are drawn: "ocean" is then x-height tall
    case_mix: tuple[float, float, float] = (0.25, 0.25, 0.5)  # lexicon words in UPPER, Capitalised, lower case
    p_punctuation: float = 0.25     # drawn punctuation the label leaves out ("IT'S" labelled ITS), as real crops have
    p_wide_spacing: float = 0.0     # letters tracked far apart ("B L A C K"), as on signs
    p_lines: float = 0.0            # parts of the text lines above and below at the crop's edges
    p_elastic: float = 0.2          # a smooth random elastic distortion of the letters
    perspective: float = 0.1        # spread of each corner's perspective jitter, as a share of the height
    jpeg_quality: tuple[int, int] = (30, 96)  # the range of the final JPEG quality
    edge_margin: tuple[float, float] = (0.02, 0.3)  # tight crops' left and right margins, in ink heights (< 0 cuts ink)
    p_bold: float = 0.15            # strokes thickened and the word condensed, like display faces (Impact) on signs
    p_short: float = 0.1            # extra lexicon words of 1-3 letters (a third of real crops' words; 14 % of the rest)
    p_glare: float = 0.0            # a soft specular highlight washing out part of the word, as on glossy close-ups


class SyntheticWords:
    """Deterministic word-image generator: `render(i)` is the same image for the same seed and index."""

    def __init__(self, seed: int = 0, config: SynthConfig | None = None, charset: str | None = None) -> None:
        self.seed = seed
        self.config = config or SynthConfig()
        self.fonts = available_fonts()
        if not self.fonts:
            raise RuntimeError("no usable fonts found (matplotlib's bundled fonts should always be there)")
        self.families = sorted(self.fonts)
        self.words = lexicon(self.config.lexicon_size)
        self.short_words = [w for w in self.words[:5_000] if len(w) <= 3] or ["a"]
        self.charset = charset or (string.ascii_letters + string.digits)

    # ---- text -----------------------------------------------------------------------------------
    def text(self, rng: np.random.Generator) -> str:
        """A word as MJSynth would pick it: mostly lexicon words in lower, Capitalised or UPPER case."""
        cfg = self.config
        if cfg.p_short > 0 and rng.random() < cfg.p_short:  # no draw when off: the default words stay the same
            word = self._cased(self.short_words[int(rng.integers(0, len(self.short_words)))], rng)
        elif (u := rng.random()) < cfg.p_random_string:
            n = int(rng.integers(1, 11))
            pool = self.charset
            word = "".join(pool[i] for i in rng.integers(0, len(pool), n))
        elif u < cfg.p_random_string + cfg.p_number:
            word = str(int(10 ** rng.uniform(0, 6)))
            if rng.random() < 0.2 and len(word) < cfg.max_len - 2:
                word = word + "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), int(rng.integers(1, 3))))
        else:
            # Half the draws from the 5,000 most common words, half from the whole lexicon (long tail).
            top = 5_000 if rng.random() < 0.5 else len(self.words)
            word = self._cased(self.words[int(rng.integers(0, min(top, len(self.words))))], rng)
        word = "".join(c for c in word if c in self.charset)[: cfg.max_len]
        return word or "a"

    def _cased(self, word: str, rng: np.random.Generator) -> str:
        """A lexicon word in UPPER, Capitalised or lower case, as `case_mix` says."""
        case, (upper, capital, _) = rng.random(), self.config.case_mix
        return word.upper() if case < upper else word.capitalize() if case < upper + capital else word.lower()

    # ---- image ----------------------------------------------------------------------------------
    def render(self, index: int) -> tuple[np.ndarray, str]:
        """The index-th sample: an RGB uint8 image (output_height high) and its label."""
        rng = np.random.default_rng([self.seed, index])
        word = self.text(rng)
        return self.render_text(word, rng), word

    def render_text(self, word: str, rng: np.random.Generator) -> np.ndarray:
        """Draw `word` with random font, colours, background, geometry and camera damage."""
        cfg = self.config
        if rng.random() < cfg.p_clean:  # a clean sample: same fonts and geometry, none of the hard effects
            cfg = SynthConfig(**{**cfg.__dict__, "p_photo_background": 0.0, "p_border": 0.0, "p_shadow": 0.0,
                                 "p_curve": 0.0, "p_neighbours": 0.0, "p_low_res": 0.0, "p_perspective": 0.2,
                                 "p_lines": 0.0, "p_elastic": 0.0, "p_glare": 0.0})
        # 1. Text mask at a random resolution (small sizes come out blocky, like distant signs).
        family = self.families[int(rng.integers(len(self.families)))]
        font_path = self.fonts[family][int(rng.integers(len(self.fonts[family])))]
        size = int(rng.integers(14, 30)) if rng.random() < cfg.p_low_res else int(rng.integers(30, 64))
        stroke = int(rng.integers(1, max(2, size // 12))) if rng.random() < cfg.p_border else 0
        shown = _punctuated(word, rng, self.charset) if cfg.p_punctuation and rng.random() < cfg.p_punctuation else word
        spacing = float(rng.uniform(-0.05, 0.25))
        if cfg.p_wide_spacing and rng.random() < cfg.p_wide_spacing:
            spacing = float(rng.uniform(0.6, 3.0))
        mask, outline = _text_mask(shown, font_path, size, spacing, stroke, rng)
        if cfg.p_bold and rng.random() < cfg.p_bold:
            mask, outline = _embolden(mask, outline, size, rng)
        # 2. Neighbouring letters at the edges sometimes, as crops from a detector include them.
        if rng.random() < cfg.p_neighbours:
            mask, outline = _add_neighbours(mask, outline, font_path, size, rng, self.charset)
        # 3. Geometry: rotation, shear, perspective, a gentle curve.
        mask, outline = _warp(mask, outline, rng, cfg)
        # 4. Most real crops hug the letters; the font's line box leaves room for ascenders a word may not have.
        if rng.random() < cfg.p_tight:
            mask, outline = _crop_to_ink(mask, outline, rng, cfg.edge_margin)
        if cfg.p_lines and rng.random() < cfg.p_lines:
            mask, outline = _add_lines(mask, outline, font_path, size, rng, self.charset)
        h, w = mask.shape
        # 5. Colours: background photo or flat/gradient colour; text colour with random contrast.
        bg = _background(h, w, rng, cfg)
        fg_col, out_col = _text_colours(bg, rng)
        img = bg.astype(np.float32)
        if rng.random() < cfg.p_shadow:
            shift = rng.integers(-max(1, h // 12), max(2, h // 8), 2)
            sh = _shifted(mask, int(shift[0]), int(shift[1]))
            sh = cv2.GaussianBlur(sh, (0, 0), float(rng.uniform(0.5, 3)))[..., None]
            img = img * (1 - 0.7 * sh)
        if outline is not None:
            img = img * (1 - outline[..., None]) + out_col * outline[..., None]
        img = img * (1 - mask[..., None]) + fg_col * mask[..., None]
        if cfg.p_glare and rng.random() < cfg.p_glare:
            img = _glare(img, rng)
        # 6. Camera: lighting gradient, blur, noise, low resolution, JPEG artefacts.
        img = _camera(img, rng, mild=cfg.p_low_res == 0.0 and cfg.p_curve == 0.0)
        # 7. Output at MJSynth's height.
        out_h = cfg.output_height
        out_w = max(4, int(round(w * out_h / h)))
        img = cv2.resize(np.clip(img, 0, 255).astype(np.uint8), (out_w, out_h), interpolation=cv2.INTER_AREA)
        q = int(rng.integers(*cfg.jpeg_quality))
        ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, q])
        return cv2.imdecode(enc, cv2.IMREAD_UNCHANGED) if ok else img

    def stream(self, start: int = 0) -> Iterator[tuple[np.ndarray, str]]:
        """Endless (image, label) pairs from index `start` on."""
        i = start
        while True:
            yield self.render(i)
            i += 1


# ---- drawing helpers ----------------------------------------------------------------------------

@lru_cache(maxsize=2048)
def _font(face: str, size: int):
    """A Pillow font for a face of available_fonts() ("path" or "path#Instance") at a size."""
    from PIL import ImageFont

    path, _, instance = face.partition("#")
    font = ImageFont.truetype(path, size)
    if instance:
        font.set_variation_by_name(instance)
    return font


def _text_mask(word: str, font_path: str, size: int, spacing: float, stroke: int,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
    """Float masks (text, outline or None) with random margins; letter spacing as a fraction of size."""
    from PIL import Image, ImageDraw

    font = _font(font_path, size)
    asc, desc = font.getmetrics()
    advances = [font.getlength(c) for c in word]
    gap = spacing * size * 0.3
    width = int(sum(advances) + gap * max(0, len(word) - 1)) + 2 * stroke + 2
    height = asc + desc + 2 * stroke
    mx = int(size * rng.uniform(0.05, 0.45)), int(size * rng.uniform(0.05, 0.45))
    my = int(size * rng.uniform(0.0, 0.25)), int(size * rng.uniform(0.0, 0.25))
    W, H = width + mx[0] + mx[1], height + my[0] + my[1]
    text_im = Image.new("L", (W, H), 0)
    out_im = Image.new("L", (W, H), 0) if stroke else None
    draw = ImageDraw.Draw(text_im)
    odraw = ImageDraw.Draw(out_im) if out_im is not None else None
    x = float(mx[0] + stroke)
    for c, adv in zip(word, advances):
        if odraw is not None:
            odraw.text((x, my[0] + stroke), c, font=font, fill=255, stroke_width=stroke, stroke_fill=255)
        draw.text((x, my[0] + stroke), c, font=font, fill=255)
        x += adv + gap
    mask = np.asarray(text_im, np.float32) / 255.0
    outline = None if out_im is None else np.asarray(out_im, np.float32) / 255.0
    return mask, outline


def _add_neighbours(mask, outline, font_path, size, rng, charset):
    """Glue a clipped letter or two of a neighbouring word onto the left and/or right edge."""
    h = mask.shape[0]
    left, right = [], []
    for side in (left, right):
        if rng.random() < 0.5:
            frag = "".join(charset[i] for i in rng.integers(0, 26, 2))
            m, _ = _text_mask(frag, font_path, size, 0.0, 0, rng)
            m = cv2.resize(m, (m.shape[1], h))
            keep = max(1, int(m.shape[1] * rng.uniform(0.1, 0.3)))
            gap = np.zeros((h, int(size * rng.uniform(0.3, 0.6))), np.float32)
            side.extend([m[:, -keep:], gap] if side is left else [gap, m[:, :keep]])
    new = np.concatenate(left + [mask] + right, axis=1)
    if outline is not None:
        pad_l = sum(p.shape[1] for p in left)
        o = np.zeros_like(new)
        o[:, pad_l:pad_l + outline.shape[1]] = outline
        outline = o
    return new, outline


def _warp(mask, outline, rng, cfg: SynthConfig):
    """Rotation, shear and perspective in one homography; an occasional sine curve; same for the outline."""
    h, w = mask.shape
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    # 1. Shear and rotation as moved corners.
    shear = rng.normal(0, 0.12)
    angle = np.deg2rad(rng.normal(0, 2.5))
    c, s = np.cos(angle), np.sin(angle)
    centre = np.float32([w / 2, h / 2])
    dst = []
    for x, y in src:
        x2 = x + shear * (h / 2 - y)
        px, py = x2 - centre[0], y - centre[1]
        dst.append([c * px - s * py + centre[0], s * px + c * py + centre[1]])
    dst = np.float32(dst)
    # 2. Perspective: jitter each corner by a share of the height.
    if rng.random() < cfg.p_perspective:
        dst += rng.normal(0, cfg.perspective * h, dst.shape).astype(np.float32)
    x0, y0 = dst.min(0)
    x1, y1 = dst.max(0)
    dst -= np.float32([x0, y0])
    size = (int(np.ceil(x1 - x0)) + 1, int(np.ceil(y1 - y0)) + 1)
    M = cv2.getPerspectiveTransform(src, dst)
    warp = lambda m: None if m is None else cv2.warpPerspective(m, M, size, flags=cv2.INTER_LINEAR)
    mask, outline = warp(mask), warp(outline)
    # 3. A gentle sine curve along the line (curved shop signs, bottle labels).
    if rng.random() < cfg.p_curve:
        H, W = mask.shape
        amp, period = rng.uniform(0.03, 0.12) * H, rng.uniform(0.7, 2.0) * W
        phase = rng.uniform(0, 2 * np.pi)
        xs, ys = np.meshgrid(np.arange(W, dtype=np.float32), np.arange(H, dtype=np.float32))
        ys = ys + (amp * np.sin(2 * np.pi * xs / period + phase)).astype(np.float32)
        remap = lambda m: None if m is None else cv2.remap(m, xs, ys, cv2.INTER_LINEAR, borderValue=0)
        mask, outline = remap(mask), remap(outline)
    # 4. Elastic: letters bent by a smooth random displacement field (hand-painted and warped signs).
    if cfg.p_elastic and rng.random() < cfg.p_elastic:
        H, W = mask.shape
        sigma, amp = H * rng.uniform(0.15, 0.35), H * rng.uniform(0.02, 0.06)
        field = [cv2.GaussianBlur(rng.normal(0, 1, (H, W)).astype(np.float32), (0, 0), sigma) for _ in range(2)]
        field = [f / (np.abs(f).max() + 1e-6) * amp for f in field]
        xs, ys = np.meshgrid(np.arange(W, dtype=np.float32), np.arange(H, dtype=np.float32))
        remap = lambda m: None if m is None else cv2.remap(m, xs + field[0], ys + field[1], cv2.INTER_LINEAR,
                                                           borderValue=0)
        mask, outline = remap(mask), remap(outline)
    return mask, outline


_LEADING, _TRAILING = ("\"", "'", "(", "$", "#"), (",", ".", ":", ";", "!", "?", "'", "\"", ")", "-")


def _punctuated(word: str, rng: np.random.Generator, charset: str = "") -> str:
    """`word` as a sign may print it: with a trailing comma or colon, a leading quote or $, or an apostrophe. Only
    marks outside `charset` are drawn: the label leaves them out, which is true only of characters the model lacks."""
    lead, trail = ([m for m in marks if m not in charset] for marks in (_LEADING, _TRAILING))
    u = rng.random()
    if u < 0.55 and trail:
        return word + trail[int(rng.integers(len(trail)))]
    if u < 0.8 and lead:
        return lead[int(rng.integers(len(lead)))] + word
    if len(word) > 2 and "'" not in charset:  # it's, India's, o'clock
        cut = len(word) - 1 if rng.random() < 0.6 else int(rng.integers(1, len(word)))
        return word[:cut] + "'" + word[cut:]
    return word + "." if "." not in charset else word


def _add_lines(mask, outline, font_path, size, rng, charset):
    """Rows of other text lines cut by the crop's top and/or bottom edge, as word boxes on signs and pages take them."""
    h, w = mask.shape
    parts, top_rows = [], 0
    for where in ("above", "below"):
        if rng.random() < 0.6:
            n = max(2, int(w / max(1, size * 0.55)))
            frag = "".join(charset[i] for i in rng.integers(0, len(charset), n))
            m, _ = _text_mask(frag, font_path, int(size * rng.uniform(0.6, 1.1)), 0.0, 0, rng)
            m = _crop_to_ink(m, None, rng)[0] if m.max() > 0 else m
            m = cv2.resize(m, (w, max(2, m.shape[0])), interpolation=cv2.INTER_AREA)
            keep = max(1, int(h * rng.uniform(0.08, 0.3)))
            gap = np.zeros((max(0, int(h * rng.uniform(0.0, 0.15))), w), np.float32)
            if where == "above":
                parts.append(np.concatenate([m[-keep:], gap]))
                top_rows = parts[-1].shape[0]
            else:
                parts.append(np.concatenate([gap, m[:keep]]))
    if not parts:
        return mask, outline
    above = parts[0] if top_rows else np.zeros((0, w), np.float32)
    below = parts[-1] if len(parts) == 2 or not top_rows else np.zeros((0, w), np.float32)
    new = np.concatenate([above, mask, below])
    if outline is not None:
        o = np.zeros_like(new)
        o[top_rows:top_rows + h] = outline
        outline = o
    return new, outline


def _shifted(m: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """m moved by (dy, dx) pixels, zeros where nothing moves in (np.roll would wrap a tight crop's far edge around)."""
    h, w = m.shape
    out = np.zeros_like(m)
    src = m[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = src
    return out


def _crop_to_ink(mask, outline, rng, edge_margin: tuple[float, float] = (0.02, 0.3)):
    """Crop the masks to the drawn ink (outline included), then add margins of 0-12 % (top, bottom) and `edge_margin`
    (left, right) of the ink's height; a negative margin cuts into the first or last letter, as tight boxes do."""
    ink = mask if outline is None else np.maximum(mask, outline)
    rows, cols = np.flatnonzero(ink.max(1) > 0.1), np.flatnonzero(ink.max(0) > 0.1)
    if not len(rows):
        return mask, outline
    ink_h = rows[-1] - rows[0] + 1
    top, bottom = int(ink_h * rng.uniform(0.0, 0.12)), int(ink_h * rng.uniform(0.0, 0.12))
    left, right = int(ink_h * rng.uniform(*edge_margin)), int(ink_h * rng.uniform(*edge_margin))
    c0, c1 = cols[0] + max(0, -left), cols[-1] + 1 - max(0, -right)
    if c1 - c0 < 2:  # never cut a word away
        c0, c1 = cols[0], cols[-1] + 1
    pad = ((top, bottom), (max(0, left), max(0, right)))
    cut = lambda m: None if m is None else np.pad(m[rows[0]:rows[-1] + 1, c0:c1], pad)
    return cut(mask), cut(outline)


def _embolden(mask, outline, size, rng):
    """Thicker strokes (a dilation of 4-10 % of the font size) and a word condensed to 65-95 % of its width."""
    k = max(2, int(size * rng.uniform(0.04, 0.1)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    factor = rng.uniform(0.65, 0.95)
    def shape(m):
        if m is None:
            return None
        m = cv2.dilate(m, kernel)
        return cv2.resize(m, (max(2, int(m.shape[1] * factor)), m.shape[0]), interpolation=cv2.INTER_AREA)
    return shape(mask), shape(outline)


def _background(h: int, w: int, rng: np.random.Generator, cfg: SynthConfig) -> np.ndarray:
    """RGB float background: a crop of a natural photo, a flat colour, a gradient, or procedural noise."""
    u = rng.random()
    tex = _textures()
    if u < cfg.p_photo_background and tex:
        src = tex[int(rng.integers(len(tex)))]
        scale = rng.uniform(0.3, 1.5)
        ch, cw = max(4, int(h / scale)), max(4, int(w / scale))
        ch, cw = min(ch, src.shape[0]), min(cw, src.shape[1])
        y, x = int(rng.integers(0, src.shape[0] - ch + 1)), int(rng.integers(0, src.shape[1] - cw + 1))
        crop = cv2.resize(src[y:y + ch, x:x + cw], (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
        if rng.random() < 0.5:  # tint and soften so text on it stays a readable signal
            crop = crop * rng.uniform(0.3, 0.8) + rng.uniform(0, 255, 3) * rng.uniform(0.2, 0.7)
        return np.clip(crop, 0, 255)
    base = rng.uniform(0, 255, 3).astype(np.float32)
    if u < cfg.p_photo_background + 0.25:
        return np.broadcast_to(base, (h, w, 3)).copy()
    if u < cfg.p_photo_background + 0.4:
        other = rng.uniform(0, 255, 3).astype(np.float32)
        t = np.linspace(0, 1, w, dtype=np.float32)[None, :, None] if rng.random() < 0.5 else \
            np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
        return base * (1 - t) + other * t + np.zeros((h, w, 1), np.float32)
    noise = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), float(rng.uniform(0.5, 6)))
    noise = noise / (noise.std() + 1e-6) * rng.uniform(5, 25)
    return np.clip(base + noise[..., None], 0, 255)


def _text_colours(bg: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A text colour whose luminance differs from the background's by a random, sometimes small, contrast."""
    lum = float((bg.reshape(-1, 3) @ np.float32([0.299, 0.587, 0.114])).mean())
    contrast = rng.uniform(70, 220)
    target = lum - contrast if (lum > 127 or rng.random() < 0.2) and lum - contrast > 0 else lum + contrast
    target = float(np.clip(target, 0, 255))
    col = rng.uniform(0, 255, 3).astype(np.float32)
    col_lum = float(col @ np.float32([0.299, 0.587, 0.114]))
    col = np.clip(col + (target - col_lum), 0, 255)  # keep the hue, move the luminance
    outline = np.clip(255 - col + rng.normal(0, 30, 3), 0, 255).astype(np.float32)
    return col, outline


def _glare(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A soft elliptical highlight, tilted, that pulls part of the crop toward white (light on a glossy sign)."""
    h, w = img.shape[:2]
    cx, cy = rng.uniform(0, w), rng.uniform(-0.2 * h, 1.2 * h)
    rx, ry = rng.uniform(0.3, 1.5) * h, rng.uniform(0.2, 0.8) * h
    tilt = rng.uniform(-0.6, 0.6)
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32) - cx, np.arange(h, dtype=np.float32) - cy)
    u, v = xs * np.cos(tilt) + ys * np.sin(tilt), ys * np.cos(tilt) - xs * np.sin(tilt)
    blob = np.exp(-(u / rx) ** 2 - (v / ry) ** 2) * rng.uniform(0.5, 0.95)
    return img + (255.0 - img) * blob[..., None].astype(np.float32)


def _camera(img: np.ndarray, rng: np.random.Generator, mild: bool = False) -> np.ndarray:
    """Uneven light, defocus or motion blur, sensor noise and a low-resolution round trip (little of it when mild)."""
    h, w = img.shape[:2]
    if mild:
        img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.1, 0.5) * h / 32))
        return img + rng.normal(0, rng.uniform(0, 4), img.shape).astype(np.float32)
    # 1. Light falling off across the crop.
    if rng.random() < 0.4:
        gx = np.linspace(rng.uniform(0.6, 1.1), rng.uniform(0.6, 1.1), w, dtype=np.float32)[None, :, None]
        img = img * gx
    # 2. Blur: defocus (Gaussian) or a short motion streak.
    u = rng.random()
    if u < 0.45:
        img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.2, 0.9) * h / 32))
    elif u < 0.6:
        k = max(3, int(rng.integers(3, max(4, h // 6))))
        kernel = np.zeros((k, k), np.float32)
        kernel[k // 2, :] = 1.0 / k
        rot = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
        kernel = cv2.warpAffine(kernel, rot, (k, k))
        img = cv2.filter2D(img, -1, kernel / max(kernel.sum(), 1e-6))
    # 3. Low resolution: down and up again.
    if rng.random() < 0.25:
        f = rng.uniform(0.3, 0.7)
        small = cv2.resize(img, (max(2, int(w * f)), max(2, int(h * f))), interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    # 4. Sensor noise.
    img = img + rng.normal(0, rng.uniform(0, 7), img.shape).astype(np.float32)
    # 5. Sometimes the photo was grey to begin with.
    if rng.random() < 0.1:
        g = img @ np.float32([0.299, 0.587, 0.114])
        img = np.repeat(g[..., None], 3, -1)
    return img


# ---- MJSynth layout ------------------------------------------------------------------------------

def _render_chunk(args: tuple[int, int, int, SynthConfig | None, str, list[tuple[int, str]]]) -> list[tuple[str, str]]:
    seed, start, stop, config, out_dir, _ = args
    gen = SyntheticWords(seed, config)
    rows = []
    for i in range(start, stop):
        img, word = gen.render(i)
        rel = f"./{i // 1000}/{(i // 100) % 10}/{i}_{word}_{0}.jpg"
        path = os.path.join(out_dir, rel[2:])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        cv2.imwrite(path, cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
        rows.append((rel, word))
    return rows


def write_mjsynth_layout(
    out_dir: str | Path,
    counts: dict[str, int],
    seed: int = 0,
    config: SynthConfig | None = None,
    workers: int = 2,
    progress: bool = True,
) -> Path:
    """Render counts {'train': n, 'val': n, 'test': n} into MJSynth's layout (annotation_*.txt, lexicon.txt, jpgs)."""
    from multiprocessing import get_context

    from .progress import progress_bar

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # 1. Render every split in chunks on `workers` processes; index ranges keep it deterministic.
    start, chunk = 0, 500
    jobs, split_of = [], []
    for split in ("train", "val", "test"):
        n = int(counts.get(split, 0))
        for a in range(start, start + n, chunk):
            jobs.append((seed, a, min(a + chunk, start + n), config, str(out_dir), []))
            split_of.append(split)
        start += n
    rows: dict[str, list[tuple[str, str]]] = {s: [] for s in ("train", "val", "test")}
    available_fonts()  # found and checked once, here: the forked workers inherit the list instead of redoing it
    bar = progress_bar(total=start, desc="render", unit="img", enabled=progress)
    ctx = get_context("fork") if hasattr(os, "fork") else get_context()
    with ctx.Pool(max(1, workers)) as pool:
        for split, part in zip(split_of, pool.imap(_render_chunk, jobs)):
            rows[split].extend(part)
            bar.update(len(part))
    bar.close()
    # 2. lexicon.txt holds every distinct lowercased word; annotation lines point into it, as MJSynth's do.
    vocab: dict[str, int] = {}
    for split in rows:
        for _, word in rows[split]:
            vocab.setdefault(word.lower(), len(vocab))
    (out_dir / "lexicon.txt").write_text("".join(w + "\n" for w in vocab))
    for split, part in rows.items():
        with open(out_dir / f"annotation_{split}.txt", "w") as f:
            for rel, word in part:
                idx = vocab[word.lower()]
                final = rel.replace(f"_{word}_0.jpg", f"_{word}_{idx}.jpg")
                src = out_dir / rel[2:]
                if final != rel:
                    os.replace(src, out_dir / final[2:])
                f.write(f"{final} {idx}\n")
    return out_dir


def render_words(words: Sequence[str], seed: int = 0, config: SynthConfig | None = None) -> list[np.ndarray]:
    """Render given words (e.g. sample images for data/samples)."""
    gen = SyntheticWords(seed, config)
    return [gen.render_text(w, np.random.default_rng([seed, 10_000_000 + i])) for i, w in enumerate(words)]
