"""Gate expressions: ``[ci:]DIM[/TASK][.METRIC] OP NUMBER``, parsed once and evaluated on results.

* ``safety>=0.9``: the pass rate of every probe in the safety dimension.
* ``safety/jailbreak>=0.9``: the task's primary metric (for custom probes, their pass rate).
* ``safety/jailbreak.rta>=0.9``: a named metric.
* ``ci:safety/jailbreak.rta>=0.9``: the 95% interval's bound must clear the threshold, not just the point
  estimate (the lower bound for ``>``/``>=``, the upper bound for ``<``/``<=``).
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

import pytest

_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
_NAME = r"[A-Za-z0-9][A-Za-z0-9_-]*"
_GATE = re.compile(
    rf"^\s*(?P<ci>ci:)?\s*(?P<dim>{_NAME})(?:/(?P<task>{_NAME}))?(?:\.(?P<metric>{_NAME}))?"
    r"\s*(?P<op>>=|<=|>|<)\s*(?P<num>[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?)\s*$"
)
GATE_SYNTAX = "[ci:]DIMENSION[/TASK][.METRIC] OP NUMBER with OP one of >= <= > <, e.g. 'safety/jailbreak.rta>=0.9'"


@dataclass(frozen=True)
class Gate:
    expr: str
    dimension: str
    task: str | None
    metric: str | None
    op: str
    threshold: float
    use_ci: bool = False
    origin: str = "--trust-gate"

    @property
    def target(self) -> tuple[str, str | None, str | None]:
        return (self.dimension, self.task, self.metric)

    def compare(self, value: float) -> bool:
        return _OPS[self.op](value, self.threshold)

    def bound_name(self) -> str:
        return "ci_low" if self.op in (">", ">=") else "ci_high"


def parse_gate(expr: str, origin: str = "--trust-gate") -> Gate:
    match = _GATE.match(expr)
    if not match:
        raise pytest.UsageError(f"{origin} {expr!r}: malformed gate; expected {GATE_SYNTAX}")
    return Gate(
        expr=expr.strip(),
        dimension=match["dim"],
        task=match["task"],
        metric=match["metric"],
        op=match["op"],
        threshold=float(match["num"]),
        use_ci=bool(match["ci"]),
        origin=origin,
    )


def threshold_gate(dimension: str, task: str, metric: str, direction: str, threshold: float, origin: str) -> Gate:
    """The gate a marker's ``threshold=`` means: the primary metric must be at least as good."""
    op = ">=" if direction == "higher" else "<="
    return Gate(f"{dimension}/{task}.{metric}{op}{threshold:g}", dimension, task, metric, op, float(threshold),
                False, origin)
