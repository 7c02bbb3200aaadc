"""Where bad data is: ``FILE: record N (line L), field 'F'``, records counted from 1 and lines as a file has
them, never a 0-based index that reads like a line number."""

from __future__ import annotations

import pytest

from pytest_trustllm.datasets import DatasetError, read_file, record_line


@pytest.mark.parametrize(("kwargs", "text"), [
    ({}, "f.csv: oops"),
    ({"record": 0}, "f.csv: record 1: oops"),
    ({"record": 0, "line": 2}, "f.csv: record 1 (line 2): oops"),
    ({"line": 7}, "f.csv: line 7: oops"),
    ({"record": 4, "field": "label"}, "f.csv: record 5, field 'label': oops"),
    ({"record": 4, "line": 9, "field": "meta/x"}, "f.csv: record 5 (line 9), field 'meta/x': oops"),
])
def test_the_location_is_spelt_out(kwargs, text):
    assert str(DatasetError("f.csv", "oops", **kwargs)) == text


def test_a_field_the_message_names_is_not_repeated():
    error = DatasetError("f.csv", "field 'prompt' is missing", record=0, line=2, field="prompt")
    assert str(error) == "f.csv: record 1 (line 2): field 'prompt' is missing"
    assert (error.record, error.line, error.field) == (0, 2, "prompt")  # the index stays 0-based for code


@pytest.mark.parametrize(("name", "content", "lines"), [
    ("a.jsonl", '{"prompt": "a"}\n\n{"prompt": "b"}\r\n{"prompt": "c"}', [1, 3, 4]),
    ("a.csv", 'prompt,label\na,1\n\n"b\nstill b",2\nc,3\n', [2, 4, 6]),
    ("a.json", '[{"prompt": "a"},\n {"prompt": "b"},\n\n {"prompt":\n  "c"}]', [1, 2, 4]),
])
def test_each_record_knows_its_line(tmp_path, name, content, lines):
    path = tmp_path / name
    path.write_bytes(content.encode())
    records = read_file(path)
    assert [record_line(str(path), records, i) for i in range(len(records))] == lines


def test_no_line_for_records_the_file_does_not_hold_as_they_are(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"prompt": "a"}\n{"prompt": "b"}\n')
    assert record_line(str(path), [{"prompt": "b"}], 0) is None  # a loader hook filtered them
    assert record_line("hf:org/name", [{"prompt": "b"}], 0) is None
    assert record_line(str(tmp_path / "gone.jsonl"), [{"prompt": "b"}], 0) is None
    wrapped = tmp_path / "w.json"
    wrapped.write_text('{"data": [{"prompt": "a"}]}')
    assert record_line(str(wrapped), read_file(wrapped), 0) is None  # only a top-level list has lines
