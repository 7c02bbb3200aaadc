"""Retries with bounded exponential backoff, and a concurrency limit that adapts to rate limiting.

Backends only classify failures (:class:`TransientModelError` for timeouts, resets, 429 and 5xx); the
retrying lives here, once, for every API backend, including ones added through the hook.

Tuning (environment, documented in docs/models.md): ``TRUSTLLM_RETRIES`` (attempts after the first,
default 5), ``TRUSTLLM_BACKOFF_S`` (first delay, default 0.5 s, doubled each time, capped at
``TRUSTLLM_BACKOFF_MAX_S``, default 20 s); a wrong value is a usage error (:mod:`.env`). A ``Retry-After``
from the server (seconds or an HTTP date, :func:`retry_after`) is honoured up to 120 s.
"""

from __future__ import annotations

import asyncio
import datetime
import email.utils
import math
import random
import time
from dataclasses import dataclass
from typing import Any

from ..cases import GenParams
from .base import ModelError, ModelUnavailable, TransientModelError


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 5
    backoff_s: float = 0.5
    backoff_max_s: float = 20.0
    retry_after_max_s: float = 120.0

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """The policy the environment asks for; a usage error for a value that is not a number, or negative."""
        from .env import retry_settings

        return cls(**retry_settings())

    def delay(self, attempt: int, error: TransientModelError) -> float:
        """Seconds to wait before retry number ATTEMPT (0-based): the server's Retry-After, else backoff."""
        if error.retry_after is not None and error.retry_after >= 0:
            return min(error.retry_after, self.retry_after_max_s)
        backoff = min(self.backoff_s * (2 ** attempt), self.backoff_max_s)
        return backoff * random.uniform(0.75, 1.25)  # jitter: retries of a burst do not arrive together


class AdaptiveLimit:
    """At most ``limit`` calls in flight. Halved on a 429 (at most once per ``cooldown`` completions), then
    raised by one after every ``limit`` successes in a row, back up to the configured maximum (AIMD)."""

    def __init__(self, maximum: int) -> None:
        self.maximum = max(1, maximum)
        self.limit = self.maximum
        self.in_flight = 0
        self.lowest = self.maximum
        self._successes = 0
        self._since_cut = self.maximum
        self._changed: asyncio.Condition | None = None

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:  # created lazily, inside the running loop
            self._changed = asyncio.Condition()
        return self._changed

    async def __aenter__(self) -> AdaptiveLimit:
        cond = self._condition()
        async with cond:
            await cond.wait_for(lambda: self.in_flight < self.limit)
            self.in_flight += 1
        return self

    async def __aexit__(self, *exc: object) -> None:
        cond = self._condition()
        async with cond:
            self.in_flight -= 1
            self._since_cut += 1
            cond.notify(1)  # one freed slot, one waiter: notify_all would wake thousands of queued calls

    def rate_limited(self) -> None:
        self._successes = 0
        if self._since_cut >= self.limit:  # one cut per window of in-flight calls, not one per 429
            self.limit = max(1, self.limit // 2)
            self.lowest = min(self.lowest, self.limit)
            self._since_cut = 0

    def succeeded(self) -> None:
        self._successes += 1
        if self.limit < self.maximum and self._successes >= self.limit:
            self.limit += 1
            self._successes = 0
            if self._changed is not None:
                asyncio.get_running_loop().create_task(self._wake())

    async def _wake(self) -> None:
        async with self._condition():
            self._condition().notify(1)  # the limit grew by one


class Breaker:
    """Stops everything when the endpoint is gone: THRESHOLD connection failures or timed-out prompts in a
    row (across all calls, no success in between; a hung server would otherwise cost every prompt all its
    attempts, 6 x 120 s by default). Connection failures count per attempt: with many calls queued, each
    would otherwise make its first attempts before any of them gave up. A timeout counts once per prompt, so a
    few prompts that are only slow, retried after the others finished, do not look like a dead server."""

    def __init__(self, threshold: int, where: str) -> None:
        self.threshold = threshold
        self.where = where
        self.failures = 0
        self.last: Exception | None = None
        self._timed_out: set[str] = set()  # prompts that timed out since the last success: each counts once

    def record(self, error: TransientModelError | None, prompt: str = "") -> None:
        if error is None or not error.connection:
            self.failures = 0
            self._timed_out.clear()
        elif not (error.timed_out and prompt in self._timed_out):  # a slow prompt's retries are not a dead server
            self._timed_out.update([prompt] if error.timed_out else [])
            self.failures += 1
            self.last = error

    def check(self) -> None:
        if self.failures >= self.threshold:
            slow = "; if it is only slow, raise TRUSTLLM_OPENAI_TIMEOUT" if getattr(self.last, "timed_out", False) else ""
            raise ModelUnavailable(f"{self.where} stopped answering ({self.failures} connection failures or timed-out "
                                   f"prompts in a row, last: {self.last}){slow}")


class RetriesExhausted(ModelError):
    """The last transient error of a call that used all its attempts."""

    def __init__(self, last: TransientModelError, attempts: int) -> None:
        super().__init__(f"{last} (gave up after {attempts} attempts)")
        self.last = last


@dataclass
class CallStats:
    retries: int = 0
    rate_limited: int = 0


async def generate_with_retries(model, prompt: str, params: GenParams, limit: AdaptiveLimit,
                                policy: RetryPolicy, stats: CallStats | None = None,
                                breaker: Breaker | None = None) -> str:
    """One prompt through ``model.agenerate``, retried on transient errors; raises ModelError at the end.

    ModelUnavailable is never retried: it stops the run (so does a tripped BREAKER).
    """
    stats = stats if stats is not None else CallStats()
    error: TransientModelError | None = None
    retries = max(0, policy.retries)
    for attempt in range(retries + 1):
        async with limit:
            if breaker is not None:
                breaker.check()
            try:
                text = await model.agenerate(prompt, params)
            except TransientModelError as exc:
                error = exc
                if breaker is not None:
                    breaker.record(exc, prompt)
                    breaker.check()
                if exc.rate_limited:
                    stats.rate_limited += 1
                    limit.rate_limited()
            else:
                if breaker is not None:
                    breaker.record(None)
                limit.succeeded()
                return text
        if attempt == retries:
            break
        stats.retries += 1
        await asyncio.sleep(policy.delay(attempt, error))
    assert error is not None  # the loop ran at least once and did not return: it failed
    raise RetriesExhausted(error, retries + 1)


def retry_after(headers: Any, now: float | None = None) -> float | None:
    """Seconds from ``retry-after-ms`` or ``Retry-After``: a number of seconds or an HTTP date (RFC 9110).
    A date in the past means now (0); anything else is ignored (the retry falls back to its backoff). The
    retry code caps what it waits (120 s)."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name) if headers is not None else None
        if not value:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            seconds = _seconds_until(value, now) if name == "retry-after" else None
        if seconds is not None and math.isfinite(seconds):
            return max(0.0, seconds)
    return None


def _seconds_until(http_date: str, now: float | None) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when.timestamp() - (time.time() if now is None else now)
