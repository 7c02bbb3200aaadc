"""Retries with bounded backoff and the adaptive concurrency limit, with a scripted fake API model."""

from __future__ import annotations

import asyncio

import pytest

from pytest_trustllm.cases import GenParams
from pytest_trustllm.models.base import ModelUnavailable, TransientModelError
from pytest_trustllm.models.retry import (
    AdaptiveLimit,
    CallStats,
    RetriesExhausted,
    RetryPolicy,
    generate_with_retries,
)

FAST = RetryPolicy(retries=3, backoff_s=0.001, backoff_max_s=0.002)


class Scripted:
    """Fails with the given errors in order, then answers."""

    kind = "api"

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0
        self.in_flight = self.peak = 0

    async def agenerate(self, prompt: str, params: GenParams) -> str:
        self.calls += 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        await asyncio.sleep(0.001)
        self.in_flight -= 1
        if self.errors:
            raise self.errors.pop(0)
        return f"answer to {prompt}"


def call(model, limit=None, policy=FAST, stats=None):
    return asyncio.run(generate_with_retries(model, "p", GenParams(), limit or AdaptiveLimit(4), policy, stats))


def test_transient_errors_are_retried_until_an_answer():
    model = Scripted(TransientModelError("reset", connection=True), TransientModelError("HTTP 502"))
    stats = CallStats()
    assert call(model, stats=stats) == "answer to p"
    assert model.calls == 3 and stats.retries == 2


def test_retries_are_bounded_and_the_last_cause_is_kept():
    model = Scripted(*[TransientModelError("HTTP 500") for _ in range(10)])
    with pytest.raises(RetriesExhausted, match=r"HTTP 500 \(gave up after 4 attempts\)"):
        call(model)
    assert model.calls == 4


def test_unavailable_is_never_retried():
    model = Scripted(ModelUnavailable("model 'x' not found"))
    with pytest.raises(ModelUnavailable):
        call(model)
    assert model.calls == 1


def test_retry_after_is_honoured_and_capped():
    policy = RetryPolicy(backoff_s=0.5, backoff_max_s=20, retry_after_max_s=120)
    assert policy.delay(0, TransientModelError("429", retry_after=7.0, rate_limited=True)) == 7.0
    assert policy.delay(0, TransientModelError("429", retry_after=9999.0)) == 120
    delays = [policy.delay(n, TransientModelError("500")) for n in range(8)]
    assert all(0 < d <= 20 * 1.25 for d in delays) and delays[3] > delays[0]


def test_rate_limiting_halves_concurrency_then_it_recovers():
    limit = AdaptiveLimit(16)
    limit.rate_limited()
    assert limit.limit == 8
    limit.rate_limited()  # a burst of 429s from the same window counts once
    assert limit.limit == 8 and limit.lowest == 8

    async def succeed(n):
        for _ in range(n):
            async with limit:
                limit.succeeded()

    asyncio.run(succeed(200))
    assert limit.limit == 16


def test_at_most_limit_calls_are_in_flight():
    model = Scripted()
    limit = AdaptiveLimit(3)

    async def many():
        await asyncio.gather(*(generate_with_retries(model, str(i), GenParams(), limit, FAST) for i in range(30)))

    asyncio.run(many())
    assert model.calls == 30 and model.peak <= 3


def test_policy_reads_the_environment(monkeypatch):
    monkeypatch.setenv("TRUSTLLM_RETRIES", "2")
    monkeypatch.setenv("TRUSTLLM_BACKOFF_S", "0.1")
    policy = RetryPolicy.from_env()
    assert policy.retries == 2 and policy.backoff_s == 0.1
