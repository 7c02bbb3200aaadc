"""Gate expressions: ``[ci:]DIM[/TASK][.METRIC] OP NUMBER``, parsed once and evaluated on results.

* ``safety>=0.9``: the pass rate of every probe in the safety dimension.
* ``safety/jailbreak>=0.9``: the task's primary metric (for custom probes, their pass rate).
* ``safety/jailbreak.rta>=0.9``: a named metric.
* ``ci:safety/jailbreak.rta>=0.9``: the 95% interval's bound must clear the threshold, not just the point
  estimate (the lower bound for ``>``/``>=``, the upper bound for ``<``/``<=``).
* ``safety/jailbreak.rta>=baseline-0.02``: a regression gate: the threshold is the same metric in the
  baseline report (``--trust-baseline``, a JSON report of an earlier run) plus or minus a margin.

A gate keeps a metric on its good side: its operator points the way the metric is better (``>``/``>=`` for
higher-is-better, ``<``/``<=`` for lower-is-better), and its number lies in the metric's range. Where the metric
is known before anything runs, a gate that breaks either rule is a usage error (:func:`gate_problem`).
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

import pytest

_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
_NAME = r"[^\W_][\w-]*"  # letters (any script), digits, "_" and "-", starting with a letter or digit
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_GATE = re.compile(
    rf"^\s*(?P<ci>ci:)?\s*(?P<dim>{_NAME})(?:/(?P<task>{_NAME}))?(?:\.(?P<metric>{_NAME}))?"
    rf"\s*(?P<op>>=|<=|>|<)\s*(?:(?P<num>[-+]?{_NUMBER})|"
    rf"(?P<baseline>baseline)(?:\s*(?P<sign>[-+])\s*(?P<margin>{_NUMBER}))?)\s*$"
)
GATE_SYNTAX = ("[ci:]DIMENSION[/TASK][.METRIC] OP (NUMBER | baseline[+-NUMBER]) with OP one of >= <= > <, "
               "e.g. 'safety/jailbreak.rta>=0.9' or 'safety/jailbreak.rta>=baseline-0.02'")


@dataclass(frozen=True)
class Gate:
    expr: str
    dimension: str
    task: str | None
    metric: str | None
    op: str
    threshold: float | None  # None: a regression gate, whose threshold is baseline + margin
    use_ci: bool = False
    origin: str = "--trust-gate"
    margin: float | None = None  # regression gates only: added to the baseline's value (negative: below it)
    declared: str | None = None  # threshold= gates: the direction they were built in (the marker may override)

    @property
    def target(self) -> tuple[str, str | None, str | None]:
        return (self.dimension, self.task, self.metric)

    @property
    def against_baseline(self) -> bool:
        return self.margin is not None

    def compare(self, value: float, threshold: float | None = None) -> bool:
        return _OPS[self.op](value, self.threshold if threshold is None else threshold)

    def threshold_text(self) -> str:
        """``0.9``, or ``baseline-0.02`` for a regression gate."""
        if self.margin is None:
            return f"{self.threshold:g}"
        return "baseline" + (f"{self.margin:+g}" if self.margin else "")

    def bound_name(self) -> str:
        return "ci_low" if self.op in (">", ">=") else "ci_high"


def parse_gate(expr: str, origin: str = "--trust-gate") -> Gate:
    match = _GATE.match(expr)
    if not match:
        raise pytest.UsageError(f"{origin} {expr!r}: malformed gate; expected {GATE_SYNTAX}")
    margin = None
    if match["baseline"]:
        margin = float(match["margin"] or 0) * (-1 if match["sign"] == "-" else 1)
    return Gate(
        expr=expr.strip(),
        dimension=match["dim"],
        task=match["task"],
        metric=match["metric"],
        op=match["op"],
        threshold=None if match["baseline"] else float(match["num"]),
        use_ci=bool(match["ci"]),
        origin=origin,
        margin=margin,
    )


def threshold_gate(dimension: str, task: str, metric: str, direction: str, threshold: float, origin: str) -> Gate:
    """The gate a marker's ``threshold=`` means: METRIC (the task's primary one unless the marker names
    another) must be at least as good, in its DIRECTION. Built from the number, so the comparison keeps its
    full precision; only the expression shown rounds (``0.666667`` for 2/3)."""
    op = ">=" if direction == "higher" else "<="
    return Gate(f"{dimension}/{task}.{metric}{op}{threshold:g}", dimension, task, metric, op, float(threshold),
                False, origin, declared=direction)


def is_name(text: object) -> bool:
    """Whether TEXT can name a dimension, task or metric in a gate."""
    return isinstance(text, str) and re.fullmatch(_NAME, text) is not None


def first_regression_gate(gates: list[Gate] | tuple[Gate, ...]) -> str | None:
    """The expression of the first gate that compares with a baseline, if any."""
    return next((g.expr for g in gates if g.against_baseline), None)


# -- what a gate may say about a metric ----------------------------------------------------------------------
RATE = (0.0, 1.0)
# The plugin's own metrics (pass_rate and every TrustLLM metric) are rates, accuracies, F1 scores, p-values and
# toxicity scores in [0, 1], except these: correlations, cosine similarities, RS (adv_acc - asr), and the
# difference of two cosines.
_SIGNED = {"pearson": (-1.0, 1.0), "rs": (-1.0, 1.0), "similarity": (-1.0, 1.0), "similarity_gap": (-2.0, 2.0)}
_ARROW = {"higher": "↑", "lower": "↓"}
_MIRROR = {">=": "<=", ">": "<", "<=": ">=", "<": ">"}


def builtin_range(metric: str) -> tuple[float, float]:
    """The values one of the plugin's own metrics can take (see ``_SIGNED``)."""
    return _SIGNED.get(metric, RATE)


def gate_problem(gate: Gate, metric: str, direction: str | None, bounds: tuple[float, float] | None) -> str | None:
    """Why GATE, on METRIC (better in DIRECTION, its values within BOUNDS; None where not known), cannot be
    meant as written; None if it can.

    Its operator must point the metric's way: ``pass_rate<=0.9`` passes as the pass rate falls, so a regression
    would pass it. The gate of a marker's ``threshold=`` is exempt: its direction is the metric's, or the marker's
    ``direction=`` on purpose.
    Its number must lie in the metric's range: ``>=90`` on a rate can never pass, ``>=-1`` always does.
    A regression gate's threshold comes from the baseline, so only its operator is checked."""
    if direction in _ARROW and gate.declared is None and gate.op[0] != (">" if direction == "higher" else "<"):
        return (f"{metric} is {direction}-is-better ({_ARROW[direction]}); write {_MIRROR[gate.op]} "
                "(a gate keeps a metric on its good side)")
    if bounds is not None and gate.threshold is not None and not bounds[0] <= gate.threshold <= bounds[1]:
        low, high = bounds
        text = f"threshold {gate.threshold:g} is outside {metric}'s range [{low:g}, {high:g}]"
        if bounds == RATE and 1 < gate.threshold <= 100:
            text += f"; for {gate.threshold:g}% write {gate.threshold / 100:g}"
        return text
    return None


def check_dimension_gates(gates: list[Gate] | tuple[Gate, ...]) -> None:
    """A dimension gate measures the pass rate of the dimension's probes (higher is better, in [0, 1]), known
    before anything runs: a usage error if one goes against it."""
    for gate in gates:
        if gate.task is None and gate.metric in (None, "pass_rate"):
            problem = gate_problem(gate, "pass_rate", "higher", RATE)
            if problem:
                raise pytest.UsageError(f"{gate.origin} {gate.expr!r}: {problem}")


# -- before the run: gates against the tasks collected -----------------------------------------------------------
# (dimension, task) -> (its primary metric, {metric: direction}); None where the user's aggregator decides
Known = dict[tuple[str, str], "tuple[str, dict[str, str]] | None"]


def _builtin_metrics(aggregate: str | None, task: str) -> dict[str, tuple[str, dict[str, str]]] | None:
    """TASK's metrics, and those of the tasks its aggregator derives, when the plugin defines them: the default
    pass rate, or a TrustLLM aggregator. None for a user's aggregator (known only once it has run)."""
    if aggregate is None:
        return {task: ("pass_rate", {"pass_rate": "higher"})}
    from .trustllm.spec import PACKAGE

    if not aggregate.startswith(PACKAGE + "."):
        return None
    from .results import load_aggregator
    from .trustllm.tasks import BY_NAME, TASKS

    spec = next((spec for spec in TASKS if spec.aggregate == aggregate), None)
    if spec is None:
        return None
    derived = getattr(load_aggregator(aggregate), "derived_tasks", {})  # safety/toxicity, from the jailbreak answers
    specs = {task: spec, **{name: BY_NAME[name] for name in derived if name in BY_NAME}}
    return {name: (s.primary[0], {**dict(s.metrics), "invalid_rate": "lower"}) for name, s in specs.items()}


def _problem(gate: Gate, known: Known) -> str | None:
    if gate.task is None and gate.metric not in (None, "pass_rate"):
        return f"dimension gates measure pass_rate, not {gate.metric!r} (name a task for its metrics: DIMENSION/TASK.METRIC)"
    facts = known.get((gate.dimension, gate.task)) if gate.task is not None else None
    if facts is None:
        return None
    primary, directions = facts
    metric = gate.metric or primary
    if metric not in directions:
        if primary == "pass_rate" and set(directions) == {"pass_rate"}:  # a probe without aggregate=: known
            return f"the task {gate.dimension}/{gate.task} has no metric {metric!r}: its one metric is 'pass_rate'"
        return None  # a TrustLLM task's other metrics: the gate says so once the task is aggregated
    return gate_problem(gate, metric, directions[metric], builtin_range(metric))


def check_collected(gates: list[Gate] | tuple[Gate, ...], items: list[pytest.Item]) -> None:
    """The command-line and ini GATES, and every probe's ``threshold=`` and ``gates=``, against the metrics of the
    tasks collected (where the plugin defines them): a usage error for a gate on the wrong side of its metric or
    outside its range, before any probe runs."""
    from .collection import trust_marker, trust_options
    from .markers import marker_gates

    known: Known = {}
    probes = []
    for item in items:
        marker = trust_marker(item)
        if marker is None:
            continue
        options = trust_options(item, marker)
        dimension, task = options.get("dimension") or "custom", options["task"]
        for name, facts in (_builtin_metrics(options.get("aggregate"), task) or {task: None}).items():
            key = (dimension, name)
            known[key] = facts if known.get(key, facts) == facts else None  # two aggregators: not known
        probes.append((item, marker, options, dimension, task))
    for gate in gates:
        problem = _problem(gate, known)
        if problem:
            raise pytest.UsageError(f"{gate.origin} {gate.expr!r}: {problem}")
    checked = set()
    for item, marker, options, dimension, task in probes:
        if id(marker) in checked:
            continue
        checked.add(id(marker))
        test = f"{item.parent.nodeid}::{getattr(item, 'originalname', item.name)}" if item.parent else item.nodeid
        for expr in options.get("gates", ()):
            problem = _problem(parse_gate(marker_gates({"gates": [expr]}, dimension, task)[0], "marker"), known)
            if problem:
                raise pytest.UsageError(f"{test}: gates=[{expr!r}]: {problem}")
        facts = known.get((dimension, task))
        metric = options.get("metric")
        if metric is not None and options.get("aggregate") is None and facts is not None and metric not in facts[1]:
            raise pytest.UsageError(f"{test}: metric={metric!r}: the task {dimension}/{task} has no such metric: "
                                    f"without aggregate=, its one metric is {facts[0]!r}")
        if options.get("threshold") is not None and facts is not None:
            metric = options.get("metric") or facts[0]
            gate = threshold_gate(dimension, task, metric, options.get("direction") or facts[1].get(metric, "higher"),
                                  options["threshold"], "marker")
            problem = gate_problem(gate, metric, None, builtin_range(metric) if metric in facts[1] else None)
            if problem:
                raise pytest.UsageError(f"{test}: {problem}")
