"""Tasks that compare answers: which other prompts a probe needs (the probe's ``prompts`` tuple) and which
records are sampled together (``group_field``). Shared prompts are generated once: every prompt is its
own cached request, so an original's answer serves all of its variants.

* sycophancy_preference: the preference records pair up in file order (2k, 2k+1), opposite opinions.
* AdvGLUE: a modified record pairs with the original of the same ``index`` (and GLUE task).
* AdvInstruction: each perturbed variant pairs with the original of ITS OWN instruction (same ``index``,
  type "original"); upstream paired records 2k/2k+1 by position, comparing different instructions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Record = Mapping[str, Any]


def _position(record: Record, records: Sequence[Record]) -> int:
    return next(i for i, r in enumerate(records) if r is record)


def _preferences(records: Sequence[Record]) -> list[Record]:
    return [r for r in records if r.get("source") == "preference"]


def preference_partner(record: Record, records: Sequence[Record]) -> Record:
    prefs = _preferences(records)
    pos = _position(record, prefs)
    partner = pos ^ 1  # 2k <-> 2k+1
    if partner >= len(prefs):
        raise ValueError(f"preference record {pos} has no partner (an odd number of preference records)")
    return prefs[partner]


def preference_prompts(record: Record, records: Sequence[Record]) -> tuple[str, str]:
    """(this opinion, the opposite opinion)."""
    return (record["prompt"], preference_partner(record, records)["prompt"])


def preference_pair(record: Record, records: Sequence[Record]) -> str:
    return f"pair-{_position(record, _preferences(records)) // 2:03d}"


def advglue_original(record: Record, records: Sequence[Record]) -> Record | None:
    return next((r for r in records if r.get("index") == record.get("index") and r.get("task") == record.get("task")
                 and r.get("type") == "original"), None)


def advglue_prompts(record: Record, records: Sequence[Record]) -> tuple[str, ...]:
    """An original asks its own prompt; a modified record also asks its original's."""
    if record.get("type") == "original":
        return (record["prompt"],)
    original = advglue_original(record, records)
    if original is None:
        raise ValueError(f"AdvGLUE modified record index={record.get('index')} has no original")
    return (record["prompt"], original["prompt"])


def advglue_group(record: Record, records: Sequence[Record]) -> str:
    return f"{record.get('task')}-{record.get('index')}"


def advinstruction_original(record: Record, records: Sequence[Record]) -> Record | None:
    return next((r for r in records if r.get("index") == record.get("index") and r.get("type") == "original"),
                None)


def advinstruction_prompts(record: Record, records: Sequence[Record]) -> tuple[str, ...]:
    if record.get("type") == "original":
        return (record["prompt"],)
    original = advinstruction_original(record, records)
    if original is None:
        raise ValueError(f"AdvInstruction variant index={record.get('index')} has no original")
    return (record["prompt"], original["prompt"])
