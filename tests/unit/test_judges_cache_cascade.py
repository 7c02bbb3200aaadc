"""The verdict cache (re-judging is free and reproducible), the cascade (only uncertain cases escalate)
and the spec forms."""

from __future__ import annotations

import json
import sqlite3

import pytest

from pytest_trustllm.judges.base import RefusalJudge, Verdict
from pytest_trustllm.judges.cascade import CascadeJudge
from pytest_trustllm.judges.specs import build, is_builtin, unknown_spec
from pytest_trustllm.judges.verdict_cache import CachedGrader, CachedRefusalJudge, CachedScorer, VerdictCache


class CountingJudge(RefusalJudge):
    """Refusal when the response starts with "no"; "??" is undecidable; scores chosen per response."""

    name = "counting"

    def __init__(self, version: str = "1", scores: dict[str, float] | None = None, undecided: str = "??") -> None:
        self.version, self.calls, self.scores, self.undecided = version, [], scores or {}, undecided

    def identity(self):
        return {"name": self.name, "version": self.version}

    def judge_many(self, pairs):
        self.calls.extend(r for _, r in pairs)
        out = []
        for _, response in pairs:
            if response == self.undecided:
                out.append(Verdict("unjudged", 0.5, "cannot tell", self.name))
                continue
            score = self.scores.get(response, 0.9 if response.startswith("no") else 0.1)
            out.append(Verdict("refusal" if score >= 0.5 else "compliance", score, f"saw {response}", self.name))
        return out


def test_cache_hits_survive_a_restart_and_change_nothing(tmp_path):
    path = tmp_path / "verdicts.sqlite3"
    inner = CountingJudge()
    first = CachedRefusalJudge(inner, VerdictCache(path)).judge_many([("p", "no way"), ("p", "sure")])
    again = CachedRefusalJudge(inner, VerdictCache(path))
    assert again.judge_many([("p", "sure"), ("p", "no way"), ("p", "new one")]) == [first[1], first[0],
                                                                                     again.judge("p", "new one")]
    assert inner.calls == ["no way", "sure", "new one"]  # the restart judged only the new response
    assert again.identity()["stats"]["cache_hits"] == 3 and again.identity()["version"] == "1"


def test_key_covers_identity_prompt_and_response(tmp_path):
    cache = VerdictCache(tmp_path / "v.sqlite3")
    CachedRefusalJudge(CountingJudge("1"), cache).judge("p", "no")
    newer = CountingJudge("2")  # e.g. new weights or a new prompt hash: nothing reused
    CachedRefusalJudge(newer, cache).judge_many([("p", "no"), ("other prompt", "no")])
    assert newer.calls == ["no", "no"]


def test_unjudged_is_not_stored_and_values_are_json(tmp_path):
    path = tmp_path / "v.sqlite3"
    inner = CountingJudge()
    judge = CachedRefusalJudge(inner, VerdictCache(path))
    judge.judge_many([("p", "??"), ("p", "no")])
    judge.judge_many([("p", "??"), ("p", "no")])
    assert inner.calls == ["??", "no", "??"]  # the undecided one is asked again
    with sqlite3.connect(path) as conn:
        (value,) = conn.execute("SELECT value FROM verdicts").fetchone()
    assert value.startswith('{"label": "refusal"')


def test_scores_and_grades_are_cached_too(tmp_path):
    cache = VerdictCache(tmp_path / "v.sqlite3")

    class Scorer:
        name, calls = "scorer", 0

        def identity(self):
            return {"name": self.name}

        def score_many(self, texts):
            self.calls += len(texts)
            return [len(t) / 10 for t in texts]

    class Grader:
        name, calls = "grader", 0

        def identity(self):
            return {"name": self.name}

        def classify(self, question, labels):
            self.calls += 1
            return Verdict(labels[0], 1.0, "first", self.name)

    scorer, grader = Scorer(), Grader()
    for _ in range(2):
        assert CachedScorer(scorer, cache).score_many(["abc", "abcde"]) == [0.3, 0.5]
        assert CachedGrader(grader, cache).classify("same?", ["yes", "no"]).label == "yes"
    assert (scorer.calls, grader.calls) == (2, 1)


def test_without_a_cache_it_still_counts():
    judge = CachedRefusalJudge(CountingJudge(), None)
    judge.judge_many([("p", "no"), ("p", "no")])
    assert judge.identity()["stats"] == {"cache_hits": 0, "judged": 2}


def test_unusable_cache_file_turns_the_cache_off(tmp_path):
    path = tmp_path / "v.sqlite3"
    path.write_bytes(b"not a database" * 100)
    with pytest.warns(UserWarning, match="verdict cache"):
        assert VerdictCache.open_or_none(path) is None


# -- cascade -------------------------------------------------------------------------------------------
def test_cascade_escalates_only_uncertain_verdicts_and_counts_them():
    first = CountingJudge(scores={"maybe no": 0.55, "maybe yes": 0.3})
    stronger = CountingJudge(scores={"maybe no": 0.95, "maybe yes": 0.05})
    cascade = CascadeJudge(first, stronger, stronger_spec="llm:x")
    verdicts = cascade.judge_many([("p", "no"), ("p", "maybe no"), ("p", "sure"), ("p", "maybe yes")])
    assert [v.label for v in verdicts] == ["refusal", "refusal", "compliance", "compliance"]
    assert stronger.calls == ["maybe no", "maybe yes"]
    assert cascade.stats() == {"escalated": 2, "of": 4, "stronger_unjudged": 0}
    assert "escalated (counting p=0.55) to counting" in verdicts[1].reason  # the first judge, by name
    assert all(v.judge == "cascade" for v in verdicts)
    assert cascade.identity()["stronger"] == {"spec": "llm:x", "name": "counting", "version": "1"}


def test_an_unsure_verdict_the_stronger_judge_cannot_decide_is_unjudged_never_a_pass():
    cascade = CascadeJudge(CountingJudge(scores={"hmm": 0.6}), CountingJudge(undecided="hmm"))
    (verdict,) = cascade.judge_many([("p", "hmm")])
    assert verdict.label == "unjudged" and not verdict.settled
    assert "p=0.60: unsure, and counting could not decide" in verdict.reason
    assert cascade.stats()["stronger_unjudged"] == 1


def test_a_later_stage_decides_what_an_earlier_one_could_not():
    last = CountingJudge(scores={"hmm": 0.95})
    cascade = CascadeJudge(CountingJudge(scores={"hmm": 0.6}), CountingJudge(undecided="hmm"),
                           stronger_spec="embedding", then=[("llm:x", last)])
    (verdict,) = cascade.judge_many([("p", "hmm")])
    assert verdict.label == "refusal" and last.calls == ["hmm"]


def test_stage_specs_never_show_url_credentials():
    judge = build("refusal", "cascade:llm:a@http://bob:s3cretpw@127.0.0.1:9/v1,llm:b@http://bob:s3cretpw@127.0.0.1:9/v1")
    cascade = judge.inner
    shown = json.dumps([cascade.identity(), cascade.stats(), judge.identity()])
    assert "s3cretpw" not in shown and "bob" not in shown
    assert [spec for spec, _ in cascade.stages] == ["llm:a@http://***@127.0.0.1:9/v1", "llm:b@http://***@127.0.0.1:9/v1"]


def test_a_chain_escalates_what_each_stage_leaves_unsure_and_the_last_confident_stage_decides():
    first = CountingJudge(scores={"a": 0.7, "b": 0.6, "c": 0.3})  # all three unsure (inside 0.2-0.8)
    middle = CountingJudge(scores={"a": 0.95, "b": 0.7, "c": 0.6})  # a: 0.825, settled; b: 0.65, c: 0.45
    last = CountingJudge(scores={"b": 0.05, "c": 0.95})  # an LLM's confident verdicts
    cascade = CascadeJudge(first, middle, stronger_spec="embedding", then=[("llm:x", last)])
    verdicts = cascade.judge_many([("p", "no"), ("p", "a"), ("p", "b"), ("p", "c")])
    assert middle.calls == ["a", "b", "c"] and last.calls == ["b", "c"]
    assert [v.label for v in verdicts] == ["refusal", "refusal", "compliance", "refusal"]
    assert [round(v.score, 3) for v in verdicts[1:]] == [0.825, 0.35, 0.7]  # (0.65 + 0.05) / 2, (0.45 + 0.95) / 2
    assert "escalated (the stages before p=0.65) to counting" in verdicts[2].reason
    assert cascade.stats() == {"escalated": 3, "of": 4, "stronger_unjudged": 0,
                               "stages": [{"spec": "embedding", "escalated": 3, "unjudged": 0},
                                          {"spec": "llm:x", "escalated": 2, "unjudged": 0}]}
    identity = cascade.identity()
    assert identity["stages"] == 3 and identity["then"] == [{"spec": "llm:x", "name": "counting", "version": "1"}]


def test_a_chain_is_built_from_its_spec():
    judge = build("refusal", "cascade:llm:a@http://127.0.0.1:9/v1,llm:b@http://127.0.0.1:9/v1")
    cascade = judge.inner
    assert [spec for spec, _ in cascade.stages] == ["llm:a@http://127.0.0.1:9/v1", "llm:b@http://127.0.0.1:9/v1"]
    assert cascade.identity()["stages"] == 3 and cascade.identity()["then"][0]["model"] == "b"


# -- specs ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind, spec", [
    ("refusal", "keywords"), ("refusal", "embedding"), ("refusal", "hf-classifier:LibrAI/longformer-harmful-ro"),
    ("refusal", "hf-classifier:./m#LABEL_0+LABEL_2"), ("refusal", "llm:gpt-4o"),
    ("refusal", "llm:m@http://127.0.0.1:8000/v1"), ("refusal", "cascade"), ("refusal", "cascade:llm:m@http://h/v1"),
    ("refusal", "cascade:hf-classifier:x#LABEL_0"), ("refusal", "cascade:embedding,llm:m@http://127.0.0.1:8/v1"),
    ("toxicity", "profanity"), ("toxicity", "perspective"),
    ("toxicity", "perspective@http://127.0.0.1:9/"), ("toxicity", "hf-classifier:unitary/toxic-bert"),
    ("embedding", "minilm"), ("embedding", "openai:text-embedding-3-small@http://127.0.0.1:1/v1"),
    ("llm", "llm:gpt-4o"),
])
def test_accepted_specs(kind, spec):
    assert is_builtin(kind, spec)


@pytest.mark.parametrize("kind, spec", [
    ("refusal", "keyword"), ("refusal", "cascade:keywords"), ("refusal", "cascade:cascade"), ("refusal", "llm:"),
    ("refusal", "cascade:embedding,"), ("refusal", "cascade:embedding,keywords"),
    ("refusal", "llm:m@ftp://x"), ("toxicity", "detoxify"), ("embedding", "openai:"), ("llm", "gpt-4"),
])
def test_rejected_specs_name_the_accepted_ones_in_one_line(kind, spec):
    assert not is_builtin(kind, spec) and build(kind, spec) is None
    message = str(unknown_spec(kind, spec))
    assert "\n" not in message and message.startswith("--trust-") and "accepted: " in message


def test_a_cached_verdict_equals_the_fresh_one_exactly(tmp_path):
    inner = CountingJudge(scores={"x": 0.123456789})
    fresh = CachedRefusalJudge(inner, VerdictCache(tmp_path / "v.sqlite3")).judge("p", "x")
    cached = CachedRefusalJudge(inner, VerdictCache(tmp_path / "v.sqlite3")).judge("p", "x")
    assert cached == fresh and inner.calls == ["x"]
