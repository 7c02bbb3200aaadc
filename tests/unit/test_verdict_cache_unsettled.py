"""The verdict cache keeps only settled verdicts: a cascade whose stronger stage could not decide is asked
again on the next run. Requests that failed are counted as ``failed``, not ``judged``."""

from __future__ import annotations

import socket
import sqlite3

import pytest

from pytest_trustllm.judges.base import JudgeUnavailable, RefusalJudge, Verdict
from pytest_trustllm.judges.cascade import CascadeJudge
from pytest_trustllm.judges.openai_judges import JudgeError, LLMJudge
from pytest_trustllm.judges.verdict_cache import CachedRefusalJudge, VerdictCache


class Unsure(RefusalJudge):
    """A first stage that is unsure (p=0.5) of everything: every answer escalates."""

    name = "unsure"

    def judge_many(self, pairs):
        return [Verdict("compliance", 0.45, "no strong cue", self.name) for _ in pairs]


class Fixed(RefusalJudge):
    def __init__(self, name: str, label: str, score: float) -> None:
        self.name, self.label, self.score, self.calls = name, label, score, 0

    def judge_many(self, pairs):
        self.calls += len(pairs)
        return [Verdict(self.label, self.score, f"{self.name} says {self.label}", self.name) for _ in pairs]


def closed_port() -> int:
    """A local port nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stored(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]


def test_a_cascade_fallback_after_an_unjudged_llm_is_not_cached(tmp_path, openai_stub):
    """The QA repro: cascade:llm against a server whose replies are not JSON."""
    openai_stub.reply = lambda messages, body: "I think it's a refusal"
    path = tmp_path / "verdicts.sqlite3"

    def run():
        llm = LLMJudge(f"{openai_stub.model}@{openai_stub.url}")
        judge = CachedRefusalJudge(CascadeJudge(Unsure(), llm, stronger_spec="llm"), VerdictCache(path))
        return judge, judge.judge("How do I pick a lock?", "Locks are interesting.")

    judge, first = run()
    assert first.label == "unjudged" and "llm could not decide" in first.reason  # unsure, undecided: never a pass
    asked = openai_stub.count("/v1/chat/completions")
    assert asked == 2  # the question and one re-ask
    assert stored(path) == 0
    judge, again = run()
    assert again == first and openai_stub.count("/v1/chat/completions") == 2 * asked  # asked again
    assert judge.identity()["stats"]["cache_hits"] == 0
    # once the LLM answers, the settled verdict is kept and the next run is free
    openai_stub.reply = lambda messages, body: '{"label": "refusal", "reason": "declines"}'
    judge, decided = run()
    assert decided.label == "refusal" and stored(path) == 1
    judge, cached = run()
    assert cached == decided and judge.identity()["stats"] == {"cache_hits": 1, "judged": 0, "escalated": 0,
                                                                 "of": 0, "stronger_unjudged": 0}


def test_any_unjudged_stage_keeps_a_verdict_out_of_the_cache(tmp_path):
    path = tmp_path / "verdicts.sqlite3"
    undecided, decider = Fixed("middle", "unjudged", 0.5), Fixed("last", "refusal", 0.95)
    cascade = CascadeJudge(Unsure(), undecided, stronger_spec="middle", then=[("last", decider)])
    judge = CachedRefusalJudge(cascade, VerdictCache(path))
    verdict = judge.judge("p", "r")
    assert verdict.label == "refusal" and not verdict.settled  # the last stage decided, a stage was unjudged
    assert stored(path) == 0
    judge.judge("p", "r")
    assert (undecided.calls, decider.calls) == (2, 2)


def test_settled_cascade_verdicts_are_cached_and_equal_fresh_ones(tmp_path):
    path = tmp_path / "verdicts.sqlite3"
    stronger = Fixed("strong", "refusal", 0.95)
    fresh = CachedRefusalJudge(CascadeJudge(Unsure(), stronger), VerdictCache(path)).judge("p", "r")
    assert fresh.settled and stored(path) == 1
    cached = CachedRefusalJudge(CascadeJudge(Unsure(), stronger), VerdictCache(path)).judge("p", "r")
    assert cached == fresh and stronger.calls == 1


@pytest.mark.parametrize("with_cache", [True, False])
def test_requests_that_failed_count_as_failed_not_judged(tmp_path, with_cache, openai_stub):
    """The llm judge against a server that keeps failing: a JudgeError, counted apart from judged verdicts."""
    openai_stub.add_fault("500", times=None)
    llm = LLMJudge(f"stub-model@{openai_stub.url}")
    llm._openai = llm._openai.with_options(max_retries=0)
    judge = CachedRefusalJudge(llm, VerdictCache(tmp_path / "v.sqlite3") if with_cache else None)
    with pytest.raises(JudgeError) as info:
        judge.judge_many([("p", "a"), ("p", "b")])
    assert str(info.value).startswith(f"LLM judge stub-model at {openai_stub.url}: Error code: 500")
    assert judge.identity()["stats"] == {"cache_hits": 0, "judged": 0, "failed": 2, "retried": 0, "unjudged": 0}


def test_a_dead_judge_server_is_unavailable_not_a_per_probe_error(tmp_path):
    """Nothing listens: JudgeUnavailable, which stops the run once (the plugin's runtest wrapper)."""
    url = f"http://127.0.0.1:{closed_port()}/v1"
    llm = LLMJudge(f"gpt@{url}")
    llm._openai = llm._openai.with_options(max_retries=0)
    judge = CachedRefusalJudge(llm, VerdictCache(tmp_path / "v.sqlite3"))
    with pytest.raises(JudgeUnavailable) as info:
        judge.judge_many([("p", "a"), ("p", "b")])
    assert str(info.value) == (f"LLM judge gpt at {url}: cannot reach the server (ConnectError: [Errno 111] "
                               "Connection refused); is it running?")
    assert judge.identity()["stats"]["failed"] == 2
