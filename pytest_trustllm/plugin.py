"""The pytest11 entry point: thin hook implementations that delegate to the modules beside it."""

from __future__ import annotations

import pytest

from . import options
from .context import reset_current, set_current
from .judges.base import JudgeUnavailable
from .state import OBSERVATION_KEY, STATE_KEY, TrustState

DIMENSIONS = ("truthfulness", "safety", "fairness", "robustness", "privacy", "ethics")


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "trust(dimension, task, **options): a trust probe of DIMENSION/TASK; "
                                       "counts toward the task's metrics and gates")
    for dim in DIMENSIONS:
        config.addinivalue_line("markers", f"{dim}: trust probes of the {dim} dimension")
    from .rootdir_check import check_rootdir

    check_rootdir(config, options.value_option_names())  # --trust-cache PATH must not move the rootdir
    settings = options.resolve(config)
    state = TrustState(config, settings)
    config.stash[STATE_KEY] = state
    from .datasets import BuiltinLoaders
    from .judges import BuiltinJudges
    from .models import BuiltinBackends
    from .prefetch_hooks import ResponsesPlugin
    from .probe import BuiltinSampling

    for name, plugin in (("trustllm-backends", BuiltinBackends()), ("trustllm-judges", BuiltinJudges()),
                         ("trustllm-loaders", BuiltinLoaders()),
                         ("trustllm-sampling", BuiltinSampling(settings.sample, settings.seed)),
                         ("trustllm-responses", ResponsesPlugin(state))):
        config.pluginmanager.register(plugin, name)
    if not state.is_worker:
        from .collection import RecordCollector

        if settings.baseline:  # read and checked before anything runs: a bad baseline is a usage error
            from .baseline import load_baseline

            state.baseline = load_baseline(settings.baseline, settings.baseline_dir, settings.baseline_flag)

        config.pluginmanager.register(RecordCollector(state), "trustllm-records")


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE_KEY, None)
    if state is not None:
        state.close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    from .probe import parametrize

    parametrize(metafunc, metafunc.config.stash[STATE_KEY])


@pytest.hookimpl(tryfirst=True)  # before -m deselects: dimension markers must be on the items already
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from .collection import check_markers, mark_dimensions
    from .gates import check_collected
    from .prefetch_hooks import usage_errors_stop_workers

    state = config.stash[STATE_KEY]
    with usage_errors_stop_workers(state) as stopped:
        if state.collection_problems:  # a dataset that needs --trust-data or a package: stop before anything runs
            raise pytest.UsageError("\n".join(dict.fromkeys(state.collection_problems)))
        check_markers(items)
        check_collected(state.settings.gates, items)  # gates against the metrics of the tasks collected
    if stopped:
        items[:] = []  # xdist worker: a probe's gates are wrong, so no probe runs (the controller says why)
    mark_dimensions(items)


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        state = items[0].config.stash.get(STATE_KEY, None)
        if state is not None:
            state.deselected_probes += sum(1 for item in items if item.get_closest_marker("trust") is not None)


def pytest_collection_finish(session: pytest.Session) -> None:
    from .collection import prepare_run
    from .prefetch_hooks import usage_errors_stop_workers

    state = session.config.stash[STATE_KEY]
    with usage_errors_stop_workers(state):
        prepare_run(state, session)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    from .collection import start_attempt
    from .prefetch_hooks import UNAVAILABLE_OUTPUT

    stopped = getattr(item.config, "workeroutput", {}).get(UNAVAILABLE_OUTPUT)
    if stopped:  # xdist worker stopped before its first probe (a missing package): it runs nothing more
        pytest.skip(f"pytest-trustllm stopped the run: {stopped}")
    start_attempt(item)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    token = set_current(item)
    try:
        return (yield)
    except JudgeUnavailable as exc:  # a judge's server cannot be reached at all: stop once, not per probe
        item.config.stash[STATE_KEY].stop_run(str(exc))
    finally:
        reset_current(token)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    from .collection import attach_record

    attach_record(item, call, report, item.stash.get(OBSERVATION_KEY, {}))
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from .finish import finish_session, publish_worker_identities
    from .run_modes import planning_only

    state = session.config.stash[STATE_KEY]
    if state.is_worker:
        publish_worker_identities(state)
    elif state.unavailable:
        pass  # xdist: the run was stopped (no model or judge), so no metric or gate means anything
    elif exitstatus == pytest.ExitCode.USAGE_ERROR:
        pass  # a mistake found while collecting (a probe's gates): nothing ran, nothing to gate
    elif planning_only(session.config):
        pass
    elif state.results.records or state.settings.gates or (
            exitstatus == pytest.ExitCode.INTERRUPTED and (state.settings.report or state.settings.card)):
        finish_session(state, session, exitstatus)  # interrupted before any probe ran: a report that says so


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: the table comes after pytest's short summary
def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config):
    yield
    state = config.stash.get(STATE_KEY, None)
    full = getattr(state, "summary", None)
    if full is None:
        return
    try:
        from .report import render_terminal

        terminalreporter.write_sep("=", "trust summary")
        terminalreporter.write(render_terminal(full, terminalreporter._tw.fullwidth, terminalreporter.hasmarkup))
        for line in getattr(state, "output_errors", ()):
            terminalreporter.write_line(f"pytest-trustllm: {line}", red=True)
    except Exception as exc:  # never raise from the terminal summary
        terminalreporter.write_line(f"pytest-trustllm: could not render the summary: {exc!r}")


from .fixtures import (  # noqa: E402,F401  fixtures are part of the plugin module's namespace
    trust_case,
    trust_embedder,
    trust_judge,
    trust_llm_judge,
    trust_model,
    trust_response,
    trust_responses,
    trust_toxicity,
)
