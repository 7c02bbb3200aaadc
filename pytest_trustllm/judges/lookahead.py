"""Judging ahead: probes ask an expensive refusal judge one answer at a time, but a batch costs about as much as
one answer (an LLM judge sends 8 requests at once, a classifier or MiniLM embeds a batch together). So when a
probe asks for a verdict that is not ready, the judge also gets the answers of the next probes of the same
task that are already fetched, in one ``judge_many`` call; those probes then find their verdict ready.

Only the built-in expensive judges are wrapped (``embedding``, ``hf-classifier``, ``llm``, ``cascade``), and not
in xdist workers (which probes a worker runs next is not known there). ``TRUSTLLM_JUDGE_AHEAD`` sets how many
answers are judged ahead (default 31; 0 turns it off). A verdict judged ahead is the verdict that probe would
get (the same judge, the same prompt and answer), and goes into the verdict cache like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .base import Verdict

Pair = tuple[str, str]
MAX_READY = 10_000  # verdicts judged ahead that no probe asked for (another prompt) are dropped past this


class LookaheadJudge:
    """INNER (a refusal judge with ``judge_many``), asked for one verdict at a time, judges UPCOMING(n) too."""

    def __init__(self, inner: Any, upcoming: Callable[[int], Sequence[Pair]], ahead: int) -> None:
        self.inner = inner
        self.upcoming = upcoming
        self.ahead = ahead
        self._ready: dict[Pair, Verdict] = {}
        self.judged_ahead = 0
        self.used_ahead = 0

    def __getattr__(self, name: str) -> Any:  # identity(), name, close(), ...: the inner judge's
        return getattr(self.inner, name)

    def identity(self) -> dict[str, Any]:
        identity = self.inner.identity()
        if self.judged_ahead:  # how many verdicts were judged ahead, and how many of them a probe then used
            identity["stats"] = {**identity.get("stats", {}), "judged_ahead": self.judged_ahead,
                                 "used_ahead": self.used_ahead}
        return identity

    def judge_many(self, pairs: Sequence[Pair]) -> list[Verdict]:
        return [self.judge(prompt, response) for prompt, response in pairs]

    def judge(self, prompt: str, response: str) -> Verdict:
        key = (prompt, response)
        if key in self._ready:
            self.used_ahead += 1
            return self._ready.pop(key)
        extra = [pair for pair in dict.fromkeys(self.upcoming(self.ahead)) if pair != key and pair not in self._ready]
        if not extra:
            return self.inner.judge_many([key])[0]
        try:
            verdicts = self.inner.judge_many([key, *extra])
        except Exception:  # one answer ahead failed (a server error): this probe is judged alone, as it would be
            return self.inner.judge_many([key])[0]
        if len(self._ready) > MAX_READY:
            self._ready.clear()
        self._ready.update(zip(extra, verdicts[1:], strict=True))
        self.judged_ahead += len(extra)
        return verdicts[0]
