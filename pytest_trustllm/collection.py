"""Per-item bookkeeping: dimension markers, response planning, and the case record each report carries.

Records travel on ``report.user_properties`` (xdist serialises them to the controller); only the
controller's :class:`RecordCollector` turns them into results.
"""

from __future__ import annotations

from typing import Any

import pytest

from .assertions import excerpt
from .cases import TrustCase

RECORD_PROPERTY = "trustllm_record"


# the most of one answer a JSON report keeps (the response cache keeps it whole; response_chars says how long)
REPORT_RESPONSE_CHARS = 20_000


def trust_marker(item: pytest.Item):
    return item.get_closest_marker("trust")


def trust_options(item: pytest.Item, marker) -> dict[str, Any]:
    """The marker's options, positional ``dimension``/``task`` included and the task defaulted."""
    from .markers import marker_options

    return marker_options(marker.args, marker.kwargs, getattr(item, "originalname", item.name))


def case_of(item: pytest.Item) -> TrustCase | None:
    """The item's probe case; None for a test that is not a probe, or an empty probe (its param is None, or
    pytest's NOTSET for an empty ``parametrize``)."""
    callspec = getattr(item, "callspec", None)
    case = callspec.params.get("trust_case") if callspec is not None else None
    return case if isinstance(case, TrustCase) else None


def mark_dimensions(items: list[pytest.Item]) -> None:
    """Mark each probe with its dimension (``-m safety``); a dimension of the user's own is registered as a
    marker first, so ``--strict-markers`` accepts it and no unknown-mark warning is given."""
    known: set[str] | None = None
    for item in items:
        marker = trust_marker(item)
        if marker is None:
            continue
        options = trust_options(item, marker)
        if isinstance(options.get("dimension"), str) and options["dimension"]:
            if known is None:
                known = {line.split(":")[0].split("(")[0].strip() for line in item.config.getini("markers")}
            if options["dimension"] not in known:
                item.config.addinivalue_line("markers", f"{options['dimension']}: trust probes of the "
                                                        f"{options['dimension']} dimension")
                known.add(options["dimension"])
            item.add_marker(options["dimension"])
            item.user_properties.extend([("trust.dimension", options["dimension"]),
                                         ("trust.task", str(options["task"]))])
            case = case_of(item)
            if case is not None:
                item.user_properties.append(("trust.case", case.case_id))


def check_markers(items: list[pytest.Item]) -> None:
    """A mistake in a probe's ``threshold=``/``gates=`` is a usage error naming the test, before anything runs."""
    from .markers import check_marker

    checked = set()
    for item in items:
        marker = trust_marker(item)
        if marker is None or id(marker) in checked:
            continue
        checked.add(id(marker))
        try:
            check_marker(marker.kwargs, marker.args)
        except pytest.UsageError as exc:
            raise pytest.UsageError(f"{_test_name(item)}: {exc}") from None
    check_tasks(items)


def _test_name(item: pytest.Item) -> str:
    return f"{item.parent.nodeid}::{getattr(item, 'originalname', item.name)}" if item.parent else item.nodeid


# what makes a task's metrics: the probes of one task must agree on them
_TASK_DEFINING = (("aggregate", "none (the pass rate)"), ("metric", "none (the first metric)"),
                  ("direction", "none (the metric's own)"))


_PASS_RATE = "pytest_trustllm.results:pass_rate"


def _defining(options: dict[str, Any], name: str) -> Any:
    """OPTIONS' NAME, with the defaults of a probe without ``aggregate=`` written out as unset, so spelling a
    default out (``metric="pass_rate"``) is no disagreement."""
    value = options.get(name)
    if options.get("aggregate") in (None, _PASS_RATE):
        default = {"aggregate": _PASS_RATE, "metric": "pass_rate", "direction": "higher"}[name]
        return None if value == default else value
    return value


def check_tasks(items: list[pytest.Item]) -> None:
    """Probes of one task (two tests over one data file, or the same ``task=``) are aggregated together, by
    one aggregator: a usage error if they name different ``aggregate=``, ``metric=`` or ``direction=``
    (the first probe's would silently decide, and another probe's threshold would gate a metric it never
    meant)."""
    seen: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    for item in items:
        marker = trust_marker(item)
        if marker is None:
            continue
        options = trust_options(item, marker)
        key = (options.get("dimension"), options.get("task"))
        test = _test_name(item)
        first = seen.setdefault(key, (test, options))
        if first[0] == test:
            continue
        for name, unset in _TASK_DEFINING:
            mine, theirs = _defining(options, name), _defining(first[1], name)
            if mine != theirs:
                theirs_shown, mine_shown = (repr(v) if v is not None else unset for v in (theirs, mine))
                raise pytest.UsageError(
                    f"task {key[0]}/{key[1]}: its probes disagree on {name}=: {first[0]} has {theirs_shown}, "
                    f"{test} has {mine_shown}. The probes of one task are aggregated together: give them the "
                    f"same {name}=, or each its own task (task=...)")


class ProbeOrder:
    """The run's probes in order, for judging ahead (:class:`.judges.lookahead.Plan`): a probe's group is its
    test function (its node id without the parameters). Each group's probes are listed once, so finding the
    streak before a probe and the answers after it costs at most the read-ahead cap, not the run's length."""

    def __init__(self, state) -> None:
        self.state = state
        self._groups: dict[str, list[Any]] | None = None
        self._position: dict[str, int] = {}  # nodeid -> its place in its group

    @staticmethod
    def group(nodeid: str) -> str:
        return nodeid.split("[", 1)[0]

    def _group_of(self, nodeid: str) -> list[Any]:
        if self._groups is None:
            self._groups = {}
            for item in self.state.items:
                members = self._groups.setdefault(self.group(item.nodeid), [])
                self._position[item.nodeid] = len(members)
                members.append(item)
        return self._groups.get(self.group(nodeid), [])

    def current(self) -> tuple[str, str] | None:
        from .context import current_item

        item = current_item()
        if item is None or item.nodeid not in self.state.item_order or case_of(item) is None:
            return None
        return item.nodeid, self.group(item.nodeid)

    def streak(self, nodeid: str, asked: set[str], limit: int = 1 << 30) -> int:
        members = self._group_of(nodeid)
        count, at = 0, self._position.get(nodeid, 0) - 1
        while at >= 0 and count < limit and members[at].nodeid in asked:
            count, at = count + 1, at - 1
        return count

    def upcoming(self, nodeid: str, n: int) -> list[tuple[str, tuple[str, str]]]:
        from .responses import Request

        members = self._group_of(nodeid)
        start = self._position.get(nodeid, len(members)) + 1
        found: list[tuple[str, tuple[str, str]]] = []
        for following in members[start:start + 4 * n]:  # probes whose answers have not come are skipped over
            other = case_of(following)
            if other is None:
                continue
            response = self.state.responder.peek(Request(other.prompts[0], other.params, other.sample))
            if response is not None and response.text is not None:
                found.append((following.nodeid, (other.prompt, response.text)))
                if len(found) >= n:
                    break
        return found


def prepare_run(state, session: pytest.Session) -> None:
    """After collection, before any probe runs: the judges the run needs can be built (their packages are
    there), TRUSTLLM_JUDGE_AHEAD is valid, the model is made and the prompts planned; a run with probes
    stops on SIGTERM as on Ctrl-C. Nothing of it for a run that only lists or plans."""
    from .run_modes import lists_fixtures, planning_only

    if not planning_only(session.config) and not lists_fixtures(session.config):
        from .models.env import judge_ahead
        from .requirements import check_judges

        check_judges(state, session.items)  # a judge's missing package: one line before any model call
        judge_ahead()  # a wrong value stops here, not in the first probe
    plan_responses(state, session.items)
    if not state.is_worker and any(item.get_closest_marker("trust") for item in session.items):
        from .finish import stop_on_sigterm

        stop_on_sigterm(state)


def plan_responses(state, items: list[pytest.Item]) -> None:
    """Register the prompts of every selected probe that reads a response, in run order.

    The model is made here, before any probe runs, so a spec that cannot be served stops the run with
    one clean error instead of failing every probe (but --collect-only never loads it).
    """
    cases = [case for item in items
             if {"trust_response", "trust_responses"} & set(getattr(item, "fixturenames", ()))
             if (case := case_of(item)) is not None]
    state.responder.plan(cases)
    state.items = list(items)
    state.item_order = {item.nodeid: i for i, item in enumerate(items)}
    if cases and not state.config.option.collectonly:
        state.model  # noqa: B018  (resolving it is the point)


def _outcome(call: pytest.CallInfo, report: pytest.TestReport) -> str | None:
    """The probe's outcome from this phase's report, or None if this phase says nothing new."""
    if report.when == "setup":
        return None if report.passed else ("skipped" if report.skipped else "error")
    if report.when == "call":
        # an xfail mark does not hide a probe from its metric: an expected failure is still a failure of the
        # model, and an unexpected pass (XPASS, strict or not) is a pass
        if report.passed:
            return "passed"
        if report.skipped:
            return "failed" if hasattr(report, "wasxfail") else "skipped"
        if call.excinfo is None and "XPASS(strict)" in str(report.longrepr):
            return "passed"
        is_assertion = call.excinfo is not None and call.excinfo.errisinstance(AssertionError)
        return "failed" if is_assertion else "error"
    return "error" if report.failed else None


def start_attempt(item: pytest.Item) -> None:
    """Before each run of ITEM (a rerun by pytest-rerunfailures included): nothing observed yet, so an
    earlier attempt's readings never count for this one."""
    from .state import OBSERVATION_KEY

    item.stash[OBSERVATION_KEY] = {}


def attach_record(item: pytest.Item, call: pytest.CallInfo, report: pytest.TestReport,
                  observation: dict[str, Any]) -> None:
    marker = trust_marker(item)
    outcome = _outcome(call, report)
    if marker is None or outcome is None:
        return
    from .markers import marker_gates, marker_threshold

    kwargs = trust_options(item, marker)
    case = case_of(item)
    dimension = kwargs.get("dimension") or "custom"
    task = kwargs["task"]
    record: dict[str, Any] = {
        "nodeid": item.nodeid,
        "dimension": dimension,
        "task": task,
        "case_id": case.case_id if case else item.nodeid,
        "index": case.index if case else None,
        "group": case.group if case else None,
        "subgroups": dict(case.subgroups) if case else {},
        "outcome": outcome,
        # the answers are kept once, as the record's "response"/"responses" (not also inside the observation)
        "observation": _jsonable({k: v for k, v in observation.items() if k not in ("response", "responses")}),
        "aggregator": kwargs.get("aggregate"),
        "gates": marker_gates(kwargs, dimension, task),
        "threshold": marker_threshold(kwargs),  # gated on the primary metric, known once the task is aggregated
    }
    if outcome == "failed" and report.skipped and hasattr(report, "wasxfail"):
        record["xfailed"] = True  # a failure of the model all the same, but pytest's exit status ignores it
    if case is not None:
        record["prompt"] = excerpt(case.prompt, 200)
    if "response" in observation:
        response = str(observation["response"])
        record["response"] = response[:REPORT_RESPONSE_CHARS]
        if len(response) > REPORT_RESPONSE_CHARS:  # a model that ignores max_tokens must not make a 100 MB report
            record["response_chars"] = len(response)
    if "responses" in observation:  # trust_responses: every prompt's answer, the original's first
        record["responses"] = [str(r)[:REPORT_RESPONSE_CHARS] for r in observation["responses"]]
    if report.failed and report.longrepr is not None:
        crash = getattr(report.longrepr, "reprcrash", None)
        text = crash.message if crash is not None else str(report.longrepr)
        # the headline only: prompt and response are fields of the record already
        record["message"] = excerpt(text.splitlines()[0] if text.strip() else text, 300)
    if "verdict" in observation:
        item.user_properties[:] = [p for p in item.user_properties if p[0] != "trust.verdict"]  # a rerun's, not both
        item.user_properties.append(("trust.verdict", observation["verdict"].get("label", "")))
    report.user_properties.append((RECORD_PROPERTY, record))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


class RecordCollector:
    """Controller-only: takes the case records off test reports into the results object."""

    def __init__(self, state) -> None:
        self.state = state

    @pytest.hookimpl(tryfirst=True)  # before junitxml, so the raw record does not land in the XML
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        records = [v for k, v in report.user_properties if k == RECORD_PROPERTY]
        if records:
            report.user_properties[:] = [(k, v) for k, v in report.user_properties if k != RECORD_PROPERTY]
            self.state.results.add(records[-1])
        elif report.outcome != "rerun" and (report.when == "call" or report.failed):
            self.state.results.note_plain_outcome(report.nodeid, "error" if report.when != "call" else report.outcome)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A file that failed to collect (kept going with ``--continue-on-collection-errors``) lost its probes,
        and their gates with them: it fails the run as a test outside the probes does (xdist hands the
        workers' collection reports to the controller too)."""
        if report.failed:
            self.state.results.note_plain_outcome(report.nodeid or "<collection>", "error")
