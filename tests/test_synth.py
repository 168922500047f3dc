"""crnn_utils.synth: fonts, lexicon, deterministic rendering and the MJSynth-layout writer."""
from __future__ import annotations

import string
from pathlib import Path

import numpy as np
import pytest

from crnn_utils.charset import Charset
from crnn_utils.datasets import read_mjsynth
from crnn_utils.images import load_image
from crnn_utils.synth import (SynthConfig, SyntheticWords, _crop_to_ink, _shifted, _unpack_packaged_fonts,
                              available_fonts, font_counts, lexicon, write_mjsynth_layout)

ALNUM = set(string.ascii_letters + string.digits)


@pytest.fixture(scope="module")
def gen():
    return SyntheticWords(seed=0)


def test_available_fonts():
    fonts = available_fonts()
    assert len(fonts) >= 50  # 22 families from matplotlib, font-* and pymupdf-fonts; 36 from fontpkg-* (Google Fonts)
    assert {"DejaVuSans", "FiraGO", "Ubuntu", "Aileron", "Oswald", "Anton", "LibreBaskerville", "RobotoSlab"} <= set(fonts)
    assert any("matplotlib" in p and p.endswith("DejaVuSans.ttf") for p in fonts["DejaVuSans"])
    for family, faces in fonts.items():
        assert faces, family
        for face in faces:
            path = face.partition("#")[0]
            assert Path(path).is_file() and path.lower().endswith((".ttf", ".otf")), face
    assert not {"BebasNeue", "Bungee"} & set(fonts)  # caps-only faces: their lower-case labels would lie
    counts = font_counts()   # what dataset.json records of the generator
    assert counts == {"families": len(fonts), "faces": sum(map(len, fonts.values()))} and counts["faces"] > counts["families"]


def test_variable_fonts_give_their_named_weights_but_not_hairlines():
    from crnn_utils.synth import _font

    oswald = available_fonts()["Oswald"]
    weights = {face.partition("#")[2] for face in oswald}
    assert {"Light", "Regular", "Bold"} <= weights and "ExtraLight" not in weights
    ink = {w: float(np.asarray(_font(next(f for f in oswald if f.endswith("#" + w)), 40).getmask("Hamburg")).sum())
           for w in ("Light", "Bold")}
    assert ink["Bold"] > 1.5 * ink["Light"]  # the instance is really drawn, not the default weight


def test_a_face_drawing_capitals_for_lower_case_is_recognised(tmp_path):
    from fontTools.ttLib import TTFont

    from crnn_utils.synth import _draws_caps_only

    plain = next(p for p in available_fonts()["DejaVuSans"] if p.endswith("DejaVuSans.ttf"))
    font = TTFont(plain)
    for table in font["cmap"].tables:
        if table.isUnicode():
            for c in string.ascii_lowercase:  # every lower-case letter drawn with its capital's glyph
                table.cmap[ord(c)] = table.cmap[ord(c.upper())]
    font.save(tmp_path / "CapsOnly.ttf")
    assert _draws_caps_only(str(tmp_path / "CapsOnly.ttf")) and not _draws_caps_only(plain)


def test_packaged_fonts_are_unpacked_once_into_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = _unpack_packaged_fonts()
    assert folder == tmp_path / "crnn_notebooks" / "fonts"
    stems = {p.stem for p in folder.glob("*.ttf")}
    assert {"Aileron-Regular", "FiraGO-Regular", "NotoSans-Bold", "Ubuntu-Italic", "SpaceMono-Regular"} <= stems
    # each file is a real font that draws the whole charset
    from fontTools.ttLib import TTFont

    for path in folder.glob("*.ttf"):
        cmap = TTFont(path, lazy=True).getBestCmap()
        assert all(ord(c) in cmap for c in ALNUM), path.name
    # a second call rewrites nothing
    mtimes = {p: p.stat().st_mtime_ns for p in folder.glob("*.ttf")}
    _unpack_packaged_fonts()
    assert mtimes == {p: p.stat().st_mtime_ns for p in folder.glob("*.ttf")}
    assert not list(folder.glob("*.tmp"))


def test_lexicon_words_are_alphanumeric():
    words = lexicon()
    assert len(words) == 50_000
    assert all(w and set(w) <= ALNUM for w in words)
    assert "the" in words[:10]
    assert len(set(words)) > 0.9 * len(words)


def test_render_is_deterministic(gen):
    again = SyntheticWords(seed=0)
    for i in (0, 7, 123):
        img1, label1 = gen.render(i)
        img2, label2 = again.render(i)
        assert label1 == label2
        assert img1.shape == img2.shape
        np.testing.assert_array_equal(img1, img2)


def test_render_differs_between_seeds_and_indices(gen):
    other = SyntheticWords(seed=1)
    samples0 = [gen.render(i) for i in range(3)]
    samples1 = [other.render(i) for i in range(3)]
    for (a, _), (b, _) in zip(samples0, samples1):
        assert a.shape != b.shape or not np.array_equal(a, b)
    assert [s[1] for s in samples0] != [s[1] for s in samples1]
    assert samples0[0][1] != samples0[1][1] or not np.array_equal(samples0[0][0], samples0[1][0])


def test_render_image_format(gen):
    for i in range(6):
        img, label = gen.render(i)
        assert img.dtype == np.uint8
        assert img.ndim == 3 and img.shape[2] == 3
        assert img.shape[0] == 32
        assert img.shape[1] >= 4
        assert img.std() > 0  # not a blank canvas


def test_labels_within_seed_charset_and_max_len(gen):
    cs = Charset.seed()
    cfg = SynthConfig()
    labels = [gen.text(np.random.default_rng([0, i])) for i in range(400)]
    assert all(1 <= len(s) <= cfg.max_len for s in labels)
    assert all(all(c in cs for c in s) for s in labels)
    assert all(cs.skip_reason(s) is None for s in labels)
    # The mix holds lexicon words, upper case and digits.
    assert any(s.isupper() for s in labels) and any(c.isdigit() for s in labels for c in s)


def test_crop_to_ink_hugs_the_letters_with_small_margins():
    mask = np.zeros((60, 200), np.float32)
    mask[20:40, 50:150] = 1.0  # 20 px of ink, 40 px of line box above and below
    outline = np.zeros_like(mask)
    outline[18:42, 48:152] = 1.0  # the outline reaches 2 px further
    for seed in range(20):
        m, o = _crop_to_ink(mask, outline, np.random.default_rng(seed))
        rows, cols = np.flatnonzero(o.max(1)), np.flatnonzero(o.max(0))
        top, bottom = rows[0], m.shape[0] - 1 - rows[-1]
        left, right = cols[0], m.shape[1] - 1 - cols[-1]
        assert 0 <= top <= 0.12 * 24 and 0 <= bottom <= 0.12 * 24
        assert int(0.02 * 24) <= left <= 0.3 * 24 and int(0.02 * 24) <= right <= 0.3 * 24
        assert m.shape == o.shape and m.sum() == mask.sum()  # nothing of the text is cut
    blank = np.zeros((10, 10), np.float32)
    assert _crop_to_ink(blank, None, np.random.default_rng(0))[0] is blank


def test_shadow_shift_does_not_wrap_around():
    m = np.zeros((10, 12), np.float32)
    m[8:10, 3:5] = 1.0  # ink touching the bottom edge, as in a tight crop
    down = _shifted(m, 3, 2)
    assert down.sum() == 0.0  # moved out of the image, not back in at the top
    up = _shifted(m, -2, -1)
    assert up[6:8, 2:4].sum() == 4.0 and up.sum() == 4.0
    assert np.array_equal(_shifted(m, 0, 0), m)


def test_tight_crops_fill_more_of_the_height():
    def ink_rows(p_tight):
        gen = SyntheticWords(seed=5, config=SynthConfig(p_tight=p_tight, p_clean=1.0))
        share = []
        for i in range(30):
            gray = gen.render(i)[0].astype(np.float32).mean(-1)
            profile = np.abs(gray - np.median(gray)).max(1)
            share.append(np.mean(profile > 0.5 * profile.max()))
        return np.mean(share)

    assert ink_rows(1.0) > ink_rows(0.0) + 0.1


def test_max_len_config_is_respected():
    short = SyntheticWords(seed=3, config=SynthConfig(max_len=4))
    labels = [short.text(np.random.default_rng([3, i])) for i in range(200)]
    assert max(len(s) for s in labels) <= 4


def test_write_mjsynth_layout(tmp_path):
    counts = {"train": 20, "val": 5, "test": 5}
    out = write_mjsynth_layout(tmp_path, counts, workers=1, progress=False)
    assert Path(out) == tmp_path
    lex = (tmp_path / "lexicon.txt").read_text().splitlines()
    assert lex and len(lex) == len(set(lex)) and all(w == w.lower() for w in lex)
    seen_paths = set()
    for split, n in counts.items():
        lines = (tmp_path / f"annotation_{split}.txt").read_text().splitlines()
        assert len(lines) == n
        records = list(read_mjsynth(tmp_path, split))
        assert len(records) == n
        for line, rec in zip(lines, records):
            rel, idx = line.split()
            assert rel.startswith("./") and rec.path.endswith(rel[2:])
            assert rec.label.lower() == lex[int(idx)]  # MJSynth: the number is a 0-based line of lexicon.txt
            assert rec.label and set(rec.label) <= ALNUM
            assert Path(rec.path).is_file()
            assert load_image(rec.path).shape[0] == 32
            seen_paths.add(rec.path)
    assert len(seen_paths) == sum(counts.values())
    # Indices run train, val, test; the file name's label is the one the generator renders at that index.
    first_train = (tmp_path / "annotation_train.txt").read_text().split()[0]
    first_val = (tmp_path / "annotation_val.txt").read_text().split()[0]
    assert Path(first_train).name.startswith("0_")
    assert Path(first_val).name.startswith("20_")
    assert Path(first_val).name.split("_")[1] == SyntheticWords(seed=0).render(20)[1]


def test_progress_bars_obey_crnn_progress(monkeypatch):
    from crnn_utils.viz import progress_bar

    assert not progress_bar(total=3).disable
    assert progress_bar(total=3, enabled=False).disable
    monkeypatch.setenv("CRNN_PROGRESS", "0")  # what make run sets for its kernels
    assert progress_bar(total=3).disable


@pytest.mark.parametrize("lever", ["p_punctuation", "p_wide_spacing", "p_lines", "p_elastic", "p_bold", "p_glare"])
def test_each_lever_changes_the_images_but_not_the_labels(lever):
    base = SyntheticWords(seed=2, config=SynthConfig(p_clean=0.0, **{lever: 0.0}))
    on = SyntheticWords(seed=2, config=SynthConfig(p_clean=0.0, **{lever: 1.0}))
    changed = 0
    for i in range(6):
        (img0, w0), (img1, w1) = base.render(i), on.render(i)
        assert w0 == w1 and set(w1) <= ALNUM  # drawn punctuation, lines and spacing never enter the label
        changed += img0.shape != img1.shape or not np.array_equal(img0, img1)
    assert changed >= 5


def test_case_mix_sets_the_share_of_upper_case_words():
    def upper_share(mix):
        gen = SyntheticWords(seed=1, config=SynthConfig(case_mix=mix, p_random_string=0.0, p_number=0.0))
        words = [gen.text(np.random.default_rng([1, i])) for i in range(400)]
        return np.mean([w.isupper() and len(w) > 1 for w in words])

    assert upper_share((0.0, 0.0, 1.0)) == 0.0
    assert 0.5 < upper_share((0.6, 0.2, 0.2)) < 0.7


def test_punctuation_is_drawn_around_or_inside_the_word():
    from crnn_utils.synth import _punctuated

    rng = np.random.default_rng(0)
    shown = [_punctuated("Hello", rng) for _ in range(200)]
    assert all(s.replace("'", "").strip("\"'($#,.:;!?)-") == "Hello" for s in shown)
    assert any(s.endswith(",") for s in shown) and any(s.startswith("$") for s in shown) and "Hell'o" in shown
    # A charset with punctuation: its marks are never drawn (the label would leave out a character the model has).
    marks = "\"'($#,.:;!?)-"
    assert all(_punctuated("Hello", rng, string.ascii_letters + marks) == "Hello" for _ in range(50))
    some = [_punctuated("Hello", rng, string.ascii_letters + ",.'") for _ in range(200)]
    assert not any(c in s for s in some for c in ",.'") and any(s != "Hello" for s in some)


def test_a_negative_edge_margin_cuts_into_the_first_and_last_letters():
    mask = np.zeros((60, 200), np.float32)
    mask[20:40, 50:150] = 1.0
    for seed in range(10):
        m, _ = _crop_to_ink(mask, None, np.random.default_rng(seed), edge_margin=(-0.2, -0.1))
        assert m.shape[0] == m[:, :].shape[0] and 100 - 2 * 4 <= m.shape[1] <= 100 - 2 * 2  # 2-4 px cut a side
        assert m[:, 0].max() == 1.0 and m[:, -1].max() == 1.0  # ink right at both edges
    thin = np.zeros((30, 30), np.float32)
    thin[10:20, 14:16] = 1.0  # a word narrower than the cut: kept whole
    assert _crop_to_ink(thin, None, np.random.default_rng(0), edge_margin=(-1.0, -0.9))[0].sum() == thin.sum()


def test_p_short_adds_short_lexicon_words_in_the_case_mix():
    gen = SyntheticWords(0, SynthConfig(p_short=1.0))
    rng = np.random.default_rng(0)
    words = [gen.text(rng) for _ in range(300)]
    assert all(1 <= len(w) <= 3 for w in words)
    assert {w.lower() for w in words} <= set(gen.short_words)
    assert any(w.isupper() for w in words) and any(w.islower() for w in words)
    rng = np.random.default_rng(0)
    off = SyntheticWords(0, SynthConfig(p_short=0.0))
    assert sum(len(off.text(rng)) <= 3 for _ in range(2000)) < 400  # off: about 14 % of words
    rng = np.random.default_rng(0)
    assert 400 < sum(len(SyntheticWords(0).text(rng)) <= 3 for _ in range(2000)) < 600  # the default 0.1: about 23 %
