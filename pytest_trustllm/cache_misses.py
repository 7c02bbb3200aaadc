"""Why an answer was not in the cache: the same prompt answered under another model identity or with other
generation parameters (a changed dtype, endpoint, max_new_tokens...). The cache key covers all of them, so a
changed setting silently costs a full re-run; these words say which setting it was."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_SHOWN = 40  # characters of a value (a weights fingerprint, an endpoint) before it is cut


def _short(value: Any) -> str:
    if value is None:
        return "none"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN - 3] + "..."


def difference(identity: Mapping[str, Any], params: Mapping[str, Any], stored_identity: Mapping[str, Any],
               stored_params: Mapping[str, Any]) -> str | None:
    """What differs between an answer's cache entry (STORED_*) and this run's request, as a short phrase:
    ``"max_new_tokens 256 in the cache, 128 now"``; None when nothing does. The model identity never holds
    secrets (endpoints are stored without credentials), so neither does the phrase."""
    parts = []
    for now, then in ((identity, stored_identity), (params, stored_params)):
        for key in sorted(set(now) | set(then)):
            if now.get(key) != then.get(key):
                parts.append(f"{key} {_short(then.get(key))} in the cache, {_short(now.get(key))} now")
    if len(parts) > 3:
        parts = [*parts[:3], f"{len(parts) - 3} more"]
    return "; ".join(parts) or None
