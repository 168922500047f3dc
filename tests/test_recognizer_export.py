"""Recognizer (files/arrays -> text, bad files reported) and exports (.keras, SavedModel, TFLite) against greedy_decode."""
from __future__ import annotations

import json

import cv2
import keras
import numpy as np
import pytest

from crnn_utils.charset import Charset
from crnn_utils.ctc import greedy_decode
from crnn_utils.export import (
    GreedyDecode,
    decoding_model,
    export_all,
    ids_to_texts,
    run_saved_model,
    run_tflite,
    tflite,
    tflite_outputs,
)
from crnn_utils.model import build_named
from crnn_utils.images import ink_channel
from crnn_utils.recognizer import Recognizer, Result, score_folder

CHARSET = Charset.seed()


@pytest.fixture(scope="module")
def act_model() -> keras.Model:
    """The tiny model with random weights; its logits kernel scaled up so softmax is sharp and confidences non-trivial."""
    keras.utils.set_random_seed(0)
    model = build_named("tiny")
    kernel, bias = model.get_layer("logits").get_weights()
    rng = np.random.default_rng(1)
    model.get_layer("logits").set_weights([rng.normal(0, 20, kernel.shape).astype(np.float32), bias])
    return model


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    rng = np.random.default_rng(2)
    noise = rng.random((6, 32, 128, 1), dtype=np.float32)
    columns = rng.random((6, 1, 128, 1), dtype=np.float32)
    return (0.5 * noise + 0.5 * columns).astype(np.float32)


@pytest.fixture(scope="module")
def exported(act_model, tmp_path_factory):
    return export_all(act_model, tmp_path_factory.mktemp("export"), CHARSET, max_stretch=2.0)


def unpadded(ids: np.ndarray) -> list[list[int]]:
    return [[int(i) for i in row if i >= 0] for row in ids]


def assert_matches_greedy(ids, confidence, probs) -> None:
    """Exported (ids, confidence) equal greedy_decode of the act_model's probabilities: ids exactly, confidence closely."""
    expected = greedy_decode(probs, CHARSET)
    assert ids.dtype == np.int32 and ids.shape == probs.shape[:2]
    assert unpadded(ids) == [d.ids for d in expected]
    for row, d in zip(ids, expected):  # left-aligned, then only -1
        assert (row[len(d.ids):] == -1).all()
    assert min(d.confidence for d in expected) > 1e-30  # non-trivial, so the relative check means something
    np.testing.assert_allclose(confidence, [d.confidence for d in expected], rtol=1e-4, atol=0)


def test_greedy_decode_layer_equals_numpy_decoder() -> None:
    # Sharp random probabilities with many repeats and blanks, plus the all-blank and all-one-char edge cases.
    rng = np.random.default_rng(0)
    steps, classes = 31, CHARSET.num_classes
    paths = rng.choice([0, 1, 5, CHARSET.blank], size=(40, steps), p=[0.3, 0.2, 0.1, 0.4])
    paths[0] = CHARSET.blank
    paths[1] = 3
    probs = np.full((40, steps, classes), 0.1 / (classes - 1), np.float32)
    np.put_along_axis(probs, paths[..., None], rng.uniform(0.5, 1.0, (40, steps, 1)).astype(np.float32), -1)
    out = GreedyDecode(CHARSET.blank)(probs)
    assert_matches_greedy(np.asarray(out["ids"]), np.asarray(out["confidence"]), probs)
    assert unpadded(np.asarray(out["ids"]))[:2] == [[], [3]]


def test_decoding_model_equals_greedy_decode(act_model, images) -> None:
    out = decoding_model(act_model).predict_on_batch(images)
    assert_matches_greedy(out["ids"], out["confidence"], act_model.predict_on_batch(images))


def test_export_all_writes_three_formats(exported, act_model, images) -> None:
    assert {"keras", "saved_model", "tflite", "charset"} <= set(exported)
    assert (exported["saved_model"] / "saved_model.pb").is_file()
    assert exported["charset"].read_text() == CHARSET.chars
    prep = json.loads(exported["preprocessing"].read_text())
    assert prep["max_stretch"] == 2.0 and prep["input"] == [32, 128, 1]
    # model.keras is the decoding model and reloads in safe mode.
    loaded = keras.models.load_model(exported["keras"])
    assert any(isinstance(layer, GreedyDecode) for layer in loaded.layers)
    out = loaded.predict_on_batch(images)
    assert_matches_greedy(out["ids"], out["confidence"], act_model.predict_on_batch(images))


def test_saved_model_matches_keras(exported, act_model, images) -> None:
    ids, confidence = run_saved_model(exported["saved_model"], images)
    assert_matches_greedy(ids, confidence, act_model.predict_on_batch(images))
    assert ids_to_texts(ids, CHARSET) == [d.text for d in greedy_decode(act_model.predict_on_batch(images), CHARSET)]


def test_tflite_matches_keras_builtin_ops_only(exported, act_model, images) -> None:
    assert b"Flex" not in exported["tflite"].read_bytes()  # no SELECT_TF_OPS kernels
    probs = act_model.predict_on_batch(images)
    for batch in (images[:1], images):  # the dynamic batch dimension resizes
        ids, confidence = run_tflite(exported["tflite"], batch)
        assert_matches_greedy(ids, confidence, probs[: len(batch)])


def test_tflite_probabilities_within_1e4(act_model, images, tmp_path) -> None:
    path = tflite(act_model, tmp_path / "probs.tflite")
    probs = tflite_outputs(path, images)["probs"]
    np.testing.assert_allclose(probs, act_model.predict_on_batch(images), atol=1e-4)


@pytest.fixture(scope="module")
def recognizer(act_model) -> Recognizer:
    return Recognizer(act_model, CHARSET, lexicon=["hello", "world", "Qh", "oh"])


def word_image(width: int, height: int, colour: bool, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.full((height, width, 3), 230, np.uint8)
    cv2.putText(img, "hi", (2, height - 4), cv2.FONT_HERSHEY_SIMPLEX, height / 40, (20, 40, 200), 2)
    img = (img * rng.uniform(0.8, 1.0)).astype(np.uint8)
    return img if colour else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def test_folder_with_bad_files_reads_the_rest(recognizer, tmp_path) -> None:
    good = {"a.png": word_image(200, 50, True, 0), "b.jpg": word_image(60, 20, False, 1), "d.png": word_image(400, 40, True, 2)}
    for name, img in good.items():
        cv2.imwrite(str(tmp_path / name), img)
    (tmp_path / "c.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    (tmp_path / "e.png").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not an image")
    results = recognizer.recognize(tmp_path)
    assert [r.source.rsplit("/", 1)[-1] for r in results] == ["a.png", "b.jpg", "c.png", "d.png", "e.png"]
    assert [r.error for r in results] == [None, None, "unreadable_image", None, "empty_file"]
    assert results[2] == Result("", 0.0, "unreadable_image", [], str(tmp_path / "c.png"))
    assert all(0 < r.confidence <= 1 for r in results if r.ok)
    # A missing path is reported too, and the same files as a list give the same texts.
    again = recognizer.recognize([tmp_path / "a.png", tmp_path / "missing.png", tmp_path / "d.png"])
    assert [r.error for r in again] == [None, "missing_file", None]
    assert [again[0].text, again[2].text] == [results[0].text, results[3].text]
    probs = recognizer.probabilities(tmp_path)
    assert probs.shape == (5, 31, CHARSET.num_classes)
    assert np.isnan(probs[2]).all() and np.isfinite(probs[[0, 1, 3]]).all()


def test_a_file_it_may_not_read_is_an_error_result(recognizer, tmp_path, locked_files) -> None:
    # A locked file used to stop the whole batch with a bare PermissionError (root reads mode 000, so it is simulated).
    for name in ("a.png", "b.png"):
        cv2.imwrite(str(tmp_path / name), word_image(120, 32, True, 3))
    locked_files("b.png")
    assert [r.error for r in recognizer.recognize(tmp_path)] == [None, "permission_denied"]


def test_colour_grey_any_size_and_float_inputs(recognizer, act_model) -> None:
    colour = word_image(173, 45, True, 3)
    grey = cv2.cvtColor(colour, cv2.COLOR_RGB2GRAY)
    rgba = np.dstack([colour, np.full(colour.shape[:2], 255, np.uint8)])
    small = word_image(30, 12, True, 4)
    ready = recognizer.preprocess([grey])[0][0]  # (32, 128, 1) float in [0, 1]
    results = recognizer.recognize([colour, grey, rgba, grey[..., None], small, ready], "greedy")
    assert all(r.ok for r in results)
    # Read in grey only, colour and its grey version agree up to the uint8 rounding of cvtColor; RGBA (opaque) and
    # (H, W, 1) exactly.
    p = Recognizer(act_model, CHARSET, colour="luminance").probabilities([colour, grey, rgba, grey[..., None], ready])
    np.testing.assert_allclose(p[0], p[1], atol=0.02)
    np.testing.assert_array_equal(p[0], p[2])
    np.testing.assert_array_equal(p[1], p[3])
    np.testing.assert_allclose(p[1], p[4], atol=1e-5)  # a float [0, 1] model input passes through unchanged
    # Recognizer texts equal greedy_decode on the model run directly.
    assert [results[1].text] == [d.text for d in greedy_decode(act_model.predict_on_batch(ready[None]), CHARSET)]
    # A batch array (N, 32, 128, 1) is N items; an empty or odd-shaped array is an error result, not an exception.
    assert len(recognizer.recognize(np.stack([ready, ready]))) == 2
    bad = recognizer.recognize([np.zeros((0, 5), np.uint8), np.zeros((4, 4, 7), np.uint8), grey])
    assert [r.error for r in bad] == ["unreadable_image", "unreadable_image", None]


def test_colour_auto_keeps_the_more_confident_of_grey_and_the_ink_channel(recognizer, act_model) -> None:
    # Blue ink on red paper of nearly the same luminance: the blue channel separates them, grey hardly does.
    img = np.zeros((40, 150, 3), np.uint8)
    img[...] = (150, 40, 40)
    cv2.putText(img, "hi", (4, 32), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (20, 30, 255), 3)
    channel = ink_channel(img)
    assert channel is not None
    grey_only = Recognizer(act_model, CHARSET, colour="luminance")
    p_grey, p_channel = grey_only.probabilities([img, channel])
    assert np.abs(p_grey - p_channel).max() > 1e-3  # two different readings to choose between
    def path_log_prob(p):
        return np.log(p.max(-1)).sum()
    best = p_channel if path_log_prob(p_channel) > path_log_prob(p_grey) else p_grey
    # Alone and in a batch beside images without an ink channel (read once, as in grey), each keeps its own.
    plain = word_image(120, 32, False, 5)
    p_auto = recognizer.probabilities([plain, img, plain])
    np.testing.assert_allclose(p_auto[1], best, atol=1e-6)
    np.testing.assert_allclose(p_auto[[0, 2]], grey_only.probabilities([plain, plain]), atol=1e-6)
    assert recognizer.recognize([img], "greedy")[0].text == greedy_decode(best, CHARSET)[0].text
    with pytest.raises(ValueError, match="colour must be one of"):
        Recognizer(act_model, CHARSET, colour="rgb")
    with pytest.raises(ValueError, match="colour must be one of"):
        recognizer.colour = "grey"


def test_decoders_and_batch_sizes(recognizer) -> None:
    items = [word_image(100 + 20 * i, 32, i % 2 == 0, i) for i in range(5)]
    greedy = recognizer.recognize(items, decoder="greedy", batch_size=256)
    assert [r.text for r in recognizer.recognize(items, "greedy", batch_size=1)] == [r.text for r in greedy]
    assert [r.text for r in recognizer.recognize(items, "greedy", batch_size=2)] == [r.text for r in greedy]
    beam = recognizer.recognize(items, decoder="beam")
    lex = recognizer.recognize(items, decoder="lexicon")
    assert len(beam) == len(lex) == 5 and all(r.ok for r in beam + lex)
    assert all(b.confidence >= g.confidence - 1e-6 for b, g in zip(beam, greedy))  # a labelling sums its paths
    with pytest.raises(ValueError, match="unknown decoder"):
        recognizer.recognize(items, decoder="viterbi")
    with pytest.raises(ValueError, match="needs a lexicon"):
        Recognizer(recognizer.model, CHARSET).recognize(items, decoder="lexicon")
    assert recognizer.recognize([]) == []


def test_default_decoder_is_beam_search_with_the_prior_for_latin_charsets(recognizer, act_model) -> None:
    items = [word_image(100 + 20 * i, 32, i % 2 == 0, i) for i in range(4)]
    assert recognizer.decoder == "beam_lm"
    assert [r.text for r in recognizer.recognize(items)] == [r.text for r in recognizer.recognize(items, "beam_lm")]
    # A charset the English prior has no symbols for gets plain beam search by default.
    cyrillic = Charset("абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ0123456789"[:62])
    other = Recognizer(act_model, cyrillic)
    assert other.decoder == "beam"
    assert [r.text for r in other.recognize(items)] == [r.text for r in other.recognize(items, "beam")]


def test_charset_must_match_model(act_model) -> None:
    with pytest.raises(ValueError, match="63 classes"):
        Recognizer(act_model, Charset("abc"))


def test_a_training_model_reads_as_its_inference_model(act_model, recognizer, tmp_path) -> None:
    # Notebook 03's checkpoints/last.keras is the logits model it trains: read as if it were best.keras, not with
    # logits taken for probabilities (beam search and confidences would be wrong without a word).
    from crnn_utils.model import logits_model

    items = [word_image(100 + 20 * i, 32, i % 2 == 0, i) for i in range(4)]
    train = logits_model(act_model)
    train.save(tmp_path / "last.keras")
    for model in (train, keras.models.load_model(tmp_path / "last.keras", compile=False)):
        reader = Recognizer(model, CHARSET)
        np.testing.assert_allclose(reader.probabilities(items), recognizer.probabilities(items), atol=1e-5)
        for decoder in ("greedy", "beam"):
            read, want = reader.recognize(items, decoder), recognizer.recognize(items, decoder)
            assert [r.text for r in read] == [r.text for r in want]
            np.testing.assert_allclose([r.confidence for r in read], [r.confidence for r in want], rtol=1e-4)
    # The exported decoding model (text ids out) is no model to read with: said so, not a TypeError.
    with pytest.raises(ValueError, match="per-step class scores"):
        Recognizer(decoding_model(act_model), CHARSET)


def test_from_run_dir(act_model, tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="notebooks/01") as err:
        Recognizer.from_run_dir(tmp_path)
    assert "\n" not in str(err.value)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "dataset.json").write_text(json.dumps({"charset": CHARSET.chars, "image_width": 128}))
    with pytest.raises(FileNotFoundError, match="notebooks/03_ctc_training.ipynb") as err:
        Recognizer.from_run_dir(tmp_path)
    assert "\n" not in str(err.value)
    (tmp_path / "checkpoints").mkdir()
    act_model.save(tmp_path / "checkpoints" / "best.keras")
    # A dataset.json without max_stretch comes from a run that kept the aspect ratio.
    loaded = Recognizer.from_run_dir(tmp_path)
    image = word_image(90, 30, True, 7)
    assert loaded.max_stretch == 1.0
    np.testing.assert_allclose(loaded.probabilities([image]),
                               Recognizer(act_model, CHARSET, max_stretch=1.0).probabilities([image]), atol=1e-6)
    # Otherwise inference widens short words exactly as notebook 01 did for training.
    (tmp_path / "data" / "dataset.json").write_text(json.dumps({"charset": CHARSET.chars, "image_width": 128,
                                                                "max_stretch": 2.0}))
    loaded = Recognizer.from_run_dir(tmp_path)
    assert loaded.max_stretch == 2.0
    np.testing.assert_allclose(loaded.probabilities([image]), Recognizer(act_model, CHARSET).probabilities([image]), atol=1e-6)
    assert np.abs(loaded.probabilities([image]) - Recognizer(act_model, CHARSET, max_stretch=1.0).probabilities([image])).max() > 1e-3


def test_recognize_many_equals_one_decoder_at_a_time(recognizer, tmp_path) -> None:
    items = [word_image(90 + 7 * i, 30, bool(i % 2), i) for i in range(5)]
    (tmp_path / "bad.png").write_bytes(b"not an image")
    items.append(tmp_path / "bad.png")
    many = recognizer.recognize_many(items, ("greedy", "beam", "beam_lm", "lexicon"))
    for decoder, results in many.items():
        single = recognizer.recognize(items, decoder=decoder)
        assert [(r.text, r.error) for r in results] == [(r.text, r.error) for r in single]
        assert results[-1].error == "unreadable_image"
    with pytest.raises(ValueError, match="unknown decoder"):
        recognizer.recognize_many(items, ("greedy", "fancy"))


def test_score_folder_counts_unreadable_as_wrong(recognizer, tmp_path) -> None:
    # Four readable crops of two heights, one broken file, one line naming no label.
    lines = []
    for i, h in enumerate((30, 30, 45, 45)):
        cv2.imwrite(str(tmp_path / f"{i}.png"), word_image(90 + 9 * i, h, bool(i % 2), i))
        lines.append(f"{i}.png\thi")
    (tmp_path / "bad.png").write_bytes(b"not an image")
    lines += ["bad.png\thi", "no-tab-here"]
    (tmp_path / "labels.tsv").write_text("\n".join(lines) + "\n")
    got = score_folder(recognizer, tmp_path, ("greedy", "beam"))
    texts = [r.text for r in recognizer.recognize([tmp_path / f"{i}.png" for i in range(4)], "greedy")]
    assert got["greedy"]["n"] == 5 and got["unreadable"] == 1 and sum(got["skipped"].values()) == 1
    assert got["greedy"]["word_acc"] == pytest.approx(sum(t == "hi" for t in texts) / 5)  # the broken file is wrong
    heights = got["greedy_any_case_by_height"]
    assert {k: v["n"] for k, v in heights.items()} == {"unreadable": 1, "24-31 px": 2, "32-47 px": 2}
    assert list(heights) == ["unreadable", "24-31 px", "32-47 px"] and heights["unreadable"]["word_acc_ci"] == 0.0
    # The words to look at: every wrong one (here fewer than 12), the broken file among them with an empty reading.
    wrong = [(str(tmp_path / f"{i}.png"), t) for i, t in enumerate(texts) if t.lower() != "hi"]
    assert [(m["path"], m["read"]) for m in got["misread"]] == wrong + [(str(tmp_path / "bad.png"), "")]
    assert [m["error"] for m in got["misread"]] == [None] * len(wrong) + ["unreadable_image"]
    # Groups (third_party_words.py's background kinds): named files by their group, the rest as "other".
    grouped = score_folder(recognizer, tmp_path, groups={"0.png": "photo", "1.png": "photo", "2.png": "plain"})
    by_group = grouped["greedy_any_case_by_group"]
    assert {k: v["n"] for k, v in by_group.items()} == {"other": 2, "photo": 2, "plain": 1}
    assert by_group["photo"]["word_acc_ci"] == pytest.approx(sum(t.lower() == "hi" for t in texts[:2]) / 2)
    assert by_group["other"]["word_acc_ci"] == pytest.approx((texts[3].lower() == "hi") / 2)  # bad.png is wrong
    assert "greedy_any_case_by_group" not in got


def test_score_folder_reads_an_lmdb_as_its_folder(recognizer, tmp_path, monkeypatch) -> None:
    # The same crops, once as files with labels.tsv and once packed as the benchmarks' LMDBs: the same figures.
    import lmdb

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    files, crops = tmp_path / "files", [cv2.imencode(".png", word_image(90 + 9 * i, 30 + 5 * i, bool(i % 2), i))[1]
                                        for i in range(4)]
    files.mkdir()
    for i, png in enumerate(crops):
        (files / f"{i}.png").write_bytes(png.tobytes())
    (files / "labels.tsv").write_text("".join(f"{i}.png\t{'hi' if i % 2 else 'Hi'}\n" for i in range(4)))
    env = lmdb.open(str(tmp_path / "IC13_857"), map_size=1 << 24)
    with env.begin(write=True) as txn:
        for i, png in enumerate(crops, start=1):
            txn.put(b"image-%09d" % i, png.tobytes())
            txn.put(b"label-%09d" % i, b"hi" if (i - 1) % 2 else b"Hi")
        txn.put(b"num-samples", b"4")
    env.close()
    packed, plain = score_folder(recognizer, tmp_path / "IC13_857"), score_folder(recognizer, files)
    words = lambda got: [(m["label"], m["read"]) for m in got.pop("misread")]  # the paths differ, not the words
    assert words(packed) == words(plain)
    assert packed == plain and packed["greedy"]["n"] == 4


def test_recognizer_refuses_what_names_or_holds_no_image(recognizer, tmp_path, monkeypatch) -> None:
    # "" is no file, not the current folder; NaN/inf and object arrays are no pixels; a boolean mask is black and white.
    monkeypatch.chdir(tmp_path)
    cv2.imwrite(str(tmp_path / "here.png"), word_image(90, 30, True, 0))
    nan = np.full((30, 90), np.nan, np.float32)
    obj = np.empty((30, 90), object)
    mask = np.zeros((30, 90), bool)
    mask[8:22, 10:80] = True
    assert [r.error for r in recognizer.recognize("")] == ["missing_file"]  # not here.png, read from the current folder
    got = recognizer.recognize(["", nan, obj, mask])
    assert [r.error for r in got] == ["missing_file", "unreadable_image", "unreadable_image", None]
    batch, _, _ = recognizer.preprocess([mask])
    assert float(batch.max()) > 0.9 and float(batch.min()) < 0.1  # the mask's white and black, not all near black


def test_height_bands_cover_every_height() -> None:
    from crnn_utils.recognizer import height_band

    assert [height_band(h) for h in (1, 15, 16, 31, 32, 95, 96, 4000)] == [
        (0, "0-15 px"), (0, "0-15 px"), (16, "16-23 px"), (24, "24-31 px"), (32, "32-47 px"), (64, "64-95 px"),
        (96, "96+ px"), (96, "96+ px")]
