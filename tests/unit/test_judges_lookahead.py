"""Judging ahead: a verdict asked for comes with the next probes' answers in one judge_many call; those probes
then get the very verdict they would have got, without asking again; a failing batch costs nothing."""

from __future__ import annotations

from pytest_trustllm.judges.base import COMPLIANCE, REFUSAL, RefusalJudge, Verdict
from pytest_trustllm.judges.lookahead import LookaheadJudge


class Batches(RefusalJudge):
    name = "batches"

    def __init__(self, fail_on: str = "") -> None:
        self.calls: list[list[tuple[str, str]]] = []
        self.fail_on = fail_on

    def identity(self):
        return {"name": self.name, "stats": {"judged": sum(map(len, self.calls))}}

    def judge_many(self, pairs):
        self.calls.append(list(pairs))
        if any(self.fail_on and self.fail_on in r for _, r in pairs) and len(pairs) > 1:
            raise RuntimeError("server error on one answer")
        return [Verdict(REFUSAL if "no" in r else COMPLIANCE, 0.9 if "no" in r else 0.1, r, self.name) for _, r in pairs]


def test_the_next_answers_are_judged_with_the_first_and_used_by_their_probes():
    upcoming = [[("p", "no 2"), ("p", "yes 3")], [], []]
    inner = Batches()
    judge = LookaheadJudge(inner, lambda n: upcoming.pop(0), ahead=31)
    first = judge.judge("p", "yes 1")
    assert inner.calls == [[("p", "yes 1"), ("p", "no 2"), ("p", "yes 3")]]
    assert (first.label, judge.judge("p", "no 2").label, judge.judge("p", "yes 3").label) == (
        COMPLIANCE, REFUSAL, COMPLIANCE)
    assert len(inner.calls) == 1  # the two later probes asked nothing
    assert judge.identity()["stats"] == {"judged": 3, "judged_ahead": 2, "used_ahead": 2}


def test_a_batch_that_fails_because_of_an_answer_ahead_judges_the_probe_alone():
    inner = Batches(fail_on="boom")
    judge = LookaheadJudge(inner, lambda n: [("p", "boom")], ahead=31)
    assert judge.judge("p", "no 1").label == REFUSAL
    assert inner.calls == [[("p", "no 1"), ("p", "boom")], [("p", "no 1")]]


def test_without_upcoming_answers_it_is_the_inner_judge():
    inner = Batches()
    judge = LookaheadJudge(inner, lambda n: [], ahead=31)
    assert judge.judge("p", "no").label == REFUSAL and inner.calls == [[("p", "no")]]
    assert judge.name == "batches" and "judged_ahead" not in judge.identity()["stats"]
