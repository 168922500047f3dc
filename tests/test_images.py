"""crnn_utils.images: preprocessing to (32, 128, 1), its NumPy/TF parity, decoding errors and fit_size."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from word_files import HEIC, mjsynth_tree, png_header_only, word_image, write_images, write_jpeg

from crnn_utils.charset import Charset
from crnn_utils.datasets import prepare_split, read_folder, read_mjsynth
from crnn_utils.images import (
    EMPTY_FILE,
    IMG_HEIGHT,
    IMG_WIDTH,
    MAX_STRETCH,
    MISSING_FILE,
    NOT_PERMITTED,
    TOO_LARGE,
    TRUNCATED,
    UNREADABLE,
    ImageError,
    fit_size,
    image_size,
    ink_channel,
    load_image,
    preprocess,
    preprocess_tf,
    decode_tf,
    text_box,
    to_gray,
)


def blurred(rng, h, w, ch, sigma=1.5):
    """A random uint8 image smoothed so that resizing is not dominated by pixel noise."""
    img = rng.integers(0, 256, (h, w, ch)).astype(np.float32)
    img = cv2.GaussianBlur(img, (0, 0), sigma).reshape(h, w, ch)
    img = np.clip(img, 0, 255).astype(np.uint8)
    return img[..., 0] if ch == 1 else img


def encode(img, ext):
    """RGB(A)/gray uint8 -> encoded bytes via OpenCV (which wants BGR(A))."""
    if img.ndim == 3 and img.shape[2] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    elif img.ndim == 3 and img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_RGBA2BGRA)
    ok, data = cv2.imencode(ext, img)
    assert ok
    return data.tobytes()


def check_output(out):
    assert out.shape == (IMG_HEIGHT, IMG_WIDTH, 1) == (32, 128, 1)
    assert out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0


# ---- preprocess --------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(40, 90), (40, 90, 1), (40, 90, 3), (40, 90, 4), (5, 3), (300, 20, 3), (20, 900, 3)])
def test_preprocess_shape_dtype_range(shape):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, shape).astype(np.uint8)
    check_output(preprocess(img))


def test_preprocess_gray_channel_axis_is_optional():
    img = blurred(np.random.default_rng(1), 40, 90, 1)
    np.testing.assert_array_equal(preprocess(img), preprocess(img[..., None]))


def test_preprocess_rgb_uses_bt601_weights():
    img = np.zeros((32, 128, 3), np.uint8)
    img[..., 0], img[..., 1], img[..., 2] = 200, 100, 50
    expected = (0.299 * 200 + 0.587 * 100 + 0.114 * 50) / 255
    np.testing.assert_allclose(preprocess(img), expected, atol=1e-5)


def test_preprocess_rgba_fully_transparent_is_white():
    img = np.random.default_rng(2).integers(0, 256, (40, 70, 4)).astype(np.uint8)
    img[..., 3] = 0
    out = preprocess(img)
    check_output(out)
    np.testing.assert_allclose(out, 1.0, atol=1e-6)


def test_preprocess_rgba_opaque_equals_rgb():
    img = blurred(np.random.default_rng(3), 40, 70, 4)
    img[..., 3] = 255
    np.testing.assert_allclose(preprocess(img), preprocess(img[..., :3]), atol=1e-6)


def test_preprocess_rgba_half_alpha_composites_over_white():
    img = np.zeros((32, 128, 4), np.uint8)
    img[..., 3] = 51  # 20 % opaque black over white -> 80 % white
    np.testing.assert_allclose(preprocess(img), 0.8, atol=1e-5)


def test_preprocess_16bit_array_in_unit_range():
    rng = np.random.default_rng(4)
    img16 = rng.integers(0, 65536, (40, 90, 3)).astype(np.uint16)
    out = preprocess(img16)
    check_output(out)
    # Same picture as its 8-bit version, up to the 8-bit rounding.
    img8 = (img16.astype(np.float64) / 65535 * 255).round().astype(np.uint8)
    assert np.abs(out - preprocess(img8)).max() < 1 / 255
    # Full-scale white 16-bit is 1.0.
    np.testing.assert_allclose(preprocess(np.full((32, 50), 65535, np.uint16)), 1.0, atol=1e-6)


def test_preprocess_16bit_png_file(tmp_path):
    rng = np.random.default_rng(5)
    img16 = rng.integers(0, 65536, (40, 90, 3)).astype(np.uint16)
    path = tmp_path / "x16.png"
    assert cv2.imwrite(str(path), img16)
    loaded = load_image(path)
    assert loaded.dtype == np.uint8 and loaded.shape == (40, 90, 3)
    check_output(preprocess(loaded))


def test_preprocess_keeps_aspect_and_pads_with_border_median():
    rng = np.random.default_rng(6)
    img = rng.integers(0, 256, (32, 64)).astype(np.uint8)
    img[0, :] = img[-1, :] = img[:, 0] = img[:, -1] = 200  # border all 200 -> median 200
    img[0, :5] = 10  # a few outliers do not move the median
    out = preprocess(img, max_stretch=1.0)[..., 0]
    np.testing.assert_allclose(out[:, :64], img / 255.0, atol=1e-6)  # no resize: 32 high already
    np.testing.assert_allclose(out[:, 64:], 200 / 255.0, atol=1e-6)


def test_preprocess_upscales_small_image_to_height_keeping_aspect():
    img = np.zeros((16, 20), np.uint8)  # -> 32 x 40
    img[:, :] = 255
    img[4:12, 4:16] = 0
    out = preprocess(img, max_stretch=1.0)[..., 0]
    # Content occupies 40 columns; the padding (border median = white) starts right after.
    assert out[:, :40].min() < 0.1
    np.testing.assert_allclose(out[:, 40:], 1.0, atol=1e-6)


@pytest.mark.parametrize("w, filled", [(20, 40), (40, 80), (64, 128), (100, 128)])
def test_preprocess_widens_short_words_up_to_max_stretch(w, filled):
    img = np.full((32, w), 255, np.uint8)
    img[8:24, :] = 0  # ink across the whole word
    out = preprocess(img)[..., 0]  # MAX_STRETCH = 2: 20 px -> 40, 40 -> 80, 64 -> 128; 100 -> 128, not 200
    assert MAX_STRETCH == 2.0
    assert out[8:24, :filled].max() < 0.05  # the ink fills the widened columns
    np.testing.assert_allclose(out[:, filled:], 1.0, atol=1e-6)  # padded with the white border after them


def test_preprocess_squeezes_wide_image_never_drops():
    img = np.full((32, 400), 255, np.uint8)
    img[:, -20:] = 0  # a dark bar at the far right end of the word
    img[:, :20] = 0   # and at the left end
    out = preprocess(img)[..., 0]
    check_output(out[..., None])
    expected = cv2.resize(img.astype(np.float32), (128, 32), interpolation=cv2.INTER_AREA) / 255
    np.testing.assert_allclose(out, expected, atol=1e-5)
    assert out[:, -3:].max() < 0.05  # the right end is still there, in the last columns
    assert out[:, :3].max() < 0.05
    assert out[:, 60:68].min() > 0.95


@pytest.mark.parametrize("shape", [(32, 400), (17, 400, 3), (45, 333, 4), (7, 90)])
def test_white_stays_within_unit_range_after_resizing(shape):
    img = np.full(shape, 255, np.uint8)
    out = preprocess(img)
    assert out.dtype == np.float32
    assert out.max() <= 1.0 and out.min() >= 1.0 - 1e-6


def test_preprocess_tf_white_within_unit_range():
    tf = pytest.importorskip("tensorflow")
    for shape in [(32, 400, 1), (17, 400, 3), (45, 333, 4)]:
        out = preprocess_tf(tf.constant(np.full(shape, 255, np.uint8))).numpy()
        assert out.max() <= 1.0 and out.min() >= 1.0 - 1e-6


def test_preprocess_other_target_size():
    out = preprocess(np.zeros((10, 10), np.uint8), height=32, width=256)
    assert out.shape == (32, 256, 1)


# ---- fit_size ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "h, w, expected",
    [
        (32, 64, (32, 64)),
        (16, 64, (32, 128)),
        (64, 64, (32, 32)),
        (32, 300, (32, 128)),
        (10, 10000, (32, 128)),
        (1000, 1, (32, 1)),
        (3, 5, (32, 53)),
        (64, 50, (32, 25)),
    ],
)
def test_fit_size(h, w, expected):
    assert fit_size(h, w, max_stretch=1.0) == expected


@pytest.mark.parametrize("h, w, stretch, expected", [
    (32, 40, 2.0, (32, 80)), (32, 64, 2.0, (32, 128)), (32, 100, 2.0, (32, 128)), (32, 300, 2.0, (32, 128)),
    (64, 50, 3.0, (32, 75)), (16, 10, 1.5, (32, 30)),
])
def test_fit_size_stretch(h, w, stretch, expected):
    assert fit_size(h, w, max_stretch=stretch) == expected


def test_fit_size_custom_target():
    assert fit_size(32, 200, height=32, width=256, max_stretch=1.0) == (32, 200)
    assert fit_size(48, 300, height=48, width=128) == (48, 128)


# ---- NumPy vs TF parity ------------------------------------------------------------------------

PARITY_CASES = [
    # (h, w, channels): tiny, tall, wide, exact fits, off-by-one, RGBA and gray
    (1, 1, 3), (2, 3, 1), (5, 7, 4), (10, 40, 3), (16, 16, 1), (32, 64, 3), (32, 128, 4),
    (31, 127, 3), (33, 129, 1), (32, 300, 3), (50, 400, 4), (7, 500, 3), (13, 211, 1),
    (64, 20, 3), (100, 30, 4), (200, 50, 1), (300, 7, 3), (48, 97, 4), (40, 90, 3), (24, 180, 1),
]


@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow")


@pytest.mark.parametrize("stretch", [1.0, 2.0, 3.5])
@pytest.mark.parametrize("h, w, ch", PARITY_CASES)
def test_preprocess_tf_matches_numpy_on_arrays(tf, h, w, ch, stretch):
    img = blurred(np.random.default_rng(h * 1000 + w), h, w, ch)
    tf_in = img[..., None] if img.ndim == 2 else img
    a = preprocess(img, max_stretch=stretch)
    b = preprocess_tf(tf.constant(tf_in), max_stretch=stretch).numpy()
    assert b.shape == (32, 128, 1) and b.dtype == np.float32
    assert np.abs(a - b).max() < 1e-5


def both_paths_from_file(tf, tmp_path, img, ext):
    """The same encoded file through the NumPy path (load_image + preprocess) and the TF path (decode_tf + preprocess_tf)."""
    data = encode(img, ext)
    path = tmp_path / f"img{ext}"
    path.write_bytes(data)
    return preprocess(load_image(path)), preprocess_tf(decode_tf(data)).numpy()


@pytest.mark.parametrize("h, w, ch", PARITY_CASES)
def test_preprocess_tf_matches_numpy_from_png(tf, tmp_path, h, w, ch):
    a, b = both_paths_from_file(tf, tmp_path, blurred(np.random.default_rng(7 + h * 1000 + w), h, w, ch), ".png")
    # PNG is lossless: both decoders give the same pixels, so the pipelines must agree to float rounding.
    assert np.abs(a - b).max() < 1e-5


@pytest.mark.parametrize("h, w, ch", [c for c in PARITY_CASES if c[2] != 4])
def test_preprocess_tf_close_to_numpy_from_jpeg(tf, tmp_path, h, w, ch):
    a, b = both_paths_from_file(tf, tmp_path, blurred(np.random.default_rng(11 + h * 1000 + w), h, w, ch), ".jpg")
    # JPEG decoding is not bit-exact across decoders: OpenCV's libjpeg and TF's libjpeg-turbo build may use a
    # different inverse DCT (accurate vs fast integer) and chroma upsampling, so decoded pixels differ by a few
    # grey levels. The preprocessing itself is identical (see the PNG test), so only a small mean gap is allowed.
    assert np.abs(a - b).mean() < 0.01


def test_decode_tf_channels(tf):
    rgba = blurred(np.random.default_rng(8), 10, 20, 4)
    gray = blurred(np.random.default_rng(9), 10, 20, 1)
    assert tuple(decode_tf(encode(rgba, ".png")).shape) == (10, 20, 4)
    assert tuple(decode_tf(encode(gray, ".png")).shape) == (10, 20, 1)


def test_preprocess_tf_transparent_is_white(tf):
    img = np.zeros((20, 30, 4), np.uint8)
    out = preprocess_tf(tf.constant(img)).numpy()
    np.testing.assert_allclose(out, 1.0, atol=1e-6)


# ---- load_image --------------------------------------------------------------------------------

def test_load_image_rgb_order_and_alpha(tmp_path):
    img = np.zeros((4, 5, 4), np.uint8)
    img[..., 0], img[..., 1], img[..., 2], img[..., 3] = 10, 20, 30, 40
    path = tmp_path / "a.png"
    path.write_bytes(encode(img, ".png"))
    out = load_image(path)
    assert out.shape == (4, 5, 4) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, img)
    path3 = tmp_path / "b.png"
    path3.write_bytes(encode(img[..., :3].copy(), ".png"))
    np.testing.assert_array_equal(load_image(path3), img[..., :3])


def test_load_image_missing_file(tmp_path):
    with pytest.raises(ImageError) as e:
        load_image(tmp_path / "nope.png")
    assert e.value.reason == MISSING_FILE == "missing_file"


def test_load_image_name_too_long_is_missing_file(tmp_path):
    # The file system refuses names over 255 bytes with an OSError: the Recognizer must get a countable reason.
    with pytest.raises(ImageError) as e:
        load_image(tmp_path / ("x" * 300 + ".png"))
    assert e.value.reason == MISSING_FILE


def test_load_image_directory_is_missing_file(tmp_path):
    with pytest.raises(ImageError) as e:
        load_image(tmp_path)
    assert e.value.reason == MISSING_FILE


def test_load_image_empty_file(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(ImageError) as e:
        load_image(path)
    assert e.value.reason == EMPTY_FILE == "empty_file"
    assert isinstance(e.value, ValueError)


@pytest.mark.parametrize("data", [b"this is not an image\n", bytes(range(256)) * 4, b"\x89PNG\r\n\x1a\n" + b"\0" * 40])
def test_load_image_unreadable(tmp_path, data):
    path = tmp_path / "bad.png"
    path.write_bytes(data)
    with pytest.raises(ImageError) as e:
        load_image(path)
    assert e.value.reason == UNREADABLE == "unreadable_image"
    assert str(path) in str(e.value)


def test_load_image_truncated_jpeg(tmp_path):
    data = encode(blurred(np.random.default_rng(10), 40, 60, 3), ".jpg")
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError) as e:
        load_image(path)
    assert e.value.reason == TRUNCATED


def test_load_image_too_large(tmp_path):
    path = tmp_path / "big.png"
    path.write_bytes(encode(np.zeros((20, 30), np.uint8), ".png"))
    with pytest.raises(ImageError) as e:
        load_image(path, max_pixels=599)
    assert e.value.reason == TOO_LARGE
    assert load_image(path, max_pixels=600).shape == (20, 30)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_load_image_turns_exif_orientation_upright(tmp_path, orientation):
    # A phone stores the sensor's pixels and an EXIF orientation tag; viewers (and Pillow's exif_transpose) show the
    # image turned by it. load_image must give the model what the user sees, and image_size that size.
    from PIL import Image, ImageOps

    stored = np.random.default_rng(orientation).integers(0, 256, (20, 50, 3), dtype=np.uint8)
    im = Image.fromarray(stored)
    exif = im.getexif()
    exif[0x0112] = orientation
    path = tmp_path / "photo.png"  # lossless, so the pixels can be compared exactly
    im.save(path, exif=exif)
    with Image.open(path) as shown:
        expected = np.asarray(ImageOps.exif_transpose(shown).convert("RGB"))
    got = load_image(path)
    assert got.shape == expected.shape
    assert np.array_equal(got, expected)
    assert image_size(path) == (expected.shape[1], expected.shape[0])


@pytest.mark.parametrize("orientation, stored_from_upright", [
    (3, lambda a: a[::-1, ::-1]), (6, lambda a: np.rot90(a, 1)), (8, lambda a: np.rot90(a, -1))])
def test_load_image_tiff_orientation_turned_once(tmp_path, orientation, stored_from_upright):
    # libtiff (inside OpenCV and Pillow) already shows a TIFF upright by its Orientation tag; turning it again by the
    # tag, as for a JPEG, put scanned words on their side.
    from PIL import Image

    upright = np.full((24, 80, 3), 255, np.uint8)
    upright[:, :40] = 0  # left half black, as the user sees it
    path = tmp_path / "scan.tif"
    Image.fromarray(np.ascontiguousarray(stored_from_upright(upright))).save(path, tiffinfo={0x0112: orientation})
    np.testing.assert_array_equal(load_image(path), upright)
    assert image_size(path) == (80, 24)


def word_alpha(h=24, w=70):
    """An alpha mask (uint8) with a word drawn in it."""
    img = np.zeros((h, w), np.uint8)
    cv2.putText(img, "Hello", (3, h - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 255, 2)
    return img


def test_white_text_on_transparent_is_put_on_black():
    # Overlay renderers draw light text whose shape is only in the alpha channel: over white nothing would be left.
    alpha = word_alpha()
    white = np.dstack([np.full(alpha.shape + (3,), 255, np.uint8), alpha])
    gray = to_gray(white)
    assert gray.max() - gray.min() > 200
    np.testing.assert_allclose(gray, alpha.astype(np.float32), atol=1e-3)  # white letters on black
    # Dark text on transparent, and a photo with a transparent corner, still go over white.
    dark = np.dstack([np.zeros(alpha.shape + (3,), np.uint8), alpha])
    np.testing.assert_allclose(to_gray(dark), 255.0 - alpha, atol=1e-3)
    photo = np.dstack([np.full(alpha.shape + (3,), 230, np.uint8), np.full(alpha.shape, 255, np.uint8)])
    photo[..., 0][alpha > 0] = 20
    photo[:4, :4, 3] = 0
    assert to_gray(photo)[:4, :4].min() > 254


def test_grey_alpha_array_and_tf_parity(tf):
    alpha = word_alpha()
    for img in (np.dstack([np.zeros_like(alpha), alpha]), np.dstack([np.full_like(alpha, 255), alpha]),
                np.dstack([np.full(alpha.shape + (3,), 255, np.uint8), alpha])):
        a = preprocess(img)
        assert a.max() - a.min() > 0.7  # the word is visible
        assert np.abs(a - preprocess_tf(tf.constant(img)).numpy()).max() < 1e-5


def test_load_image_grey_alpha_tiff_keeps_alpha(tmp_path):
    # OpenCV returns only the grey channel of a grey+alpha TIFF: black text on black, nothing to read.
    from PIL import Image

    alpha = word_alpha()
    Image.fromarray(np.dstack([np.zeros_like(alpha), alpha]), "LA").save(tmp_path / "w.tif")
    Image.fromarray(np.dstack([np.zeros_like(alpha), alpha]), "LA").save(tmp_path / "w.png")
    tif, png = preprocess(load_image(tmp_path / "w.tif")), preprocess(load_image(tmp_path / "w.png"))
    assert tif.max() - tif.min() > 0.7
    np.testing.assert_allclose(tif, png, atol=1e-5)


def test_load_image_permission_denied_is_an_image_error(tmp_path, monkeypatch):
    # Root reads mode-000 files anyway, so the refusal is simulated where load_image reads the bytes.
    path = tmp_path / "locked.png"
    path.write_bytes(encode(np.zeros((8, 8), np.uint8), ".png"))

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(np, "fromfile", refuse)
    with pytest.raises(ImageError) as e:
        load_image(path)
    assert e.value.reason == NOT_PERMITTED


@pytest.mark.parametrize("name, ext", [("w.jfif", ".jpg"), ("w.jpe", ".jpg"), ("w.pgm", ".pgm"), ("w.ppm", ".ppm")])
def test_load_image_other_extensions(tmp_path, name, ext):
    img = blurred(np.random.default_rng(5), 20, 30, 3 if ext == ".ppm" else 1)
    (tmp_path / name).write_bytes(encode(img, ext))
    assert load_image(tmp_path / name).shape[:2] == (20, 30)


def test_load_image_upright_jpeg_from_a_phone(tmp_path):
    # The common case: a portrait phone JPEG stored sideways with orientation 6.
    from PIL import Image

    upright = np.zeros((24, 80, 3), np.uint8)
    upright[:, :40] = 255  # left half white
    im = Image.fromarray(np.ascontiguousarray(np.rot90(upright, 1)))  # stored turned a quarter counter-clockwise
    exif = im.getexif()
    exif[0x0112] = 6
    im.save(tmp_path / "p.jpg", exif=exif, quality=95)
    got = load_image(tmp_path / "p.jpg")
    assert got.shape == (24, 80, 3)
    assert got[:, :30].mean() > 200 and got[:, 50:].mean() < 50


def test_8bit_values_in_a_16bit_file_or_array_read_as_8bit(tmp_path):
    # Some converters write 8-bit pixels into a 16-bit PNG or TIFF; scaled by 65535 they loaded nearly black.
    rng = np.random.default_rng(7)
    img8 = rng.integers(0, 256, (40, 90)).astype(np.uint8)
    img8[:, :10] = 255
    for suffix in (".png", ".tif"):
        path = tmp_path / f"x16{suffix}"
        assert cv2.imwrite(str(path), img8.astype(np.uint16))
        np.testing.assert_array_equal(load_image(path), img8)
    np.testing.assert_allclose(preprocess(img8.astype(np.uint16)), preprocess(img8), atol=1e-6)
    # One value above 255 makes it a true 16-bit image again, scaled by 65535.
    wide = img8.astype(np.uint16)
    wide[0, 0] = 65535
    assert cv2.imwrite(str(tmp_path / "wide.png"), wide)
    loaded = load_image(tmp_path / "wide.png")
    assert loaded[0, 0] == 255 and loaded[1, 10] == 1  # 255 of 65535 is 1 of 255


def test_captured_stderr_nests_and_keeps_each_blocks_text(capfd) -> None:
    import os

    from crnn_utils import captured_stderr, quiet_stderr

    with captured_stderr() as outer:
        os.write(2, b"a\n")
        with captured_stderr() as inner:  # load_image inside a caller's block does this
            os.write(2, b"b\n")
        os.write(2, b"c\n")
    assert outer == ["a\nc\n"] and inner == ["b\n"]
    with quiet_stderr():
        os.write(2, b"dropped\n")
    assert capfd.readouterr().err == ""


# ---- word image files: the reasons a file is refused, and the formats OpenCV does not decode ----------------------

def test_load_image_reasons(tmp_path: Path) -> None:
    data = write_jpeg(tmp_path / "ok.jpg", "fine")
    (tmp_path / "padded.jpg").write_bytes(data + b"\0" * 10)
    (tmp_path / "cut.jpg").write_bytes(data[:-2])  # only the end marker missing
    (tmp_path / "huge.png").write_bytes(png_header_only(20_000, 20_000))  # Pillow refuses it already at open
    (tmp_path / "png.jpg").write_bytes(cv2.imencode(".png", word_image("png"))[1].tobytes())  # misnamed, fine
    # Bytes after the end marker (a phone's motion-photo video) are not a cut image; a cut mid-scan is.
    (tmp_path / "trailer.jpg").write_bytes(data + b"ftypmp42" + bytes(range(256)) * 40)
    (tmp_path / "midscan.jpg").write_bytes(data[: len(data) // 2])
    (tmp_path / "float.tif").write_bytes(cv2.imencode(".tiff", word_image("f").astype(np.float32) / 255)[1].tobytes())
    assert load_image(tmp_path / "padded.jpg").shape == load_image(tmp_path / "ok.jpg").shape
    assert load_image(tmp_path / "png.jpg").ndim == 2
    np.testing.assert_array_equal(load_image(tmp_path / "trailer.jpg"), load_image(tmp_path / "ok.jpg"))
    np.testing.assert_allclose(load_image(tmp_path / "float.tif"), word_image("f"), atol=1)  # 0..1 floats, scaled
    for name, reason in [("cut.jpg", "truncated_image"), ("midscan.jpg", "truncated_image"), ("huge.png", "too_large"),
                         ("gone.jpg", "missing_file")]:
        with pytest.raises(ImageError) as err:
            load_image(tmp_path / name)
        assert err.value.reason == reason


def test_a_file_too_big_for_a_word_image_is_refused_before_reading(tmp_path: Path, monkeypatch) -> None:
    from crnn_utils import images

    data = write_jpeg(tmp_path / "big.jpg", "big")
    monkeypatch.setattr(images, "MAX_FILE_BYTES", len(data) - 1)
    with pytest.raises(ImageError, match="too_large"):
        load_image(tmp_path / "big.jpg")


def test_a_damaged_jpeg_is_not_trained_on_and_prints_nothing(tmp_path: Path, capfd) -> None:
    # Bytes changed inside the scan: OpenCV decodes it (garbled), and libjpeg prints "Corrupt JPEG data" on fd 2.
    good = write_jpeg(tmp_path / "1/1/1_Hello_1.jpg", "Hello")
    bad = bytearray(good)
    bad[-40:-2] = bytes(38)
    (tmp_path / "1/1/2_Hello_2.jpg").write_bytes(bytes(bad))
    mjsynth_tree(tmp_path, ["./1/1/1_Hello_1.jpg 1", "./1/1/2_Hello_2.jpg 2"], [])
    capfd.readouterr()
    stats = prepare_split(read_mjsynth(tmp_path, "train"), Charset.seed(), tmp_path / "out", "train", progress=False,
                          root=tmp_path)
    assert stats.used == 1 and dict(stats.skipped) == {"damaged_image": 1}
    assert stats.examples["damaged_image"] == ["1/1/2_Hello_2.jpg"]
    assert load_image(tmp_path / "1/1/2_Hello_2.jpg").shape[:2] == load_image(tmp_path / "1/1/1_Hello_1.jpg").shape[:2]
    assert capfd.readouterr().err == ""  # inference reads it as decoded, and quietly
    with pytest.raises(ImageError, match="damaged_image.*Corrupt JPEG"):
        load_image(tmp_path / "1/1/2_Hello_2.jpg", strict=True)


def test_a_damaged_avif_under_heifs_generic_brand_is_unreadable_not_heic(tmp_path: Path) -> None:
    # AVIF files may name HEIF's generic brand first (mif1) and "avif" among their compatible brands: OpenCV decodes
    # AVIF here, so a damaged one is unreadable_image, while the same brand with only HEIC brands stays HEIC.
    (tmp_path / "a.avif").write_bytes(b"\0\0\0\x1cftypmif1\0\0\0\0mif1avifmiaf" + bytes(200))
    (tmp_path / "b.heic").write_bytes(b"\0\0\0\x18ftypmif1\0\0\0\0mif1heic" + bytes(200))
    with pytest.raises(ImageError) as err:
        load_image(tmp_path / "a.avif")
    assert err.value.reason == "unreadable_image"
    with pytest.raises(ImageError, match="HEIC/HEIF") as err:
        load_image(tmp_path / "b.heic")
    assert err.value.reason == "unsupported_format"


def test_formats_opencv_does_not_decode_are_counted_as_such(tmp_path: Path) -> None:
    from crnn_utils.recognizer import list_images

    write_images(tmp_path, ["Hello.png"])
    (tmp_path / "World.heic").write_bytes(HEIC)
    (tmp_path / "Photo.jpg").write_bytes(HEIC)  # a phone's HEIC saved under .jpg
    (tmp_path / "Shop.jxl").write_bytes(b"\xff\x0a" + bytes(100))
    (tmp_path / "Damaged.jpg").write_bytes(b"\xff\xd8" + bytes(100) + b"\xff\xd9")  # a JPEG OpenCV could read, damaged
    for name, kind in [("World.heic", "HEIC/HEIF"), ("Photo.jpg", "HEIC/HEIF"), ("Shop.jxl", "JPEG XL")]:
        with pytest.raises(ImageError, match=f"{kind}.*convert it to PNG or JPEG") as err:
            load_image(tmp_path / name)
        assert err.value.reason == "unsupported_format"
    records = read_folder(tmp_path)
    assert sorted(r.label for r in records) == ["Damaged", "Hello", "Photo", "Shop", "World"]
    stats = prepare_split(records, Charset.seed(), tmp_path / "out", "train", progress=False)
    assert stats.used == 1 and stats.skipped == {"unsupported_format": 3, "unreadable_image": 1}
    assert [p.name for p in list_images(tmp_path)] == ["Damaged.jpg", "Hello.png", "Photo.jpg", "Shop.jxl", "World.heic"]


def iso_luminant_word(h: int = 40, w: int = 120) -> np.ndarray:
    """Red ink on a green background of the same luminance (BT.601): a word that grey does not show."""
    img = np.zeros((h, w, 3), np.uint8)
    img[...] = (0, 100, 0)  # luminance 58.7
    cv2.putText(img, "ab", (4, h - 8), cv2.FONT_HERSHEY_SIMPLEX, h / 40, (196, 0, 0), 3)  # luminance 58.6
    return img


def test_ink_channel_shows_ink_that_grey_loses() -> None:
    img = iso_luminant_word()
    assert np.ptp(to_gray(img)) < 1.0  # grey: nothing to read
    np.testing.assert_array_equal(ink_channel(img), img[..., 0].astype(np.float32))  # red: the word
    opaque = np.dstack([img, np.full(img.shape[:2], 255, np.uint8)])
    np.testing.assert_array_equal(ink_channel(opaque), img[..., 0].astype(np.float32))
    # The other colour channel of a two-colour word serves as well when it separates more: swap ink and background.
    swapped = img[..., [1, 0, 2]]
    np.testing.assert_array_equal(ink_channel(swapped), swapped[..., 1].astype(np.float32))


def test_ink_channel_is_none_where_grey_shows_the_ink_as_well() -> None:
    black_on_white = np.full((32, 90, 3), 255, np.uint8)
    cv2.putText(black_on_white, "ab", (4, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 0), 2)
    assert ink_channel(black_on_white) is None  # every channel is the grey image
    assert ink_channel(black_on_white[..., 0]) is None  # grey in
    assert ink_channel(black_on_white[..., :1]) is None
    see_through = np.dstack([iso_luminant_word(), np.full((40, 120), 128, np.uint8)])
    assert ink_channel(see_through) is None  # transparency draws the word: to_gray's rules, not a colour channel


def test_text_box_cuts_the_word_out_of_a_loose_crop() -> None:
    tight = np.full((40, 120), 255, np.uint8)
    cv2.putText(tight, "Word", (4, 30), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
    loose = cv2.copyMakeBorder(tight, 60, 60, 80, 80, cv2.BORDER_CONSTANT, value=255)
    top, bottom, left, right = text_box(loose)
    ys, xs = np.nonzero(loose < 128)
    assert top <= ys.min() and bottom > ys.max() and left <= xs.min() and right > xs.max()  # all of the word
    assert bottom - top < 0.4 * loose.shape[0] and right - left < 0.5 * loose.shape[1]    # and little else
    big = cv2.resize(loose, None, fx=5, fy=5, interpolation=cv2.INTER_CUBIC)             # a phone photo's size
    assert np.allclose(text_box(big), np.array([top, bottom, left, right]) * 5, atol=12)
    colour = np.dstack([loose, loose // 2, loose])                                      # colour in, the same box
    assert text_box(colour) == (top, bottom, left, right)


def test_text_box_leaves_a_word_that_fills_the_image_and_a_flat_image() -> None:
    tight = np.full((32, 120), 255, np.uint8)
    cv2.putText(tight, "WORD", (2, 28), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
    assert text_box(tight) is None
    assert text_box(np.full((100, 300), 128, np.uint8)) is None
    assert text_box(np.zeros((1, 1), np.uint8)) is None
