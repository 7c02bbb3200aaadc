"""Probe data edge cases: encodings, empty files, ``prompts=`` results, the marker's arguments, ``hf:`` paths."""

from __future__ import annotations

import pytest

from pytest_trustllm.cases import GenParams
from pytest_trustllm.datasets import DatasetError, read_file
from pytest_trustllm.markers import check_marker, marker_options
from pytest_trustllm.probe import build_cases, resolve_dataset


def test_a_byte_order_mark_is_not_part_of_the_first_field(tmp_path):
    (tmp_path / "excel.csv").write_bytes("\ufeffid,prompt\nq1,héllo\n".encode())
    (tmp_path / "a.jsonl").write_bytes('\ufeff{"id": "a", "prompt": "x"}\n'.encode())
    (tmp_path / "a.json").write_bytes('\ufeff[{"id": "a", "prompt": "x"}]'.encode())
    assert read_file(tmp_path / "excel.csv") == [{"id": "q1", "prompt": "héllo"}]
    assert read_file(tmp_path / "a.jsonl") == [{"id": "a", "prompt": "x"}]
    assert read_file(tmp_path / "a.json") == [{"id": "a", "prompt": "x"}]


@pytest.mark.parametrize("name", ["latin1.jsonl", "latin1.csv", "latin1.json"])
def test_text_that_is_not_utf8_is_bad_data_saying_where(tmp_path, name):
    body = {"latin1.jsonl": '{"id": "a", "prompt": "caf\u00e9"}\n', "latin1.csv": "id,prompt\na,caf\u00e9\n",
            "latin1.json": '[{"id": "a", "prompt": "caf\u00e9"}]'}[name]
    data = body.encode("latin-1")
    (tmp_path / name).write_bytes(data)
    with pytest.raises(DatasetError) as info:
        read_file(tmp_path / name)
    position = data.index(b"\xe9")
    assert str(info.value) == (f"{tmp_path / name}: not UTF-8 text (byte 0xe9 at position {position}); "
                               "save it as UTF-8")


def test_jsonl_lines_end_at_any_newline(tmp_path):
    (tmp_path / "crlf.jsonl").write_bytes(b'{"prompt": "a"}\r\n{"prompt": "b"}\r\n')
    assert read_file(tmp_path / "crlf.jsonl") == [{"prompt": "a"}, {"prompt": "b"}]


@pytest.mark.parametrize(("name", "content"), [("e.jsonl", ""), ("e.csv", ""), ("h.csv", "id,prompt\n"),
                                               ("e.json", "[]"), ("blank.json", "  \n")])
def test_empty_files_hold_no_records(tmp_path, name, content):
    (tmp_path / name).write_text(content)
    assert read_file(tmp_path / name) == []


RECORDS = [{"id": "a", "prompt": "first"}, {"id": "b", "prompt": "second"}]


def _build(prompts):
    return build_cases(RECORDS, "data.jsonl", {"dimension": "robustness", "task": "t", "id_field": "id",
                                               "prompts": prompts}, GenParams())


@pytest.mark.parametrize(("builder", "problem"), [
    (lambda r, rs: [], "an empty list"),
    (lambda r, rs: [r["prompt"], None], "None as prompt 1"),
    (lambda r, rs: [r["prompt"], 3], "3 as prompt 1"),
    (lambda r, rs: [" "], "' ' as prompt 0"),
    (lambda r, rs: r["prompt"], "a str ('first')"),
    (lambda r, rs: None, "a NoneType (None)"),
])
def test_a_prompts_builder_must_return_prompt_strings(builder, problem):
    with pytest.raises(DatasetError) as info:
        _build(builder)
    assert str(info.value) == f"data.jsonl: record 1: prompts= returned {problem}; expected a non-empty list of prompt strings"


def test_a_prompts_builder_may_return_a_tuple():
    cases = _build(lambda r, rs: (r["prompt"], r["prompt"].upper()))
    assert cases[1].prompts == ("second", "SECOND")


def test_marker_options_take_dimension_and_task_positionally():
    assert marker_options(("safety", "positional"), {"threshold": 0.9}, "test_x") == {
        "dimension": "safety", "task": "positional", "threshold": 0.9}


def test_marker_task_defaults_to_the_data_file_stem_else_the_test_name():
    assert marker_options((), {"dimension": "safety", "dataset": "data/good.jsonl"}, "test_x")["task"] == "good"
    assert marker_options(("safety",), {}, "test_x")["task"] == "test_x"
    assert marker_options((), {"dimension": "safety", "task": "named"}, "test_x")["task"] == "named"


@pytest.mark.parametrize(("dataset", "task"), [
    ("data/harm.v2.jsonl", "harm-v2"), ("harm requests.csv", "harm-requests"), ("_private.jsonl", "private"),
    ("hf:org/set:test", "test"), ("....jsonl", "test_x"), ("Harm_Ünïcode.jsonl", "Harm_Ünïcode"),
    ("données sûres.csv", "données-sûres"),
])
def test_a_default_task_is_a_name_gates_can_refer_to(dataset, task):
    assert marker_options((), {"dimension": "safety", "dataset": dataset}, "test_x")["task"] == task


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (("safety", "t", "extra"), {}, "trust marker: at most two positional arguments (dimension, task), got 3: "
                                   "'safety', 't', 'extra'; give the other options by name"),
    (("safety",), {"dimension": "privacy"}, "trust marker: dimension given twice: positionally ('safety') and "
                                            "as dimension='privacy'"),
    ((0.9,), {}, "dimension=0.9: expected a non-empty string, e.g. "
                 "@pytest.mark.trust(dimension='safety', task='harmful_requests')"),
    (("safety",), {"task": "harm v2"}, "task='harm v2': a task is a name gates can refer to (letters, digits, "
                                      "'_' and '-', starting with a letter or digit), e.g. 'harm-v2'"),
    (("customer support",), {}, "dimension='customer support': a dimension is a name gates can refer to "
                                "(letters, digits, '_' and '-', starting with a letter or digit), e.g. "
                                "'customer-support'"),
])
def test_check_marker_reports_wrong_positional_arguments(args, kwargs, message):
    with pytest.raises(pytest.UsageError) as info:
        check_marker(kwargs, args)
    assert str(info.value) == message


def test_a_relative_hf_path_resolves_like_a_plain_path(tmp_path, monkeypatch):
    tests, elsewhere = tmp_path / "tests", tmp_path / "elsewhere"
    tests.mkdir()
    elsewhere.mkdir()
    (tests / "good.csv").write_text("prompt\nhi\n")
    (tmp_path / "rooted.jsonl").write_text('{"prompt": "hi"}\n')
    monkeypatch.chdir(elsewhere)
    test_file = tests / "test_x.py"
    assert resolve_dataset("hf:good.csv", test_file, tmp_path, None) == f"hf:{tests / 'good.csv'}"
    assert resolve_dataset("hf:good.csv:test", test_file, tmp_path, None) == f"hf:{tests / 'good.csv'}:test"
    assert resolve_dataset("hf:rooted.jsonl", test_file, tmp_path, None) == f"hf:{tmp_path / 'rooted.jsonl'}"
    # not there: a hub id (or the datasets library's own lookup), as given
    assert resolve_dataset("hf:someone/data:train", test_file, tmp_path, None) == "hf:someone/data:train"
