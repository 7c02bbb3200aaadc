"""End of the session (controller only): summary, gates, exit status, JSON report, GitHub step summary."""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

WORKER_JUDGES = "trustllm_judges"
WORKER_DESELECTED = "trustllm_deselected"


def publish_worker_identities(state) -> None:
    """xdist worker: hand the judges it built, and how many probes it deselected, to the controller (which
    builds no judge and collects nothing itself)."""
    output = getattr(state.config, "workeroutput", None)
    if output is not None:
        output[WORKER_JUDGES] = state.identities()["judges"]
        output[WORKER_DESELECTED] = state.deselected_probes
        if state._prefetcher is not None:  # its last word: e.g. the cache file was removed after its last fetch
            state._prefetcher.publish()


def finish_session(state, session: pytest.Session, exitstatus: int) -> None:
    from . import report, summary

    result = summary.build(state.results, state.baseline)
    # -x / --maxfail, Ctrl-C: the probes after the stop never ran, so the gates cannot pass the run
    stopped = session.shouldfail or session.shouldstop
    if not stopped and exitstatus == pytest.ExitCode.INTERRUPTED:
        stopped = "terminated (SIGTERM)" if state.terminated else "interrupted"
    status = summary.exit_status(result, int(exitstatus), state.settings.strict, bool(stopped))
    full: dict[str, Any] = {
        "schema_version": 1,
        **state.identities(),
        "run": {"started": datetime.fromtimestamp(state.started, timezone.utc).isoformat(),
                "duration_s": round(time.time() - state.started, 3), "exit_status": status,
                "pytest_exit_status": int(exitstatus), "strict": state.settings.strict,
                "stopped_early": str(stopped) if stopped else None,
                "deselected_probes": state.deselected_probes,
                "last_failed_only": _last_failed_only(session.config),
                "sample": state.settings.sample, "seed": state.settings.seed, "totals": result["totals"],
                "baseline": state.baseline.identity() if state.baseline else None},
        **{k: result[k] for k in ("tasks", "dimensions", "gates", "cases", "warnings")},
    }
    state.output_errors = []
    try:
        session.config.hook.pytest_trustllm_summary(config=session.config, summary=full)
    except Exception as exc:  # a user's hook: the table and reports still come, with the summary as it stood
        state.output_errors.append(f"a pytest_trustllm_summary hook failed: {describe_error(exc)}")
        if status == 0:
            status = int(pytest.ExitCode.TESTS_FAILED)
    state.summary = full
    # The step summary first: it does not show the exit status, and a failure to append to it changes the
    # status that the report and the card record.
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        try:
            with Path(step_summary).open("a", encoding="utf-8") as fh:
                fh.write(report.render_markdown(full))
        except OSError as exc:
            state.output_errors.append(f"could not append to GITHUB_STEP_SUMMARY ({step_summary}): {exc}")
    outputs = [(path, write, what) for path, write, what in (
        (state.settings.report, report.write_json, "the JSON report"),
        (state.settings.card, report.write_card, "the trust card")) if path is not None]
    written = _write_outputs(state, full, outputs, status)
    if state.output_errors and status == 0:
        status = int(pytest.ExitCode.TESTS_FAILED)
        if written:  # they said 0: write them again with the status the run ends with
            _write_outputs(state, full, written, status)
    session.exitstatus = status


def _last_failed_only(config: pytest.Config) -> bool:
    """``--lf`` with failures on record: pytest ran only those, leaving the other tests out while collecting
    (uncounted: they never reach ``pytest_deselected``), so the metrics cover a part of the suite."""
    plugin = config.pluginmanager.get_plugin("lfplugin")
    return bool(config.getoption("lf", False) and plugin is not None and getattr(plugin, "active", False)
                and getattr(plugin, "lastfailed", None))


def stop_on_sigterm(state) -> None:
    """SIGTERM (a CI job cancelled or timed out, ``docker stop``) stops a run with probes as Ctrl-C does: the
    probes that ran are gated as a run stopped early, the report and card are written, and every answer
    received is already in the cache. Only where nothing else handles SIGTERM, in the main thread; a second
    SIGTERM ends the process at once; the previous handling comes back when pytest ends."""
    import signal
    import threading

    if getattr(state, "sigterm_handled", False) or threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return
    state.sigterm_handled = True

    def interrupt(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        state.terminated = True
        raise KeyboardInterrupt("SIGTERM")

    def restore() -> None:
        if signal.getsignal(signal.SIGTERM) is interrupt:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

    signal.signal(signal.SIGTERM, interrupt)
    state.config.add_cleanup(restore)


def describe_error(exc: BaseException) -> str:
    """``TypeError: message (conftest.py:12)``: the error and the line that raised it, for a hook's failure."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _write_outputs(state, full: dict[str, Any], outputs: list, status: int) -> list:
    """Write each (path, write, what) with STATUS recorded; the ones written (a failure is noted, and fails
    the run with its reason)."""
    full["run"]["exit_status"] = status
    written = []
    for path, write, what in outputs:
        try:
            write(full, path)
            written.append((path, write, what))
        except Exception as exc:  # a report that cannot be written fails the run, with the reason
            state.output_errors.append(f"could not write {what} {path}: {exc}")
    return written
