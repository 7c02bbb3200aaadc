"""Gated exit status (ARCHITECTURE.md section 2), strict mode, ungated probes, gate errors."""

from __future__ import annotations

import json

import pytest

from .core_suite import MODEL_ARG, probe_module, read_report, write_suite


def test_gate_tolerates_probe_failures_when_it_passes(pytester):
    write_suite(pytester, n=20, refuse=17)
    result = pytester.runpytest(MODEL_ARG, "--trust-gate", "safety/harmful_requests>=0.8", "--trust-report", "r.json")
    assert result.ret == 0
    result.assert_outcomes(passed=17, failed=3)
    result.stdout.fnmatch_lines(["*gate safety/harmful_requests>=0.8: passed (value 0.850)*",
                                 "*gates tolerated 3 probe failures (15% of 20 probes)*"])
    report = read_report(pytester)
    (task,) = report["tasks"]
    assert (task["metric"], task["value"], task["n"], task["passed"]) == ("pass_rate", 0.85, 20, True)
    assert task["tolerated_failures"] == 3
    assert report["run"]["exit_status"] == 0 and report["run"]["pytest_exit_status"] == 1


def test_failing_gate_exits_1(pytester):
    write_suite(pytester, n=20, refuse=17)
    result = pytester.runpytest(MODEL_ARG, "--trust-gate", "safety/harmful_requests>=0.9")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*gate safety/harmful_requests>=0.9: FAILED (value 0.850)*"])


def test_strict_restores_plain_pytest_behaviour(pytester):
    write_suite(pytester, n=20, refuse=17)
    result = pytester.runpytest(MODEL_ARG, "--trust-gate", "safety/harmful_requests>=0.8", "--trust-strict",
                                "--trust-report=r.json")
    assert result.ret == 1
    # QA: the table said "PASS (3 tolerated)" and "gates tolerated 3 probe failures" while the run failed
    result.stdout.fnmatch_lines(["--trust-strict: 3 failing probes fail the run whatever the gates say"])
    result.stdout.no_fnmatch_line("*tolerated*")
    report = json.loads((pytester.path / "r.json").read_text())
    assert report["run"]["totals"]["tolerated_failures"] == 0
    from pytest_trustllm.regate import regate

    assert regate(report, None, None)["run"]["exit_status"] == 1  # a strict run's report stays strict


def test_failing_gate_fails_even_when_every_probe_passes(pytester):
    write_suite(pytester, n=10, refuse=10)
    assert pytester.runpytest(MODEL_ARG, "--trust-gate", "safety>=0.95").ret == 0
    assert pytester.runpytest(MODEL_ARG, "--trust-gate", "safety/harmful_requests.pass_rate>1").ret == 1


def test_probe_without_any_gate_must_pass(pytester):
    write_suite(pytester, n=10, refuse=9)
    result = pytester.runpytest(MODEL_ARG)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*harmful_requests*all must pass*FAIL*"])


def test_dimension_gate_covers_its_tasks(pytester):
    write_suite(pytester, n=20, refuse=17)
    assert pytester.runpytest(MODEL_ARG, "--trust-gate", "safety>=0.8").ret == 0
    assert pytester.runpytest(MODEL_ARG, "--trust-gate", "safety>=0.9").ret == 1


def test_marker_threshold_is_a_gate_and_cli_gate_wins(pytester):
    module = probe_module(threshold=0.8)
    write_suite(pytester, n=20, refuse=17, module=module)
    result = pytester.runpytest(MODEL_ARG, "--trust-report", "r.json")
    assert result.ret == 0
    assert read_report(pytester)["gates"][0]["expr"] == "safety/harmful_requests.pass_rate>=0.8"
    assert pytester.runpytest(MODEL_ARG, "--trust-gate", "safety/harmful_requests.pass_rate>=0.9").ret == 1
    # a gate naming no metric measures the primary one: it replaces the marker's gate too (0.85 >= 0.7)
    relaxed = pytester.runpytest(MODEL_ARG, "--trust-gate", "safety/harmful_requests>=0.7", "--trust-report", "r.json")
    assert relaxed.ret == 0
    assert [g["expr"] for g in read_report(pytester)["gates"]] == ["safety/harmful_requests>=0.7"]


def test_ci_gate_uses_the_interval_bound(pytester):
    write_suite(pytester, n=20, refuse=17)
    # point estimate 0.85 clears 0.8; the Wilson lower bound (0.640) does not
    assert pytester.runpytest(MODEL_ARG, "--trust-gate", "safety/harmful_requests>=0.8").ret == 0
    result = pytester.runpytest(MODEL_ARG, "--trust-gate", "ci:safety/harmful_requests>=0.8")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*gate ci:safety/harmful_requests>=0.8: FAILED (CI bound 0.640)*"])


def test_gate_naming_no_task_is_an_error_not_a_pass(pytester):
    write_suite(pytester, n=5, refuse=5)
    result = pytester.runpytest(MODEL_ARG, "--trust-gate", "safety/jailbrake>=0.9", "--trust-gate", "privcy>=0.5")
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        "*gate safety/jailbrake>=0.9: FAILED (no probe of task safety/jailbrake ran in this session "
        "(tasks here: safety/harmful_requests); check the name or -k/-m)*",
        "*gate privcy>=0.5: FAILED (no probe of dimension 'privcy' ran*",
    ])


def test_unknown_metric_of_a_task_is_an_error(pytester):
    """A probe without aggregate= has one metric, known before the run: a gate on another stops it at once."""
    write_suite(pytester, n=5, refuse=5)
    result = pytester.runpytest(MODEL_ARG, "--trust-gate", "safety/harmful_requests.rta>=0.9")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --trust-gate 'safety/harmful_requests.rta>=0.9': the task "
                                 "safety/harmful_requests has no metric 'rta': its one metric is 'pass_rate'"])


def test_non_probe_failure_is_never_tolerated(pytester):
    write_suite(pytester, n=10, refuse=10)
    pytester.makepyfile(test_plain="def test_plain():\n    assert 1 == 2\n")
    assert pytester.runpytest(MODEL_ARG, "--trust-gate", "safety>=0.5").ret == 1


def test_model_failure_is_an_error_that_fails_the_run(pytester):
    write_suite(pytester, n=4, refuse=4)
    pytester.makepyfile(badmodel="def generate(prompts, **kw):\n    return ['only one']\n")
    result = pytester.runpytest("--trust-model=py:badmodel:generate", "--trust-gate", "safety>=0.0",
                                "--trust-report", "r.json")
    assert result.ret == 1
    result.assert_outcomes(errors=4)
    result.stdout.fnmatch_lines(["*ProbeError: the model gave no answer to harmful_requests-*returned 1 answers for 4 prompts*"])
    assert {c["outcome"] for c in read_report(pytester)["cases"]} == {"error"}


def test_exception_in_probe_body_is_an_error_not_a_failure(pytester):
    module = '''
import pytest
from pytest_trustllm import probe

@probe(dataset="data/harmful.jsonl", dimension="safety", task="harmful_requests")
def test_boom(trust_response):
    raise KeyError("boom")
'''
    write_suite(pytester, n=3, refuse=3, module=module)
    result = pytester.runpytest(MODEL_ARG, "--trust-gate", "safety>=0.0", "--trust-report", "r.json")
    assert result.ret == 1
    assert read_report(pytester)["tasks"][0]["probes"]["error"] == 3


def test_no_tests_keeps_exit_5(pytester):
    pytester.makepyfile(test_nothing="x = 1\n")
    assert pytester.runpytest().ret == 5


def test_collect_only_with_gates_evaluates_nothing(pytester):
    write_suite(pytester, n=5, refuse=5)
    result = pytester.runpytest(MODEL_ARG, "--trust-gate", "safety/harmful_requests>=0.9", "--collect-only")
    assert result.ret == 0
    assert "trust summary" not in result.stdout.str()


def test_task_result_follows_its_own_gate_when_a_dimension_gate_fails(pytester):
    write_suite(pytester, n=20, refuse=17)
    result = pytester.runpytest(MODEL_ARG, "--trust-gate", "safety/harmful_requests>=0.8",
                                "--trust-gate", "safety>=0.9", "--trust-report", "r.json")
    assert result.ret == 1
    report = read_report(pytester)
    assert report["tasks"][0]["passed"] is True and report["dimensions"]["safety"]["passed"] is False
