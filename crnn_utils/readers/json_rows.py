"""JSON label files as (path, label) rows: docTR's, MMOCR's, pandas', Hugging Face's JSON Lines."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from .rows import LABEL_COLUMNS, PATH_COLUMNS, Row
from .text_encoding import open_text


def json_file_rows(path: Path) -> Iterator[Row]:
    """(path, label) rows of a JSON label file: docTR's {"img.png": "label"}, MMOCR's data_list, a list of objects,
    pandas' column-oriented to_json, or JSON Lines under a .json name."""
    with open_text(path) as f:
        text = f.read()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        if not e.msg.startswith("Extra data"):
            raise ValueError(f"'{path}' is not valid JSON ({e})") from None
        # JSON Lines under a .json name: Hugging Face's Dataset.to_json and pandas' to_json(lines=True) write that.
        for line in text.splitlines():
            if line.strip():
                yield json_row(line)
        return
    columns = {k.lower(): v for k, v in data.items()} if isinstance(data, dict) else {}
    p = next((columns[n] for n in PATH_COLUMNS if isinstance(columns.get(n), dict)), None)
    q = next((columns[n] for n in LABEL_COLUMNS if isinstance(columns.get(n), dict)), None)
    if p is not None and q is not None:
        # pandas' default DataFrame.to_json: {"file_name": {"0": "a.png", ...}, "text": {"0": "Hello", ...}}
        for key, rel in p.items():
            text = json_text(q.get(key))
            ok = isinstance(rel, str) and text is not None
            yield ((rel, text) if ok else None), f"{rel!r}: {q.get(key)!r}"[:80]
    elif isinstance(data, dict) and isinstance(data.get("data_list"), list):
        # MMOCR 1.x (textrecog_test.json): {"img_path": ..., "instances": [{"text": ...}]}, one instance per crop.
        for item in data["data_list"]:
            inst = item.get("instances") if isinstance(item, dict) else None
            text = json_text(inst[0].get("text")) if isinstance(inst, list) and inst and isinstance(inst[0], dict) else None
            rel = item.get("img_path") if isinstance(item, dict) else None
            ok = isinstance(rel, str) and text is not None
            yield ((rel, text) if ok else None), json.dumps(item)[:80]
    elif isinstance(data, dict):
        for rel, label in data.items():
            text = json_text(label)
            yield ((rel, text) if text is not None else None), f"{rel}: {label!r}"[:80]
    elif isinstance(data, list):
        for item in data:
            yield json_row(json.dumps(item))[0], json.dumps(item)[:80]
    else:
        raise ValueError(f"'{path}' is JSON but neither a {{file: label}} object nor a list of records")


def json_row(line: str) -> Row:
    """One JSONL object with a path key and a label key (Hugging Face imagefolder's metadata.jsonl)."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return None, line
    if not isinstance(obj, dict):
        return None, line
    rel = next((obj[k] for k in PATH_COLUMNS if isinstance(obj.get(k), str)), None)
    label = next((text for k in LABEL_COLUMNS if (text := json_text(obj.get(k))) is not None), None)
    return ((rel, label) if rel is not None and label is not None else None), line


def json_text(value: object) -> str | None:
    """A JSON label as text: a string, or a whole number as pandas and Hugging Face write a number column (42, 42.0)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None
