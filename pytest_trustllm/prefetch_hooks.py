"""Run-level bookkeeping of answers: xdist plumbing and the summary lines (registered as a plugin)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPLAY_MISS_PROPERTY = "trust.replay_miss"
UNAVAILABLE_OUTPUT = "trustllm_unavailable"


def stop_worker(config: pytest.Config, message: str) -> None:
    """xdist worker: the model cannot serve, or a judge cannot be built. ``pytest.exit`` in a worker is an
    INTERNALERROR in xdist (pytest-xdist#1239), so stop this worker after the current probe and tell the
    controller, which stops the run and exits with a usage error (see :meth:`ResponsesPlugin.pytest_sessionfinish`)."""
    session = config.pluginmanager.get_plugin("session")
    if session is not None:
        session.shouldstop = message
    config.workeroutput[UNAVAILABLE_OUTPUT] = message


class ResponsesPlugin:
    def __init__(self, state) -> None:
        self.state = state
        self.replay_misses: list[str] = []
        self.run_ids: set[str] = set()

    # -- xdist controller: collect what the workers fetched; remove the run's scratch store at the end ------
    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node) -> None:
        from .finish import stop_on_sigterm

        stop_on_sigterm(self.state)  # the controller collects nothing, so it cannot tell whether probes will run
        self.run_ids.add(node.workerinput.get("testrunuid", ""))
        node.workerinput["trustllm_started"] = getattr(self.state, "started", None)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        output = getattr(node, "workeroutput", None) or {}
        self.state.prefetcher.merge_worker(output)
        from .finish import WORKER_DESELECTED, WORKER_JUDGES

        self.state.worker_judges.update(output.get(WORKER_JUDGES, {}))
        # every worker collects (and deselects) the whole suite
        self.state.deselected_probes = max(self.state.deselected_probes, output.get(WORKER_DESELECTED, 0))
        self.state.unavailable = self.state.unavailable or output.get(UNAVAILABLE_OUTPUT)

    @pytest.hookimpl(trylast=True)  # after the gates decided: a model that could not serve is a usage error
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.state.unavailable and not self.state.is_worker:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if any(name == REPLAY_MISS_PROPERTY for name, _ in report.user_properties) and report.when == "setup":
            self.replay_misses.append(report.nodeid)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        from .prefetch import scratch_path

        for run_id in filter(None, self.run_ids):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{scratch_path(run_id)}{suffix}").unlink(missing_ok=True)

    # -- the summary ---------------------------------------------------------------------------------------
    def pytest_terminal_summary(self, terminalreporter, exitstatus: int, config: pytest.Config) -> None:
        state = self.state
        if state.is_worker or state._prefetcher is None:
            return
        stats = state.prefetcher.stats
        total = stats.generated + stats.cached + stats.failed + stats.replay_misses
        if total:
            parts = [f"{stats.generated} generated", f"{stats.cached} from the cache"]
            if stats.shared:
                parts.append(f"{stats.shared} of them read by a second xdist worker too")
            if stats.failed:
                parts.append(f"{stats.failed} failed")
            if stats.replay_misses:
                parts.append(f"{stats.replay_misses} not in the cache (--trust-replay)")
            if stats.unsaved:
                parts.append(f"{stats.unsaved} not stored in the cache")
            if stats.calls.retries:
                parts.append(f"{stats.calls.retries} retries ({stats.calls.rate_limited} rate limited)")
            terminalreporter.write_line(f"pytest-trustllm: {total} answers: {', '.join(parts)}")
        otherwise = stats.cached_otherwise()
        if otherwise["answers"]:
            n, first = otherwise["answers"], otherwise["because"][0]
            others = otherwise["differences"] - 1
            more = f" (and {others} other difference{'s' if others != 1 else ''})" if others else ""
            verb = "had no cached answer" if state.settings.replay else "were not read from the cache"
            terminalreporter.write_line(
                f"pytest-trustllm: {n} answer{'s' if n != 1 else ''} {verb} although the cache holds answers to the "
                f"same prompts from another run: {first['difference']} ({first['answers']} of them){more}; the "
                "cache key covers the model's identity and every generation parameter", yellow=True)
        store = state.prefetcher._store
        replaced = str(store.path) if store is not None and not store.still_there() else stats.cache_replaced
        if replaced:  # under xdist the workers hold the cache: they say so in their stats
            terminalreporter.write_line(f"pytest-trustllm: the response cache {replaced} was removed or replaced "
                                        "during the run: this run's answers may not have been kept, so the next run "
                                        "may ask the model again", red=True)
        if state.unavailable:
            terminalreporter.write_line(f"pytest-trustllm: stopped: {state.unavailable}", red=True)
        if self.replay_misses:
            first = self.replay_misses[0]
            terminalreporter.write_line(
                f"pytest-trustllm: --trust-replay: {len(self.replay_misses)} probe(s) had no cached answer "
                f"(first: {first}); run once without --trust-replay to fetch them", red=True)


@contextmanager
def usage_errors_stop_workers(state: Any) -> Iterator[list[str]]:
    """A usage error, except in an xdist worker (which turns it into an INTERNALERROR): there it stops the
    worker and tells the controller. Yields a list that is non-empty once it stopped the worker."""
    stopped: list[str] = []
    try:
        yield stopped
    except pytest.UsageError as exc:
        if not state.is_worker:
            raise
        stop_worker(state.config, str(exc))
        stopped.append(str(exc))
