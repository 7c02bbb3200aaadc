"""Gate expressions: parsing, comparison, CI bounds."""

from __future__ import annotations

import pytest

from pytest_trustllm.gates import parse_gate, threshold_gate


@pytest.mark.parametrize(("expr", "parts"), [
    ("safety>=0.9", ("safety", None, None, ">=", 0.9, False)),
    ("safety/jailbreak>=0.95", ("safety", "jailbreak", None, ">=", 0.95, False)),
    ("safety/jailbreak.rta>=0.95", ("safety", "jailbreak", "rta", ">=", 0.95, False)),
    ("privacy/privacy_leakage.td<=0.05", ("privacy", "privacy_leakage", "td", "<=", 0.05, False)),
    (" ci:fairness/disparagement.p_value_sex > 5e-2 ", ("fairness", "disparagement", "p_value_sex", ">", 0.05, True)),
    ("truthfulness/sycophancy_persona.similarity_gap>-0.1", ("truthfulness", "sycophancy_persona", "similarity_gap", ">", -0.1, False)),
    ("ethics<1", ("ethics", None, None, "<", 1.0, False)),
])
def test_parse(expr, parts):
    g = parse_gate(expr)
    assert (g.dimension, g.task, g.metric, g.op, g.threshold, g.use_ci) == parts


@pytest.mark.parametrize(("expr", "margin", "text"), [
    ("safety/jailbreak.rta>=baseline-0.02", -0.02, "baseline-0.02"),
    ("ci:safety>= baseline + 0.1", 0.1, "baseline+0.1"),
    ("privacy/privacy_leakage.td<=baseline", 0.0, "baseline"),
])
def test_parse_regression_gates(expr, margin, text):
    g = parse_gate(expr)
    assert (g.threshold, g.margin, g.against_baseline, g.threshold_text()) == (None, margin, True, text)
    assert g.compare(0.9, threshold=0.88) == (g.op == ">=")  # the threshold comes from the baseline


@pytest.mark.parametrize("expr", ["safety", "safety=0.9", "safety>>0.9", "safety/>=0.9", ">=0.9", "safety>=",
                                  "safety>=0.9x", "safety/jailbreak.rta=>0.9", "ci: >=0.5", "safety>=baseline0.1",
                                  "safety>=base", "safety>=baseline-", "safety>=baseline*0.9", "safety>=0.9-baseline"])
def test_malformed(expr):
    with pytest.raises(pytest.UsageError, match="malformed gate; expected"):
        parse_gate(expr)


def test_compare_and_bound_side():
    assert parse_gate("a>=0.5").compare(0.5) and not parse_gate("a>0.5").compare(0.5)
    assert parse_gate("a<=0.5").compare(0.5) and not parse_gate("a<0.5").compare(0.5)
    assert parse_gate("ci:a>=0.5").bound_name() == "ci_low"
    assert parse_gate("ci:a<=0.5").bound_name() == "ci_high"


def test_threshold_gate_follows_direction():
    assert threshold_gate("safety", "jailbreak", "rta", "higher", 0.9, "marker").expr == "safety/jailbreak.rta>=0.9"
    assert threshold_gate("safety", "exaggerated_safety", "refusal_rate", "lower", 0.2, "marker").expr == \
        "safety/exaggerated_safety.refusal_rate<=0.2"


def test_threshold_gate_keeps_the_number_and_rounds_only_the_text():
    gate = threshold_gate("ethics", "twothirds", "pass_rate", "higher", 2 / 3, "marker")
    assert gate.expr == "ethics/twothirds.pass_rate>=0.666667" and gate.threshold == 2 / 3
    assert gate.compare(2 / 3)


@pytest.mark.parametrize(("written", "full"), [
    (".rta>=0.9", "safety/jb.rta>=0.9"),
    ("rta>=0.9", "safety/jb.rta>=0.9"),
    ("ci:.rta>=0.9", "ci:safety/jb.rta>=0.9"),
    (" ci: rta >= 0.9", "ci:safety/jb.rta >= 0.9"),
    (">=0.5", "safety/jb>=0.5"),
    ("ci:>=0.5", "ci:safety/jb>=0.5"),
    ("privacy/leak.td<=0.1", "privacy/leak.td<=0.1"),
    ("ci:privacy/leak.td<=baseline", "ci:privacy/leak.td<=baseline"),
])
def test_marker_gates_are_relative_to_the_markers_task(written, full):
    from pytest_trustllm.markers import marker_gates

    assert marker_gates({"gates": [written]}, "safety", "jb") == [parse_gate(full).expr]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"gates": ["pass_rate=>0.5"]}, "gates=['pass_rate=>0.5']: malformed gate; expected '[ci:][.]METRIC OP NUMBER'"),
    ({"threshold": "0.9"}, "threshold='0.9' (a string, not a number): expected a number, e.g. threshold=0.9"),
    ({"threshold": True}, "threshold=True: expected a number"),
    ({"threshold": float("nan")}, "threshold=nan: expected a number"),
    ({"threshold": 0.9, "metric": "not a name"}, "metric='not a name': expected the name of one of the task's"),
    ({"gates": [0.9]}, "gates=[0.9]: expected a gate expression (a string)"),
    ({"aggregate": "no_colon"}, "aggregate='no_colon': expected 'module:function'"),
])
def test_marker_mistakes(kwargs, message):
    from pytest_trustllm.markers import check_marker

    with pytest.raises(pytest.UsageError) as info:
        check_marker({"dimension": "safety", "task": "jb", **kwargs})
    assert str(info.value).startswith(message)


def test_strict_and_early_stops_only_add_failures():
    from pytest_trustllm.summary import exit_status

    def totals(gates_failed=0, failed=0, tolerated=0):
        return {"totals": {"gates_failed": gates_failed, "failed_probes": failed, "tolerated_failures": tolerated,
                           "errors": 0, "other_failures": 0}}

    assert exit_status(totals(gates_failed=1), 0, strict=True) == 1  # a failed gate fails strict runs too
    assert exit_status(totals(failed=2, tolerated=2), 1, strict=True) == 1
    assert exit_status(totals(failed=2, tolerated=2), 1) == 0
    assert exit_status(totals(failed=2, tolerated=2), 1, stopped=True) == 1  # -x: a partial run
    assert exit_status(totals(), 0, strict=True, stopped=True) == 0
    assert exit_status(totals(gates_failed=1), 2, strict=True) == 2  # interrupted stays
