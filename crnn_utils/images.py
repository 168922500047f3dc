"""Any image -> the model's 32x128x1 float input: one preprocessing for training and inference, in NumPy and in TF."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Union

import cv2
import numpy as np

IMG_HEIGHT = 32
IMG_WIDTH = 128
MAX_STRETCH = 2.0  # short words are widened up to 2x, so thin letters (l, i, t) get CTC steps of their own
MAX_PIXELS = 50_000_000  # refuse larger images before decoding them (decompression bombs)
MAX_FILE_BYTES = 256 << 20  # and larger files before reading them: a word crop is kilobytes, a 1 GB '.jpg' is not one
# Every extension OpenCV decodes here, the aliases a browser's "Save image as" writes (.jfif, .jpe) included.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".avif",
                    ".pbm", ".pgm", ".ppm", ".pnm", ".jp2", ".j2k")
# Image formats people have that OpenCV does not decode here (phone photos, camera raw, layered, icons): listed so
# that a folder or label file naming them counts them as unsupported_format, with what to do, not as malformed lines.
UNSUPPORTED_EXTENSIONS = (".heic", ".heif", ".jxl", ".psd", ".exr", ".ico", ".dng", ".cr2", ".cr3", ".nef", ".arw", ".raw")
_GRAY_WEIGHTS = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R BT.601, as OpenCV and TF use

PathLike = Union[str, os.PathLike]


class ImageError(ValueError):
    """An image that cannot be used; `reason` is the key it is counted under in dataset.json."""

    def __init__(self, reason: str, path: PathLike | None = None, detail: str = "") -> None:
        self.reason, self.path = reason, path
        super().__init__(f"{reason}: {path}" + (f" ({detail})" if detail else ""))


# Skip reasons for image files (dataset.json keys).
MISSING_FILE = "missing_file"
EMPTY_FILE = "empty_file"
UNREADABLE = "unreadable_image"
TOO_LARGE = "too_large"
TRUNCATED = "truncated_image"
NOT_PERMITTED = "permission_denied"
UNSUPPORTED = "unsupported_format"
DAMAGED = "damaged_image"  # decoded, but its codec reported corrupt data (prepare_split's strict loading only)


def image_size(path: PathLike) -> tuple[int, int] | None:
    """(width, height) as displayed (after any EXIF rotation) from the file header, None if unknown; too_large if Pillow refuses it."""
    header = _header(path)
    if header is None:
        return None
    (w, h), orientation = header
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


# EXIF orientation -> the array operation that shows the image upright (phone cameras store pixels as the sensor saw
# them and set this tag; 1 is upright). The same transposes as Pillow's ImageOps.exif_transpose.
_EXIF_UPRIGHT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: a.swapaxes(0, 1)[::-1, ::-1],
    8: lambda a: np.rot90(a, 1),
}


def _header(path: PathLike) -> tuple[tuple[int, int], int] | None:
    """((width, height) as stored, EXIF orientation or 1) without decoding pixels; None if Pillow cannot open it."""
    from PIL import Image  # Pillow ships with matplotlib; it reads headers lazily

    try:
        with Image.open(path) as im:
            try:
                orientation = int(im.getexif().get(0x0112, 1))
            except Exception:  # a damaged EXIF block: treat the image as upright
                orientation = 1
            if im.format == "TIFF":  # libtiff (in Pillow and in OpenCV) already turns a TIFF upright as it reads it
                orientation = 1
            return im.size, orientation
    except Image.DecompressionBombError as e:  # Pillow refuses > 2 * its own limit already at open
        raise ImageError(TOO_LARGE, path, str(e)) from None
    except Exception:
        return None


def _jpeg_truncated(data: bytes | np.ndarray) -> bool:
    """True for JPEG bytes whose image data stops before its end-of-image marker FF D9 (bytes after it are allowed)."""
    data = bytes(data)
    if data[:3] != b"\xff\xd8\xff":
        return False
    # Walk the header segments (APPn, tables: a marker and a 2-byte length each) to the first start of scan; an EXIF
    # thumbnail's own FF D9 lies inside APP1 and is skipped. Entropy-coded data never holds FF D9, so the image is
    # complete when FF D9 follows the scan, whatever comes after it (a phone's motion-photo video, padding).
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xDA:
            return data.find(b"\xff\xd9", pos) < 0
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    # No scan found by the walk (a cut header, or bytes it does not understand): the end marker must end the file.
    return not data.rstrip(b"\0").endswith(b"\xff\xd9")


def is_image_name(name: str) -> bool:
    """Whether a file name, stripped, ends in an image extension: one OpenCV decodes here or one of UNSUPPORTED_EXTENSIONS."""
    suffix = Path(name.strip()).suffix.lower()
    return suffix in IMAGE_EXTENSIONS or suffix in UNSUPPORTED_EXTENSIONS


def is_hidden_name(name: str) -> bool:
    """Whether a file or folder name is one no reader should list: dot files (macOS's '._x.png', .DS_Store) and __MACOSX."""
    return name.startswith(".") or name == "__MACOSX"


def is_file(path: PathLike) -> bool:
    """Path.is_file, False for a name the file system refuses (over 255 bytes, a NUL byte) instead of an error."""
    try:
        return Path(path).is_file()
    except (OSError, ValueError):
        return False


def load_image(path: PathLike, max_pixels: int = MAX_PIXELS, strict: bool = False) -> np.ndarray:
    """Decode an image file to uint8 (H, W), (H, W, 3) RGB or (H, W, 4) RGBA, upright per EXIF; raises ImageError with a countable reason."""
    p = Path(path)
    # 1. Cheap checks before decoding anything. A name the file system refuses (over 255 bytes) names no file either.
    if not is_file(p):
        raise ImageError(MISSING_FILE, path)
    size = p.stat().st_size
    if size == 0:
        raise ImageError(EMPTY_FILE, path)
    if size > MAX_FILE_BYTES:
        raise ImageError(TOO_LARGE, path, f"{size / 2**20:.0f} MB > {MAX_FILE_BYTES >> 20} MB")
    try:
        data = np.fromfile(str(p), np.uint8)
    except PermissionError as e:
        raise ImageError(NOT_PERMITTED, path, e.strerror or "") from None
    except OSError as e:  # a directory entry that cannot be read (an I/O error, a dead network mount)
        raise ImageError(UNREADABLE, path, str(e)) from None
    header = _header(p)
    if header is not None and header[0][0] * header[0][1] > max_pixels:
        raise ImageError(TOO_LARGE, path, f"{header[0][0]}x{header[0][1]} > {max_pixels} pixels")
    # 2. OpenCV decodes a truncated JPEG without error (grey bottom rows): check for the end marker first.
    if _jpeg_truncated(data):
        raise ImageError(TRUNCATED, path)
    # 3. Decode with OpenCV (keeps alpha so it can be composited over white). What its codecs print about damaged
    #    data is caught, not printed; strict (training data) refuses such an image, else it is read as decoded.
    img, complaint = _decode_quietly(data)
    if strict and img is not None and complaint:
        raise ImageError(DAMAGED, path, complaint.splitlines()[0][:120])
    if img is None or img.size == 0:
        kind = _unsupported_kind(data, p.suffix)
        if kind:
            raise ImageError(UNSUPPORTED, path, f"{kind}, which OpenCV does not decode: convert it to PNG or JPEG")
        raise ImageError(UNREADABLE, path)
    if img.ndim == 2 and bytes(data[:4]) in (b"II*\0", b"MM\0*"):  # OpenCV drops a grey TIFF's alpha: Pillow keeps it
        img = _tiff_grey_alpha(p, img)
    if img.dtype.kind == "f":  # a float TIFF: 0..1 when it fits there, else taken as 0..255
        img = np.nan_to_num(img.astype(np.float32))
        img = np.clip(img * 255 if img.max() <= 1.0 else img, 0, 255).round().astype(np.uint8)
    elif img.dtype != np.uint8:  # 16-bit PNG/TIFF
        img = np.clip(_wide_to_255(img), 0, 255).round().astype(np.uint8)
    # 4. Upright as a viewer shows it: IMREAD_UNCHANGED ignores the EXIF orientation a phone photo carries.
    if header is not None and header[1] in _EXIF_UPRIGHT:
        img = np.ascontiguousarray(_EXIF_UPRIGHT[header[1]](img))
    if img.ndim == 3 and img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA)
    if img.ndim == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return img


_CODEC_TEXT = re.compile(r"(?i)jpeg|png|tiff|webp|gif|bmp|imdecode|loadsave|huffman|marker")


def _decode_quietly(data: np.ndarray) -> tuple[np.ndarray | None, str]:
    """cv2.imdecode(IMREAD_UNCHANGED) with what libjpeg, libpng and OpenCV print on stderr caught: (image, their text)."""
    from . import captured_stderr

    # libjpeg writes "Corrupt JPEG data: ..." straight to file descriptor 2, one line per damaged file, which neither
    # Python nor OpenCV's log level can silence.
    with captured_stderr() as said:
        img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    # Text from another thread in that instant (a log line) is not the codec's: it goes to stderr after all.
    lines = "".join(said).splitlines(keepends=True)
    other = "".join(line for line in lines if not _CODEC_TEXT.search(line) and not line.startswith(">"))
    if other:
        os.write(2, other.encode())
    return img, "".join(line for line in lines if _CODEC_TEXT.search(line)).strip()


def _unsupported_kind(data: np.ndarray, suffix: str) -> str:
    """The format of bytes OpenCV could not decode, when it is one it never decodes here (HEIC by its bytes, so an
    iPhone photo saved as .jpg too; JPEG XL; the UNSUPPORTED_EXTENSIONS); "" for a damaged file of a decodable format."""
    head = bytes(data[:16])
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"):
        # mif1/msf1 are HEIF's generic brands, which AVIF files carry too: their compatible brands then name AVIF.
        brands = bytes(data[16:min(int.from_bytes(head[:4], "big"), 256)])
        is_avif = head[8:12] in (b"mif1", b"msf1") and any(brands[i:i + 4] in (b"avif", b"avis")
                                                            for i in range(0, len(brands) - 3, 4))
        return "" if is_avif else "HEIC/HEIF"
    if head[:2] == b"\xff\x0a" or head[:12] == b"\0\0\0\x0cJXL \r\n\x87\n":
        return "JPEG XL"
    return suffix.lower().lstrip(".").upper() if suffix.lower() in UNSUPPORTED_EXTENSIONS else ""


def _tiff_grey_alpha(path: Path, img: np.ndarray) -> np.ndarray:
    """A grey+alpha TIFF as BGRA through Pillow (OpenCV returns only its grey channel); other TIFFs unchanged."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            if im.mode not in ("LA", "La"):
                return img
            return cv2.cvtColor(np.asarray(im.convert("RGBA")), cv2.COLOR_RGBA2BGRA)
    except Exception:
        return img


# Alpha range above which an image's transparency carries its drawing, and grey range (0..255) below which an image
# composited over white shows nothing: white text on a transparent background is then put on black instead.
_ALPHA_DRAWS, _FLAT = 0.5, 8.0


def _wide_to_255(img: np.ndarray) -> np.ndarray:
    """Integer pixels wider than 8 bits as float32 0..255: scaled by the type's range, unless no value exceeds 255."""
    # Some tools store 8-bit values in a 16-bit file (a converter, a scanner's "48-bit" export of an 8-bit scan):
    # scaled by 65535 they would load nearly black. A true 16-bit image with no value above 255 is black anyway.
    top = np.iinfo(img.dtype).max
    img = np.clip(img.astype(np.float32), 0, None)
    if img.size and float(img.max()) <= 255.0:
        return img
    return img * np.float32(255.0 / top)


def to_gray(image: np.ndarray) -> np.ndarray:
    """Grayscale float32 (H, W) in 0..255 from gray, RGB or RGBA (alpha over white; over black if white hides the text)."""
    img = np.asarray(image)
    if img.dtype.kind == "u" and img.dtype != np.uint8:  # 16-bit arrays: scale to 0..255 as load_image does
        img = _wide_to_255(img)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim == 2:
        return img.astype(np.float32)
    gray = img[..., 0].astype(np.float32) if img.shape[2] == 2 else img[..., :3].astype(np.float32) @ _GRAY_WEIGHTS
    if img.shape[2] in (2, 4):  # grey+alpha or RGBA
        alpha = img[..., -1].astype(np.float32) / 255.0
        over_white = gray * alpha + 255.0 * (1.0 - alpha)
        if np.ptp(over_white) < _FLAT and np.ptp(alpha) > _ALPHA_DRAWS:
            return gray * alpha
        return over_white
    return gray


def _two_tone_contrast(gray: np.ndarray) -> float:
    """Otsu's between-class variance of a 0..255 image: how far apart its two tones (ink, background) lie."""
    u8 = np.clip(gray, 0, 255).astype(np.uint8)
    t, _ = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    low = u8 <= t
    share = float(low.mean())
    if share in (0.0, 1.0):
        return 0.0
    return share * (1.0 - share) * float(gray[low].mean() - gray[~low].mean()) ** 2


def ink_channel(image: np.ndarray) -> np.ndarray | None:
    """The colour channel (R, G or B, float32 0..255) whose ink and background differ more than in grey; None when none does.

    Luminance loses ink that differs from its background in colour, not brightness (green on brick, blue on sky).
    """
    img = np.asarray(image)
    if img.dtype.kind == "u" and img.dtype != np.uint8:
        img = _wide_to_255(img)
    # Grey images have no colour; a transparent image's alpha carries the drawing (to_gray's rules apply to it).
    if img.ndim != 3 or img.shape[2] not in (3, 4) or (img.shape[2] == 4 and float(img[..., 3].min()) < 255):
        return None
    rgb = img[..., :3].astype(np.float32)
    best, best_contrast = None, _two_tone_contrast(to_gray(img))
    for c in range(3):
        contrast = _two_tone_contrast(rgb[..., c])
        if contrast > 1.01 * best_contrast:  # the margin keeps a grey image saved as RGB to one reading
            best, best_contrast = rgb[..., c], contrast
    return best


def _run_around_peak(profile: np.ndarray, share: float) -> tuple[int, int]:
    """(start, end) of the indices around the profile's peak whose values stay above share × the peak."""
    peak = int(np.argmax(profile))
    above = profile > share * profile[peak]
    start, end = peak, peak + 1
    while start > 0 and above[start - 1]:
        start -= 1
    while end < len(above) and above[end]:
        end += 1
    return start, end


def text_box(image: np.ndarray, fill: float = 0.5) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the word in a loose crop, with a margin; None where it fills `fill` of the height.

    `fill` or more of the height counts as filled. The model learnt word boxes drawn tight around the letters: a photo
    whose word is a third of its height reads at about half the accuracy (docs/results.md, "Loose crops"). The word's
    rows are the band of dense edges around the densest row; its columns, the edge columns within that band.
    """
    gray = to_gray(image)
    h, w = gray.shape
    if h > 48:  # edges at about 48 px high: fast, and the strokes of a large word are still edges
        gray = cv2.resize(gray, (max(1, round(w * 48 / h)), 48), interpolation=cv2.INTER_AREA)
    sh, sw = gray.shape
    edges = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    edges8 = np.clip(edges * 255.0 / max(1e-6, float(edges.max())), 0, 255).astype(np.uint8)
    _, mask = cv2.threshold(edges8, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if not mask.any():  # a flat image: nothing to cut out
        return None
    smooth = np.ones(2 * max(1, sh // 24) + 1) / (2 * max(1, sh // 24) + 1)
    top, bottom = _run_around_peak(np.convolve(mask.mean(1), smooth, "same"), 0.25)
    band = bottom - top
    if band >= fill * sh:
        return None
    ink = np.flatnonzero(np.convolve(mask[top:bottom].mean(0), smooth, "same") > 0.05)
    left, right = (int(ink[0]), int(ink[-1]) + 1) if len(ink) else (0, sw)
    margin = int(0.3 * band)  # ascenders and descenders thinner than the band's edges, and room at the ends
    top, bottom = max(0, top - margin), min(sh, bottom + margin)
    left, right = max(0, left - margin), min(sw, right + margin)
    scale = h / sh
    return int(top * scale), int(np.ceil(bottom * scale)), int(left * scale), int(np.ceil(right * scale))


def fit_size(h: int, w: int, height: int = IMG_HEIGHT, width: int = IMG_WIDTH,
             max_stretch: float = MAX_STRETCH) -> tuple[int, int]:
    """Height and width after resizing to `height`: widened up to `max_stretch` times, never beyond `width`."""
    new_w = max(1, int(round(w * height / max(h, 1) * max_stretch)))
    return height, min(new_w, width)


def preprocess(image: np.ndarray, height: int = IMG_HEIGHT, width: int = IMG_WIDTH,
               max_stretch: float = MAX_STRETCH) -> np.ndarray:
    """Any image array -> float32 (height, width, 1) in [0, 1]: gray, resize to height, widen/squeeze, pad right."""
    # 1. Grayscale in float, so no rounding differs from the TF path.
    gray = to_gray(image)
    h, w = gray.shape
    # 2. Resize to the target height, widened up to max_stretch times; never drop a wide word, squeeze it.
    new_h, new_w = fit_size(h, w, height, width, max_stretch)
    #    One axis at a time (height, then width): each step is a pure shrink (area) or enlarge (bilinear),
    #    which OpenCV and TF compute alike.
    resized = _resize_axis(gray, new_h, w)
    resized = _resize_axis(resized, new_h, new_w)
    # 3. Pad on the right with the border's median, a background continuation (white only when the border is).
    out = np.full((height, width), _border_median(resized), np.float32)
    out[:, :new_w] = resized
    # 4. Scale to [0, 1]; clip the float rounding of area resizing (white can come out as 255.00002).
    return np.clip(out / 255.0, 0.0, 1.0)[..., None]


def _resize_axis(img: np.ndarray, h: int, w: int) -> np.ndarray:
    if img.shape == (h, w):
        return img
    shrink = h * w < img.shape[0] * img.shape[1]
    out = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return out.reshape(h, w)


def _border_median(img: np.ndarray) -> np.float32:
    border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])
    return np.sort(border)[len(border) // 2]


def preprocess_tf(image, height: int = IMG_HEIGHT, width: int = IMG_WIDTH, max_stretch: float = MAX_STRETCH):
    """The same preprocessing as `preprocess`, in TensorFlow ops for tf.data (uint8 (H, W, C) tensor in)."""
    import tensorflow as tf

    # 1. Grayscale in float, alpha composited over white (over black when white would hide the text), as to_gray.
    img = tf.cast(image, tf.float32)
    channels = tf.shape(img)[-1]
    rgb = tf.cond(channels >= 3, lambda: img[..., :3], lambda: tf.repeat(img[..., :1], 3, axis=-1))
    has_alpha = tf.logical_or(channels == 4, channels == 2)
    alpha = tf.cond(has_alpha, lambda: img[..., -1:] / 255.0, lambda: tf.ones_like(img[..., :1]))
    gray = tf.tensordot(rgb, tf.constant(_GRAY_WEIGHTS), axes=[[2], [0]])[..., None]
    over_white = gray * alpha + 255.0 * (1.0 - alpha)
    ptp = lambda x: tf.reduce_max(x) - tf.reduce_min(x)
    hidden = tf.logical_and(ptp(over_white) < _FLAT, ptp(alpha) > _ALPHA_DRAWS)
    gray = tf.where(hidden, gray * alpha, over_white)
    # 2. Resize as fit_size does (area when shrinking, bilinear when enlarging, as OpenCV does).
    h, w = tf.shape(gray)[0], tf.shape(gray)[1]
    natural = tf.cast(w, tf.float32) * height / tf.cast(h, tf.float32)
    new_w = tf.maximum(1, tf.cast(tf.round(natural * max_stretch), tf.int32))
    new_w = tf.minimum(new_w, width)
    resized = _resize_axis_tf(gray, height, w)
    resized = _resize_axis_tf(resized, height, new_w)
    # 3. Pad on the right with the border's median.
    r = resized[..., 0]
    border = tf.concat([r[0], r[-1], r[:, 0], r[:, -1]], axis=0)
    fill = tf.sort(border)[tf.size(border) // 2]
    pad = tf.fill([height, width - new_w], fill)
    out = tf.clip_by_value(tf.concat([r, pad], axis=1) / 255.0, 0.0, 1.0)
    return tf.reshape(out, [height, width, 1])


def _resize_axis_tf(img, h, w):
    import tensorflow as tf

    old_h, old_w = tf.shape(img)[0], tf.shape(img)[1]
    same = tf.logical_and(tf.equal(old_h, h), tf.equal(old_w, w))
    shrink = h * w < old_h * old_w
    return tf.cond(
        same,
        lambda: img,
        lambda: tf.cond(
            shrink,
            lambda: tf.image.resize(img, [h, w], method="area"),
            lambda: tf.image.resize(img, [h, w], method="bilinear"),
        ),
    )


def preprocess_canvas_tf(canvas, h, w, height: int = IMG_HEIGHT, width: int = IMG_WIDTH,
                         max_stretch: float = MAX_STRETCH):
    """`preprocess` of the grey image canvas[:h, :w] (float32 (Hc, Wc), rest ignored) in TFLite builtins: (height, width, 1).

    Static canvas shapes convert to TFLite; a dynamic one (canvas = the image) serves a SavedModel. Each resize is a
    weight matrix built from h and w (OpenCV's area and bilinear weights), so no op depends on the image's size; the
    result is within 2 float32 steps of `preprocess`. The width rounds as fit_size does but in float32: the same
    widths for a max_stretch that is a binary fraction (1.0, 1.5, 2.0), others may differ on rare exact ties."""
    import tensorflow as tf

    # 1. The width after resizing, as fit_size: w * height / h * max_stretch, rounded half to even, 1..width.
    hf, wf = tf.cast(h, tf.float32), tf.cast(w, tf.float32)
    new_w = tf.clip_by_value(tf.round(wf * float(height) / tf.maximum(hf, 1.0) * float(max_stretch)), 1.0, float(width))
    # 2. Rows to `height`, then columns to new_w, as `preprocess` does (columns from new_w on come out zero).
    rows = _resize_weights_tf(hf, float(height), height, tf.shape(canvas)[0])
    cols = _resize_weights_tf(wf, new_w, width, tf.shape(canvas)[1])
    resized = tf.matmul(tf.matmul(rows, canvas), cols, transpose_b=True)  # (height, width)
    # 3. The median of the resized image's border (np.sort(border)[n // 2]); a sort of a fixed length puts the
    #    unused columns' placeholders last, past the median's index.
    valid = tf.range(width, dtype=tf.float32) < new_w
    last = tf.gather(resized, tf.cast(new_w, tf.int32) - 1, axis=1)
    border = tf.concat([tf.where(valid, resized[0], 1e9), tf.where(valid, resized[-1], 1e9), resized[:, 0], last], 0)
    ascending = -tf.math.top_k(-border, k=2 * width + 2 * height).values
    fill = tf.gather(ascending, (2 * tf.cast(new_w, tf.int32) + 2 * height) // 2)
    # 4. Pad on the right with it, scale to [0, 1] and clip, as `preprocess` does.
    out = tf.where(valid[None, :], resized, fill)
    return tf.reshape(tf.clip_by_value(out / 255.0, 0.0, 1.0), [height, width, 1])


def _resize_weights_tf(n, m, rows: int, cols):
    """(rows, cols) float32 weights resizing n pixels to m on one axis as cv2.resize: area when m < n, else bilinear.

    Rows from m on and columns from n on are zero. n and m are float32 whole numbers; the area weights are exact
    (overlaps counted in 1/m pixel units, whole numbers below 2**24 up to 131072 pixels)."""
    import tensorflow as tf

    i = tf.range(rows, dtype=tf.float32)[:, None]
    j = tf.range(cols, dtype=tf.float32)[None, :]
    # 1. Area: the overlap of source pixel j, [j, j + 1), with output pixel i's cell [i n/m, (i + 1) n/m), over n/m.
    overlap = tf.maximum(0.0, tf.minimum((j + 1.0) * m, (i + 1.0) * n) - tf.maximum(j * m, i * n))
    area = overlap / n
    # 2. Bilinear with half-pixel centres, src = ((2i + 1) n - m) / 2m split into whole and fraction in integers
    #    (one rounding, as OpenCV's double arithmetic); a centre outside the first or last pixel takes it alone.
    num, den = tf.cast((2.0 * i + 1.0) * n - m, tf.int32), tf.cast(2.0 * m, tf.int32)
    floor = tf.cast(tf.math.floordiv(num, den), tf.float32)
    edge = tf.logical_or(floor < 0.0, floor >= n - 1.0)
    x0 = tf.clip_by_value(floor, 0.0, n - 1.0)
    frac = tf.where(edge, 0.0, tf.cast(tf.math.floormod(num, den), tf.float32) / tf.cast(den, tf.float32))
    linear = tf.cast(tf.equal(j, x0), tf.float32) * (1.0 - frac) + tf.cast(tf.equal(j, x0 + 1.0), tf.float32) * frac
    # 3. One or the other, zero outside the m x n block.
    inside = tf.cast(i < m, tf.float32) * tf.cast(j < n, tf.float32)
    return tf.where(m < n, area, linear) * inside


def decode_tf(data):
    """Decode encoded image bytes (JPEG/PNG/BMP/GIF) to a uint8 (H, W, C) tensor (as stored: TF ignores EXIF orientation)."""
    import tensorflow as tf

    return tf.io.decode_image(data, channels=0, expand_animations=False)
