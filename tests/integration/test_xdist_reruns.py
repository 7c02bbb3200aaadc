"""Results are the same with and without xdist; reruns do not double-count."""

from __future__ import annotations

import json

from .core_suite import MODEL_ARG, read_report, write_suite

SECOND_TASK = '''
from pytest_trustllm import probe, assert_compliance

@probe(dataset="data/harmful.jsonl", dimension="privacy", task="answers", subgroups=["kind"])
def test_answers(trust_response):
    assert_compliance(trust_response)
'''


def test_xdist_gives_identical_tasks_and_exit_status(pytester):
    write_suite(pytester, n=30, refuse=26)
    pytester.makepyfile(test_second=SECOND_TASK)
    args = [MODEL_ARG, "--trust-gate", "safety/harmful_requests>=0.8", "--trust-gate", "privacy>=0.1", "-p",
            "no:cacheprovider"]
    serial = pytester.runpytest_subprocess(*args, "--trust-report", "serial.json")
    parallel = pytester.runpytest_subprocess(*args, "-n", "2", "--trust-report", "xdist.json")
    assert serial.ret == parallel.ret == 0
    a, b = read_report(pytester, "serial.json"), read_report(pytester, "xdist.json")
    assert a["tasks"] == b["tasks"] and a["dimensions"] == b["dimensions"] and a["gates"] == b["gates"]
    assert a["judges"] == b["judges"] and a["judges"]["refusal"]["spec"] == "keywords"
    assert [c["nodeid"] for c in a["cases"]] == [c["nodeid"] for c in b["cases"]]
    assert len(a["cases"]) == 60
    parallel.stdout.fnmatch_lines(["*= trust summary =*", "*gates tolerated 30 probe failures (50% of 60 probes)*"])


def test_rerun_of_a_flaky_probe_counts_once(pytester):
    write_suite(pytester, n=6, refuse=6)
    pytester.makepyfile(test_flaky='''
import pathlib
import pytest
from pytest_trustllm import probe

@probe(dataset="data/harmful.jsonl", dimension="safety", task="flaky")
def test_flaky(trust_case):
    marker = pathlib.Path(f"seen-{trust_case.case_id}")
    if trust_case.index == 0 and not marker.exists():
        marker.write_text("x")
        assert False, "first attempt fails"
''')
    result = pytester.runpytest(MODEL_ARG, "--reruns", "1", "--trust-report", "r.json", "-k", "flaky")
    assert result.ret == 0
    outcomes = result.parseoutcomes()
    assert (outcomes["passed"], outcomes["rerun"], outcomes.get("failed", 0)) == (6, 1, 0)
    task = read_report(pytester)["tasks"][0]
    assert task["n"] == 6 and task["probes"]["passed"] == 6 and task["probes"]["failed"] == 0


def test_running_twice_reports_the_same(pytester):
    write_suite(pytester, n=10, refuse=7)
    for name in ("one.json", "two.json"):
        pytester.runpytest(MODEL_ARG, "--trust-gate", "safety>=0.5", "--trust-report", name)
    one = json.loads((pytester.path / "one.json").read_text())
    two = json.loads((pytester.path / "two.json").read_text())
    assert one["tasks"] == two["tasks"] and one["tasks"][0]["n"] == 10
