"""Helpers shared by the TrustLLM aggregators: which records count, reading observations, subgroup
breakdowns and the ``invalid_rate`` every task reports."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from ..metrics import LOWER, Metric, breakdown, rate_metric, summary_of

JUDGED = ("passed", "failed")


def judged(records: Iterable[dict[str, Any]], key: str | None = None) -> list[dict[str, Any]]:
    """Records of probes that ran to a verdict (errors and skips carry no verdict), optionally only those
    that observed KEY."""
    out = [r for r in records if r.get("outcome") in JUDGED]
    if key is not None:
        out = [r for r in out if key in (r.get("observation") or {})]
    return out


def obs(record: dict[str, Any], key: str, default: Any = None) -> Any:
    return (record.get("observation") or {}).get(key, default)


def field(record: dict[str, Any], name: str) -> str:
    """A subgroup label (from the marker's ``subgroups=``), else the observation's value."""
    value = (record.get("subgroups") or {}).get(name)
    label = str(value if value is not None else obs(record, name, ""))
    return label or "(none)"


def group_by(records: Iterable[dict[str, Any]], key: Callable[[dict[str, Any]], str]) -> dict[str, list]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        groups[key(record)].append(record)
    return dict(sorted(groups.items()))


def subgroup_rates(records: list[dict[str, Any]], fields: Iterable[str], value: Callable[[dict], Any],
                   metric_fn: Callable[[list[Any]], Metric]) -> dict[str, dict[str, Any]]:
    """{field: {label: summary}} for each breakdown field."""
    return {name: breakdown([field(r, name) for r in records], [value(r) for r in records], metric_fn)
            for name in fields}


def invalid_rate(records: list[dict[str, Any]]) -> Metric:
    """Share of probes whose answer could not be read (or judged); lower is better."""
    flags = [bool(obs(r, "invalid", False)) for r in judged(records)]
    return rate_metric("invalid_rate", flags, LOWER, sum(flags))


def with_invalid_rate(metrics: list[Metric], records: list[dict[str, Any]]) -> list[Metric]:
    return metrics + [invalid_rate(records)]


def sub(metric: Metric) -> dict[str, Any]:
    return summary_of(metric)
