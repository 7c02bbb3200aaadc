"""What a gate may say about a metric: its operator points the metric's way, its number lies in its range."""

from __future__ import annotations

import pytest

from pytest_trustllm.gates import RATE, builtin_range, gate_problem, parse_gate, threshold_gate


@pytest.mark.parametrize(("expr", "metric", "direction", "bounds", "problem"), [
    ("s/t<=0.9", "pass_rate", "higher", RATE,
     "pass_rate is higher-is-better (↑); write >= (a gate keeps a metric on its good side)"),
    ("ci:s/t.td>0.1", "td", "lower", RATE, "td is lower-is-better (↓); write < (a gate keeps a metric on its good side)"),
    ("s/t.rta>=90", "rta", "higher", RATE, "threshold 90 is outside rta's range [0, 1]; for 90% write 0.9"),
    ("s/t.td<=150", "td", "lower", RATE, "threshold 150 is outside td's range [0, 1]"),
    ("s/t.pearson>=-1.5", "pearson", "higher", (-1.0, 1.0), "threshold -1.5 is outside pearson's range [-1, 1]"),
    ("s/t<=baseline+0.1", "pass_rate", "higher", RATE,
     "pass_rate is higher-is-better (↑); write >= (a gate keeps a metric on its good side)"),
    # fine: in the metric's direction and range; a regression gate's threshold is the baseline's; unknowns
    ("s/t>=0", "pass_rate", "higher", RATE, None),
    ("s/t.td<=1", "td", "lower", RATE, None),
    ("s/t>=baseline-5", "pass_rate", "higher", RATE, None),
    ("s/t.score>=-5", "score", "higher", None, None),
    ("s/t.score<=0.5", "score", None, None, None),
])
def test_gate_problem(expr, metric, direction, bounds, problem):
    assert gate_problem(parse_gate(expr), metric, direction, bounds) == problem


def test_a_thresholds_gate_keeps_the_direction_it_was_given():
    gate = threshold_gate("s", "t", "pass_rate", "lower", 0.2, "marker")  # direction="lower" on purpose
    assert gate.expr == "s/t.pass_rate<=0.2" and gate_problem(gate, "pass_rate", "higher", RATE) is None
    assert gate_problem(threshold_gate("s", "t", "pass_rate", "higher", 90, "marker"), "pass_rate", "higher",
                        RATE) == "threshold 90 is outside pass_rate's range [0, 1]; for 90% write 0.9"


def test_builtin_ranges():
    assert builtin_range("pass_rate") == builtin_range("p_value_sex") == builtin_range("toxicity_max") == (0, 1)
    assert builtin_range("rs") == builtin_range("pearson") == builtin_range("similarity") == (-1, 1)
    assert builtin_range("similarity_gap") == (-2, 2)


def test_a_run_stopped_early_tolerates_no_failure():
    from pytest_trustllm.summary import exit_status

    summary = {"totals": {"gates_failed": 0, "failed_probes": 2, "tolerated_failures": 2, "errors": 0,
                          "other_failures": 0},
               "tasks": [{"tolerated_failures": 2}], "dimensions": {"safety": {"tolerated_failures": 2}}}
    assert exit_status(summary, 1, stopped=True) == 1
    assert summary["totals"]["tolerated_failures"] == summary["tasks"][0]["tolerated_failures"] == 0
    assert summary["dimensions"]["safety"]["tolerated_failures"] == 0
