"""Why an answer was not in the cache: the same prompt answered under another model identity or with other
generation parameters (a changed dtype, endpoint, max_new_tokens...). The cache key covers all of them, so a
changed setting silently costs a full re-run; these words say which setting it was."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

_SHOWN = 40  # characters of a value (a weights fingerprint, an endpoint) before it is cut


def _json(value: Any) -> str:
    """A value as the cache key sees it (JSON): 0 and 0.0 differ there, a tuple and a list do not."""
    return json.dumps(value, sort_keys=True, default=str)


def _short(value: Any, start: int = 0) -> str:
    """VALUE for a message; a long string from START (where it differs from the other one), cut at 40."""
    if value is None:
        return "none"
    if isinstance(value, str):
        shown = repr(value[start:start + _SHOWN - 6])
        return ("..." if start else "") + shown + ("..." if len(value) > start + _SHOWN - 6 else "")
    text = _json(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN - 3] + "..."


def _pair(then: Any, now: Any) -> tuple[str, str]:
    start = 0
    if isinstance(then, str) and isinstance(now, str) and max(len(then), len(now)) > _SHOWN - 6:
        same = next((i for i, (a, b) in enumerate(zip(then, now, strict=False)) if a != b), min(len(then), len(now)))
        start = max(0, same - 12)
    return _short(then, start), _short(now, start)


def differences(identity: Mapping[str, Any], params: Mapping[str, Any], stored_identity: Mapping[str, Any],
                stored_params: Mapping[str, Any]) -> list[str]:
    """What differs between an answer's cache entry (STORED_*) and this run's request, one phrase per
    setting: ``"max_new_tokens 256 in the cache, 128 now"``. The model identity never holds secrets
    (endpoints are stored without credentials), so neither do the phrases."""
    parts = []
    for now, then in ((identity, stored_identity), (params, stored_params)):
        for key in sorted(set(now) | set(then)):
            if _json(now.get(key)) != _json(then.get(key)):
                shown_then, shown_now = _pair(then.get(key), now.get(key))
                parts.append(f"{key} {shown_then} in the cache, {shown_now} now")
    return parts


def closest(identity: Mapping[str, Any], params: Mapping[str, Any],
            stored: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> str | None:
    """The explanation from the STORED entry (model identity, parameters) that differs in the fewest settings
    (the first of equals: the latest), as one phrase; None when none differs."""
    found = [differences(identity, params, model, stored_params) for model, stored_params in stored]
    if not found or not all(found):  # nothing stored, or an entry the key should have found: nothing to say
        return None
    parts = min(found, key=len)
    if len(parts) > 3:
        parts = [*parts[:3], f"{len(parts) - 3} more"]
    return "; ".join(parts)
