"""read_folder's choice of layout: file names (and when they make poor labels), sidecars, what to do otherwise."""
from __future__ import annotations

import inspect
from pathlib import Path

import cv2
import pytest
from word_files import HEIC, rel_pairs, word_image, write_images

from crnn_utils.charset import Charset
from crnn_utils.datasets import prepare_split
from crnn_utils.images import load_image
from crnn_utils.readers import DETECTORS, NO_LABEL, PrepareStats, label_from_file_name, read_folder


def test_read_folder_names_as_labels(tmp_path: Path) -> None:
    write_images(tmp_path, ["b.png", "sub/a.jpg", "Cat.PNG"])
    (tmp_path / "notes.txt").write_text("not an image")
    stats = PrepareStats()
    records = read_folder(tmp_path, stats)
    assert [(Path(r.path).relative_to(tmp_path).as_posix(), r.label) for r in records] == [
        ("Cat.PNG", "Cat"), ("b.png", "b"), ("sub/a.jpg", "a")]
    assert stats.source == "file names"


@pytest.mark.parametrize("stem, label", [
    ("Hello", "Hello"), ("Hello_3", "Hello"), ("12_Hello", "Hello"), ("12_Hello_345", "Hello"),  # MJSynth's own
    ("Hello (2)", "Hello"), ("B52_7", "B52"), ("7_B52", "B52"), ("2024", "2024"),
    # Ambiguous or not an index: kept whole, so the charset check reports what it cannot read.
    ("7_2024_12", "2024"),  # MJSynth's layout as this project's renderer writes a number
    ("7_snake_case_12", "snake_case"),  # between the first and last underscore, as read_mjsynth takes it
    ("2024_1", "2024_1"), ("New_York", "New_York"), ("a_b_c", "a_b_c"), ("1__3", "1__3"), ("_5", "_5"),
    ("Hello(2)", "Hello(2)"), ("Hello_", "Hello_"),
])
def test_label_from_file_name(stem: str, label: str) -> None:
    assert label_from_file_name(stem) == label


def test_read_folder_names_with_indices(tmp_path: Path) -> None:
    # A folder of crops where each word appears several times, named as people do to keep the names unique.
    write_images(tmp_path, ["sale_1.png", "sale_2.png", "3_open.jpg", "12_Pontifically_58805.jpg", "exit (2).png"])
    assert sorted(r.label for r in read_folder(tmp_path)) == ["Pontifically", "exit", "open", "sale", "sale"]


def test_file_names_lose_a_file_managers_copy_marks() -> None:
    assert [label_from_file_name(n) for n in ("Hello copy 2", "World - Copy", "World - Copy (2)", "carbon copy")] == \
        ["Hello", "World", "World", "carbon copy"]  # a first macOS copy, 'Hello copy', could be words: kept


def test_recognize_names_the_subfolders_that_hold_the_images(tmp_path: Path) -> None:
    from crnn_utils.recognizer import _as_items

    write_images(tmp_path / "set", ["test/a.png", "images/b.png"])
    with pytest.raises(ValueError, match="no images directly in .*, but in its subfolders images, test"):
        _as_items(tmp_path / "set")  # an error, not a recognize() that reads nothing and says nothing
    (tmp_path / "empty").mkdir()
    assert _as_items(tmp_path / "empty") == []


def test_read_folder_gt_txt_sidecars(tmp_path: Path) -> None:
    write_images(tmp_path, ["line1.png", "sub/line2.png", "orphan.png"])
    (tmp_path / "line1.gt.txt").write_text("Hello\n")
    (tmp_path / "sub" / "line2.gt.txt").write_text("World")
    stats = PrepareStats()
    assert rel_pairs(read_folder(tmp_path, stats), tmp_path) == [("line1.png", "Hello"), ("sub/line2.png", "World")]
    assert stats.skipped == {NO_LABEL: 1} and stats.examples[NO_LABEL] == ["orphan.png"]
    assert stats.source == ".gt.txt files"


def test_read_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist: give a folder of images or its label file"):
        read_folder(tmp_path / "nope")
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(ValueError, match="has no images: expected files ending in .jpg.*or one of labels.tsv.*or an LMDB"):
        read_folder(tmp_path)
    (tmp_path / "labels.tsv").write_text("path\tlabel\n")
    with pytest.raises(ValueError, match="lists no images"):
        read_folder(tmp_path)


def test_read_folder_takes_every_extension_opencv_decodes(tmp_path: Path) -> None:
    # A browser's "Save image as" writes .jfif; scanners and scripts write .pgm/.ppm: all are read, none skipped.
    for name, ext in [("Hello.png", ".png"), ("World.jfif", ".jpg"), ("Sale.jpe", ".jpg"), ("Open.pgm", ".pgm"),
                      ("Shop.ppm", ".ppm")]:
        img = word_image(Path(name).stem)
        ok, data = cv2.imencode(ext, img if ext != ".ppm" else cv2.cvtColor(img, cv2.COLOR_GRAY2BGR))
        assert ok
        (tmp_path / name).write_bytes(data.tobytes())
    records = read_folder(tmp_path)
    assert sorted(r.label for r in records) == ["Hello", "Open", "Sale", "Shop", "World"]
    stats = prepare_split(records, Charset.seed(), tmp_path / "out", "train", progress=False)
    assert stats.used == 5 and not stats.skipped


def test_a_folder_of_heic_photos_only_says_to_convert_them(tmp_path: Path) -> None:
    for name in ("Hello.heic", "World.heic", "Shop.HEIC"):
        (tmp_path / name).write_bytes(HEIC)
    with pytest.raises(ValueError, match=r"only images OpenCV does not decode \(3 \.heic, e\.g\. 'Hello\.heic'\)"):
        read_folder(tmp_path)
    with pytest.raises(ValueError, match="is an image"):
        read_folder(tmp_path / "Hello.heic")


def test_read_folder_leaves_out_macos_junk_and_hidden_files(tmp_path: Path) -> None:
    # A zip made on a Mac: __MACOSX/ holds a '._name' metadata file per image, and .DS_Store sits beside them. Read as
    # images they would be unreadable files labelled '._Hello', whose '.' and '_' charset="auto" would learn.
    write_images(tmp_path, ["crops/Hello.png", "crops/World.png"])
    (tmp_path / "__MACOSX" / "crops").mkdir(parents=True)
    for name in ("Hello", "World"):
        (tmp_path / "__MACOSX" / "crops" / f"._{name}.png").write_bytes(b"\x00\x05\x16\x07Mac OS X" + bytes(400))
    (tmp_path / "crops" / "._Hello.png").write_bytes(b"\x00\x05\x16\x07Mac OS X" + bytes(400))
    (tmp_path / "crops" / ".DS_Store").write_bytes(bytes(64))
    assert sorted(r.label for r in read_folder(tmp_path)) == ["Hello", "World"]
    from crnn_utils.recognizer import list_images  # what notebook 04 reads from a folder: the same two

    assert [p.name for p in list_images(tmp_path / "crops")] == ["Hello.png", "World.png"]


def test_read_folder_follows_linked_folders_once(tmp_path: Path) -> None:
    # crops/ is a link to where the images are kept (a shared disk); a link back up must not loop.
    store, top = tmp_path / "store", tmp_path / "top"
    write_images(store, ["Hello.png", "World.png"])
    top.mkdir()
    (top / "crops").symlink_to(store, target_is_directory=True)
    (store / "loop").symlink_to(top, target_is_directory=True)
    assert sorted(r.label for r in read_folder(top)) == ["Hello", "World"]


@pytest.mark.parametrize("names, lists", [
    (["0001.png", "0002.png", "0003.png"], {"words.txt": "Hello\nWorld\nAgain\n"}),  # numbered crops, words apart
    (["img_1.png", "img_2.png"], {"labels/gt_train.txt": "img_1.png Hello\nimg_2.png World\n"}),  # list in a subfolder
    (["test/1002_1.png", "test/1009_2.png"], {"lexicon.txt": "PRIVATE\nSALE\n"}),  # IIIT5K's names, its .mat gone
    (["crop_0001.png", "crop_0002.png", "crop_0003.png"], {"labels.xlsx": "a spreadsheet"}),
])
def test_read_folder_will_not_guess_labels_from_poor_file_names(tmp_path: Path, names, lists) -> None:
    write_images(tmp_path, names)
    for rel, text in lists.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    with pytest.raises(ValueError, match="file names make poor labels.*may hold them"):
        read_folder(tmp_path)
    for rel in lists:  # without those text files, file names are what there is ...
        (tmp_path / rel).unlink()
    if len(names) >= 3 and len({label_from_file_name(Path(n).stem) for n in names}) == 1:
        with pytest.raises(ValueError, match="would label 3 of the 3 images 'crop'"):  # ... unless all one word
            read_folder(tmp_path)
    else:
        assert len(read_folder(tmp_path)) == len(names)


def test_read_folder_takes_good_file_names_beside_a_text_file(tmp_path: Path) -> None:
    # Two words, one of them a number, and a README: the names are labels, no list is missing.
    write_images(tmp_path, ["Hello.png", "2024.png"])
    (tmp_path / "README.txt").write_text("crops from my phone\n")
    assert sorted(r.label for r in read_folder(tmp_path)) == ["2024", "Hello"]


def test_read_folder_points_at_the_label_file_of_the_folder_above(tmp_path: Path) -> None:
    # ICDAR's layout: gt.txt beside images/. Given images/ itself, the names 'word_1', ... are not the words.
    write_images(tmp_path, [f"images/word_{i}.png" for i in range(1, 5)])
    (tmp_path / "gt.txt").write_text("".join(f'images/word_{i}.png, "W{i}"\n' for i in range(1, 5)))
    with pytest.raises(ValueError, match=f"one level up lists these images: give '{tmp_path}'"):
        read_folder(tmp_path / "images")
    assert [r.label for r in read_folder(tmp_path)] == ["W1", "W2", "W3", "W4"]


def test_read_folder_points_at_the_list_beside_the_images_folder(tmp_path: Path) -> None:
    # ICDAR 2015's test set: its ground truth, under its own name, beside the images folder and naming them bare.
    ic15 = tmp_path / "ic15"
    write_images(ic15, [f"ch4_test_word_images_gt/word_{i}.png" for i in (1, 2, 3)])
    (ic15 / "Challenge4_Test_Task3_GT.txt").write_bytes(
        ("\ufeff" + "".join(f'word_{i}.png, "W{i}"\r\n' for i in (1, 2, 3))).encode())
    with pytest.raises(ValueError, match=r"Challenge4_Test_Task3_GT.txt' one level up lists these images: give '.*ic15'"):
        read_folder(ic15 / "ch4_test_word_images_gt")  # not every image labelled 'word'
    assert rel_pairs(read_folder(ic15), ic15) == [(f"ch4_test_word_images_gt/word_{i}.png", f"W{i}") for i in (1, 2, 3)]
    write_images(ic15, ["other/word_1.png"])  # a second folder with the same name: no guess which one the list means
    stats = PrepareStats()
    assert rel_pairs(read_folder(ic15, stats), ic15)[1:] == [(f"ch4_test_word_images_gt/word_{i}.png", f"W{i}") for i in (2, 3)]


def test_read_folder_points_at_the_list_two_levels_up(tmp_path: Path) -> None:
    import json

    # MMOCR 1.x: textrecog_test.json two levels above textrecog_imgs/test/.
    mm = tmp_path / "icdar2015"
    write_images(mm, [f"textrecog_imgs/test/word_{i}.png" for i in (1, 2, 3)])
    (mm / "textrecog_test.json").write_text(json.dumps({"data_list": [
        {"img_path": f"textrecog_imgs/test/word_{i}.png", "instances": [{"text": f"W{i}"}]} for i in (1, 2, 3)]}))
    with pytest.raises(ValueError, match="textrecog_test.json' two levels up lists these images"):
        read_folder(mm / "textrecog_imgs" / "test")


def test_file_names_that_label_every_image_the_same_word_are_refused(tmp_path: Path) -> None:
    # Nothing anywhere: one word for every image is no labelling.
    write_images(tmp_path / "bare", [f"word_{i}.png" for i in (1, 2, 3)])
    with pytest.raises(ValueError, match="would label 3 of the 3 images 'word'"):
        read_folder(tmp_path / "bare")


def test_read_folder_will_not_take_numbered_names_in_one_folder_per_word(tmp_path: Path) -> None:
    # Hello/001.png, Hello/002.png, World/001.png: the words are the folder names, which read_folder does not guess.
    write_images(tmp_path, ["Hello/001.png", "Hello/002.png", "World/001.png"])
    with pytest.raises(ValueError, match=r"2 subfolders \('Hello/001.png'\).*labels.tsv \('Hello/001.png<TAB>Hello'"):
        read_folder(tmp_path)
    (tmp_path / "labels.tsv").write_text("Hello/001.png\tHello\nHello/002.png\tHello\nWorld/001.png\tWorld\n")
    assert [r.label for r in read_folder(tmp_path)] == ["Hello", "Hello", "World"]


def test_numbered_names_in_one_folder_per_word_get_the_folder_hint(tmp_path: Path) -> None:
    # One folder per word, numbered files: the folder hint, not "every image 'img'".
    write_images(tmp_path / "perword", ["Hello/img_1.png", "Hello/img_2.png", "World/img_1.png", "World/img_2.png"])
    with pytest.raises(ValueError, match="if each folder is a word, list them in a labels.tsv"):
        read_folder(tmp_path / "perword")


def test_per_image_txt_labels_say_to_name_them_gt_txt(tmp_path: Path) -> None:
    # img1.jpg beside img1.txt: labels one file per image under a name read_folder does not read (it reads .gt.txt).
    write_images(tmp_path / "a", ["img1.jpg", "img2.jpg", "img3.jpg"])
    for i, word in enumerate(("Hello", "World", "Again"), start=1):
        (tmp_path / "a" / f"img{i}.txt").write_text(word)
    with pytest.raises(ValueError, match=r"3 images have a .txt of their own \('img1.txt'\).*'img1.gt.txt'"):
        read_folder(tmp_path / "a")
    # The same from a Windows tool, in capitals.
    write_images(tmp_path / "w", ["IMG1.JPG", "IMG2.JPG"])
    for i, word in enumerate(("Hello", "World"), start=1):
        (tmp_path / "w" / f"IMG{i}.TXT").write_text(word)
    with pytest.raises(ValueError, match=r"2 images have a .txt of their own \('IMG1.TXT'\).*'IMG1.gt.txt'"):
        read_folder(tmp_path / "w")


def test_a_list_in_a_format_not_read_is_named_and_given_says_to_convert_it(tmp_path: Path) -> None:
    # ICDAR 2003's word.xml, which the poor-names error names: given as data_dir, it says it is not read.
    write_images(tmp_path / "b", ["word/1/1.jpg", "word/1/2.jpg"])
    (tmp_path / "b" / "word.xml").write_text('<tagset><image file="word/1/1.jpg" tag="Hello"/></tagset>')
    with pytest.raises(ValueError, match=r"word.xml.*may hold them"):
        read_folder(tmp_path / "b")
    with pytest.raises(ValueError, match=r"does not read '.xml' lists \('word.xml'\): convert it"):
        read_folder(tmp_path / "b" / "word.xml")


def test_read_folder_label_files_one_level_down_are_read_one_split_at_a_time(tmp_path: Path) -> None:
    # A Hugging Face imagefolder with one metadata.jsonl per split: never the file names ("0001") as labels.
    for split in ("train", "test"):
        write_images(tmp_path / "hf" / split, ["0001.png"])
        (tmp_path / "hf" / split / "metadata.jsonl").write_text('{"file_name": "0001.png", "text": "Hello"}\n')
    with pytest.raises(ValueError, match="no label file at its top, but test/metadata.jsonl, train/metadata.jsonl below"):
        read_folder(tmp_path / "hf")
    assert [r.label for r in read_folder(tmp_path / "hf" / "train")] == ["Hello"]


def test_read_folder_doctr_labels_json_beside_images(tmp_path: Path) -> None:
    import json

    # docTR: labels.json beside images/, its keys bare names; given images/, it says to give the folder above.
    write_images(tmp_path / "doctr", ["images/img_1.jpg", "images/img_2.jpg"])
    (tmp_path / "doctr" / "labels.json").write_text(json.dumps({"img_1.jpg": "Hello", "img_2.jpg": "World"}))
    assert [r.label for r in read_folder(tmp_path / "doctr")] == ["Hello", "World"]
    with pytest.raises(ValueError, match="labels.json' one level up lists these images"):
        read_folder(tmp_path / "doctr" / "images")


def test_read_folder_ocropus_gt_txt_beside_bin_png(tmp_path: Path) -> None:
    # OCRopus / GT4HistOCR: 010001.bin.png with 010001.gt.txt.
    write_images(tmp_path / "ocropus", ["0001/010001.bin.png", "0001/010002.nrm.png"])
    (tmp_path / "ocropus" / "0001" / "010001.gt.txt").write_text("Hello\n")
    (tmp_path / "ocropus" / "0001" / "010002.gt.txt").write_text("World\n")
    assert [r.label for r in read_folder(tmp_path / "ocropus")] == ["Hello", "World"]


def test_read_folder_trdg_names_and_masks(tmp_path: Path) -> None:
    # trdg: '{text}_{index}' names (a number word too) and its --output_mask masks, which are not words.
    write_images(tmp_path / "trdg", ["Hello_0.jpg", "2024_1.jpg", "42_2.jpg", "Hello_0_mask.png", "2024_1_mask.png"])
    assert sorted(r.label for r in read_folder(tmp_path / "trdg")) == ["2024", "42", "Hello"]


def test_read_folder_labels_from_mac_file_names_are_nfc(tmp_path: Path) -> None:
    import unicodedata

    # A Mac's file names (NFD) give the same labels as typed ones (NFC): one class per letter.
    write_images(tmp_path / "mac", [unicodedata.normalize("NFD", "café.png"), "Zürich.png"])
    assert sorted(r.label for r in read_folder(tmp_path / "mac")) == ["Zürich", "café"]
    assert all(r.label == unicodedata.normalize("NFC", r.label) for r in read_folder(tmp_path / "mac"))


def test_read_folder_hashed_names_point_at_the_list_beside_them(tmp_path: Path) -> None:
    # Hashed names are no labels: the list beside them is named.
    write_images(tmp_path / "hash", ["e3e70682c209.png", "f728b4fa4248.png", "23a7711a8133.png"])
    (tmp_path / "hash" / "annotations.xml").write_text("<annotations/>")
    with pytest.raises(ValueError, match="poor labels.*annotations.xml may hold them"):
        read_folder(tmp_path / "hash")


def test_read_folder_says_to_extract_an_archive_given_or_inside(tmp_path: Path) -> None:
    # An archive: extract it first, given or inside the folder.
    (tmp_path / "words.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    with pytest.raises(ValueError, match="is an archive: extract it"):
        read_folder(tmp_path / "words.zip")
    (tmp_path / "zipped").mkdir()
    (tmp_path / "zipped" / "words.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    with pytest.raises(ValueError, match="has no images.*holds words.zip: extract it first"):
        read_folder(tmp_path / "zipped")


def test_read_folder_jpeg_2000(tmp_path: Path) -> None:
    # JPEG 2000, which OpenCV decodes here.
    ok, buf = cv2.imencode(".jp2", word_image("Hello"))
    if ok:
        (tmp_path / "jp2").mkdir()
        (tmp_path / "jp2" / "Hello.jp2").write_bytes(buf.tobytes())
        assert [r.label for r in read_folder(tmp_path / "jp2")] == ["Hello"]
        assert load_image(tmp_path / "jp2" / "Hello.jp2").shape == word_image("Hello").shape[:2]


def test_every_detector_says_which_layout_it_recognises() -> None:
    # read_folder tries DETECTORS in order; each one's docstring is the layout it matches (or the error it raises).
    assert len(DETECTORS) == len(set(DETECTORS)) and DETECTORS[-1].__name__ == "_file_names"
    assert all(inspect.getdoc(detect) for detect in DETECTORS)
