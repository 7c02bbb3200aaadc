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
