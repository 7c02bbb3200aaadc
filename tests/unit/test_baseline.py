"""Baseline lookups for regression gates: values, probe ids, and why a value is missing."""

from __future__ import annotations

from pathlib import Path

from pytest_trustllm.baseline import Baseline

REPORT = {
    "model": {"spec": "openai:released@http://127.0.0.1:8000/v1"},
    "run": {"started": "2026-11-01T00:00:00+00:00"},
    "tasks": [{"dimension": "safety", "task": "jailbreak",
               "metrics": {"rta": {"value": 0.93, "direction": "higher", "n": 3},
                           "toxicity": {"value": None, "direction": "lower", "n": 0}}}],
    "dimensions": {"safety": {"value": 0.9, "n": 10}},
    "cases": [{"dimension": "safety", "task": "jailbreak", "case_id": cid} for cid in ("a", "b", "c")],
}


def test_values_and_probe_ids():
    base = Baseline(Path("base.json"), REPORT)
    found = base.lookup("safety", "jailbreak", "rta")
    assert (found.value, found.n, found.case_ids, found.missing) == (0.93, 3, frozenset("abc"), None)
    dimension = base.lookup("safety", None, "pass_rate")
    assert (dimension.value, dimension.n, dimension.case_ids) == (0.9, 10, frozenset())
    assert base.identity() == {"path": "base.json", "model": "openai:released@http://127.0.0.1:8000/v1",
                               "started": "2026-11-01T00:00:00+00:00"}


def test_why_a_value_is_missing():
    base = Baseline(Path("base.json"), REPORT)
    assert base.lookup("privacy", None, "pass_rate").missing == \
        "the baseline base.json has no dimension 'privacy' (it has: safety)"
    assert base.lookup("safety", "misuse", "rta").missing == \
        "the baseline base.json has no task safety/misuse (it has: safety/jailbreak)"
    assert base.lookup("safety", "jailbreak", "rtaa").missing == \
        "the baseline's safety/jailbreak has no metric 'rtaa' (it has: rta, toxicity)"
    assert base.lookup("safety", "jailbreak", "toxicity").missing == \
        "the baseline has no value for safety/jailbreak.toxicity (no judged probes there)"
