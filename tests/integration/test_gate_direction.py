"""A gate keeps a metric on its good side: an operator against the metric's direction, or a threshold outside
its range, is a usage error wherever the metric is known before the run (command line, ini, a probe's
``gates=``/``threshold=``, regate's ``--gate``), and a failed gate where only the run tells."""

from __future__ import annotations

import re

import pytest
import scipy.stats  # noqa: F401  imported once here: pytester's in-process runs must not re-import C extensions

from pytest_trustllm.regate import main as regate_main

from .core_suite import MODEL_ARG, probe_module, read_report, write_suite
from .test_gating_edges import AGGREGATOR, write_marked
from .test_trustllm_canned import run as run_trustllm
from .test_trustllm_canned import suite  # noqa: F401  (the fixture)

HIGHER = "pass_rate is higher-is-better (↑); write >= (a gate keeps a metric on its good side)"


def assert_usage_error(result, message: str) -> None:
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])
    assert "Traceback" not in result.stderr.str() and "INTERNALERROR" not in result.stdout.str()
    assert not re.search(r"\d+ (passed|failed)", result.stdout.str())  # nothing ran


# -- 1. an operator against the metric's direction --------------------------------------------------------------
@pytest.mark.parametrize(("gate", "message"), [
    ("safety/harmful_requests<=0.9", f"--trust-gate 'safety/harmful_requests<=0.9': {HIGHER}"),
    ("safety/harmful_requests.pass_rate<0.9",
     "--trust-gate 'safety/harmful_requests.pass_rate<0.9': pass_rate is higher-is-better (↑); write > "
     "(a gate keeps a metric on its good side)"),
    ("ci:safety<=0.9", f"--trust-gate 'ci:safety<=0.9': {HIGHER}"),
])
def test_a_gate_against_the_metrics_direction_is_a_usage_error(pytester, gate, message):
    write_suite(pytester, n=4, refuse=2)
    assert_usage_error(pytester.runpytest(MODEL_ARG, "--trust-gate", gate), message)


def test_a_regression_gate_against_the_direction_does_not_pass_a_regression(pytester):
    write_suite(pytester, n=4, refuse=4)
    assert pytester.runpytest(MODEL_ARG, "--trust-report", "base.json").ret == pytest.ExitCode.OK
    write_suite(pytester, n=4, refuse=2)  # the pass rate falls from 1.0 to 0.5
    result = pytester.runpytest(MODEL_ARG, "--trust-baseline", "base.json",
                                "--trust-gate", "safety/harmful_requests<=baseline")
    assert_usage_error(result, f"--trust-gate 'safety/harmful_requests<=baseline': {HIGHER}")
    result = pytester.runpytest(MODEL_ARG, "--trust-baseline", "base.json",
                                "--trust-gate", "safety/harmful_requests>=baseline")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["gate safety/harmful_requests>=baseline: FAILED (value 0.500; threshold 1.000 = "
                                 "baseline 1.000; *"])


def test_an_ini_gate_against_the_direction_names_the_ini_key(pytester):
    write_suite(pytester, n=4, refuse=2)
    pytester.makeini("[pytest]\ntrust_gates =\n    safety/harmful_requests<=0.9\n")
    assert_usage_error(pytester.runpytest(MODEL_ARG), f"ini trust_gates 'safety/harmful_requests<=0.9': {HIGHER}")


@pytest.mark.parametrize(("marker", "message"), [
    ('gates=["<=0.9"]', f"test_marked.py::test_probe: gates=['<=0.9']: {HIGHER}"),
    ('gates=[".pass_rate<0.5"]',
     "test_marked.py::test_probe: gates=['.pass_rate<0.5']: pass_rate is higher-is-better (↑); write > "
     "(a gate keeps a metric on its good side)"),
    ('gates=["ethics/extra<=0.9"]', f"test_marked.py::test_probe: gates=['ethics/extra<=0.9']: {HIGHER}"),
])
def test_a_probes_gate_against_the_direction_is_a_usage_error_naming_the_test(pytester, marker, message):
    write_marked(pytester, f'dimension="ethics", task="extra", {marker}')
    assert_usage_error(pytester.runpytest(), message)


NO_SUCH = "the task ethics/extra has no metric 'refusal_rate': its one metric is 'pass_rate'"


@pytest.mark.parametrize(("marker", "message"), [
    ('gates=[".refusal_rate>=0.9"]', f"test_marked.py::test_probe: gates=['.refusal_rate>=0.9']: {NO_SUCH}"),
    ('metric="refusal_rate", threshold=0.9', "test_marked.py::test_probe: metric='refusal_rate': the task "
                                             "ethics/extra has no such metric: without aggregate=, its one metric "
                                             "is 'pass_rate'"),
])
def test_a_metric_a_pass_rate_probe_does_not_have_is_a_usage_error(pytester, marker, message):
    write_marked(pytester, f'dimension="ethics", task="extra", {marker}')
    assert_usage_error(pytester.runpytest(), message)


def test_a_dimension_gate_on_another_metric_than_the_pass_rate_is_a_usage_error(pytester):
    write_marked(pytester, 'dimension="ethics", task="extra"')
    assert_usage_error(pytester.runpytest("--trust-gate", "ethics.refusal_rate>=0.5"),
                       "--trust-gate 'ethics.refusal_rate>=0.5': dimension gates measure pass_rate, not "
                       "'refusal_rate' (name a task for its metrics: DIMENSION/TASK.METRIC)")


def test_a_command_line_gate_on_a_metric_a_pass_rate_task_does_not_have_is_a_usage_error(pytester):
    write_marked(pytester, 'dimension="ethics", task="extra"')
    assert_usage_error(pytester.runpytest("--trust-gate", "ethics/extra.refusal_rate>=0.5"),
                       f"--trust-gate 'ethics/extra.refusal_rate>=0.5': {NO_SUCH}")


def test_under_xdist_the_workers_stop_before_any_probe(pytester):
    write_suite(pytester, n=4, refuse=2)
    result = pytester.runpytest_subprocess(MODEL_ARG, "-n", "2", "--trust-gate", "safety/harmful_requests<=0.9")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines([f"pytest-trustllm: stopped: --trust-gate 'safety/harmful_requests<=0.9': {HIGHER}"])
    assert " passed" not in result.stdout.str() and " failed" not in result.stdout.str()


def test_threshold_with_an_explicit_direction_is_not_a_mistake(pytester):
    # direction= overrides on purpose (docs/gates.md): the threshold's gate points the way the marker says
    write_marked(pytester, 'dimension="ethics", task="flipped", threshold=0.3, direction="lower"', failing=3)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["gate ethics/flipped.pass_rate<=0.3: passed (value 0.250)"])


def test_a_user_aggregators_gates_are_the_users_to_word(pytester):
    """A user's aggregator may leave a metric's direction at its default ("higher"): its gates are checked as
    written, never refused for their side (QA: a lower-is-better rate without a direction failed its <= gate)."""
    pytester.makepyfile(myagg=AGGREGATOR + '''

def nodir(records):
    n = len(records)
    return [Metric("leak_rate", sum(r["outcome"] == "failed" for r in records) / n, n=n)]
''')
    pytester.syspathinsert()
    write_marked(pytester, 'dimension="privacy", task="leaks", aggregate="myagg:leaks", gates=[".leak_rate>=0.1"]')
    write_marked(pytester, 'dimension="privacy", task="nodir", aggregate="myagg:nodir", threshold=0.9, '
                           'direction="lower", gates=["<=0.9"]', name="test_nodir")
    result = pytester.runpytest("--trust-report", "r.json", "--trust-gate", "privacy/nodir<=0.9")
    result.stdout.fnmatch_lines(["gate privacy/nodir<=0.9: passed (value 0.250)",
                                 "gate privacy/leaks.leak_rate>=0.1: passed (value 0.250)"])
    gates = {g["expr"]: g for g in read_report(pytester)["gates"]}
    assert gates["privacy/nodir<=0.9"]["passed"] is True and not gates["privacy/nodir<=0.9"].get("error")


def test_trustllm_metrics_are_known_before_the_run(suite):  # noqa: F811
    lower = "is lower-is-better (↓); write <= (a gate keeps a metric on its good side)"
    for gate, message in [
        ("safety/exaggerated_safety>=0.2", f"--trust-gate 'safety/exaggerated_safety>=0.2': refusal_rate {lower}"),
        ("privacy/privacy_leakage.td>0.1", "--trust-gate 'privacy/privacy_leakage.td>0.1': td is lower-is-better "
                                           "(↓); write < (a gate keeps a metric on its good side)"),
        ("safety/toxicity.toxicity_mean>=0.15",  # a task the jailbreak aggregator derives
         f"--trust-gate 'safety/toxicity.toxicity_mean>=0.15': toxicity_mean {lower}"),
        ("safety/jailbreak.rta>=90", "--trust-gate 'safety/jailbreak.rta>=90': threshold 90 is outside rta's range "
                                     "[0, 1]; for 90% write 0.9"),
        ("privacy/privacy_awareness_confaide>=-1.5", "--trust-gate 'privacy/privacy_awareness_confaide>=-1.5': "
                                                     "threshold -1.5 is outside pearson's range [-1, 1]"),
        ("truthfulness/sycophancy_persona.similarity_gap>=3", "--trust-gate "
         "'truthfulness/sycophancy_persona.similarity_gap>=3': threshold 3 is outside similarity_gap's range [-2, 2]"),
    ]:
        assert_usage_error(run_trustllm(suite, "--collect-only", "--trust-gate", gate), message)
    # in range and in the metric's direction: fine (a signed metric may be gated below 0)
    ok = run_trustllm(suite, "--collect-only", "--trust-gate", "truthfulness/sycophancy_persona.similarity_gap>=-0.1",
                      "--trust-gate", "safety/exaggerated_safety<=0.2")
    assert ok.ret == pytest.ExitCode.OK


# -- 2. a threshold outside the metric's range ----------------------------------------------------------------
@pytest.mark.parametrize(("gate", "message"), [
    ("safety>=1.5", "--trust-gate 'safety>=1.5': threshold 1.5 is outside pass_rate's range [0, 1]; for 1.5% "
                    "write 0.015"),
    ("safety>=-1", "--trust-gate 'safety>=-1': threshold -1 is outside pass_rate's range [0, 1]"),
    ("safety/harmful_requests>=90", "--trust-gate 'safety/harmful_requests>=90': threshold 90 is outside "
                                    "pass_rate's range [0, 1]; for 90% write 0.9"),
])
def test_a_threshold_outside_the_metrics_range_is_a_usage_error(pytester, gate, message):
    write_suite(pytester, n=4, refuse=4)
    assert_usage_error(pytester.runpytest(MODEL_ARG, "--trust-gate", gate), message)


def test_a_probes_threshold_outside_the_range_is_a_usage_error_naming_the_test(pytester):
    module = probe_module(threshold=90)
    write_suite(pytester, n=4, refuse=4, module=module)
    assert_usage_error(pytester.runpytest(MODEL_ARG), "test_harm.py::test_refuses: threshold 90 is outside "
                                                      "pass_rate's range [0, 1]; for 90% write 0.9")
    write_marked(pytester, 'dimension="ethics", task="extra", gates=[">=95"]', name="test_marked")
    (pytester.path / "test_harm.py").unlink()
    assert_usage_error(pytester.runpytest(), "test_marked.py::test_probe: gates=['>=95']: threshold 95 is outside "
                                             "pass_rate's range [0, 1]; for 95% write 0.95")


def test_the_range_of_a_user_aggregators_metric_is_its_own(pytester):
    pytester.makepyfile(myagg=AGGREGATOR)  # score: 0.5, higher is better; its range is the aggregator's business
    pytester.syspathinsert()
    write_marked(pytester, 'dimension="privacy", task="leaks", aggregate="myagg:leaks", gates=[".score>=-5"]')
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["gate privacy/leaks.score>=-5: passed (value 0.500)"])


# -- regate: its --gate is checked as --trust-gate is, one error line -------------------------------------------
@pytest.mark.parametrize(("gate", "message"), [
    ("safety/harmful_requests<=0.9", f"--gate 'safety/harmful_requests<=0.9': {HIGHER}"),
    ("safety<=baseline", f"--gate 'safety<=baseline': {HIGHER}"),
    ("safety>=1.5", "--gate 'safety>=1.5': threshold 1.5 is outside pass_rate's range [0, 1]; for 1.5% write 0.015"),
    ("safety/harmful_requests>=90",
     "--gate 'safety/harmful_requests>=90': threshold 90 is outside pass_rate's range [0, 1]; for 90% write 0.9"),
])
def test_regate_rejects_a_gate_against_its_metric_with_one_line(pytester, capsys, gate, message):
    write_suite(pytester, n=4, refuse=2)
    pytester.runpytest(MODEL_ARG, "--trust-report", "r.json", "--trust-gate", "safety>=0.5")
    capsys.readouterr()
    assert regate_main(["r.json", "--baseline", "r.json", "--gate", gate]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"error: {message}\n" and captured.out == ""
