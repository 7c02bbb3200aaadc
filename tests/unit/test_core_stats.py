"""Wilson intervals and the gated exit decision, against hand-computed values."""

from __future__ import annotations

import math

import pytest

from pytest_trustllm.metrics import rate_metric, wilson
from pytest_trustllm.results import Results
from pytest_trustllm.summary import build, gated_exit_status


def _wilson_by_hand(k, n, z=1.959963984540054):
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.parametrize(("k", "n"), [(17, 20), (0, 10), (10, 10), (1, 3), (930, 1000)])
def test_wilson_matches_the_formula(k, n):
    assert wilson(k, n) == pytest.approx(_wilson_by_hand(k, n))


def test_wilson_known_values():
    # 17/20: the textbook Wilson 95% interval is [0.6396, 0.9476]
    low, high = wilson(17, 20)
    assert (round(low, 4), round(high, 4)) == (0.6396, 0.9476)
    assert wilson(0, 0) == (0.0, 1.0)
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == pytest.approx(1.0)


def test_wilson_bounds_at_none_and_all_are_exact():
    # QA: 0 of 6 printed its lower bound as 2.78e-17 (rounding), where the table should say 0.000
    assert all(wilson(0, n)[0] == 0.0 and wilson(n, n)[1] == 1.0 for n in range(1, 500))


def test_rate_metric_empty_has_no_value():
    m = rate_metric("rta", [])
    assert m.value is None and m.n == 0 and m.ci_low is None


def _record(i, outcome, task="t", dim="safety", gates=()):
    return {"nodeid": f"test_x.py::test[{task}-{i}]", "dimension": dim, "task": task, "outcome": outcome,
            "gates": list(gates), "aggregator": None}


def _summary(outcomes, gates=(), cli=()):
    from pytest_trustllm.gates import parse_gate

    results = Results([parse_gate(g) for g in cli])
    for i, outcome in enumerate(outcomes):
        results.add(_record(i, outcome, gates=gates))
    return build(results)


def test_exit_status_decisions():
    assert gated_exit_status(_summary(["passed", "failed"], cli=["safety/t>=0.5"]), 1) == 0
    assert gated_exit_status(_summary(["passed", "failed"], cli=["safety/t>=0.6"]), 1) == 1
    assert gated_exit_status(_summary(["passed", "failed"]), 1) == 1  # no gate: all must pass
    assert gated_exit_status(_summary(["passed", "passed"]), 0) == 0
    assert gated_exit_status(_summary(["passed", "error"], cli=["safety>=0.0"]), 1) == 1
    assert gated_exit_status(_summary(["passed"], cli=["safety/t>=2"]), 0) == 1  # failed gate, all passed
    assert gated_exit_status(_summary(["passed", "failed"], cli=["safety/t>=0.5"]), 2) == 2  # interrupted stays


def test_skipped_probes_are_not_in_the_pass_rate():
    summary = _summary(["passed", "skipped", "failed", "passed"], cli=["safety/t>=0.6"])
    (task,) = summary["tasks"]
    assert task["n"] == 3 and task["value"] == pytest.approx(2 / 3) and task["probes"]["skipped"] == 1


def test_marker_gates_and_cli_override():
    summary = _summary(["passed", "failed"], gates=["safety/t.pass_rate>=0.9"])
    assert [g["expr"] for g in summary["gates"]] == ["safety/t.pass_rate>=0.9"]
    summary = _summary(["passed", "failed"], gates=["safety/t.pass_rate>=0.9"], cli=["safety/t.pass_rate>=0.5"])
    assert [g["expr"] for g in summary["gates"]] == ["safety/t.pass_rate>=0.5"]
    assert summary["tasks"][0]["passed"] is True


def test_pass_rate_counts_unreadable_answers_as_invalid():
    from pytest_trustllm.results import pass_rate

    records = [{"outcome": "passed", "observation": {"invalid": False}},
               {"outcome": "failed", "observation": {"invalid": True}},
               {"outcome": "failed", "observation": {}},
               {"outcome": "skipped", "observation": {"invalid": True}}]
    (metric,) = pass_rate(records)
    assert (metric.value, metric.n, metric.invalid) == (pytest.approx(1 / 3), 3, 1)


def _expecting(pairs):
    results = Results()
    for i, (task, expects) in enumerate(pairs):
        record = _record(i, "passed", task=task)
        record["observation"] = {"expects": expects} if expects else {}
        results.add(record)
    return build(results)["warnings"]


def test_refusal_probes_without_over_refusal_probes_are_warned_about():
    (warning,) = _expecting([("harmful", "refusal"), ("jailbreak", "refusal"), ("facts", None)])
    assert warning.startswith("safety/harmful, safety/jailbreak expect refusals, but no probe here expects an "
                              "answer to a benign look-alike: a model that refuses everything would pass.")
    assert _expecting([("harmful", "refusal"), ("lookalikes", "compliance")]) == []
    assert _expecting([("facts", None), ("lookalikes", "compliance")]) == []
    many = _expecting([(f"t{i}", "refusal") for i in range(6)])
    assert many[0].startswith("safety/t0, safety/t1, safety/t2, safety/t3 and 2 more expect refusals")


def test_tiny_values_keep_their_significant_digits_in_the_report_and_the_table():
    """A chi-square p-value of 3.87e-25 written with 6 decimals was 0.0 in the JSON report and 0.000 in the
    table, and a gate record then read 'p >= 1e-9 passed (value 0.0)'."""
    from pytest_trustllm.metrics import Metric, significant
    from pytest_trustllm.report import _fmt

    assert significant(3.8712345678e-25) == 3.87123e-25
    assert significant(0.8500000001) == 0.85 and significant(1 / 3) == 0.333333 and significant(0.0) == 0.0
    assert Metric("p_value_sex", 3.8712345678e-25, ci_low=1e-30, ci_high=2e-20).as_dict()["value"] == 3.87123e-25
    assert (_fmt(3.87e-25), _fmt(0.0004), _fmt(0.0005), _fmt(0.0), _fmt(0.85)) == \
        ("3.87e-25", "4.00e-04", "0.001", "0.000", "0.850")
    from pytest_trustllm.report import _ci

    assert _ci({"ci_low": 1.23e-30, "ci_high": 2.5e-20}) == "[1.23e-30, 2.50e-20]"
    assert _ci({"ci_low": 0, "ci_high": 0.5}) == "[0.000, 0.500]"


def test_a_report_path_that_is_a_symlink_or_a_fifo_is_written_through_not_replaced(tmp_path):
    import os
    import threading

    from pytest_trustllm.report import _write_atomically

    (tmp_path / "real").mkdir()
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "real" / "report.json")
    _write_atomically(link, "{}\n")
    assert link.is_symlink() and (tmp_path / "real" / "report.json").read_text() == "{}\n"

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    _write_atomically(fifo, "through the pipe\n")
    reader.join(timeout=10)
    assert received == ["through the pipe\n"] and not fifo.is_file()  # still a FIFO, not replaced
