"""Baseline lookups for regression gates: values, probe outcomes, why a value is missing, probe-by-probe changes."""

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
    "cases": [{"dimension": "safety", "task": "jailbreak", "case_id": cid, "outcome": outcome}
              for cid, outcome in (("a", "passed"), ("b", "failed"), ("c", "passed"))],
}


def test_values_and_probe_ids():
    base = Baseline(Path("base.json"), REPORT)
    found = base.lookup("safety", "jailbreak", "rta")
    assert (found.value, found.n, found.missing) == (0.93, 3, None)
    dimension = base.lookup("safety", None, "pass_rate")
    assert (dimension.value, dimension.n) == (0.9, 10)
    assert base.outcomes == {("safety", "jailbreak"): {"a": "passed", "b": "failed", "c": "passed"}}
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


def test_probe_by_probe_changes_and_mcnemars_exact_p():
    from pytest_trustllm.baseline import probe_changes

    before = {"a": "passed", "b": "passed", "c": "failed", "d": "passed", "e": "error"}
    after = {"a": "failed", "b": "passed", "c": "passed", "d": "failed", "e": "passed", "f": "passed"}
    # judged in both: a, b, c, d (e errored in the baseline; f is new). Discordant: 2 newly failing, 1 newly
    # passing; two-sided exact p = 2 * P(X <= 1 | n = 3, 1/2) = 2 * 4/8, capped at 1
    assert probe_changes(before, after) == {"common_probes": 4, "newly_failing": ["a", "d"], "newly_passing": 1,
                                            "mcnemar_p": 1.0}
    five = {str(i): "passed" for i in range(5)}
    assert probe_changes(five, dict.fromkeys(five, "failed"))["mcnemar_p"] == 0.0625  # 2 * (1/2)^5
    assert probe_changes(five, five) == {"common_probes": 5, "newly_failing": [], "newly_passing": 0,
                                         "mcnemar_p": 1.0}
    many = {str(i): "passed" for i in range(59)}  # a clear regression: p = 2 * (1/2)^59 = 3.47e-18, never 0
    assert probe_changes(many, dict.fromkeys(many, "failed"))["mcnemar_p"] == 3.469e-18
