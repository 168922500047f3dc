"""IAM's words.txt with its word images, and text-recognition LMDBs unpacked once into files."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from word_files import IAM_HEADER, png, word_image, write_images, write_lmdb

from crnn_utils.images import ImageError, load_image
from crnn_utils.readers import MALFORMED, NO_IMAGE, PrepareStats, read_folder, unpack_lmdb


def test_read_folder_iam_words(tmp_path: Path) -> None:
    # IAM ships words.txt in ascii.tgz (ids, not paths) and the images in words.tgz (a01/a01-000u/a01-000u-00-00.png).
    ids = ["a01-000u-00-00", "a01-000u-00-01", "a01-000u-00-02", "r06-022-03-05"]
    lines = [f"{ids[0]} ok 154 408 768 27 51 AT A", f"{ids[1]} ok 154 507 766 213 48 NN MOVE",
             f"{ids[2]} err 154 796 764 70 50 TO to", f"{ids[3]} ok 180 1 1062 1227 41 46 NN Mr."]  # 10-field form too
    rels = [f"{i.split('-')[0]}/{i.split('-')[0]}-{i.split('-')[1]}/{i}.png" for i in ids]
    for layout, words_txt, images in [("a", "ascii/words.txt", "words"), ("b", "words.txt", "words"), ("c", "words.txt", "")]:
        root = tmp_path / layout
        write_images(root / images if images else root, rels)
        (root / words_txt).parent.mkdir(parents=True, exist_ok=True)
        (root / words_txt).write_text(IAM_HEADER + "\n".join(lines) + "\n")
        for given in (root, root / words_txt):
            stats = PrepareStats()
            records = read_folder(given, stats)
            assert [r.label for r in records] == ["A", "MOVE", "Mr."], (layout, given)
            assert all(Path(r.path).is_file() and Path(r.path).stem in ids for r in records)
            assert stats.skipped == {"iam_segmentation_err": 1} and stats.source == "IAM words.txt"
            assert stats.examples["iam_segmentation_err"] == [(f"{images}/" if images else "") + rels[2]]
    # The images folder alone: its names are ids, never labels; the error names the folder that holds words.txt.
    with pytest.raises(ValueError, match=r"IAM word images.*give '.*/a' as data_dir"):
        read_folder(tmp_path / "a" / "words")
    # words.txt without its images: say where they are expected.
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "words.txt").write_text(IAM_HEADER + "\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="IAM's word list, but none of its images.*extract IAM's words.tgz"):
        read_folder(tmp_path / "d")


def test_a_list_of_ones_own_beside_iams_words_txt_wins(tmp_path: Path) -> None:
    root = tmp_path / "iam"
    write_images(root, ["words/a01/a01-000u/a01-000u-00-00.png"])
    (root / "words.txt").write_text(IAM_HEADER + "a01-000u-00-00 ok 154 408 768 27 51 AT A\n")
    (root / "labels.tsv").write_text("words/a01/a01-000u/a01-000u-00-00.png\tA-fixed\n")
    assert [r.label for r in read_folder(root)] == ["A-fixed"]


def test_read_folder_lmdb(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    jpeg = cv2.imencode(".jpg", word_image("Photo"))[1].tobytes()
    items = [(png("Hello"), "Hello"), (jpeg, "Photo "), (None, "lost"), (b"not an image", "broken"), (png("x"), None)]
    write_lmdb(tmp_path / "IIIT5k", items)
    stats = PrepareStats()
    records = read_folder(tmp_path / "IIIT5k", stats)
    assert [r.label for r in records] == ["Hello", "Photo", "broken"]
    assert [Path(r.path).suffix for r in records] == [".png", ".jpg", ".png"]
    np.testing.assert_array_equal(load_image(records[0].path), word_image("Hello"))  # the bytes, unchanged
    assert stats.skipped == {NO_IMAGE: 1, MALFORMED: 1} and stats.examples[NO_IMAGE] == ["image-000000003"]
    # The broken image is left to the image reader, which counts it as any damaged file.
    with pytest.raises(ImageError) as err:
        load_image(records[2].path)
    assert err.value.reason == "unreadable_image"
    # Read again: from the cache (not rewritten), same records, the same skips counted again; data.mdb itself works.
    stamp = Path(records[0].path).stat().st_mtime_ns
    again = PrepareStats()
    assert read_folder(tmp_path / "IIIT5k" / "data.mdb", again) == records and again.skipped == stats.skipped
    assert Path(records[0].path).stat().st_mtime_ns == stamp
    assert Path(records[0].path).is_relative_to(tmp_path / "cache" / "crnn_notebooks" / "lmdb")


def test_read_folder_reads_an_evaluation_folder_of_lmdbs_in_name_order(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    # The benchmarks' evaluation folder: one LMDB per set, read in name order.
    write_lmdb(tmp_path / "eval" / "SVT", [(png("Hotel"), "Hotel")])
    write_lmdb(tmp_path / "eval" / "IC13", [(png("Open"), "Open"), (png("Exit"), "Exit")])
    records = []
    for folder in sorted((tmp_path / "eval").iterdir()):
        records += read_folder(folder)
    assert [r.label for r in read_folder(tmp_path / "eval")] == ["Open", "Exit", "Hotel"] == [r.label for r in records]
    sources = [PrepareStats(), PrepareStats()]
    read_folder(tmp_path / "eval", sources[0]), read_folder(tmp_path / "eval" / "SVT", sources[1])
    assert [st.source for st in sources] == ["LMDB IC13, SVT", "LMDB SVT"]
    out = unpack_lmdb(tmp_path / "eval" / "SVT", tmp_path / "svt_files")
    assert sorted(p.name for p in out.iterdir()) == ["000000001.png", "labels.jsonl", "skipped.json"]
    assert [r.label for r in read_folder(out)] == ["Hotel"]  # an ordinary folder


def test_an_lmdb_without_num_samples_is_no_word_dataset(tmp_path: Path, monkeypatch) -> None:
    import lmdb

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    env = lmdb.open(str(tmp_path / "other"), map_size=1 << 20)
    with env.begin(write=True) as txn:
        txn.put(b"key", b"value")
    env.close()
    with pytest.raises(ValueError, match="is an LMDB but not a word dataset: no 'num-samples' key"):
        read_folder(tmp_path / "other")


def test_an_lmdb_with_keys_from_zero_is_read_and_one_with_no_sample_says_so(tmp_path: Path, monkeypatch) -> None:
    import lmdb

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    write_lmdb(tmp_path / "zero_based", [(None, None)])
    env = lmdb.open(str(tmp_path / "zero_based"), map_size=1 << 20)
    with env.begin(write=True) as txn:  # keys counted from 0: none of image-000000001, label-000000001 is there
        txn.put(b"image-000000000", png("Zero"))
        txn.put(b"label-000000000", b"Zero")
    env.close()
    assert [r.label for r in read_folder(tmp_path / "zero_based")] == ["Zero"]  # read from 0
    write_lmdb(tmp_path / "empty", [(None, None)])  # num-samples 1, neither key: nothing to read
    with pytest.raises(ValueError, match="no image with its label in the LMDB"):
        read_folder(tmp_path / "empty")


def test_an_lmdb_counted_from_zero_keeps_every_sample(tmp_path: Path, monkeypatch) -> None:
    # A home-made LMDB with keys image-000000000 ... n-1: every sample is read, none counted as malformed.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    write_lmdb(tmp_path / "mine", [(png(w), w) for w in ("Hello", "World", "Sale")], start=0)
    stats = PrepareStats()
    assert [r.label for r in read_folder(tmp_path / "mine", stats)] == ["Hello", "World", "Sale"]
    assert not stats.skipped


def test_a_label_file_given_is_read_instead_of_the_lmdb_beside_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    write_lmdb(tmp_path / "both", [(png("FromLMDB"), "FromLMDB")])
    write_images(tmp_path / "both", ["a.png"])
    (tmp_path / "both" / "labels.tsv").write_text("a.png\tFromTSV\n")
    assert [r.label for r in read_folder(tmp_path / "both" / "labels.tsv")] == ["FromTSV"]
    assert [r.label for r in read_folder(tmp_path / "both")] == ["FromLMDB"]


def test_unpack_lmdb_into_an_unwritable_cache_says_what_to_do(tmp_path: Path, monkeypatch) -> None:
    write_lmdb(tmp_path / "SVT", [(png("Hotel"), "Hotel")])
    (tmp_path / "cache").write_text("a file where the cache folder should be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(OSError, match="cannot unpack the LMDB .*set XDG_CACHE_HOME to a writable folder, or call "
                                      "crnn_utils.datasets.unpack_lmdb"):
        read_folder(tmp_path / "SVT")
