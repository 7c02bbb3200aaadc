"""A bulk fetch in a log (stderr not a terminal, as in CI) prints a plain progress line every
``PLAIN_EVERY_S`` seconds while it runs, even while every request is still pending, so a CI job that kills
silent steps sees it alive; a fetch shorter than that prints nothing."""

from __future__ import annotations

import pytest

from pytest_trustllm import fetch_run

MODEL = '''
import time

def generate(prompts, **params):
    time.sleep({seconds})
    return ["I cannot help with that."] * len(prompts)
'''

PROBE = '''
from pytest_trustllm import probe

@probe(dataset="data/p.jsonl", dimension="safety", task="harm")
def test_p(trust_response):
    pass
'''


@pytest.fixture
def suite(pytester):
    (pytester.path / "data").mkdir()
    (pytester.path / "data" / "p.jsonl").write_text("".join(f'{{"prompt": "q{i}"}}\n' for i in range(4)))
    pytester.makepyfile(test_p=PROBE)
    pytester.syspathinsert()
    return pytester


def test_a_slow_fetch_prints_progress_lines_while_nothing_has_come_back(suite, monkeypatch):
    suite.makepyfile(slow_model=MODEL.format(seconds=1.0))
    monkeypatch.setattr(fetch_run, "PLAIN_EVERY_S", 0.2)
    result = suite.runpytest("--trust-model", "py:slow_model:generate", "--trust-no-cache", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    result.stderr.fnmatch_lines(["pytest-trustllm: answers 0/4 (0%) after 0 s, 0.0/s",
                                 "pytest-trustllm: 4 answers in 1 s"])


def test_a_quick_fetch_prints_no_progress_line(suite, monkeypatch):
    suite.makepyfile(quick_model=MODEL.format(seconds=0))
    monkeypatch.setattr(fetch_run, "PLAIN_EVERY_S", 30.0)
    result = suite.runpytest("--trust-model", "py:quick_model:generate", "--trust-no-cache", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    assert "pytest-trustllm: answers" not in result.stderr.str()


def test_the_line_gives_rate_and_time_left():
    plain = fetch_run.PlainProgress(100, None, 3600)
    plain.started -= 50
    plain.advance(25)
    assert plain.line() == "pytest-trustllm: answers 25/100 (25%) after 50 s, 0.5/s, about 2 min left"
    plain.stop()
    assert fetch_run._duration(150) == "2 min" and fetch_run._duration(9000) == "2.5 h"
