"""Gate expressions: ``[ci:]DIM[/TASK][.METRIC] OP NUMBER``, parsed once and evaluated on results.

* ``safety>=0.9``: the pass rate of every probe in the safety dimension.
* ``safety/jailbreak>=0.9``: the task's primary metric (for custom probes, their pass rate).
* ``safety/jailbreak.rta>=0.9``: a named metric.
* ``ci:safety/jailbreak.rta>=0.9``: the 95% interval's bound must clear the threshold, not just the point
  estimate (the lower bound for ``>``/``>=``, the upper bound for ``<``/``<=``).
* ``safety/jailbreak.rta>=baseline-0.02``: a regression gate: the threshold is the same metric in the
  baseline report (``--trust-baseline``, a JSON report of an earlier run) plus or minus a margin.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

import pytest

_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
_NAME = r"[A-Za-z0-9][A-Za-z0-9_-]*"
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
                False, origin)


def is_name(text: object) -> bool:
    """Whether TEXT can name a dimension, task or metric in a gate."""
    return isinstance(text, str) and re.fullmatch(_NAME, text) is not None


def first_regression_gate(gates: list[Gate] | tuple[Gate, ...]) -> str | None:
    """The expression of the first gate that compares with a baseline, if any."""
    return next((g.expr for g in gates if g.against_baseline), None)
