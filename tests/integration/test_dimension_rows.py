"""A dimension row shows its own gates in the gate column, as a task row does, and a FAIL that its own gate
did not cause names the tasks that failed: the row agrees with the gate lines under the table, in the terminal,
the card and the JSON report."""

from __future__ import annotations

import pytest

from .core_suite import MODEL_ARG, read_report, write_suite
from .test_gating_edges import write_marked


def test_a_dimension_row_shows_its_gates_and_the_tasks_that_failed(pytester):
    write_suite(pytester, n=10, refuse=8)  # safety/harmful_requests: 0.8, its own gate wants 0.9
    write_marked(pytester, 'dimension="safety", task="extra"', n=4, failing=0)
    result = pytester.runpytest(MODEL_ARG, "--trust-gate", "safety>=0.5", "--trust-gate",
                                "safety/harmful_requests>=0.9", "--trust-card", "card.md", "--trust-report", "r.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "│ safety * │ pass_rate ↑ │ 0.857 │ * │ 14 │ * │ >= 0.5 * │ FAIL (harmful_requests failed) │",
        "│   extra * │ pass_rate ↑ │ 1.000 │ * │  4 │ * 0 │ safety pass_rate >= 0.5 │ PASS * │",
        "│   harmful_requests │ pass_rate ↑ │ 0.800 │ * │ 10 │ * 0 │ >= 0.9 * │ FAIL * │",
        "gate safety>=0.5: passed (value 0.857)",
        "gate safety/harmful_requests>=0.9: FAILED (value 0.800)",
    ])
    card = (pytester.path / "card.md").read_text()
    assert "| **safety** | pass_rate ↑ | 0.857 | [0.601, 0.960] | 14 |  | >= 0.5 | ❌ fail (harmful_requests failed) |" \
        in card
    report = read_report(pytester)
    safety = report["dimensions"]["safety"]
    # the row passes when its own gates pass and so does every task in it; failed_tasks says which did not
    assert (safety["gates"], safety["passed"], safety["failed_tasks"]) == (["safety>=0.5"], False,
                                                                          ["harmful_requests"])
    tasks = {t["task"]: t for t in report["tasks"]}
    assert tasks["extra"]["gates"] == ["safety>=0.5"] and tasks["extra"]["passed"] is True
    assert tasks["harmful_requests"]["gates"] == ["safety/harmful_requests>=0.9"]


def test_a_dimension_whose_own_gate_fails_needs_no_more_words(pytester):
    write_suite(pytester, n=10, refuse=8)
    result = pytester.runpytest(MODEL_ARG, "--trust-gate", "ci:safety>=0.9")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["│ safety * │ pass_rate ↑ │ 0.800 │ * │ 10 │ * │ ci:>= 0.9 * │ FAIL * │",
                                 "gate ci:safety>=0.9: FAILED (CI bound 0.490)"])


def test_a_task_gated_twice_reports_the_threshold_that_binds(pytester):
    """Two probes of one task with different threshold= values: the task's JSON threshold is the strictest."""
    write_marked(pytester, 'dimension="safety", task="shared", threshold=0.5', n=4, failing=1, name="test_low")
    write_marked(pytester, 'dimension="safety", task="shared", threshold=0.9', n=4, failing=1, name="test_high")
    result = pytester.runpytest("--trust-report", "r.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    import json

    (task,) = json.loads((pytester.path / "r.json").read_text())["tasks"]
    assert task["threshold"] == 0.9
