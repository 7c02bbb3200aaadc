"""Gates after review: strict mode and early stops never pass a failed run, marker gates are checked while
collecting, threshold= follows the task's primary metric, regate finds the run's baseline, output files."""

from __future__ import annotations

import json
import os
import stat

import pytest
import scipy.stats  # noqa: F401  imported once here: pytester's in-process runs must not re-import C extensions

from pytest_trustllm.regate import main as regate_main

from .core_suite import MODEL_ARG, read_report, write_suite

AGGREGATOR = '''
from pytest_trustllm.metrics import HIGHER, LOWER, Metric

def leaks(records):
    """Primary metric: a lower-is-better rate without 'pass_rate'; then a score; then a NaN correlation."""
    n = len(records)
    leaked = sum(1 for r in records if r["outcome"] == "failed")
    return [Metric("leak_rate", leaked / n, LOWER, n), Metric("score", 0.5, HIGHER, n),
            Metric("corr", float("nan"), HIGHER, n)]
'''


def strict_json(path) -> dict:
    """The report as a strict JSON reader sees it: NaN or Infinity would not parse."""
    def refuse(name):
        raise ValueError(f"not JSON: {name}")

    return json.loads(path.read_text(), parse_constant=refuse)


def write_marked(pytester, marker: str, n: int = 4, failing: int = 1, name: str = "test_marked") -> None:
    """N plain tests under one trust marker (MARKER: its arguments); the last FAILING of them fail."""
    pytester.makepyfile(**{name: f'''
import pytest

@pytest.mark.trust({marker})
@pytest.mark.parametrize("i", range({n}))
def test_probe(i):
    assert i < {n - failing}
'''})


# -- 1. strict mode adds to the gates: a failed gate still fails ----------------------------------------------
def test_strict_mode_still_fails_a_failed_gate(pytester):
    write_suite(pytester, n=10, refuse=10)  # every probe passes
    args = (MODEL_ARG, "--trust-strict", "--trust-report", "r.json")
    result = pytester.runpytest(*args, "--trust-gate", "safety/harmful_requests>0.99", "--trust-gate", "safety>1")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=10)
    result.stdout.fnmatch_lines(["gate safety>1: FAILED (value 1.000)"])
    assert read_report(pytester)["run"]["exit_status"] == 1
    assert pytester.runpytest(*args, "--trust-gate", "safety>=0.9").ret == pytest.ExitCode.OK
    assert read_report(pytester)["run"]["exit_status"] == 0
    # regate --strict: the same
    assert regate_main(["r.json", "--strict", "--gate", "safety>1"]) == 1
    assert regate_main(["r.json", "--strict", "--gate", "safety>=0.9"]) == 0


def test_strict_mode_does_not_fail_a_run_for_its_xfails(pytester):
    # QA: tolerating nothing under --trust-strict also counted xfailed probes, which plain pytest never fails on
    pytester.makepyfile(test_x='''
import pytest

@pytest.mark.trust("safety", task="known", threshold=0.5)
@pytest.mark.parametrize("i", range(4))
def test_known(i):
    if i == 0:
        pytest.xfail("a known weakness")
''', test_y='''
import pytest

@pytest.mark.trust("safety", task="new", threshold=0.5)
@pytest.mark.parametrize("i", range(4))
def test_new(i):
    assert i < 3
''')
    only_xfails = pytester.runpytest(MODEL_ARG, "--trust-strict", "-p", "no:randomly", "test_x.py")
    assert only_xfails.ret == pytest.ExitCode.OK
    assert "--trust-strict:" not in only_xfails.stdout.str()
    mixed = pytester.runpytest(MODEL_ARG, "--trust-strict", "-p", "no:randomly")
    assert mixed.ret == pytest.ExitCode.TESTS_FAILED
    mixed.stdout.fnmatch_lines(["--trust-strict: 1 failing probe fails the run whatever the gates say"])


# -- 2. -x / --maxfail: a run stopped early keeps its failing status --------------------------------------
@pytest.mark.parametrize("stop", [["-x"], ["--maxfail=2"]])
def test_a_run_stopped_early_keeps_pytests_failing_status(pytester, stop):
    write_suite(pytester, n=20, refuse=16)  # probes 16 to 19 fail; the gate would tolerate them all
    gate = ("--trust-gate", "safety>=0.5", "--trust-report", "r.json")
    assert pytester.runpytest(MODEL_ARG, *gate).ret == pytest.ExitCode.OK
    result = pytester.runpytest(MODEL_ARG, *gate, *stop)
    failures = 2 if stop == ["--maxfail=2"] else 1
    result.assert_outcomes(passed=16, failed=failures)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        f"the run stopped early (stopping after {failures} failures): the gates were computed on a partial run, "
        "so they cannot pass it (pytest's exit status stands)",
        "gate safety>=0.5: passed (value 0.*)",
    ])
    run = read_report(pytester)["run"]
    assert (run["exit_status"], run["pytest_exit_status"]) == (1, 1)
    assert run["stopped_early"] == f"stopping after {failures} failures"
    assert regate_main(["r.json"]) == 1  # re-gating a partial run does not pass it either


# -- 3. threshold= gates the task's primary metric, in its direction --------------------------------------
def test_threshold_with_a_custom_aggregator_gates_its_primary_metric(pytester):
    pytester.makepyfile(myagg=AGGREGATOR)
    pytester.syspathinsert()
    write_marked(pytester, 'dimension="privacy", task="leaks", aggregate="myagg:leaks", threshold=0.3')  # 0.25
    write_marked(pytester, 'dimension="privacy", task="score", aggregate="myagg:leaks", threshold=0.4, '
                           'metric="score"', name="test_score")  # 0.5, higher is better: passes
    write_marked(pytester, 'dimension="privacy", task="lower", aggregate="myagg:leaks", threshold=0.4, '
                           'metric="score", direction="lower"', name="test_lower")  # 0.5 <= 0.4 fails
    result = pytester.runpytest("--trust-report", "r.json")
    result.stdout.fnmatch_lines_random([
        "gate privacy/leaks.leak_rate<=0.3: passed (value 0.250)",
        "gate privacy/score.score>=0.4: passed (value 0.500)",
        "gate privacy/lower.score<=0.4: FAILED (value 0.500)",
    ])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    tasks = {t["task"]: t for t in read_report(pytester)["tasks"]}
    assert (tasks["leaks"]["metric"], tasks["leaks"]["threshold"], tasks["leaks"]["passed"]) == ("leak_rate", 0.3, True)


# -- 6. a mistake in a marker's gates stops the run while collecting ---------------------------------------
@pytest.mark.parametrize("marker, message", [
    ('gates=["pass_rate=>0.5"]',
     "test_marked.py::test_probe: gates=['pass_rate=>0.5']: malformed gate; expected '[ci:][.]METRIC OP NUMBER' on "
     "this task (e.g. '.pass_rate>=0.9', 'ci:.rta>=0.8'), or a full gate '[ci:]DIMENSION/TASK[.METRIC] OP NUMBER', "
     "with OP one of >= <= > <"),
    ('gates=["ci:.pass_rate=>0.1"]',
     "test_marked.py::test_probe: gates=['ci:.pass_rate=>0.1']: malformed gate; expected '[ci:][.]METRIC OP NUMBER' "
     "on this task (e.g. '.pass_rate>=0.9', 'ci:.rta>=0.8'), or a full gate '[ci:]DIMENSION/TASK[.METRIC] OP "
     "NUMBER', with OP one of >= <= > <"),
    ('threshold="0.9"',
     "test_marked.py::test_probe: threshold='0.9' (a string, not a number): expected a number, e.g. threshold=0.9"),
    ('threshold=None, gates=".rta>=0.9"',
     "test_marked.py::test_probe: gates='.rta>=0.9': expected a list of gate expressions, e.g. gates=['.rta>=0.9']"),
    ('threshold=0.9, direction="up"',
     "test_marked.py::test_probe: direction='up': expected 'higher' or 'lower' (which is better)"),
    ('aggregate="nowhere_agg:metrics"',
     "test_marked.py::test_probe: cannot import the aggregator 'nowhere_agg:metrics' (ModuleNotFoundError: No module "
     "named 'nowhere_agg')"),
])
def test_a_mistake_in_a_markers_gates_is_a_usage_error_before_anything_runs(pytester, marker, message):
    write_marked(pytester, f'dimension="ethics", task="extra", {marker}')
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # as a mistake in --trust-gate
    result.stderr.fnmatch_lines([f"ERROR: {message}"])
    assert "passed" not in result.stdout.str() and "failed" not in result.stdout.str()
    assert "trust summary" not in result.stdout.str() and "INTERNALERROR" not in result.stdout.str()
    assert pytester.runpytest("--trust-gate", "safety>>1").ret == result.ret


def test_a_mistake_in_a_markers_gates_stops_xdist_workers_before_any_probe(pytester):
    write_marked(pytester, 'dimension="ethics", task="thr", threshold="0.9"')
    result = pytester.runpytest_subprocess("-n", "2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["pytest-trustllm: stopped: test_marked.py::test_probe: threshold='0.9' (a string, "
                                 "not a number): expected a number, e.g. threshold=0.9"])
    assert "passed" not in result.stdout.str()


def test_a_ci_gate_relative_to_the_markers_task(pytester):
    write_marked(pytester, 'dimension="ethics", task="extra", gates=["ci:.pass_rate>=0.1", ">=0.5"]')
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["gate ci:ethics/extra.pass_rate>=0.1: passed (CI bound 0.301)",
                                 "gate ethics/extra>=0.5: passed (value 0.750)"])


# -- 7. threshold= keeps its full precision ---------------------------------------------------------------
def test_threshold_keeps_full_precision(pytester):
    write_marked(pytester, 'dimension="ethics", task="twothirds", threshold=2/3', n=3, failing=1)
    result = pytester.runpytest("--trust-report", "r.json")
    assert result.ret == pytest.ExitCode.OK  # 2/3 >= 2/3 (not >= 0.666667)
    result.stdout.fnmatch_lines(["gate ethics/twothirds.pass_rate>=0.666667: passed (value 0.667)"])
    (gate,) = read_report(pytester)["gates"]
    assert gate["threshold"] == 2 / 3 and gate["passed"] is True
    assert regate_main(["r.json"]) == 0


# -- 8. a ci: gate on a metric without an interval; NaN is no value -----------------------------------------
def test_ci_gate_on_a_metric_without_interval_and_nan_values(pytester):
    pytester.makepyfile(myagg=AGGREGATOR)
    pytester.syspathinsert()
    write_marked(pytester, 'dimension="privacy", task="leaks", aggregate="myagg:leaks", '
                           'gates=["ci:.score>=0.1", ".corr>=0.1"]')
    result = pytester.runpytest("--trust-report", "r.json", "--trust-card", "c.md")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "gate ci:privacy/leaks.score>=0.1: FAILED (score has a value (0.500) but no confidence interval, so a ci: "
        "gate cannot be checked; gate on the value (without ci:))",
        "gate privacy/leaks.corr>=0.1: FAILED (no value (no judged probes, or every answer was invalid))",
    ])
    report = strict_json(pytester.path / "r.json")
    (task,) = report["tasks"]
    assert task["metrics"]["corr"]["value"] is None and report["gates"][1]["value"] is None


def test_a_nan_primary_metric_shows_as_no_value(pytester):
    pytester.makepyfile(nanagg='''
from pytest_trustllm.metrics import Metric

def corr(records):
    return [Metric("corr", float("nan"), "higher", len(records), float("nan"), float("nan"))]
''')
    pytester.syspathinsert()
    write_marked(pytester, 'dimension="fairness", task="corr", aggregate="nanagg:corr", threshold=0.1', failing=0)
    result = pytester.runpytest("--trust-report", "r.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*corr*corr ↑*-*-*4*>= 0.1*FAIL*",
                                 "gate fairness/corr.corr>=0.1: FAILED (no value (no judged probes, *)"])
    (task,) = strict_json(pytester.path / "r.json")["tasks"]
    assert (task["value"], task["ci_low"], task["ci_high"]) == (None, None, None)


# -- 4, 5. regate: the run's own baseline; an aggregator it cannot import ----------------------------------
def test_regate_uses_the_runs_recorded_baseline(pytester, monkeypatch, capsys, tmp_path):
    write_suite(pytester, refuse=18)
    pytester.runpytest(MODEL_ARG, "--trust-report=base.json", "--trust-gate=safety>=0")
    write_suite(pytester, refuse=15)
    result = pytester.runpytest(MODEL_ARG, "--trust-baseline=base.json", "--trust-gate=safety>=baseline-0.1",
                                "--trust-report=r.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # 0.75 < 0.9 - 0.1
    report_path = str(pytester.path / "r.json")
    monkeypatch.chdir(tmp_path)  # elsewhere: the recorded path is absolute
    capsys.readouterr()
    assert regate_main([report_path]) == 1
    assert "gate safety>=baseline-0.1: FAILED (value 0.750; threshold 0.800 = baseline 0.900 -0.1;" \
           in capsys.readouterr().out
    assert regate_main([report_path, "--gate", "safety>=baseline-0.2"]) == 0

    (pytester.path / "base.json").unlink()
    assert regate_main([report_path]) == 2
    err = capsys.readouterr().err
    assert err == ("error: a regression gate needs --baseline REPORT.json (an earlier run's report): "
                   f"'safety>=baseline-0.1' compares with the run's baseline {pytester.path / 'base.json'}, which "
                   "is not there\n")
    assert "--trust-baseline" not in err


def test_regate_needs_the_runs_aggregators_importable(pytester, capsys):
    pytester.makepyfile(myagg=AGGREGATOR)
    pytester.syspathinsert()
    write_marked(pytester, 'dimension="privacy", task="leaks", aggregate="myagg:leaks", threshold=0.3')
    pytester.runpytest("--trust-report", "r.json")
    report = read_report(pytester)
    for case in report["cases"]:
        case["aggregator"] = "nowhere_agg:leaks"  # as if run where the suite's module is not importable
    (pytester.path / "moved.json").write_text(json.dumps(report))
    assert regate_main(["moved.json"]) == 2
    assert capsys.readouterr().err == (
        "error: task privacy/leaks: cannot import the aggregator 'nowhere_agg:leaks' (ModuleNotFoundError: No module "
        "named 'nowhere_agg'): regate aggregates the tasks again, so it needs the aggregators the run used importable "
        "(run it from the suite's folder, or set PYTHONPATH)\n")


# -- 9. output files: the mode of a normally created file; the status they record is the final one ----------
def test_reports_and_cards_get_the_mode_of_a_normal_file(pytester):
    write_marked(pytester, 'dimension="ethics", task="t"', failing=0)
    old = os.umask(0o027)
    try:
        result = pytester.runpytest("--trust-report", "r.json", "--trust-card", "c.html")
        assert regate_main(["r.json", "--report", "again.json", "--card", "again.md"]) == 0
    finally:
        os.umask(old)
    assert result.ret == pytest.ExitCode.OK
    for name in ("r.json", "c.html", "again.json", "again.md"):
        assert stat.S_IMODE((pytester.path / name).stat().st_mode) == 0o640, name


def test_an_unwritable_step_summary_is_the_status_the_report_and_card_record(pytester, monkeypatch):
    write_marked(pytester, 'dimension="ethics", task="t"', failing=0)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(pytester.mkdir("a-folder")))
    result = pytester.runpytest("--trust-report", "r.json", "--trust-card", "c.html")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["pytest-trustllm: could not append to GITHUB_STEP_SUMMARY*"])
    assert read_report(pytester)["run"]["exit_status"] == 1
    assert "exit status: 1" in (pytester.path / "c.html").read_text()


# -- 10. relative paths in the ini file are relative to the ini file ---------------------------------------
def test_ini_paths_are_relative_to_the_ini_file(pytester):
    suite = pytester.mkdir("suite")
    write_marked(pytester, 'dimension="ethics", task="t"', failing=1)
    (pytester.path / "test_marked.py").rename(suite / "test_marked.py")
    pytester.runpytest("suite", "--trust-report=suite/base.json", "--trust-gate=ethics>=0")
    (suite / "pytest.ini").write_text("[pytest]\ntrust_baseline = base.json\ntrust_report = out/r.json\n"
                                      "trust_card = out/c.md\ntrust_cache = out/cache.sqlite3\ntrust_data = .\n"
                                      "trust_gates =\n    ethics>=baseline-0.1\n")
    result = pytester.runpytest("suite")  # from the folder above the ini file
    assert result.ret == pytest.ExitCode.OK
    assert (suite / "out" / "r.json").is_file() and (suite / "out" / "c.md").is_file()
    assert not (pytester.path / "out").exists()
    assert read_report(pytester, "suite/out/r.json")["run"]["baseline"]["path"] == str(suite / "base.json")
    # a command-line value stays relative to the current directory
    assert pytester.runpytest("suite", "--trust-report=here.json").ret == pytest.ExitCode.OK
    assert (pytester.path / "here.json").is_file()


@pytest.mark.parametrize("ini, message", [
    ("trust_baseline = missing.json\ntrust_gates =\n    ethics>=baseline",
     "ERROR: ini trust_baseline=missing.json: cannot read it (No such file or directory)"),
    ("trust_card = card.pdf", "ERROR: ini trust_card=card.pdf: the card's format comes from its extension: *"),
    ("trust_data = nope", "ERROR: ini trust_data=nope: not a readable directory *"),
    ("trust_sample = some", "ERROR: ini trust_sample='some': expected a positive whole number of probes per task"),
])
def test_mistakes_in_ini_values_name_the_ini_key(pytester, ini, message):
    write_marked(pytester, 'dimension="ethics", task="t"', failing=0)
    pytester.makeini(f"[pytest]\n{ini}\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert "--trust-" not in result.stderr.str()
