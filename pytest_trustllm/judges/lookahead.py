"""Judging ahead: probes ask an expensive refusal judge one answer at a time, but a batch costs about as much as
one answer (an LLM judge sends 8 requests at once, a classifier or MiniLM embeds a batch together). So when a
probe asks for a verdict that is not ready, the judge also gets the answers of the next probes of the same test
function that are already fetched, in one ``judge_many`` call; those probes then find their verdict ready.

Like a file system's read-ahead, it only reads ahead what the pattern so far says will be asked for: as many
answers as the probes of that function just before this one asked for in a row (1, 2, 3, ... up to
``TRUSTLLM_JUDGE_AHEAD``, default 31; 0 turns it off). So a function whose probes do not all ask (an assertion
that needs the judge only for some answers) costs at most about as many verdicts again as it used; a function
whose probes ask with another prompt than their own (``assert_refusal(answer, prompt=...)``) is not judged
ahead any more once that shows.

Only the built-in expensive judges are wrapped (``embedding``, ``hf-classifier``, ``llm``, ``cascade``), and not
in xdist workers (which probes a worker runs next is not known there). A verdict judged ahead is the verdict
that probe would get (the same judge, the same prompt and answer), and goes into the verdict cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from .base import Verdict

Pair = tuple[str, str]
MAX_READY = 10_000  # verdicts judged ahead that no probe asked for are dropped past this


class Plan(Protocol):
    """Where the run stands (:class:`pytest_trustllm.collection.ProbeOrder`)."""

    def current(self) -> tuple[str, str] | None:
        """(nodeid, group) of the probe running now; None outside a probe."""

    def streak(self, nodeid: str, asked: set[str], limit: int) -> int:
        """How many probes of its group just before NODEID, in a row, are in ASKED (counting stops at LIMIT)."""

    def upcoming(self, nodeid: str, n: int) -> list[tuple[str, Pair]]:
        """(nodeid, (prompt, answer)) of up to N probes of its group after NODEID whose answers have come."""


class LookaheadJudge:
    """INNER (a refusal judge with ``judge_many``), asked for one verdict at a time, judges ahead by PLAN."""

    def __init__(self, inner: Any, plan: Plan, ahead: int) -> None:
        self.inner = inner
        self.plan = plan
        self.ahead = ahead
        self._ready: dict[Pair, Verdict] = {}
        self._prepared: dict[str, Pair] = {}  # nodeid -> the pair judged ahead for it
        self._asked: set[str] = set()  # probes that asked for a verdict
        self._off: set[str] = set()  # groups whose probes ask with other pairs than their own
        self.judged_ahead = 0
        self.used_ahead = 0

    def __getattr__(self, name: str) -> Any:  # name, close(), ...: the inner judge's
        return getattr(self.inner, name)

    def identity(self) -> dict[str, Any]:
        identity = self.inner.identity()
        if self.judged_ahead:  # verdicts prepared ahead (from the verdict cache or the judge), and those used
            identity["stats"] = {**identity.get("stats", {}), "judged_ahead": self.judged_ahead,
                                 "used_ahead": self.used_ahead}
        return identity

    def judge_many(self, pairs: Sequence[Pair]) -> list[Verdict]:
        return [self.judge(prompt, response) for prompt, response in pairs]

    def judge(self, prompt: str, response: str) -> Verdict:
        key = (prompt, response)
        here = self.plan.current()
        window = 0
        if here is not None:
            nodeid, group = here
            self._asked.add(nodeid)
            prepared = self._prepared.pop(nodeid, None)
            if prepared is not None and prepared != key:
                self._off.add(group)
            if group not in self._off:
                window = self.plan.streak(nodeid, self._asked, self.ahead)
        if key in self._ready:
            self.used_ahead += 1
            return self._ready.pop(key)
        extra = []
        if window:
            extra = [(node, pair) for node, pair in self.plan.upcoming(here[0], window)
                     if pair != key and pair not in self._ready]
        if not extra:
            return self.inner.judge_many([key])[0]
        try:
            verdicts = self.inner.judge_many([key, *(pair for _, pair in extra)])
        except Exception:  # one answer ahead failed (a server error): this probe is judged alone, as it would be
            return self.inner.judge_many([key])[0]
        if len(self._ready) > MAX_READY:
            self._ready.clear()
            self._prepared.clear()
        for (node, pair), verdict in zip(extra, verdicts[1:], strict=True):
            self._ready[pair] = verdict
            self._prepared[node] = pair
        self.judged_ahead += len(extra)
        return verdicts[0]
