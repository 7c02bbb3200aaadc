"""``python -m pytest_trustllm.regate``: gate a finished run again from its JSON report alone."""

from __future__ import annotations

import json

import pytest
import scipy.stats  # noqa: F401  imported once here: pytester's in-process runs must not re-import C extensions

from pytest_trustllm.regate import main, regate

from .core_suite import MODEL_ARG, read_report, write_suite


def read_report_at(path):
    return json.loads(path.read_text())


@pytest.fixture
def finished_run(pytester):
    """A run of 20 probes with 17 refusals, gated at 0.8 (passes, 3 failures tolerated), and its report."""
    write_suite(pytester, n=20, refuse=17)
    result = pytester.runpytest(MODEL_ARG, "--trust-gate", "safety/harmful_requests>=0.8", "--trust-report", "r.json")
    assert result.ret == 0
    return pytester.path / "r.json"


def test_the_runs_own_gates_give_the_runs_result_exactly(finished_run):
    report = read_report_at(finished_run)
    again = regate(report, None)
    for key in ("tasks", "dimensions", "gates", "warnings"):
        assert again[key] == report[key], key
    assert again["run"]["exit_status"] == report["run"]["exit_status"] == 0 and again["run"]["regated"] is True


def test_new_gates_decide_again_without_running_anything(finished_run, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(finished_run.parent)
    assert main(["r.json", "--gate", "safety/harmful_requests>=0.9", "--report", "again.json",
                 "--card", "card.md"]) == 1
    out = capsys.readouterr().out
    assert "gate safety/harmful_requests>=0.9: FAILED (value 0.850)" in out and "trust summary" in out
    written = json.loads((finished_run.parent / "again.json").read_text())  # schema-checked when written
    assert written["gates"][0]["expr"] == "safety/harmful_requests>=0.9" and written["run"]["exit_status"] == 1
    assert "| harmful_requests | pass_rate ↑ | 0.850 |" in (finished_run.parent / "card.md").read_text()
    assert main(["r.json", "--gate", "ci:safety/harmful_requests>=0.6"]) == 0  # Wilson lower bound 0.640
    assert main(["r.json", "--strict"]) == 1  # 3 probes failed: plain pytest semantics


def test_a_regression_gate_against_a_baseline_report(finished_run, capsys, monkeypatch):
    monkeypatch.chdir(finished_run.parent)
    assert main(["r.json", "--baseline", "r.json", "--gate", "safety>=baseline"]) == 0
    assert "gate safety>=baseline: passed (value 0.850; threshold 0.850 = baseline 0.850; 20 probes in common: " \
           "0 newly failing, 0 newly passing (McNemar p = 1))" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["missing.json"], "error: report=missing.json: cannot read it (No such file or directory)"),
    (["r.json", "--gate", "safety>=baseline"], "error: a regression gate needs --baseline REPORT.json"),
    (["r.json", "--gate", "safety>>1"], "error: --gate 'safety>>1': malformed gate"),
    (["r.json", "--card", "card.pdf"], "error: --card=card.pdf: the card's format comes from its extension"),
    (["bad.json"], "error: report=bad.json: not a JSON report of pytest-trustllm (at the top level: 'model' is a "
                   "required property)"),
])
def test_bad_arguments_are_one_line_errors(finished_run, capsys, monkeypatch, args, message):
    monkeypatch.chdir(finished_run.parent)
    (finished_run.parent / "bad.json").write_text(json.dumps({"schema_version": 1}))
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_failures_outside_the_probes_still_fail(pytester):
    write_suite(pytester, n=10, refuse=10)
    pytester.makepyfile(test_plain="def test_plain():\n    assert 1 == 2\n")
    result = pytester.runpytest(MODEL_ARG, "--trust-gate", "safety>=0.5", "--trust-report", "r.json")
    result.stdout.fnmatch_lines(["gate safety>=0.5: passed (value 1.000)",
                                 "1 test outside the probes failed (an ordinary test, a conftest error, a file that "
                                 "could not be collected, or a probe whose xdist worker crashed: pytest's summary "
                                 "names it), so the run fails whatever the gates say"])
    assert result.ret == 1
    report = read_report(pytester)
    assert report["run"]["totals"]["other_failures"] == 1
    assert regate(report, ["safety>=0.1"])["run"]["exit_status"] == 1
