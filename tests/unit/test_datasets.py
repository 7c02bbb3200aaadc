"""Reading probe files and validating records: the messages a user gets on bad data."""

from __future__ import annotations

import json

import pytest

from pytest_trustllm.datasets import DatasetError, read_file, validate


def test_formats(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps([{"prompt": "x"}]))
    (tmp_path / "b.jsonl").write_text('{"prompt": "y"}\n\n{"prompt": "z"}\n')
    (tmp_path / "c.csv").write_text("prompt,label\nhello,1\n")
    (tmp_path / "d.json").write_text(json.dumps({"data": [{"prompt": "w"}]}))
    assert read_file(tmp_path / "a.json") == [{"prompt": "x"}]
    assert read_file(tmp_path / "b.jsonl") == [{"prompt": "y"}, {"prompt": "z"}]
    assert read_file(tmp_path / "c.csv") == [{"prompt": "hello", "label": "1"}]
    assert read_file(tmp_path / "d.json") == [{"prompt": "w"}]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("x.json", '{"a": 1}', "x.json: expected a JSON list of objects, got dict"),
    ("x.json", "[1,", "x.json: line 1: invalid JSON (Expecting value at column 4)"),
    ("x.jsonl", '{"prompt": "a"}\n{oops}\n', "x.jsonl: line 2: invalid JSON (Expecting property name enclosed in double quotes at column 2)"),
    ("x.txt", "hi", "x.txt: unknown file type '.txt'; accepted: .json, .jsonl, .ndjson, .csv"),
])
def test_bad_files(tmp_path, name, content, message):
    (tmp_path / name).write_text(content)
    with pytest.raises(DatasetError) as info:
        read_file(tmp_path / name)
    assert f"{tmp_path}/{message}" in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="nope.jsonl: file not found"):
        read_file(tmp_path / "nope.jsonl")


def test_validate_messages():
    with pytest.raises(DatasetError, match=r"^f: record 3: field 'prompt' is missing$"):
        validate([{"prompt": "a"}, {"prompt": "b"}, {"text": "c"}], "f", None)
    with pytest.raises(DatasetError, match=r"^f: record 1: expected an object, got list$"):
        validate([[1]], "f", None)
    schema = {"type": "object", "required": ["prompt", "label"]}
    with pytest.raises(DatasetError, match=r"^f: record 1: 'label' is a required property$"):
        validate([{"prompt": "a"}], "f", schema)
