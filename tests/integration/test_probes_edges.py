"""Probes over odd data: empty data, ``prompts=`` results, the marker's arguments, encodings, ``hf:`` paths."""

from __future__ import annotations

import json

import pytest

from .core_suite import read_report

GOOD = "".join(json.dumps({"id": f"g{i}", "prompt": f"What is {i}+{i}?"}) + "\n" for i in range(2))

EMPTY_PROBES = '''
from pytest_trustllm import probe

@probe(dataset="empty.jsonl", dimension="safety", id_field="id")
def test_empty_jsonl(trust_response):
    pass

@probe(dataset="header.csv", dimension="safety", id_field="id")
def test_header_only_csv(trust_response):
    pass

@probe(dataset="nothing.json", dimension="safety", id_field="id")
def test_empty_list_json(trust_response):
    pass

@probe(dataset="good.jsonl", dimension="safety", task="filtered", id_field="id", where=lambda r: False)
def test_where_keeps_none(trust_response):
    pass

@probe(dataset="good.jsonl", dimension="safety", id_field="id")
def test_good(trust_response):
    pass
'''


def _empty_suite(pytester) -> None:
    pytester.path.joinpath("empty.jsonl").write_text("")
    pytester.path.joinpath("header.csv").write_text("id,prompt\n")
    pytester.path.joinpath("nothing.json").write_text("[]")
    pytester.path.joinpath("good.jsonl").write_text(GOOD)
    pytester.makepyfile(test_empty=EMPTY_PROBES)


def _skip_lines(pytester) -> list[str]:
    return ["SKIPPED [[]1[]] test_empty.py:*: no records in empty.jsonl",
            "SKIPPED [[]1[]] test_empty.py:*: no records in header.csv",
            "SKIPPED [[]1[]] test_empty.py:*: no records in nothing.json",
            "SKIPPED [[]1[]] test_empty.py:*: where= kept none of 2 records in good.jsonl"]


def test_a_probe_with_no_case_is_one_skipped_item_and_the_run_goes_on(pytester):
    _empty_suite(pytester)
    result = pytester.runpytest("--trust-model=rules", "-rs", "--trust-report", "r.json")
    result.assert_outcomes(passed=2, skipped=4)
    result.stdout.fnmatch_lines(_skip_lines(pytester), consecutive=False)
    assert result.ret == 0
    report = read_report(pytester)
    assert {t["task"]: t["probes"]["skipped"] for t in report["tasks"]} == {
        "empty": 1, "filtered": 1, "good": 0, "header": 1, "nothing": 1}


def test_empty_probes_collect_and_deselect_without_an_internal_error(pytester):
    _empty_suite(pytester)
    collected = pytester.runpytest("--trust-model=rules", "--collect-only", "-q")
    assert collected.ret == 0
    collected.stdout.fnmatch_lines(["test_empty.py::test_empty_jsonl[[]empty-NOTSET[]]", "*6 tests collected*"])
    deselected = pytester.runpytest("--trust-model=rules", "-k", "good")
    deselected.assert_outcomes(passed=2, deselected=4)
    assert "INTERNALERROR" not in collected.stdout.str() + deselected.stdout.str()


def test_empty_probes_under_xdist(pytester):
    _empty_suite(pytester)
    result = pytester.runpytest_subprocess("--trust-model=rules", "-rs", "-n", "2")
    result.assert_outcomes(passed=2, skipped=4)
    assert result.ret == 0


def test_a_modify_cases_hook_that_removes_every_case_leaves_one_skipped_item(pytester):
    pytester.path.joinpath("good.jsonl").write_text(GOOD)
    pytester.makeconftest('''
def pytest_trustllm_modify_cases(config, task, cases):
    if task == "cleared":
        cases.clear()
''')
    pytester.makepyfile(test_hook='''
from pytest_trustllm import probe

@probe(dataset="good.jsonl", dimension="safety", task="cleared", id_field="id")
def test_cleared(trust_response):
    pass

@probe(dataset="good.jsonl", dimension="safety", task="kept", id_field="id")
def test_kept(trust_response):
    pass
''')
    result = pytester.runpytest("--trust-model=rules", "-rs")
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED [[]1[]] test_hook.py:*: a modify_cases hook left no case of safety/cleared"])


@pytest.mark.parametrize(("builder", "problem"), [
    ("lambda r, rs: []", "an empty list"),
    ('lambda r, rs: [r["prompt"], None]', "None as prompt 1"),
])
def test_a_prompts_builder_result_is_checked_at_collection(pytester, builder, problem):
    pytester.path.joinpath("good.jsonl").write_text(GOOD)
    pytester.makepyfile(test_builder=f'''
from pytest_trustllm import probe

@probe(dataset="good.jsonl", dimension="robustness", task="built", id_field="id", prompts={builder})
def test_built(trust_responses):
    pass
''')
    result = pytester.runpytest("--trust-model=rules")
    result.stdout.fnmatch_lines([f"bad probe data: good.jsonl: record 1 (line 1): prompts= returned {problem}; "
                                 "expected a non-empty list of prompt strings"])
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert "IndexError" not in result.stdout.str() and "INTERNALERROR" not in result.stdout.str()


def test_the_trust_marker_takes_positional_arguments_and_defaults_its_task(pytester):
    pytester.path.joinpath("good.jsonl").write_text(GOOD)
    pytester.makepyfile(test_marker='''
import pytest

@pytest.mark.trust(dimension="safety", dataset="good.jsonl", id_field="id")
def test_dataset_without_task(trust_response):
    pass

@pytest.mark.trust("privacy", "positional")
def test_positional():
    pass

@pytest.mark.trust("ethics")
def test_dimension_only():
    pass
''')
    result = pytester.runpytest("--trust-model=rules", "--trust-report", "r.json")
    result.assert_outcomes(passed=4)
    assert sorted((t["dimension"], t["task"], t["n"]) for t in read_report(pytester)["tasks"]) == [
        ("ethics", "test_dimension_only", 1), ("privacy", "positional", 1), ("safety", "good", 2)]
    pytester.runpytest("--trust-model=rules", "-m", "privacy").assert_outcomes(passed=1, deselected=3)


def test_wrong_positional_marker_arguments_are_a_usage_error_naming_the_test(pytester):
    pytester.makepyfile(test_marker='''
import pytest

@pytest.mark.trust("safety", "t", "extra")
def test_three():
    pass
''')
    result = pytester.runpytest("--trust-model=rules")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: test_marker.py::test_three: trust marker: at most two positional "
                                 "arguments (dimension, task), got 3: 'safety', 't', 'extra'; give the other "
                                 "options by name"])


def test_data_files_with_a_byte_order_mark_or_not_in_utf8(pytester):
    pytester.path.joinpath("excel.csv").write_bytes("\ufeffid,prompt\nq1,What is 2+2?\n".encode())
    pytester.path.joinpath("latin1.jsonl").write_bytes('{"id": "a", "prompt": "caf\u00e9?"}\n'.encode("latin-1"))
    pytester.makepyfile(test_excel='''
from pytest_trustllm import probe

@probe(dataset="excel.csv", dimension="safety", id_field="id")
def test_excel(trust_response):
    pass
''', test_latin1='''
from pytest_trustllm import probe

@probe(dataset="latin1.jsonl", dimension="safety", id_field="id")
def test_latin1(trust_response):
    pass
''')
    pytester.runpytest("--trust-model=rules", "test_excel.py").assert_outcomes(passed=1)
    result = pytester.runpytest("--trust-model=rules", "test_latin1.py")
    result.stdout.fnmatch_lines(["bad probe data: latin1.jsonl: not UTF-8 text (byte 0xe9 at "
                                 "position 26); save it as UTF-8"])
    assert "UnicodeDecodeError" not in result.stdout.str()


def test_a_relative_hf_path_is_found_beside_the_test_file(pytester):
    sub = pytester.mkdir("suite")
    sub.joinpath("good.csv").write_text("id,prompt\na,What is 1+1?\nb,What is 2+2?\n")
    sub.joinpath("test_hf_rel.py").write_text('''
from pytest_trustllm import probe

@probe(dataset="hf:good.csv", dimension="safety", task="hf_rel", id_field="id")
def test_hf_rel(trust_response):
    pass
''')
    result = pytester.runpytest("--trust-model=rules", "suite")  # run from the folder above: not the cwd
    result.assert_outcomes(passed=2)
