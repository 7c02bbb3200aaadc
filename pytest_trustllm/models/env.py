"""Environment variables that tune API backends, read and checked in one place.

A wrong value is a usage error naming the variable and its value, found before any probe runs
(``check_spec_syntax`` and ``TrustState.model`` read them), never a crash or a silent default in every probe.
"""

from __future__ import annotations

import math
import os

import pytest

from ..redaction import Hidden

RETRIES = "TRUSTLLM_RETRIES"
BACKOFF_S = "TRUSTLLM_BACKOFF_S"
BACKOFF_MAX_S = "TRUSTLLM_BACKOFF_MAX_S"
OPENAI_TIMEOUT = "TRUSTLLM_OPENAI_TIMEOUT"
JUDGE_AHEAD = "TRUSTLLM_JUDGE_AHEAD"


def env_number(name: str, default: float, *, whole: bool = False, minimum: float = 0.0,
               above_minimum: bool = False) -> float:
    """The number in environment variable NAME (DEFAULT when unset or blank); a usage error when it is not a
    finite number, not whole where WHOLE, or below MINIMUM (at or below it where ABOVE_MINIMUM)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        number = int(raw) if whole else float(raw)
    except ValueError:
        number = None
    too_small = number is not None and (number <= minimum if above_minimum else number < minimum)
    if number is None or too_small or not math.isfinite(number):
        kind = "a whole number" if whole else "a number"
        bound = f"> {minimum:g}" if above_minimum else f">= {minimum:g}"
        raise pytest.UsageError(f"{name}={raw!r}: expected {kind} {bound}")
    return number


_YES, _NO = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def env_switch(name: str) -> bool:
    """The on/off environment variable NAME (off when unset or blank); a usage error for any other word than
    1/true/yes/on or 0/false/no/off, which would otherwise be silently off."""
    raw = os.environ.get(name, "").strip()
    if raw.lower() in _YES or raw.lower() in _NO or not raw:
        return raw.lower() in _YES
    raise pytest.UsageError(f"{name}={raw!r}: expected 1, true, yes or on (or 0, false, no, off)")


def retry_settings() -> dict[str, float]:
    """``TRUSTLLM_RETRIES`` (attempts after the first), ``TRUSTLLM_BACKOFF_S``, ``TRUSTLLM_BACKOFF_MAX_S``."""
    return {"retries": int(env_number(RETRIES, 5, whole=True)), "backoff_s": env_number(BACKOFF_S, 0.5),
            "backoff_max_s": env_number(BACKOFF_MAX_S, 20.0)}


def api_key(*variables: str) -> str:
    """The API key in the first of VARIABLES that is set ("" when none is), stripped. A key with a
    character that cannot travel in an HTTP header (a zero-width space or a non-breaking space pasted with
    it from a web page) is a usage error that names the variable and the character, never the key."""
    for name in variables:
        key = os.environ.get(name, "").strip()
        if key:
            bad = next(((i, c) for i, c in enumerate(key) if not (c.isascii() and c.isprintable())), None)
            if bad is not None:
                import unicodedata

                position, char = bad
                raise pytest.UsageError(f"{name}: the key has {unicodedata.name(char, 'a control character')} "
                                        f"(U+{ord(char):04X}) at position {position + 1}, which cannot be sent in an "
                                        "HTTP header; it may have come with a copy and paste: set the key again")
            return Hidden(key)  # shown as '***' in any traceback's locals (--showlocals)
    return ""


def judge_ahead() -> int:
    """``TRUSTLLM_JUDGE_AHEAD``: answers an expensive refusal judge judges ahead of the probes (default 31, 0 off)."""
    return int(env_number(JUDGE_AHEAD, 31, whole=True))


def openai_timeout() -> float:
    """``TRUSTLLM_OPENAI_TIMEOUT``: seconds per request (default 120); 0 or less would fail every request."""
    return env_number(OPENAI_TIMEOUT, 120.0, above_minimum=True)
