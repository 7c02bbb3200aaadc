"""Controller-only results: case records from test reports -> task metrics -> gates -> exit status."""

from __future__ import annotations

import importlib
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .gates import Gate, parse_gate, threshold_gate
from .metrics import HIGHER, Metric, rate_metric

Aggregator = Callable[[list[dict[str, Any]]], list[Metric]]
OUTCOMES = ("passed", "failed", "error", "skipped")


def pass_rate(records: list[dict[str, Any]]) -> list[Metric]:
    """The default aggregate of custom probes: the share of (non-skipped) probes that passed.

    Probes whose answer could not be read (``observe(invalid=True)``, e.g. by ``assert_answer``) stay in
    the denominator as failures and are also counted as ``invalid``.
    """
    judged = [r for r in records if r["outcome"] in ("passed", "failed")]
    invalid = sum(1 for r in judged if (r.get("observation") or {}).get("invalid"))
    return [rate_metric("pass_rate", (r["outcome"] == "passed" for r in judged), HIGHER, invalid=invalid)]


class AggregatorError(Exception):
    """A task's ``aggregate="module:function"`` cannot be imported here."""


def load_aggregator(path: str | None) -> Aggregator:
    if not path:
        return pass_rate
    module, _, name = path.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise AggregatorError(f"cannot import the aggregator {path!r} ({type(exc).__name__}: {exc})") from None


def no_nan(metrics: Iterable[Metric]) -> list[Metric]:
    """An aggregator's NaN (a correlation of constant answers) is no value: '-' in the table, null in JSON."""
    def clean(x: Any) -> Any:
        return None if isinstance(x, float) and math.isnan(x) else x

    return [replace(m, value=clean(m.value), ci_low=clean(m.ci_low), ci_high=clean(m.ci_high)) for m in metrics]


@dataclass
class TaskResult:
    dimension: str
    task: str
    metrics: list[Metric]
    counts: dict[str, int]
    gates: list[dict[str, Any]] = field(default_factory=list)
    passed: bool = True
    tolerated: int = 0
    aggregate: str | None = None  # the probes' aggregate= ("module:function"); None: the pass rate

    @property
    def builtin(self) -> bool:
        """Whether the plugin defines the task's metrics (the pass rate, or a TrustLLM aggregator): then their
        ranges are known too."""
        from .trustllm.spec import PACKAGE  # a light module: names and dataclasses

        return self.aggregate is None or self.aggregate.startswith(PACKAGE + ".")

    @property
    def primary(self) -> Metric:
        return self.metrics[0]

    def metric(self, name: str | None) -> Metric | None:
        if name is None:
            return self.primary
        return next((m for m in self.metrics if m.name == name), None)

    def as_dict(self) -> dict[str, Any]:
        p = self.primary
        thresholds = [g["threshold"] for g in self.gates if g.get("metric") == p.name and g.get("threshold") is not None]
        strictest = max if p.direction == "higher" else min  # the threshold that binds, when several gate it
        return {
            "dimension": self.dimension,
            "task": self.task,
            "metric": p.name,
            **p.as_dict(),
            "threshold": strictest(thresholds) if thresholds else None,
            "passed": self.passed,
            "probes": self.counts,
            "tolerated_failures": self.tolerated,
            "metrics": {m.name: m.as_dict() for m in self.metrics},
            "gates": [g["expr"] for g in self.gates],
        }


class Results:
    """Collects one record per probe (last report wins, so reruns do not double-count)."""

    def __init__(self, cli_gates: Iterable[Gate] = ()) -> None:
        self.cli_gates = list(cli_gates)
        self.records: dict[str, dict[str, Any]] = {}
        self.other_failures: dict[str, str] = {}  # nodeid -> outcome, for tests that are not trust probes

    def add(self, record: dict[str, Any]) -> None:
        self.records[record["nodeid"]] = record

    def note_plain_outcome(self, nodeid: str, outcome: str) -> None:
        if outcome in ("failed", "error"):
            self.other_failures[nodeid] = outcome
        else:
            self.other_failures.pop(nodeid, None)

    def sorted_records(self) -> list[dict[str, Any]]:
        return [self.records[k] for k in sorted(self.records)]

    # -- aggregation -------------------------------------------------------------------------------------
    def tasks(self) -> list[TaskResult]:
        by_task: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for record in self.sorted_records():
            by_task[(record["dimension"], record["task"])].append(record)
        results = []
        for (dimension, task), records in sorted(by_task.items()):
            counts = {o: sum(1 for r in records if r["outcome"] == o) for o in OUTCOMES}
            path = records[0].get("aggregator")
            try:
                aggregator = load_aggregator(path)
            except AggregatorError as exc:
                raise AggregatorError(f"task {dimension}/{task}: {exc}") from None
            results.append(TaskResult(dimension, task, no_nan(aggregator(records)), counts, aggregate=path))
            # an aggregator may derive further tasks from the same records (TrustLLM toxicity from the
            # jailbreak answers); they have no probes of their own, so their probe counts are zero
            for derived, derive in getattr(aggregator, "derived_tasks", {}).items():
                results.append(TaskResult(dimension, derived, no_nan(derive(records)), dict.fromkeys(OUTCOMES, 0),
                                          aggregate=path))
        return sorted(results, key=lambda t: (t.dimension, t.task))

    def all_gates(self, primary: Mapping[tuple[str, str], str] | None = None,
                  directions: Mapping[tuple[str, str, str], str] | None = None) -> list[Gate]:
        """CLI/ini gates, plus marker gates for targets that no CLI/ini gate names (CLI wins).

        PRIMARY maps (dimension, task) to the task's primary metric, which a gate naming no metric measures:
        ``safety/jailbreak>=0.9`` on the command line replaces a marker's ``safety/jailbreak.rta>=0.95``.
        A marker's ``threshold=`` gates that primary metric (or its ``metric=``) in the metric's direction
        (from DIRECTIONS, keyed by (dimension, task, metric); or the marker's ``direction=``)."""
        primary = primary or {}
        directions = directions or {}

        def target(gate: Gate) -> tuple[str, str | None, str | None]:
            default = primary.get((gate.dimension, gate.task)) if gate.task else "pass_rate"
            return (gate.dimension, gate.task, gate.metric or default)

        gates = list(self.cli_gates)
        named = {target(g) for g in gates}
        seen: set[Gate] = set()
        for record in self.sorted_records():
            for gate in self._marker_gates(record, primary, directions):
                if target(gate) not in named and gate not in seen:
                    seen.add(gate)
                    gates.append(gate)
        return gates

    @staticmethod
    def _marker_gates(record: dict[str, Any], primary: Mapping[tuple[str, str], str],
                      directions: Mapping[tuple[str, str, str], str]) -> list[Gate]:
        gates = []
        threshold = record.get("threshold")
        if threshold is not None:  # (older reports kept it among the record's gates, as text)
            key = (record["dimension"], record["task"])
            metric = threshold.get("metric") or primary.get(key, "pass_rate")
            direction = threshold.get("direction") or directions.get((*key, metric), HIGHER)
            gates.append(threshold_gate(*key, metric, direction, threshold["value"], "marker"))
        gates.extend(parse_gate(expr, origin="marker") for expr in record.get("gates", ()))
        return gates
