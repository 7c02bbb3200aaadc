"""The summary never contradicts itself: a dimension's own gates are part of its row in the report, and a run
stopped early (``-x``) does not claim that the gates tolerated failures it cannot pass."""

from __future__ import annotations

import pytest

from pytest_trustllm.regate import main as regate_main

from .core_suite import MODEL_ARG, read_report, write_suite


# -- a dimension row: its own gates (a row with gates and failed tasks: test_dimension_rows.py) ---------------------
def test_a_dimension_without_gates_of_its_own_has_none_in_its_row(pytester):
    write_suite(pytester, n=4, refuse=4)
    assert pytester.runpytest(MODEL_ARG, "--trust-gate", "safety/harmful_requests>=0.9",
                              "--trust-report", "r.json").ret == pytest.ExitCode.OK
    safety = read_report(pytester)["dimensions"]["safety"]
    assert (safety["gates"], safety["passed"], safety["failed_tasks"]) == ([], True, [])


# -- -x: the run failed, so no failure was tolerated ------------------------------------------------------------
def test_a_run_stopped_early_claims_no_failure_passed_the_gates(pytester):
    write_suite(pytester, n=20, refuse=16)
    args = (MODEL_ARG, "--trust-gate", "safety>=0.5", "--trust-report", "r.json")
    full = pytester.runpytest(*args)
    assert full.ret == pytest.ExitCode.OK
    full.stdout.fnmatch_lines(["gates tolerated 4 probe failures (20% of 20 probes)"])

    result = pytester.runpytest(*args, "-x")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    result.stdout.fnmatch_lines([
        "the run stopped early (stopping after 1 failures): the gates were computed on a partial run, so they "
        "cannot pass it (pytest's exit status stands)",
        "gate safety>=0.5: passed (value 0.941)",
    ])
    assert "gates tolerated" not in out and "(1 tolerated)" not in out  # neither under the gates nor in the table
    report = read_report(pytester)
    assert report["run"]["totals"]["tolerated_failures"] == 0
    assert report["tasks"][0]["tolerated_failures"] == report["dimensions"]["safety"]["tolerated_failures"] == 0


def test_regate_of_a_run_stopped_early_does_not_say_so_either(pytester, capsys):
    write_suite(pytester, n=20, refuse=16)
    pytester.runpytest(MODEL_ARG, "--trust-gate", "safety>=0.5", "--trust-report", "r.json", "-x")
    capsys.readouterr()
    assert regate_main(["r.json"]) == 1
    out = capsys.readouterr().out
    assert "the run stopped early (stopping after 1 failures)" in out
    assert "gates tolerated" not in out and "(1 tolerated)" not in out
