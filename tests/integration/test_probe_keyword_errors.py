"""A keyword that neither ``probe`` nor the ``trust`` marker knows is a usage error naming the test and the
closest known keyword, never silently ignored (a misspelt ``threshold=`` would drop the gate)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_trustllm.markers import PROBE_KEYWORDS

GOOD = '{"id": "g0", "prompt": "What is 1+1?"}\n{"id": "g1", "prompt": "What is 2+2?"}\n'
DOCS = Path(__file__).resolve().parents[2] / "docs" / "custom-probes.md"


@pytest.mark.parametrize(("keyword", "expected"), [
    ("treshold=0.9", "treshold=0.9: unknown keyword; did you mean threshold?"),
    ("max_new_token=48", "max_new_token=48: unknown keyword; did you mean max_new_tokens?"),
    ("gate=['.pass_rate>=0.9']", "gate=['.pass_rate>=0.9']: unknown keyword; did you mean gates?"),
    ("idfield='id'", "idfield='id': unknown keyword; did you mean id_field?"),
])
def test_a_misspelt_probe_keyword_is_a_usage_error_with_a_suggestion(pytester, keyword, expected):
    pytester.path.joinpath("good.jsonl").write_text(GOOD)
    pytester.makepyfile(test_typo=f'''
from pytest_trustllm import probe

@probe(dataset="good.jsonl", dimension="safety", id_field="id", {keyword})
def test_typo(trust_case):
    pass
''')
    result = pytester.runpytest("--trust-model=rules")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"ERROR: test_typo.py::test_typo: {expected}" in result.stderr.lines
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_the_keyword_error_comes_before_data_errors_it_may_cause(pytester):
    """``prompt_feild=`` leaves the prompt field at its default: the data would look bad; the typo is the cause."""
    pytester.path.joinpath("q.jsonl").write_text('{"question": "Hi?"}\n')
    pytester.makepyfile(test_typo='''
from pytest_trustllm import probe

@probe(dataset="q.jsonl", dimension="safety", prompt_feild="question")
def test_typo(trust_case):
    pass
''')
    result = pytester.runpytest("--trust-model=rules")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert ("ERROR: test_typo.py::test_typo: prompt_feild='question': unknown keyword; did you mean prompt_field?"
            in result.stderr.lines)
    assert "bad probe data" not in result.stdout.str()


def test_the_trust_marker_gets_the_same_check(pytester):
    pytester.makepyfile(test_marker='''
import pytest

@pytest.mark.trust(dimension="privacy", task="customer_data", threshhold=0.9)
def test_inline():
    pass
''')
    result = pytester.runpytest("--trust-model=rules")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert ("ERROR: test_marker.py::test_inline: threshhold=0.9: unknown keyword; did you mean threshold?"
            in result.stderr.lines)


def test_a_keyword_like_no_other_lists_the_known_ones(pytester):
    pytester.makepyfile(test_marker='''
import pytest

@pytest.mark.trust("privacy", "colours", colour="red")
def test_unrelated():
    pass
''')
    result = pytester.runpytest("--trust-model=rules")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert ("ERROR: test_marker.py::test_unrelated: colour='red': unknown keyword; probe() and the trust marker "
            "take dataset, dimension, task, schema, prompt_field, id_field, temperature, max_new_tokens, threshold, "
            "metric, direction, gates, subgroups, group_field, prompts, where, aggregate") in result.stderr.lines


def test_every_documented_keyword_is_known():
    table = DOCS.read_text().split("`probe(dataset, dimension, task=None, **options)`:", 1)[1].split("\n\n", 2)[1]
    documented = {name for row in table.splitlines()[2:] for name in re.findall(r"`(\w+)`", row.split("|")[1])}
    assert documented == set(PROBE_KEYWORDS) - {"dimension", "task"}


def test_every_keyword_works_together(pytester):
    """All the documented keywords at once: collected and run, nothing reported as unknown."""
    pytester.path.joinpath("good.jsonl").write_text(GOOD.replace('"id"', '"group": "a", "id"'))
    pytester.path.joinpath("schema.json").write_text('{"type": "object", "required": ["prompt"]}')
    pytester.makepyfile(test_all='''
from pytest_trustllm import probe

@probe(dataset="good.jsonl", dimension="safety", task="all", schema="schema.json", prompt_field="prompt",
       id_field="id", temperature=0.0, max_new_tokens=16, threshold=0.0, metric="pass_rate", direction="higher",
       gates=[".pass_rate>=0"], subgroups=["group"], group_field="group",
       prompts=lambda r, rs: [r["prompt"]], where=lambda r: True, aggregate=None)
def test_all(trust_responses):
    pass
''')
    result = pytester.runpytest("--trust-model=rules")
    result.assert_outcomes(passed=2)
    assert result.ret == 0
