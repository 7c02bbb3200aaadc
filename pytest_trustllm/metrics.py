"""Pure metric functions. No pytest, no I/O: every function is checked against hand-computed values."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

Z95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion; (0, 1) when n is 0."""
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def rate(flags: Iterable[bool]) -> tuple[float | None, int, int]:
    """Share of true flags: (value or None when empty, successes, n)."""
    values = list(flags)
    k = sum(1 for v in values if v)
    return ((k / len(values)) if values else None, k, len(values))


HIGHER = "higher"
LOWER = "lower"






@dataclass
class Metric:
    """One aggregate value of a task, with its direction (is higher or lower better) and uncertainty."""

    name: str
    value: float | None
    direction: str = HIGHER
    n: int = 0
    ci_low: float | None = None
    ci_high: float | None = None
    invalid: int = 0
    subgroups: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        out = {
            "value": _round(self.value),
            "direction": self.direction,
            "n": self.n,
            "ci_low": _round(self.ci_low),
            "ci_high": _round(self.ci_high),
            "invalid": self.invalid,
            "subgroups": self.subgroups,
        }
        if self.note:
            out["note"] = self.note
        return out


def _round(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 6)


def rate_metric(name: str, flags: Iterable[bool], direction: str = HIGHER, invalid: int = 0,
                subgroups: dict[str, Any] | None = None) -> Metric:
    """A proportion with its Wilson interval."""
    value, k, n = rate(flags)
    low, high = wilson(k, n) if n else (None, None)
    return Metric(name, value, direction, n, low, high, invalid, subgroups or {})
