"""Bad probe data is one clean collection error naming the file, the record (1-based, with its line) and the
field; the other modules still collect. Covers ``group_field=``, ``schema=`` paths, and ``where=``/``prompts=``/
``group_field=`` callables that raise on a record."""

from __future__ import annotations

import pytest

GOOD_MODULE = '''
from pytest_trustllm import probe

@probe(dataset="data/good.jsonl", dimension="safety", id_field="id")
def test_good(trust_case):
    pass
'''


def _collect(pytester, **modules):
    data = pytester.path / "data"
    data.mkdir(exist_ok=True)
    (data / "good.jsonl").write_text('{"id": "g0", "prompt": "Hi?"}\n')
    (data / "x.jsonl").write_text('{"id": "a", "prompt": "p1", "expect": "x", "g": "1"}\n'
                                  '{"id": "b", "prompt": "p2", "g": "2"}\n'
                                  '{"id": "c", "prompt": "p3"}\n')
    pytester.makepyfile(test_good=GOOD_MODULE, **modules)
    result = pytester.runpytest("--trust-model=rules", "--collect-only", "-q", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert "Traceback" not in result.stdout.str() and "INTERNALERROR" not in result.stdout.str()
    result.stdout.fnmatch_lines(["test_good.py::test_good[[]good-g0[]]"])  # the other module still collects
    return result


def _probe(options: str, name: str = "test_bad", dataset: str = "data/x.jsonl", head: str = "") -> str:
    return f'''
from pytest_trustllm import probe
{head}
@probe(dataset="{dataset}", dimension="safety", id_field="id", {options})
def {name}(trust_case):
    pass
'''


def test_a_record_without_the_group_field_is_bad_data_like_a_missing_id(pytester):
    result = _collect(pytester, test_bad=_probe('group_field="g"'))
    assert ("bad probe data: data/x.jsonl: record 3 (line 3): group field 'g' is missing"
            in result.stdout.lines)
    assert "KeyError" not in result.stdout.str()


def test_a_missing_schema_file_names_its_path(pytester):
    result = _collect(pytester, test_bad=_probe('schema="data/nope.json"'))
    assert ("bad probe data: data/nope.json: schema= file not found (a path is relative "
            "to the test file)" in result.stdout.lines)
    assert "FileNotFoundError" not in result.stdout.str()


def test_a_schema_file_that_is_not_json_names_its_line(pytester):
    (pytester.path / "data").mkdir()
    (pytester.path / "data" / "schema.json").write_text('{"type": "object",\n "required": ["prompt"\n}\n')
    result = _collect(pytester, test_bad=_probe('schema="data/schema.json"'))
    assert ("bad probe data: data/schema.json: line 3: schema= is not valid JSON "
            "(Expecting ',' delimiter at column 1)" in result.stdout.lines)


VARIANTS = "def variants(record, records):\n    return [record['prompt'], record['variant']]\n"


@pytest.mark.parametrize("option, name, head, where", [
    ('where=lambda r: r["expect"] == "x"', "test_bad", "", "record 2 (line 2): where= of test_bad raised "
                                                             "KeyError('expect')"),
    ("prompts=variants", "test_variants", VARIANTS, "record 1 (line 1): prompts= of test_variants raised "
                                                    "KeyError('variant')"),
    ('group_field=lambda r, rs: r["g"]', "test_bad", "", "record 3 (line 3): group_field= of test_bad raised "
                                                          "KeyError('g')"),
])
def test_a_callable_that_raises_names_probe_file_record_and_exception(pytester, option, name, head, where):
    result = _collect(pytester, test_bad=_probe(option, name=name, head=head))
    assert f"bad probe data: data/x.jsonl: {where} at test_bad.py:3" in result.stdout.lines


def test_record_numbers_count_from_one_and_name_the_line(pytester):
    """A CSV record's line is one past its number (the header), a JSONL line skips blank lines, a JSON list's
    record starts where its object does."""
    data = pytester.path / "data"
    data.mkdir()
    (data / "bad.csv").write_text('id,prompt\n1,hello\n\n2,"two\nlines"\n3,\n')
    (data / "bad.jsonl").write_text('{"id": "a", "prompt": "x"}\n\n{"id": "b", "prompt": 42}\n')
    (data / "bad.json").write_text('[\n  {"id": "a", "prompt": "x", "label": "l"},\n  {"id": "b",\n   "prompt": "y",\n'
                                   '   "label": 3}\n]\n')
    result = _collect(pytester, test_csv=_probe("", dataset="data/bad.csv"),
                      test_jsonl=_probe("", dataset="data/bad.jsonl"),
                      test_json=_probe('schema={"properties": {"label": {"type": "string"}}}', dataset="data/bad.json"))
    assert {line for line in result.stdout.lines if line.startswith("bad probe data:")} == {
        "bad probe data: data/bad.csv: record 3 (line 6): field 'prompt' must be a non-empty string",
        "bad probe data: data/bad.jsonl: record 2 (line 3): field 'prompt' must be a non-empty string",
        "bad probe data: data/bad.json: record 2 (line 3), field 'label': 3 is not of type 'string'",
    }


def test_invalid_json_names_one_line_only(pytester):
    (pytester.path / "data").mkdir()
    (pytester.path / "data" / "bad2.jsonl").write_text('{"id": "a", "prompt": "x"}\n{"id":"b" "prompt":"y"}\n')
    result = _collect(pytester, test_bad=_probe("", dataset="data/bad2.jsonl"))
    assert ("bad probe data: data/bad2.jsonl: line 2: invalid JSON (Expecting ',' "
            "delimiter at column 11)" in result.stdout.lines)


def test_a_loader_hook_reading_the_file_its_own_way_gets_no_line(pytester):
    """The line is only given where the built-in reader's records are the ones being checked."""
    pytester.makeconftest('''
import json
from pathlib import Path

def pytest_trustllm_load_dataset(config, ref):
    if ref.endswith("odd.jsonl"):  # keeps only every other line
        lines = Path(ref).read_text().splitlines()[::2]
        return [json.loads(line) for line in lines]
''')
    (pytester.path / "data").mkdir()
    (pytester.path / "data" / "odd.jsonl").write_text('{"id": "a", "prompt": "x"}\n{"id": "skipped"}\n'
                                                      '{"id": "b", "text": "y"}\n')
    result = _collect(pytester, test_bad=_probe("", dataset="data/odd.jsonl"))
    assert ("bad probe data: data/odd.jsonl: record 2: field 'prompt' is missing"
            in result.stdout.lines)
