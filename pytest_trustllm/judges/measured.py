"""The measured agreement of the built-in refusal judges with human labels, shown wherever they judge.

``measured.json`` holds the held-out figures published in docs/judges.md. A figure is attached only to a
judge whose identity contains the identity it was measured with: changed weights, cues or band drop it,
so a report never credits a judge with a measurement it did not have.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any


@lru_cache(maxsize=1)
def table() -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath("measured.json").read_text(encoding="utf-8"))


def _contains(identity: Any, expected: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(identity, dict) and all(_contains(identity.get(k), v) for k, v in expected.items())
    return identity == expected


def measured_for(identity: dict[str, Any]) -> dict[str, Any] | None:
    """``{"data": ..., "agreement": {"GPT-4": 0.97, ...}, "counts": {...}}`` for a measured judge, else None."""
    entry = table()["judges"].get(identity.get("name", ""))
    if entry is None or not _contains(identity, entry["identity"]):
        return None
    counts = entry["agreement"]
    return {"data": table()["data"], "agreement": {k: round(a / n, 3) for k, (a, n) in counts.items()},
            "counts": {k: list(v) for k, v in counts.items()}}


def describe(kind: str, judge: dict[str, Any]) -> str | None:
    """One line for the summary: ``refusal judge keywords: agrees with human labels on ...``."""
    measured = judge.get("measured")
    if not measured:
        return None
    parts = " and ".join(f"{share:.1%} of {name}'s" for name, share in measured["agreement"].items())
    return (f"{kind} judge {judge.get('name', '?')}: agrees with human labels on {parts} answers in "
            f"{measured['data']} (docs/judges.md)")
