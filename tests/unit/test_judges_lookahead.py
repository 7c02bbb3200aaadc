"""Judging ahead: a verdict asked for comes with the next probes' answers in one judge_many call, as many as the
probes just before asked for in a row (read-ahead); those probes get the very verdict they would have got; a
function whose probes ask with other pairs is no longer judged ahead; a failing batch costs nothing."""

from __future__ import annotations

import pytest

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
        if self.fail_on and len(pairs) > 1 and any(self.fail_on in r for _, r in pairs):
            raise RuntimeError("server error on one answer")
        return [Verdict(REFUSAL if "no" in r else COMPLIANCE, 0.9 if "no" in r else 0.1, r, self.name)
                for _, r in pairs]


class Plan:
    """Probes t[0] .. t[n-1] of one function, answers given; ``now`` is the probe running."""

    def __init__(self, answers):
        self.answers = answers
        self.now = 0

    def current(self):
        return f"t[{self.now}]", "t"

    def streak(self, nodeid, asked, limit):
        count = 0
        for i in range(self.now - 1, -1, -1):
            if f"t[{i}]" not in asked or count == limit:
                break
            count += 1
        return count

    def upcoming(self, nodeid, n):
        return [(f"t[{i}]", ("p", self.answers[i])) for i in range(self.now + 1, min(self.now + 1 + n, len(self.answers)))]


def run(judge, plan, asks):
    """Run the probes in order; probe i asks for a verdict when asks(i) is true (with pair asks(i))."""
    verdicts = []
    for i in range(len(plan.answers)):
        plan.now = i
        pair = asks(i)
        if pair:
            verdicts.append(judge.judge(*pair))
    return verdicts


def test_read_ahead_grows_with_the_streak_and_gives_each_probe_its_own_verdict():
    answers = [f"{'no' if i % 3 else 'yes'} {i}" for i in range(12)]
    inner, plan = Batches(), Plan(answers)
    judge = LookaheadJudge(inner, plan, ahead=31)
    verdicts = run(judge, plan, lambda i: ("p", answers[i]))
    alone = [Batches().judge_many([("p", a)])[0] for a in answers]
    assert verdicts == alone
    # probe 0 alone; probe 1 with 1 ahead; probe 3 with 3 ahead; probe 7 with the 4 left: no answer judged twice
    assert [len(call) for call in inner.calls] == [1, 2, 4, 5]
    assert judge.identity()["stats"] == {"judged": 12, "judged_ahead": 8, "used_ahead": 8}


def test_probes_that_do_not_ask_keep_the_waste_at_most_what_was_used():
    answers = [f"no {i}" for i in range(20)]
    inner, plan = Batches(), Plan(answers)
    judge = LookaheadJudge(inner, plan, ahead=31)
    asking = {0, 1, 2, 3, 10, 15}
    run(judge, plan, lambda i: ("p", answers[i]) if i in asking else None)
    judged = sum(map(len, inner.calls))
    assert judged <= 2 * len(asking)


def test_probes_asking_with_another_prompt_turn_it_off_for_their_function():
    answers = [f"no {i}" for i in range(10)]
    inner, plan = Batches(), Plan(answers)
    judge = LookaheadJudge(inner, plan, ahead=31)
    run(judge, plan, lambda i: (f"own prompt {i}", answers[i]))
    assert sum(map(len, inner.calls)) <= len(answers) + 1  # one verdict judged ahead for nothing, then off


def test_a_batch_that_fails_because_of_an_answer_ahead_judges_the_probe_alone():
    answers = ["no 0", "no 1", "boom"]
    inner, plan = Batches(fail_on="boom"), Plan(answers)
    judge = LookaheadJudge(inner, plan, ahead=31)
    assert [v.label for v in run(judge, plan, lambda i: ("p", answers[i]) if i < 2 else None)] == [REFUSAL] * 2
    assert inner.calls == [[("p", "no 0")], [("p", "no 1"), ("p", "boom")], [("p", "no 1")]]


@pytest.mark.parametrize("ahead", [0, 31])
def test_outside_a_probe_it_is_the_inner_judge(ahead):
    inner = Batches()

    class Nowhere(Plan):
        def current(self):
            return None

    judge = LookaheadJudge(inner, Nowhere(["no"]), ahead=ahead)
    assert judge.judge("p", "no").label == REFUSAL and inner.calls == [[("p", "no")]]
    assert judge.name == "batches" and "judged_ahead" not in judge.identity()["stats"]


def test_probe_order_groups_by_test_function_and_stops_at_the_cap():
    from types import SimpleNamespace

    from pytest_trustllm.cases import TrustCase
    from pytest_trustllm.collection import ProbeOrder
    from pytest_trustllm.responses import Request, Responder, Response

    def item(name, i):
        case = TrustCase("safety", "harm", str(i), i, (f"{name} prompt {i}",))
        return SimpleNamespace(nodeid=f"test_x.py::{name}[harm-{i}]", callspec=SimpleNamespace(params={"trust_case": case}))

    items = [item(name, i) for i in range(5000) for name in ("test_a", "test_b")]  # two functions, interleaved
    responder = Responder(lambda requests: {r: Response(f"answer to {r.prompt}") for r in requests})
    responder.plan([it.callspec.params["trust_case"] for it in items])
    responder.get(Request("test_a prompt 0", items[0].callspec.params["trust_case"].params, 0))  # fetches them all
    state = SimpleNamespace(items=items, item_order={it.nodeid: i for i, it in enumerate(items)}, responder=responder)
    order = ProbeOrder(state)
    last_a = items[-2].nodeid
    asked = {it.nodeid for it in items if "test_a" in it.nodeid}
    assert order.streak(last_a, asked, limit=31) == 31  # counting stops at the cap
    assert order.streak(last_a, set(), limit=31) == 0
    ahead = order.upcoming(items[0].nodeid, 3)
    assert ahead == [(f"test_x.py::test_a[harm-{i}]", (f"test_a prompt {i}", f"answer to test_a prompt {i}"))
                     for i in (1, 2, 3)]  # only its own function's probes
