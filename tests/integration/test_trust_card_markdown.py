"""The Markdown trust card carries the run's facts the HTML card shows: model spec, start time, final exit
status (docs/gates.md); the GitHub step summary, written before the status is final, does not."""

from __future__ import annotations

import re

import pytest

from .core_suite import MODEL_ARG, read_report, write_suite

FACTS = r"model: `py:mymodel:generate` · started: (\S+) · exit status: (\d)"


@pytest.mark.parametrize(("gate", "status"), [("safety/harmful_requests>=0.8", 0),
                                              ("safety/harmful_requests>=0.9", 1)])
def test_the_markdown_card_says_model_start_and_exit_status(pytester, gate, status):
    write_suite(pytester, n=20, refuse=17)
    result = pytester.runpytest(MODEL_ARG, "--trust-gate", gate, "--trust-card", "card.md",
                                "--trust-report", "r.json")
    assert result.ret == status
    lines = (pytester.path / "card.md").read_text().splitlines()
    assert lines[:3] == ["## pytest-trustllm: trust summary", "", lines[2]]
    started, recorded = re.fullmatch(FACTS, lines[2]).groups()
    assert (started, int(recorded)) == (read_report(pytester)["run"]["started"], status)
    assert lines[3:5] == ["", "| dimension / task | metric | value | 95% CI | n | invalid | gate | result |"]


def test_both_cards_state_the_same_facts(pytester):
    write_suite(pytester, n=4, refuse=4)
    pytester.runpytest(MODEL_ARG, "--trust-card", "card.md", "--trust-report", "r.json")
    pytester.runpytest(MODEL_ARG, "--trust-card", "card.html", "--trust-report", "r.json")
    run = read_report(pytester)["run"]
    html = (pytester.path / "card.html").read_text()
    markdown = (pytester.path / "card.md").read_text()
    assert f"model: py:mymodel:generate   started: {run['started']}   exit status: 0" in html
    assert re.search(FACTS, markdown).group(2) == "0"


def test_the_step_summary_keeps_to_the_table(pytester, monkeypatch):
    write_suite(pytester, n=4, refuse=4)
    summary = pytester.path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    pytester.runpytest(MODEL_ARG)
    text = summary.read_text()
    assert text.startswith("## pytest-trustllm: trust summary\n\n| dimension / task |")
    assert "exit status" not in text
