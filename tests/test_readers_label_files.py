"""Label files of every format read_folder takes: text lists, CSV, JSON, JSONL, MATLAB; their encodings and quirks."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from word_files import HEIC, rel_pairs, savemat_struct, write_images

from crnn_utils.charset import Charset
from crnn_utils.datasets import prepare_split
from crnn_utils.readers import MALFORMED, PrepareStats, Record, find_label_file, read_folder

NAMES = ["a.png", "b.png", "c.png"]  # the images TOOL_LISTS label


def test_read_folder_labels_tsv(tmp_path: Path) -> None:
    write_images(tmp_path, ["img/1.png", "img/2.png"])
    (tmp_path / "labels.tsv").write_text("path\tlabel\nimg/1.png\tHello\nimg/2.png\tWorld\nno tab here\n"
                                         "img/3.png\tGone\n")
    stats = PrepareStats()
    records = read_folder(tmp_path, stats)
    assert records == [Record(str(tmp_path / "img/1.png"), "Hello"), Record(str(tmp_path / "img/2.png"), "World"),
                       Record(str(tmp_path / "img/3.png"), "Gone")]
    assert stats.skipped == {MALFORMED: 1}
    # A header-less file keeps its first line.
    (tmp_path / "labels.tsv").write_text("img/2.png\tWorld\n")
    assert [r.label for r in read_folder(tmp_path)] == ["World"]


@pytest.mark.parametrize("name, text", [
    # trdg's labels.txt: a space after the name; the label may hold spaces itself.
    ("labels.txt", "filename label\na.png Hello\nsub/b.png New York\nlonely.png\n"),
    # ICDAR 2013/2015 gt.txt: name, "label" with escaped quotes.
    ("gt.txt", 'a.png, "Hello"\nsub/b.png, "New York"\nnot a record\n'),
    # CSV with a header in any column order (Kaggle, spreadsheets).
    ("labels.csv", 'text,file_name\nHello,a.png\n"New York",sub/b.png\nonly-one-field\n'),
    # Hugging Face imagefolder.
    ("metadata.jsonl", '{"file_name": "a.png", "text": "Hello"}\n{"file_name": "sub/b.png", "text": "New York"}\n{oops\n'),
    # A spreadsheet in a European locale: ';' between the fields, as CSV and as a plain list.
    ("labels.csv", 'Datei;text\na.png;Hello\nsub/b.png;"New York"\nonly-one-field\n'),
    ("gt.txt", 'a.png;Hello\nsub/b.png; "New York"\nnot a record\n'),
])
def test_read_folder_other_label_files(tmp_path: Path, name: str, text: str) -> None:
    write_images(tmp_path, ["a.png", "sub/b.png"])
    (tmp_path / name).write_text(text)
    stats = PrepareStats()
    assert rel_pairs(read_folder(tmp_path, stats), tmp_path) == [("a.png", "Hello"), ("sub/b.png", "New York")]
    assert stats.skipped == {MALFORMED: 1}
    assert find_label_file(tmp_path) == tmp_path / name


@pytest.mark.parametrize("name, text", [
    ("labels.tsv", "a.png\t Hello \nsub/b.png\tNew York\t\n"),
    ("labels.csv", "file_name,text\na.png, Hello\nsub/b.png,New York \n"),
    ("metadata.jsonl", '{"file_name": "a.png", "text": "Hello\\u00a0"}\n{"file_name": "sub/b.png", "text": " New York"}\n'),
])
def test_read_folder_strips_spaces_around_labels(tmp_path: Path, name: str, text: str) -> None:
    write_images(tmp_path, ["a.png", "sub/b.png"])
    (tmp_path / name).write_text(text)
    assert rel_pairs(read_folder(tmp_path), tmp_path) == [("a.png", "Hello"), ("sub/b.png", "New York")]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig", "utf-8"])
def test_read_folder_label_files_in_windows_encodings(tmp_path: Path, encoding: str) -> None:
    # Notepad's "Unicode" is UTF-16 with a byte-order mark; "utf-16-be" here carries none, so write it with one.
    write_images(tmp_path, ["a.png", "sub/b.png"])
    text = "a.png\tHello\r\nsub/b.png\tNew York\r\n"
    data = b"\xfe\xff" + text.encode(encoding) if encoding == "utf-16-be" else text.encode(encoding)
    (tmp_path / "test_gt.txt").write_bytes(data)  # a name read_folder must find by its contents
    (tmp_path / "a.gt.txt").write_bytes("Hello".encode("utf-16"))
    assert rel_pairs(read_folder(tmp_path), tmp_path) == [("a.png", "Hello"), ("sub/b.png", "New York")]
    (tmp_path / "test_gt.txt").unlink()
    assert [r.label for r in read_folder(tmp_path)] == ["Hello"]  # the .gt.txt sidecar, UTF-16 too


def test_read_folder_icdar_escapes_and_priority(tmp_path: Path) -> None:
    write_images(tmp_path, ["word_1.png", "word_2.png"])
    (tmp_path / "gt.txt").write_text('word_1.png, "\\"HIGH"\r\nword_2.png, "it\'s"\r\n')
    assert [r.label for r in read_folder(tmp_path)] == ['"HIGH', "it's"]
    # labels.tsv comes first when a folder has several label files.
    (tmp_path / "labels.tsv").write_text("word_2.png\tTSV\n")
    assert [r.label for r in read_folder(tmp_path)] == ["TSV"]


def test_read_folder_labels_txt_file_names_with_spaces(tmp_path: Path) -> None:
    # Space-separated lines: the path ends at the first word with an image extension.
    write_images(tmp_path, ["my photo.jpg", "shop sign 2.PNG"])
    (tmp_path / "labels.txt").write_text("my photo.jpg Hello World\nshop sign 2.PNG  OPEN \nno_label.png\n")
    stats = PrepareStats()
    assert rel_pairs(read_folder(tmp_path, stats), tmp_path) == [("my photo.jpg", "Hello World"), ("shop sign 2.PNG", "OPEN")]
    assert stats.skipped == {MALFORMED: 1}
    # Paths written on Windows, with backslashes.
    write_images(tmp_path, ["sub/c.png"])
    (tmp_path / "labels.tsv").write_text("sub\\c.png\tWindows\n")
    assert rel_pairs(read_folder(tmp_path), tmp_path) == [("sub/c.png", "Windows")]


def test_read_folder_finds_a_label_file_of_any_name(tmp_path: Path) -> None:
    # Downloaded benchmarks name their lists freely; a top-level text file whose lines name images is the label file,
    # where the file-name fallback would have taken "word_1" for the word.
    write_images(tmp_path, ["test/word_1.png", "test/word_2.png"])
    (tmp_path / "README.txt").write_text("Word crops from street photos.\nSee the paper.\n")
    (tmp_path / "test_gt.txt").write_text('test/word_1.png, "Tiredness"\ntest/word_2.png, "kills"\n')
    assert find_label_file(tmp_path) == tmp_path / "test_gt.txt"
    assert rel_pairs(read_folder(tmp_path), tmp_path) == [("test/word_1.png", "Tiredness"), ("test/word_2.png", "kills")]
    # Two such lists: the user chooses, by giving one as data_dir (paths stay relative to its folder).
    (tmp_path / "train.csv").write_text("file_name,text\ntest/word_2.png,KILLS\n")
    with pytest.raises(ValueError, match="holds 2 label files \\(test_gt.txt, train.csv\\): give the one to read as data_dir"):
        read_folder(tmp_path)
    assert rel_pairs(read_folder(tmp_path / "train.csv"), tmp_path) == [("test/word_2.png", "KILLS")]
    with pytest.raises(ValueError, match="is an image: give the folder"):
        read_folder(tmp_path / "test" / "word_1.png")


def test_read_folder_counts_an_image_listed_twice(tmp_path: Path) -> None:
    # A list merged from two sources names some images twice; scored twice they would weigh double.
    write_images(tmp_path, ["a.png", "b.png"])
    (tmp_path / "labels.tsv").write_text("a.png\tHello\nb.png\tWorld\na.png\tHello\n./a.png\tHullo\n")
    stats = PrepareStats()
    assert rel_pairs(read_folder(tmp_path, stats), tmp_path) == [("a.png", "Hello"), ("b.png", "World")]
    assert stats.skipped == {"duplicate_entry": 2}


@pytest.mark.parametrize("image, listed, text", [
    ("a.png", "labels.tsv", "/home/alice/data/a.png\tHello\n"),  # absolute, from another machine
    ("a.png", "labels.tsv", "C:\\data\\set\\a.png\tHello\n"),  # the same, written on Windows
    ("images/a.png", "labels.tsv", "/home/alice/data/images/a.png\tHello\n"),  # its tail under the folder
    ("images/a.png", "annotations/labels.tsv", "images/a.png\tHello\n"),  # paths from the dataset's root
])
def test_read_folder_finds_images_a_list_names_from_elsewhere(tmp_path: Path, image: str, listed: str, text: str) -> None:
    write_images(tmp_path, [image])
    (tmp_path / listed).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / listed).write_text(text)
    records = read_folder(tmp_path / listed)
    assert [(Path(r.path).resolve(), r.label) for r in records] == [((tmp_path / image).resolve(), "Hello")]


def test_read_folder_unicode_normalisation_of_listed_names(tmp_path: Path) -> None:
    import unicodedata

    write_images(tmp_path, [unicodedata.normalize("NFD", "café.png")])  # as a zip made on a Mac stores it
    (tmp_path / "labels.tsv").write_text(unicodedata.normalize("NFC", "café.png") + "\tcafe\n")
    assert Path(read_folder(tmp_path)[0].path).is_file()


def test_read_folder_refuses_a_list_whose_images_are_all_missing(tmp_path: Path) -> None:
    write_images(tmp_path, ["a.png"])
    (tmp_path / "labels.tsv").write_text("gone/x.png\tHello\ngone/y.png\tWorld\n")
    with pytest.raises(ValueError, match="none of the 2 images 'labels.tsv' lists is there"):
        read_folder(tmp_path)


def test_read_folder_takes_a_bare_name_only_from_the_lists_own_folder(tmp_path: Path) -> None:
    # train/labels.tsv names a.png, which is missing there: the a.png one folder up is another image, not this one.
    write_images(tmp_path, ["a.png", "train/b.png"])
    (tmp_path / "train" / "labels.tsv").write_text("a.png\tHello\nb.png\tWorld\n")
    records = read_folder(tmp_path / "train")
    assert records[0].path == str(tmp_path / "train" / "a.png") and not Path(records[0].path).is_file()


@pytest.mark.parametrize("name, text", [
    ("labels.tsv", "Hello\ta.png\nWorld\tsub/b.png\n"),  # label first
    ("labels.csv", "Hello,a.png\nWorld,sub/b.png\n"),  # no header, label first: the first row is data
    ("labels.csv", "0,a.png,Hello\n1,sub/b.png,World\n"),  # an index column first, no header
    ("labels.csv", "id,img_path,transcript\n0,a.png,Hello\n1,sub/b.png,World\n"),  # other column names
    ("labels.tsv", "a.png\tHello\t0.98\nsub/b.png\tWorld\t1\n"),  # a confidence after the label
])
def test_read_folder_finds_the_path_column(tmp_path: Path, name: str, text: str) -> None:
    write_images(tmp_path, ["a.png", "sub/b.png"])
    (tmp_path / name).write_text(text)
    assert rel_pairs(read_folder(tmp_path), tmp_path) == [("a.png", "Hello"), ("sub/b.png", "World")]


@pytest.mark.parametrize("name, text", [
    ("annotation.txt", "./1/1/3_Hello_17.png 17\n./1/1/4_World_903.png 903\n"),  # MJSynth's list: an index, not a word
    ("labels.tsv", "file_name\ttext\tsplit\n1/1/3_Hello_17.png\tHello\ttrain\n1/1/4_World_903.png\tWorld\tval\n"),
    ("labels.tsv", "\tfile_name\ttext\n0\t1/1/3_Hello_17.png\tHello\n1\t1/1/4_World_903.png\tWorld\n"),  # pandas' index
    ("gt.txt", "1/1/3_Hello_17.png,Latin,Hello\n1/1/4_World_903.png,Latin,World\n"),  # ICDAR MLT: a script column
    ("gt.txt", '1/1/3_Hello_17.png "Hello"\n1/1/4_World_903.png    "World"\n'),  # ICDAR's, its tabs made spaces
    ("labels.tsv", "1/1/3_hello_17.PNG\tHello\n1/1/4_World_903.png\tWorld\n"),  # written where case does not matter
])
def test_read_folder_reads_lists_as_other_tools_write_them(tmp_path: Path, name: str, text: str) -> None:
    write_images(tmp_path, ["1/1/3_Hello_17.png", "1/1/4_World_903.png"])
    (tmp_path / name).write_text(text)
    stats = PrepareStats()
    assert rel_pairs(read_folder(tmp_path, stats), tmp_path) == [("1/1/3_Hello_17.png", "Hello"), ("1/1/4_World_903.png", "World")]
    assert not stats.skipped


LOOKALIKE_LISTS = [
    # a comma in a file name, 'path label' lines: not an id row
    ({"1,000.png": 0, "2,50.png": 0, "3.png": 0}, "list.txt", "1,000.png 1,000\n2,50.png 2,50\n3.png 3\n",
     [("1,000.png", "1,000"), ("2,50.png", "2,50"), ("3.png", "3")]),
    # a path column named as no list names it, an 'id' column beside it: the image field is the path
    ({"crops/a.png": 0, "crops/b.png": 0, "0.png": 0}, "labels.csv", "id,crop_file,label\n0,crops/a.png,Hello\n1,crops/b.png,World\n",
     [("crops/a.png", "Hello"), ("crops/b.png", "World")]),
    # a number label first, a score after the path
    ({"a.png": 0, "b.png": 0}, "labels.tsv", "12\ta.png\t0.98\n345\tb.png\t0.91\n", [("a.png", "12"), ("b.png", "345")]),
    # a word label first, a number after the path: the word is the label (not '3'),
    # while a number first is an index column ('0<TAB>b.png<TAB>42' reads 42)
    ({"a.png": 0, "b.png": 0}, "labels.tsv", "Hello\ta.png\t3\n0\tb.png\t42\n", [("a.png", "Hello"), ("b.png", "42")]),
    # list names in another case than the files, a thumbnail folder with the lowercase names beside them
    ({"IMG_1.PNG": 0, "IMG_2.PNG": 0, "thumbs/img_1.png": 0}, "labels.tsv", "img_1.png\tHello\nimg_2.png\tWorld\n",
     [("IMG_1.PNG", "Hello"), ("IMG_2.PNG", "World")]),
]


@pytest.mark.parametrize("files, name, text, expected", LOOKALIKE_LISTS)
def test_read_folder_lists_that_look_like_other_layouts(tmp_path: Path, files, name, text, expected) -> None:
    write_images(tmp_path, list(files))
    (tmp_path / name).write_text(text)
    assert rel_pairs(read_folder(tmp_path), tmp_path) == expected, text


TOOL_LISTS = [
    # pandas' to_csv(sep="\t") with its index: a number label is the label, not a score before the index.
    ("labels.tsv", "\tfile_name\ttext\n0\ta.png\t42\n1\tb.png\tHello\n2\tc.png\t7\n", ["42", "Hello", "7"]),
    ("labels.tsv", "Hello\ta.png\t0.98\n0\tb.png\t42\t0.9\nc.png\tWorld\t0.5\n", ["Hello", "42", "World"]),
    # A number that also ends the file name is the label: only MJSynth's 1_Hello_17.jpg carries an index there.
    ("labels.tsv", "a.png\t199\nb.png\tOPEN\nc.png\t7\n", ["199", "OPEN", "7"]),
    # A label starting with a quote does not swallow the rows after it.
    ("labels.csv", 'filename,words\na.png,Tiredness\nb.png,"HIGH\nc.png,kills\n', ["Tiredness", '"HIGH', "kills"]),
    # Numbers in JSON, as pandas and Hugging Face write a number column.
    ("metadata.jsonl", "".join(json.dumps({"file_name": n, "text": t}) + "\n" for n, t in zip(NAMES, [42, "Hi", 7.0])),
     ["42", "Hi", "7"]),
    # JSON Lines saved as .json (Dataset.to_json), and pandas' default column-oriented to_json.
    ("labels.json", "".join(json.dumps({"file_name": n, "text": t}) + "\n" for n, t in zip(NAMES, "xyz")), ["x", "y", "z"]),
    ("labels.json", json.dumps({"file_name": dict(enumerate(NAMES)), "text": dict(enumerate(["p", "q", 3]))}),
     ["p", "q", "3"]),
    # Spaces beside an invisible character are trimmed too, and a byte-order mark that joined lists leave at a
    # line's start is no part of the path (not 'Hello ', ' World' and a missing '\ufeffc.png').
    ("labels.tsv", "a.png\tHello \u200b\nb.png\t\u200b World\n\ufeffc.png\tThird\n", ["Hello", "World", "Third"]),
    # Invisible characters pasted from a web page or left by concatenated files, and a don't-care '###'.
    ("labels.tsv", "a.png\tHel\u200blo\nb.png\t\ufeffWorld\u200e\nc.png\t###\n", ["Hello", "World"]),
]


@pytest.mark.parametrize("name, text, expected", TOOL_LISTS)
def test_read_folder_labels_as_tools_write_them(tmp_path: Path, name: str, text: str, expected: list[str]) -> None:
    write_images(tmp_path, NAMES)
    (tmp_path / name).write_text(text, encoding="utf-8")
    stats = PrepareStats()
    assert [r.label for r in read_folder(tmp_path, stats)] == expected, text
    if "###" in text:  # a don't-care label is counted, not read
        assert stats.skipped == {"dont_care_label": 1}


def test_charset_drops_invisible_characters_and_keeps_visible_format_ones() -> None:
    assert Charset.from_labels(["Hel\u200blo", "\u00adx", "\u200c"]).chars == "Helox\u200c"  # ZWNJ is spelling
    # Visible format characters are letters: an Arabic end of ayah stays, a zero-width space goes.
    assert Charset.from_labels(["\u06dd\u0661", "a\u200b"]).chars == "a\u0661\u06dd"


@pytest.mark.parametrize("text", [
    "file_name,text\na.png,Hello, World\nb.png,Hi\nc.png,end,\n",  # the header names two columns, rows hold more
    "a.png,Hello, World\nb.png,Hi\nc.png,end,\n",  # no header
    "a.png,Hello, World,0.97\nb.png,Hi,0.5\nc.png,end,,0.9\n",  # no header, a score after each label
    "0,a.png,Hello, World\n1,b.png,Hi\n2,c.png,end,\n",  # an index column first
])
def test_read_folder_keeps_an_unquoted_comma_in_a_csv_label(tmp_path: Path, text: str) -> None:
    write_images(tmp_path, ["a.png", "b.png", "c.png"])
    (tmp_path / "labels.csv").write_text(text)
    assert rel_pairs(read_folder(tmp_path), tmp_path) == [("a.png", "Hello, World"), ("b.png", "Hi"), ("c.png", "end,")]


def test_read_folder_csv_columns_after_the_label_stay_out_of_it(tmp_path: Path) -> None:
    write_images(tmp_path, ["a.png", "b.png"])
    (tmp_path / "labels.csv").write_text('file_name,text,split\na.png,Hello,train\nb.png,"Hi, you",val\n')
    assert rel_pairs(read_folder(tmp_path), tmp_path) == [("a.png", "Hello"), ("b.png", "Hi, you")]


def test_read_folder_quoted_labels_in_every_layout(tmp_path: Path) -> None:
    # ICDAR's quoted labels, tab-separated or saved as .csv with a comma inside the quotes.
    write_images(tmp_path, ["word_1.png", "word_2.png"])
    (tmp_path / "gt.txt").write_text('word_1.png\t"Tiredness"\nword_2.png\t"Hello, \\"you\\""\n')
    assert [r.label for r in read_folder(tmp_path)] == ["Tiredness", 'Hello, "you"']
    (tmp_path / "gt.txt").unlink()
    (tmp_path / "labels.csv").write_text('word_1.png, "Hello, World"\nword_2.png, "Hi"\n')
    assert [r.label for r in read_folder(tmp_path)] == ["Hello, World", "Hi"]


def test_csv_style_doubled_quotes_in_a_text_list(tmp_path: Path) -> None:
    # pandas' to_csv(sep="\t") and csv.writer escape a quote by doubling it; ICDAR's gt.txt escapes it with \".
    write_images(tmp_path, ["a.png", "b.png", "c.png"])
    (tmp_path / "labels.tsv").write_text('a.png\t"say ""hi"""\nb.png\t"""HIGH"\nc.png\t"plain"\n')
    assert [r.label for r in read_folder(tmp_path)] == ['say "hi"', '"HIGH', "plain"]
    (tmp_path / "gt.txt").write_text('a.png, "say \\"hi\\""\n')
    assert [r.label for r in read_folder(tmp_path / "gt.txt")] == ['say "hi"']


def test_scores_after_a_quoted_label_in_a_text_list(tmp_path: Path) -> None:
    # A recogniser's output kept as ground truth: 'a.png, "Hello", 0.98'. As the .csv and .tsv readers, a comma- or
    # semicolon-separated .txt drops such scores, not keeping them in the label ('"Hello", 0.98').
    write_images(tmp_path, ["a.png", "b.png", "c.png", "d.png"])
    (tmp_path / "gt.txt").write_text('a.png, "Hello", 0.98\nb.png;"World";1\nc.png, "say \\"hi\\"", 0.5\n'
                                     'd.png,3,2,1\n')
    assert [r.label for r in read_folder(tmp_path)] == ["Hello", "World", 'say "hi"', "3,2,1"]


def test_read_folder_excel_pads_rows_with_empty_fields(tmp_path: Path) -> None:
    # Excel pads every row to its widest: the empty last field is a column, not a comma in the label.
    write_images(tmp_path / "x", ["a.png", "b.png", "c.png"])
    (tmp_path / "x" / "labels.csv").write_text("a.png,Hello,\nb.png,World,\nc.png,Sale,checked\n")
    assert [r.label for r in read_folder(tmp_path / "x")] == ["Hello", "World", "Sale"]


def test_read_folder_refuses_a_list_garbled_by_its_code_page(tmp_path: Path) -> None:
    # A list saved in a Russian or Chinese Windows code page is not read as garbled Windows-1252 labels ...
    for name, text, code in [("ru", "Привет", "cp1251"), ("zh", "简单", "gbk")]:
        write_images(tmp_path / name, ["a.png", "b.png"])
        (tmp_path / name / "labels.csv").write_bytes(f"filename,label\na.png,{text}\nb.png,{text}\n".encode(code))
        with pytest.raises(ValueError, match="is not UTF-8.*garbled.*save it again as UTF-8"):
            read_folder(tmp_path / name)
    # ... while a Western one still is, accents and all.
    write_images(tmp_path / "pt", ["a.png", "b.png", "c.png"])
    (tmp_path / "pt" / "labels.csv").write_bytes("filename,label\na.png,ações\nb.png,Größe\nc.png,Café\n".encode("cp1252"))
    assert [r.label for r in read_folder(tmp_path / "pt")] == ["ações", "Größe", "Café"]


def test_read_folder_excel_sep_line_and_the_separator_that_splits_off_the_image(tmp_path: Path) -> None:
    # Excel's 'sep=;' first line names the separator and is no row; the header after it is read as one.
    write_images(tmp_path / "x", ["a.png", "b.png"])
    (tmp_path / "x" / "labels.csv").write_text("sep=;\r\nfile;text\r\na.png;Hello\r\nb.png;World\r\n")
    assert [r.label for r in read_folder(tmp_path / "x")] == ["Hello", "World"]
    (tmp_path / "x" / "labels.csv").write_text("sep=,\nfile,text\na.png,Hel;lo\nb.png,World\n")
    assert [r.label for r in read_folder(tmp_path / "x")] == ["Hel;lo", "World"]
    # No header, ';' inside the labels outnumbering the ',' that splits off the image: the ',' is the separator.
    (tmp_path / "x" / "labels.csv").write_text("a.png,A;B;C\nb.png,x;y\n")
    assert [r.label for r in read_folder(tmp_path / "x")] == ["A;B;C", "x;y"]
    (tmp_path / "x" / "labels.csv").write_text("a.png;Hello\nb.png;x,y\n")  # and the other way round
    assert [r.label for r in read_folder(tmp_path / "x")] == ["Hello", "x,y"]


def test_read_folder_reads_a_windows_1252_list(tmp_path: Path) -> None:
    write_images(tmp_path, ["a.png"])
    (tmp_path / "labels.csv").write_bytes("filename;label\na.png;Café\n".encode("cp1252"))  # Excel's "CSV"
    assert [r.label for r in read_folder(tmp_path)] == ["Café"]


def test_read_folder_text_encodings_line_by_line(tmp_path: Path) -> None:
    write_images(tmp_path, ["a.png", "b.png", "c.png"])
    # UTF-8 with one line appended by a Windows tool in Windows-1252: both kinds of accents read.
    (tmp_path / "labels.tsv").write_bytes("a.png\tCafé\nb.png\tStraße\n".encode() + "c.png\tGrüße\n".encode("cp1252"))
    assert [r.label for r in read_folder(tmp_path)] == ["Café", "Straße", "Grüße"]
    # UTF-16 without its byte-order mark.
    (tmp_path / "labels.tsv").write_bytes("a.png\tHello\r\nb.png\tWorld\r\n".encode("utf-16-le"))
    assert [r.label for r in read_folder(tmp_path)] == ["Hello", "World"]


def test_read_folder_utf16_without_a_mark_holding_a_character_with_a_zero_low_byte(tmp_path: Path) -> None:
    # UTF-16 without a mark holding a character whose low byte is zero (U+4E00).
    write_images(tmp_path, ["a.png", "b.png", "c.png"])
    (tmp_path / "labels.txt").write_bytes("a.png\tHello\nb.png\tWorld\nc.png\t\u4e00\n".encode("utf-16-le"))
    assert [r.label for r in read_folder(tmp_path)] == ["Hello", "World", "\u4e00"]


def test_read_folder_a_binary_file_under_a_list_name(tmp_path: Path) -> None:
    write_images(tmp_path, ["a.png"])
    (tmp_path / "labels.txt").write_bytes(np.random.default_rng(0).integers(0, 256, 2000, dtype=np.uint8).tobytes())
    with pytest.raises(ValueError, match="'labels.txt' is not a text file"):  # not a path of garbage 'is not there'
        read_folder(tmp_path)
    (tmp_path / "labels.txt").write_bytes(b"a.png\tHi\x00\n")  # one stray NUL is a label's problem, not the file's
    assert len(read_folder(tmp_path)) == 1


def test_read_folder_json_label_files(tmp_path: Path) -> None:
    import json

    write_images(tmp_path, ["word_1.png", "crops/word_2.png"])
    # docTR's recognition folder: labels.json maps each file name to its word.
    (tmp_path / "labels.json").write_text(json.dumps({"word_1.png": "Tiredness", "crops/word_2.png": " kills"}))
    assert rel_pairs(read_folder(tmp_path), tmp_path) == [("word_1.png", "Tiredness"), ("crops/word_2.png", "kills")]
    # MMOCR 1.x's textrecog_test.json, found by its contents; an item without text is counted, not fatal.
    (tmp_path / "labels.json").unlink()
    mmocr = {"metainfo": {"dataset_type": "TextRecogDataset"}, "data_list": [
        {"img_path": "word_1.png", "instances": [{"text": "Tiredness"}]},
        {"img_path": "crops/word_2.png", "instances": [{"text": "kills"}]},
        {"img_path": "crops/word_2.png", "instances": []}]}
    (tmp_path / "textrecog_test.json").write_text(json.dumps(mmocr))
    stats = PrepareStats()
    assert rel_pairs(read_folder(tmp_path, stats), tmp_path) == [("word_1.png", "Tiredness"), ("crops/word_2.png", "kills")]
    assert stats.skipped == {MALFORMED: 1}
    # A list of objects with the usual column names.
    rows = [{"file_name": "word_1.png", "text": "Tiredness"}, {"filename": "crops/word_2.png", "label": "kills"}]
    (tmp_path / "list.json").write_text(json.dumps(rows))
    assert [r.label for r in read_folder(tmp_path / "list.json")] == ["Tiredness", "kills"]
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="is not valid JSON"):
        read_folder(tmp_path / "bad.json")


def test_read_folder_donut_labels(tmp_path: Path) -> None:
    # Donut / SynthDoG: metadata.jsonl whose ground_truth is a JSON string holding gt_parse.text_sequence.
    write_images(tmp_path / "donut", ["0.png", "1.png"])
    (tmp_path / "donut" / "metadata.jsonl").write_text("".join(
        json.dumps({"file_name": f"{i}.png", "ground_truth": json.dumps({"gt_parse": {"text_sequence": t}})}) + "\n"
        for i, t in enumerate(["Hello", "World"])))
    assert [r.label for r in read_folder(tmp_path / "donut")] == ["Hello", "World"]


def test_a_jsonl_first_line_is_data_never_a_header(tmp_path: Path) -> None:
    # A JSONL's first line is data, never a header: a bad one is counted like any other.
    write_images(tmp_path, ["0001.png"])
    (tmp_path / "metadata.jsonl").write_text('{"file_name": "0001.png", "text": null}\n')
    stats = PrepareStats()
    with pytest.raises(ValueError, match="lists no images"):
        read_folder(tmp_path, stats)
    assert stats.skipped == {MALFORMED: 1}


def test_read_folder_iiit5k_mat_files(tmp_path: Path) -> None:
    # IIIT5K as it ships: train/ and test/ crops named by number, a .mat per split, a lexicon, character boxes.
    write_images(tmp_path, ["test/1002_1.png", "test/1009_2.png", "train/1_1.png"])
    lexi = np.array(["PRIVATE", "HOTEL"], dtype=object)
    savemat_struct(tmp_path / "testdata.mat", "testdata",
                    [("test/1002_1.png", "PRIVATE", lexi, lexi), ("test/1009_2.png", "2011", lexi, lexi)],
                    ("ImgName", "GroundTruth", "smallLexi", "mediumLexi"))
    savemat_struct(tmp_path / "traindata.mat", "traindata", [("train/1_1.png", "You")], ("ImgName", "GroundTruth"))
    savemat_struct(tmp_path / "testCharBound.mat", "testCharBound",
                    [("test/1002_1.png", "PRIVATE", np.zeros((7, 4)))], ("ImgName", "chars", "charBB"))
    (tmp_path / "lexicon.txt").write_text("PRIVATE\nHOTEL\n")
    # Two splits in one folder: the user picks one, by the error's own example (never the crops' numbers as labels).
    with pytest.raises(ValueError, match="holds 2 label files \\(testdata.mat, traindata.mat\\)"):
        read_folder(tmp_path)
    assert rel_pairs(read_folder(tmp_path / "testdata.mat"), tmp_path) == [("test/1002_1.png", "PRIVATE"),
                                                                      ("test/1009_2.png", "2011")]
    (tmp_path / "traindata.mat").unlink()
    stats = PrepareStats()
    assert [r.label for r in read_folder(tmp_path, stats)] == ["PRIVATE", "2011"]  # found by its contents
    assert stats.source == "testdata.mat"
    with pytest.raises(ValueError, match="holds no struct array with an image name and a label field"):
        read_folder(tmp_path / "testCharBound.mat")


@pytest.mark.parametrize("content", [b"", b"<html>404 Not Found</html>", b"MATLAB 5.0" + bytes(200)])
def test_a_damaged_mat_file_is_not_a_label_list(tmp_path: Path, content: bytes) -> None:
    # A failed download saved as testdata.mat: the folder is read by its file names, and the file given as data_dir
    # says what it is not, naming it (not scipy's bare IndexError or MatReadError).
    write_images(tmp_path, ["Hello.png", "World.png"])
    (tmp_path / "testdata.mat").write_bytes(content)
    assert sorted(r.label for r in read_folder(tmp_path)) == ["Hello", "World"]
    with pytest.raises(ValueError, match="testdata.mat' is not a MATLAB file scipy can read"):
        read_folder(tmp_path / "testdata.mat")


def test_read_folder_lists_of_coco_text_ids_without_extensions(tmp_path: Path) -> None:
    # COCO-Text words (ICDAR 2017): train_words_gt.txt '1000000,EXIT' for train_words/1000000.jpg.
    coco = tmp_path / "coco"
    write_images(coco, ["train_words/1000000.jpg", "train_words/1000001.jpg", "val_words/1000002.jpg"])
    (coco / "train_words_gt.txt").write_text("1000000,EXIT\n1000001,Hello, World\n")
    (coco / "val_words_gt.txt").write_text("1000002,STOP\n")
    assert rel_pairs(read_folder(coco / "train_words_gt.txt"), coco) == [("train_words/1000000.jpg", "EXIT"),
                                                                     ("train_words/1000001.jpg", "Hello, World")]
    with pytest.raises(ValueError, match="poor labels.*holds 2 label files"):
        read_folder(coco / "train_words")  # not labelled '1000000', '1000001'


def test_read_folder_a_kaggle_id_text_list_beside_its_images(tmp_path: Path) -> None:
    # A Kaggle-style train.csv 'id,text' beside train/<id>.png.
    kaggle = tmp_path / "kaggle"
    ids = ["e3e70682c209", "f728b4fa4248", "23a7711a8133"]
    write_images(kaggle, [f"train/{i}.png" for i in ids])
    (kaggle / "train.csv").write_text("id,text\n" + "".join(f"{i},Word{n}\n" for n, i in enumerate(ids)))
    assert [r.label for r in read_folder(kaggle)] == ["Word0", "Word1", "Word2"]
    with pytest.raises(ValueError, match="train.csv' one level up lists these images"):
        read_folder(kaggle / "train")


def test_read_folder_a_ppocrlabel_project_reads_its_recognition_list(tmp_path: Path) -> None:
    d = tmp_path / "shop"
    write_images(d, ["IMG_1.jpg", "IMG_2.jpg", "crop_img/IMG_1_crop_0.jpg", "crop_img/IMG_2_crop_0.jpg"])
    box = json.dumps([{"transcription": "Open", "points": [[1, 1], [9, 1], [9, 5], [1, 5]], "difficult": False}])
    (d / "Label.txt").write_text(f"shop/IMG_1.jpg\t{box}\nshop/IMG_2.jpg\t{box}\n")
    (d / "fileState.txt").write_text(f"{d}/IMG_1.jpg\t1\n{d}/IMG_2.jpg\t1\n")
    (d / "rec_gt.txt").write_text("crop_img/IMG_1_crop_0.jpg\tOpen\ncrop_img/IMG_2_crop_0.jpg\tEXIT\n")
    assert [r.label for r in read_folder(d)] == ["Open", "EXIT"]  # the recognition list, not Label.txt's boxes
    for name in ("Label.txt", "fileState.txt"):
        with pytest.raises(ValueError, match="not words: give the recognition list.*rec_gt.txt"):
            read_folder(d / name)


def test_a_list_whose_every_label_is_one_flag_is_no_list_of_words(tmp_path: Path) -> None:
    # A list whose every label is the same is no list of words.
    write_images(tmp_path / "flags", [f"{i}.png" for i in range(10)])
    (tmp_path / "flags" / "checked.txt").write_text("".join(f"{i}.png\ttrue\n" for i in range(10)))
    with pytest.raises(ValueError, match="every one of the 10 labels in 'checked.txt' is 'true': a column of flags"):
        read_folder(tmp_path / "flags")


def test_a_label_file_line_naming_a_heic_image_is_not_malformed(tmp_path: Path) -> None:
    write_images(tmp_path, ["a.png"])
    (tmp_path / "b.HEIC").write_bytes(HEIC)
    (tmp_path / "labels.txt").write_text("a.png Hello\nb.HEIC World\n")
    reader = PrepareStats()
    records = read_folder(tmp_path, reader)
    assert rel_pairs(records, tmp_path) == [("a.png", "Hello"), ("b.HEIC", "World")] and not reader.skipped
    stats = prepare_split(records, Charset.seed(), tmp_path / "out", "train", progress=False)
    assert stats.used == 1 and stats.skipped == {"unsupported_format": 1}
