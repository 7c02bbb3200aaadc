"""Runs that cover only part of the suite say so: Ctrl-C (while probes run, or before any ran), ``-n 2
--maxfail`` (the same as a serial ``--maxfail``: nothing tolerated), and deselection (``-k``, ``-m``,
``--deselect``, ``--lf``): the table, the card and the report name the partial run."""

from __future__ import annotations

import json

import pytest

SUITE = '''
import pytest

@pytest.mark.trust(dimension="safety", task="harm", threshold=0.5)
@pytest.mark.parametrize("i", range(8))
def test_probe(i):
    if i == {interrupt_at}:
        raise KeyboardInterrupt  # what Ctrl-C raises in the probe that is running
    assert i % 4 != 3  # probes 3 and 7 fail: the gate accepts them in a whole run
'''


def report(pytester) -> dict:
    return json.loads((pytester.path / "r.json").read_text())


def test_ctrl_c_while_probes_run_is_a_partial_run_that_tolerates_nothing(pytester):
    pytester.makepyfile(test_s=SUITE.format(interrupt_at=5))
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--trust-report", "r.json", "--trust-card", "c.md")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["the run stopped early (interrupted): the gates were computed on a partial run, so "
                                 "they cannot pass it (pytest's exit status stands)"])
    assert "gates tolerated" not in result.stdout.str() and "tolerated)" not in result.stdout.str()
    run = report(pytester)["run"]
    assert run["stopped_early"] == "interrupted" and run["exit_status"] == 2
    assert run["totals"]["probes"] == 5 and run["totals"]["tolerated_failures"] == 0
    assert "the run stopped early (interrupted)" in (pytester.path / "c.md").read_text()


def test_ctrl_c_before_any_probe_ran_still_writes_a_report_that_says_so(pytester):
    pytester.makepyfile(test_s=SUITE.format(interrupt_at=0))
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--trust-report", "r.json")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    run = report(pytester)["run"]
    assert run["stopped_early"] == "interrupted" and run["totals"]["probes"] == 0 and run["exit_status"] == 2


def test_xdist_maxfail_tolerates_nothing_like_a_serial_run(pytester):
    pytester.makepyfile(test_s=SUITE.format(interrupt_at=-1))
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-n", "2", "--maxfail", "1", "--trust-report", "r.json")
    assert result.ret in (pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.INTERRUPTED)  # xdist ends a stop with 2
    result.stdout.fnmatch_lines(["the run stopped early (*): the gates were computed on a partial run*"])
    assert "gates tolerated" not in result.stdout.str() and "tolerated)" not in result.stdout.str()
    assert report(pytester)["run"]["totals"]["tolerated_failures"] == 0


@pytest.mark.parametrize("workers", [[], ["-n", "2"]])
def test_deselected_probes_are_named_under_the_table_and_in_the_report(pytester, workers):
    pytester.makepyfile(test_s=SUITE.format(interrupt_at=-1))
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-k", "not 7", "--trust-report", "r.json", *workers)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["1 probe was deselected (-k, -m, --deselect, --lf): the metrics and gates cover the "
                                 "7 selected, not the whole suite"])
    assert report(pytester)["run"]["deselected_probes"] == 1
    whole = pytester.runpytest_subprocess("-p", "no:randomly", "--trust-report", "r.json", *workers)
    assert "deselected (-k" not in whole.stdout.str() and report(pytester)["run"]["deselected_probes"] == 0


def test_sigterm_stops_like_ctrl_c_and_the_report_says_so(pytester):
    pytester.makepyfile(test_s=SUITE.format(interrupt_at=-1).replace(
        "    assert i % 4", "    if i == 5:\n        import os, signal\n        os.kill(os.getpid(), signal.SIGTERM)\n"
                           "    assert i % 4"))
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--trust-report", "r.json")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["the run stopped early (terminated (SIGTERM)): the gates were computed on a partial "
                                 "run*"])
    run = report(pytester)["run"]
    assert run["stopped_early"] == "terminated (SIGTERM)" and run["totals"]["probes"] == 5


def test_a_run_without_probes_leaves_sigterm_alone(pytester):
    pytester.makepyfile(test_plain='''
import signal

def test_default_handler():
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
''')
    pytester.runpytest_subprocess("-p", "no:randomly").assert_outcomes(passed=1)


def test_sigterm_to_the_xdist_controller_stops_like_ctrl_c(pytester):
    pytester.makepyfile(test_s='''
import os, signal, time
import pytest

@pytest.mark.trust(dimension="safety", task="harm", threshold=0.5)
@pytest.mark.parametrize("i", range(40))
def test_probe(i):
    if i == 6:
        os.kill(os.getppid(), signal.SIGTERM)  # the worker's parent: the controller (CI cancelling the job)
    time.sleep(0.05)
''')
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-n", "2", "--trust-report", "r.json")
    assert result.ret == pytest.ExitCode.INTERRUPTED, result.stdout.str()[-2000:]
    run = report(pytester)["run"]
    assert run["stopped_early"] == "terminated (SIGTERM)" and run["totals"]["probes"] < 40
