"""MJSynth folders: annotation files parsed and counted, splits kept apart, faulty trees, flat memory at any size."""
from __future__ import annotations

import itertools
import tracemalloc
from pathlib import Path

import pytest
from word_files import EXPECTED_SKIPS, GOOD, make_mjsynth, mjsynth_tree, write_jpeg

from crnn_utils.charset import Charset
from crnn_utils.datasets import prepare_split
from crnn_utils.readers import MALFORMED, PrepareStats, check_mjsynth_dir, mjsynth_split_of, read_mjsynth


@pytest.fixture(scope="module")
def mjsynth(tmp_path_factory) -> Path:
    """A small MJSynth-layout folder with good images and one bad input of every kind in the train split."""
    return make_mjsynth(tmp_path_factory.mktemp("mjsynth"))


def test_read_mjsynth_parses_labels_and_counts_malformed(mjsynth: Path) -> None:
    stats = PrepareStats()
    records = list(read_mjsynth(mjsynth, "train", stats))
    labels = [r.label for r in records]
    assert labels[: len(GOOD)] == GOOD
    assert "snake_case" in labels and "" in labels  # first..last underscore; '5__3.jpg' style gives ''
    assert all(Path(r.path).is_absolute() for r in records)
    assert records[0].path == str((mjsynth / "1/0/0_Hello_100.jpg").resolve())
    assert stats.skipped == {MALFORMED: EXPECTED_SKIPS[MALFORMED]} and stats.examples[MALFORMED][0] == "<blank line>"


def test_official_splits_are_read_separately(mjsynth: Path) -> None:
    files = check_mjsynth_dir(mjsynth)
    assert {k: p.name for k, p in files.items()} == {
        "train": "annotation_train.txt", "val": "annotation_val.txt", "test": "annotation_test.txt",
        "lexicon": "lexicon.txt"}
    assert [r.label for r in read_mjsynth(mjsynth, "val")] == ["valone", "valtwo"]
    stats = PrepareStats()
    assert [r.label for r in read_mjsynth(mjsynth, "test", stats)] == ["testone"]
    assert stats.skipped[MALFORMED] == 1
    with pytest.raises(ValueError, match="split must be one of"):
        read_mjsynth(mjsynth, "training")


def test_mjsynth_annotation_with_a_byte_order_mark_and_absolute_paths(tmp_path: Path) -> None:
    # Edited on Windows (a UTF-8 byte-order mark, CRLF, one line with backslashes), one line an absolute path: all name their files.
    for rel in ("1/1/1_Hello_3.jpg", "2/1/2_World_4.jpg"):
        write_jpeg(tmp_path / rel, rel)
    lines = ["./1/1/1_Hello_3.jpg 3", f"{tmp_path / '2/1/2_World_4.jpg'} 4", ".\\1\\1\\1_Hello_3.jpg 3"]
    for split in ("train", "val", "test"):
        (tmp_path / f"annotation_{split}.txt").write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    (tmp_path / "lexicon.txt").write_text("hello\nworld\n")
    stats = PrepareStats()
    records = list(read_mjsynth(tmp_path, "train", stats))
    assert [r.label for r in records] == ["Hello", "World"] and all(Path(r.path).is_file() for r in records)
    assert stats.skipped == {"duplicate_entry": 1}  # the third line names the first's image again


def test_single_annotation_file_is_split_by_hash(tmp_path: Path) -> None:
    lines = [f"./{i % 7}/{i % 3}/{i}_word{i}_{i}.jpg {i}" for i in range(4000)] + ["", "junk", "./1/1/x.jpg 1"]
    (tmp_path / "annotation.txt").write_text("\n".join(lines) + "\n")
    (tmp_path / "lexicon.txt").write_text("word\n")
    write_jpeg(tmp_path / "0/0/0_word0_0.jpg", "word0")  # a tree with no image at all is refused (images not extracted)
    assert {p.name for p in check_mjsynth_dir(tmp_path).values()} == {"annotation.txt", "lexicon.txt"}
    parts, malformed = {}, 0
    for split in ("train", "val", "test"):
        stats = PrepareStats()
        parts[split] = [r.label for r in read_mjsynth(tmp_path, split, stats)]
        malformed += stats.skipped[MALFORMED]
        assert parts[split] == [r.label for r in read_mjsynth(tmp_path, split)]  # deterministic
    # 1. A partition of the lines: each good line in exactly one split, each malformed line counted once.
    together = parts["train"] + parts["val"] + parts["test"]
    assert sorted(together) == sorted(f"word{i}" for i in range(4000)) and malformed == 3
    assert 0.87 < len(parts["train"]) / 4000 < 0.93 and 0.03 < len(parts["val"]) / 4000 < 0.07
    assert mjsynth_split_of("./1/1/3_word3_3.jpg") == mjsynth_split_of("./1/1/3_word3_3.jpg")


def test_check_mjsynth_dir_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        check_mjsynth_dir(tmp_path / "nope")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ValueError, match=f"is a file, not a folder: give the folder that holds it, data_dir='{tmp_path}'"):
        check_mjsynth_dir(tmp_path / "file.txt")
    (tmp_path / "mjsynth.tar.gz").write_bytes(b"\x1f\x8b" + bytes(30))
    with pytest.raises(ValueError, match="is an archive: extract it"):
        check_mjsynth_dir(tmp_path / "mjsynth.tar.gz")
    # Two of the three split files: an error, not a silent switch to annotation.txt's hash split.
    (tmp_path / "annotation.txt").write_text("")
    for split in ("train", "test"):
        (tmp_path / f"annotation_{split}.txt").write_text("")
    with pytest.raises(ValueError, match="has annotation_train.txt, annotation_test.txt but not annotation_val.txt"):
        check_mjsynth_dir(tmp_path)
    # lexicon.txt is not read: a tree without it is still an MJSynth folder.
    (tmp_path / "annotation_val.txt").write_text("")
    assert sorted(check_mjsynth_dir(tmp_path)) == ["test", "train", "val"]
    # The tarball's root, or any folder above the files: the error names the folder that holds them.
    nested = tmp_path / "top" / "mnt/ramdisk/max/90kDICT32px"
    nested.mkdir(parents=True)
    (nested / "annotation_train.txt").write_text("")
    for given in (tmp_path / "top", tmp_path / "top" / "mnt" / "ramdisk"):
        with pytest.raises(ValueError, match="is not an MJSynth folder.*90kDICT32px' holds them: pass that"):
            check_mjsynth_dir(given)


def test_read_mjsynth_counts_repeated_lines_and_paths_that_leave_data_dir(tmp_path: Path) -> None:
    # Repeated lines are counted once as used, then as duplicate_entry; '../' leaves data_dir: malformed.
    a = tmp_path / "a"
    mjsynth_tree(a, ["./1/1/1_Hello_3.jpg 3", "./1/1/2_World_4.jpg 4", "./1/1/1_Hello_3.jpg 3", "1/1/2_World_4.jpg 4",
                      "./../b/1/1/1_Secret_1.jpg 1"], ["1/1/1_Hello_3.jpg", "1/1/2_World_4.jpg"])
    write_jpeg(tmp_path / "b/1/1/1_Secret_1.jpg", "Secret")
    stats = PrepareStats()
    assert [r.label for r in read_mjsynth(a, "train", stats)] == ["Hello", "World"]
    assert stats.skipped == {"duplicate_entry": 2, MALFORMED: 1}


def test_read_mjsynth_finds_absolute_paths_from_another_machine_under_data_dir(tmp_path: Path) -> None:
    # Absolute paths written where the archive was extracted on another machine: found under data_dir.
    b = tmp_path / "moved"
    mjsynth_tree(b, [f"/mnt/ramdisk/max/90kDICT32px/{rel} {i}" for i, rel in
                      enumerate(["1/1/1_Hello_3.jpg", "2/1/2_World_4.jpg"])], ["1/1/1_Hello_3.jpg", "2/1/2_World_4.jpg"])
    records = list(read_mjsynth(b, "train"))
    assert [Path(r.path).relative_to(b.resolve()).as_posix() for r in records] == ["1/1/1_Hello_3.jpg", "2/1/2_World_4.jpg"]


def test_read_mjsynth_reads_on_when_only_the_first_folder_is_missing(tmp_path: Path) -> None:
    # The first folder missing is not "images not extracted": lines from across the file are looked at too.
    c = tmp_path / "c"
    present = [f"2/1/{i}_Word_{i}.jpg" for i in range(30)]
    mjsynth_tree(c, [f"./9/9/{i}_Gone_{i}.jpg {i}" for i in range(25)] + [f"./{rel} {i}" for i, rel in enumerate(present)],
                 present)
    stats = prepare_split(read_mjsynth(c, "train"), Charset.seed(), tmp_path / "out", "train", progress=False, root=c)
    assert stats.used == 30 and stats.skipped == {"missing_file": 25}


def test_read_mjsynth_reads_gzip_and_utf16_files_and_refuses_a_file_of_no_mjsynth_lines(tmp_path: Path) -> None:
    import gzip

    for name, data in [("gz", gzip.compress(b"./1/1/1_Hello_3.jpg 3\n")), ("u16", "./1/1/1_Hello_3.jpg 3\n".encode("utf-16"))]:
        d = tmp_path / name
        mjsynth_tree(d, [], ["1/1/1_Hello_3.jpg"])
        (d / "annotation_train.txt").write_bytes(data)
        assert [r.label for r in read_mjsynth(d, "train")] == ["Hello"]
    (tmp_path / "u16" / "annotation_val.txt").write_text("<html>404</html>\n")
    with pytest.raises(ValueError, match="'annotation_val.txt' holds no MJSynth lines.*found '<html>404</html>'"):
        read_mjsynth(tmp_path / "u16", "val")


def test_read_mjsynth_says_when_the_images_are_not_extracted(tmp_path: Path) -> None:
    # The annotation files and lexicon without the numbered folders (a partial extraction): an error at once, not
    # minutes of counting 7 million missing_file skips into an empty split.
    lines = "".join(f"./{2000 + i // 100}/{i % 7}/{i}_Word_{i}.jpg {i}\n" for i in range(300))
    for split in ("train", "val", "test"):
        (tmp_path / f"annotation_{split}.txt").write_text(lines)
    (tmp_path / "lexicon.txt").write_text("word\n")
    with pytest.raises(FileNotFoundError, match="none of the first 20 images 'annotation_train.txt' names is there"):
        read_mjsynth(tmp_path, "train")
    write_jpeg(tmp_path / "2000/5/5_Word_5.jpg", "Word")  # one of them there: the rest are read (and counted missing)
    assert len(list(read_mjsynth(tmp_path, "train"))) == 300


def test_a_limit_reads_no_further_than_the_images_it_uses(tmp_path: Path) -> None:
    # 100 images, each followed by a malformed line: a limit of 10 uses 10 and counts the 9 malformed lines between
    # them, not those of the records the parallel loader reads ahead.
    lines = []
    for i in range(100):
        write_jpeg(tmp_path / f"1/1/{i}_word_{i}.jpg", "word")
        lines += [f"./1/1/{i}_word_{i}.jpg {i}", "garbage"]
    for split in ("train", "val", "test"):
        (tmp_path / f"annotation_{split}.txt").write_text("\n".join(lines) + "\n")
    (tmp_path / "lexicon.txt").write_text("word\n")
    reader = PrepareStats()
    stats = prepare_split(read_mjsynth(tmp_path, "train", reader), Charset.seed(), tmp_path / "out", "train",
                          limit=10, progress=False)
    assert stats.used == 10 and reader.skipped == {MALFORMED: 9}
    assert prepare_split(read_mjsynth(tmp_path, "val"), Charset.seed(), tmp_path / "out", "val",
                         progress=False).used == 100  # without a limit, all of them


def test_read_mjsynth_an_image_in_two_splits_is_used_in_the_first(tmp_path: Path) -> None:
    rels = [f"1/1/{i}_Word{i}_{i}.jpg" for i in range(6)]
    for rel in rels:
        write_jpeg(tmp_path / rel, rel)
    lines = [f"./{rel} {i}" for i, rel in enumerate(rels)]
    for split, chosen in (("train", lines[:4]), ("val", lines[3:5]), ("test", [lines[1], lines[5], lines[5]])):
        (tmp_path / f"annotation_{split}.txt").write_text("\n".join(chosen) + "\n")
    seen: dict = {}
    got, skipped = {}, {}
    for split in ("train", "val", "test"):
        stats = PrepareStats()
        got[split] = [r.label for r in read_mjsynth(tmp_path, split, stats, seen=seen)]
        skipped[split] = dict(stats.skipped)
    assert got == {"train": ["Word0", "Word1", "Word2", "Word3"], "val": ["Word4"], "test": ["Word5"]}
    assert skipped == {"train": {}, "val": {"in_earlier_split": 1}, "test": {"in_earlier_split": 1, "duplicate_entry": 1}}
    # Without a shared `seen`, each split is read on its own.
    assert [r.label for r in read_mjsynth(tmp_path, "val")] == ["Word3", "Word4"]


def test_a_split_read_in_part_holds_back_only_the_images_it_passed(tmp_path: Path) -> None:
    # Given the same `seen`, a later split skips what an earlier one listed in the lines it read, not further.
    rels = [f"1/1/{i}_Word{i}_{i}.jpg" for i in range(6)]
    for rel in rels:
        write_jpeg(tmp_path / rel, rel)
    lines = [f"./{rel} {i}" for i, rel in enumerate(rels)]
    for split, chosen in (("train", lines), ("val", [lines[1], lines[4]]), ("test", [lines[5]])):
        (tmp_path / f"annotation_{split}.txt").write_text("\n".join(chosen) + "\n")
    seen: dict = {}
    assert [r.label for r in itertools.islice(read_mjsynth(tmp_path, "train", seen=seen), 3)] == ["Word0", "Word1", "Word2"]
    stats = PrepareStats()
    assert [r.label for r in read_mjsynth(tmp_path, "val", stats, seen=seen)] == ["Word4"]
    assert stats.skipped == {"in_earlier_split": 1}


def _read_peak(root: Path, n: int) -> tuple[float, PrepareStats]:
    """The peak of Python allocations (bytes) while reading an n-line train split (every 100th line a repeat)."""
    index = [i - 50 if i % 100 == 99 else i for i in range(n)]
    lines = [f"./{i // 2250 + 1}/{i % 7 + 1}/{i % 1000}_Word_{i}.jpg 1" for i in index]
    root.mkdir()
    mjsynth_tree(root, lines, [])
    write_jpeg(root / "1/1/0_Word_0.jpg", "Word")  # one image there: the others are never opened
    sum(1 for _ in read_mjsynth(root, "train"))  # once untraced: imports, and the file's encoding sniffed
    stats = PrepareStats()
    tracemalloc.start()
    try:
        assert sum(1 for _ in read_mjsynth(root, "train", stats)) == n - n // 100
        return tracemalloc.get_traced_memory()[1], stats
    finally:
        tracemalloc.stop()


def test_reading_annotations_takes_the_same_memory_at_any_length(tmp_path: Path) -> None:
    # Every path read is kept to find repeats: in a Python dict, 2.5 MB at 30,000 lines and 21 MB at 300,000.
    small, small_stats = _read_peak(tmp_path / "small", 3_000)
    large, large_stats = _read_peak(tmp_path / "large", 30_000)
    assert small_stats.skipped == {"duplicate_entry": 30} and large_stats.skipped == {"duplicate_entry": 300}
    assert large < 1.5 * small, f"{small / 2**20:.2f} MB at 3,000 lines, {large / 2**20:.2f} MB at 30,000"


def test_repeats_far_apart_and_across_splits_are_counted_exactly(tmp_path: Path, monkeypatch) -> None:
    # The paths read go to a small table merged into a large one every MERGE_ROWS keys: a repeat thousands of lines
    # later, or in a later split, is found whichever of the two holds its first listing.
    from crnn_utils.readers import listed

    monkeypatch.setattr(listed, "MERGE_ROWS", 700)
    path = lambda i: f"./{i // 500}/1/{i}_Word_{i}.jpg 1"
    train = [path(i - 2500 if i % 10 == 9 and i >= 2500 else i) for i in range(5000)]
    val = [path(0)] + [path(i) for i in range(4990, 5010)] + [path(7)]  # path(0): an image there
    mjsynth_tree(tmp_path, [], [])
    (tmp_path / "annotation_train.txt").write_text("\n".join(train) + "\n")
    (tmp_path / "annotation_val.txt").write_text("\n".join(val) + "\n")
    write_jpeg(tmp_path / "0/1/0_Word_0.jpg", "Word")
    seen: dict = {}
    stats = {split: PrepareStats() for split in ("train", "val")}
    used = {split: sum(1 for _ in read_mjsynth(tmp_path, split, stats[split], seen=seen)) for split in ("train", "val")}
    repeats = len(train) - len(set(train))
    assert used["train"] == len(set(train)) and stats["train"].skipped == {"duplicate_entry": repeats}
    earlier = sum(line in set(train) for line in val)
    assert used["val"] == len(val) - earlier and stats["val"].skipped == {"in_earlier_split": earlier}
