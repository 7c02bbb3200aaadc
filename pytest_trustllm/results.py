"""Controller-only results: case records from test reports -> task metrics -> gates -> exit status."""

from __future__ import annotations

import importlib
import math
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
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
    """A task's aggregator failed: it raised, or returned no metrics (the task fails with the message)."""


class AggregatorImportError(AggregatorError):
    """A task's ``aggregate="module:function"`` cannot be imported here."""


def load_aggregator(path: str | None, near: Iterable[Path] = ()) -> Aggregator:
    """The aggregator PATH ("module:function"). A module beside the tests (``mymetrics/agg.py`` next to
    ``test_x.py``) is importable in a serial run because pytest put the tests' folder on ``sys.path``; an
    xdist controller (or ``regate``) imports no test module, so the folders NEAR (those of the probes'
    test files, and the rootdir) are tried as pytest's default import mode would have put them there."""
    if not path:
        return pass_rate
    module, _, name = path.partition(":")
    try:
        return getattr(_import_near(module, near), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise AggregatorImportError(f"cannot import the aggregator {path!r} ({type(exc).__name__}: {exc})") \
            from None


def _import_near(module: str, near: Iterable[Path]) -> Any:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        top = module.split(".")[0]
        if exc.name != top:
            raise
        for folder in near:
            if (folder / top).is_dir() or (folder / f"{top}.py").is_file():
                if str(folder) not in sys.path:
                    sys.path.insert(0, str(folder))  # as pytest's "prepend" import mode does for test folders
                return importlib.import_module(module)
        raise


def base_folders(nodeids: Iterable[str], root: Path) -> list[Path]:
    """The folders pytest's default import mode puts on ``sys.path`` for these tests (the first folder above
    each test file without an ``__init__.py``), then ROOT."""
    folders: dict[Path, None] = {}
    for nodeid in nodeids:
        folder = (root / nodeid.split("::", 1)[0]).parent
        while (folder / "__init__.py").is_file() and folder.parent != folder:
            folder = folder.parent
        folders[folder] = None
    folders[root] = None
    return list(folders)


def _metrics(aggregator: Aggregator, records: list[dict[str, Any]]) -> list[Metric]:
    returned = aggregator(records)
    metrics = list(returned) if isinstance(returned, (list, tuple)) else []
    if not metrics or not all(isinstance(m, Metric) for m in metrics):
        raise AggregatorError(f"the aggregator returned {short(returned)}, not a non-empty list of Metric")
    return no_nan([_plain(m) for m in metrics])


def _number(metric: Metric, field_name: str, value: Any, kind: type) -> Any:
    """VALUE as a plain int or float (numpy's float64, int64 and bool_ are numbers too); None stays None."""
    import numbers

    if value is None:
        return None
    if isinstance(value, (numbers.Real, bool)) or type(value).__module__ == "numpy":
        try:
            return kind(value)
        except (TypeError, ValueError):
            pass
    raise AggregatorError(f"the aggregator's metric {metric.name!r} has {field_name}={short(value)}, not a number")


def _plain(metric: Metric) -> Metric:
    """METRIC with plain Python numbers (a numpy value cost the whole JSON report), or an AggregatorError
    naming what is wrong with it (a str value crashed the end of the session)."""
    from .gates import is_name

    if not is_name(metric.name):
        raise AggregatorError(f"the aggregator returned a metric named {short(metric.name)}: a metric is a name gates "
                              "can refer to (letters, digits, '_' and '-')")
    if metric.direction not in ("higher", "lower"):
        raise AggregatorError(f"the aggregator's metric {metric.name!r} has direction={short(metric.direction)}, "
                              "not 'higher' or 'lower'")
    return replace(metric, value=_number(metric, "value", metric.value, float),
                   n=_number(metric, "n", metric.n, int) or 0, ci_low=_number(metric, "ci_low", metric.ci_low, float),
                   ci_high=_number(metric, "ci_high", metric.ci_high, float),
                   invalid=_number(metric, "invalid", metric.invalid, int) or 0)


def short(value: Any, width: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= width else text[:width] + "..."


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
    error: str | None = None  # the aggregator could not be imported or raised: no metrics, the task fails

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
            **({"error": self.error} if self.error else {}),
        }


class Results:
    """Collects one record per probe (last report wins, so reruns do not double-count)."""

    def __init__(self, cli_gates: Iterable[Gate] = (), root: Path | None = None) -> None:
        self.cli_gates = list(cli_gates)
        self.root = root  # where the test files' node ids start (the rootdir): aggregators beside them
        self.unimportable: list[str] = []  # tasks() fills it: the tasks whose aggregator cannot be imported here
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
        self.unimportable = []
        for (dimension, task), records in sorted(by_task.items()):
            counts = {o: sum(1 for r in records if r["outcome"] == o) for o in OUTCOMES}
            path = records[0].get("aggregator")
            near = base_folders((r["nodeid"] for r in records), self.root) if self.root and path else ()
            try:
                aggregator = load_aggregator(path, near)
                results.append(TaskResult(dimension, task, _metrics(aggregator, records), counts, aggregate=path))
                # an aggregator may derive further tasks from the same records (TrustLLM toxicity from the
                # jailbreak answers); they have no probes of their own, so their probe counts are zero
                for derived, derive in getattr(aggregator, "derived_tasks", {}).items():
                    results.append(TaskResult(dimension, derived, _metrics(derive, records),
                                              dict.fromkeys(OUTCOMES, 0), aggregate=path))
            except Exception as exc:  # the task fails and says why; the table, gates and report still come
                error = str(exc) if isinstance(exc, AggregatorError) else \
                    f"the aggregator {path or 'pass_rate'!r} raised {type(exc).__name__}: {exc}"
                results.append(TaskResult(dimension, task, [Metric("aggregate", None, note=error)], counts,
                                          aggregate=path, error=f"task {dimension}/{task}: {error}"))
                if isinstance(exc, AggregatorImportError):
                    self.unimportable.append(f"task {dimension}/{task}: {error}")
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
