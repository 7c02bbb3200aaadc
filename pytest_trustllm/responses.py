"""The response seam: tests ask for the answer to a case's prompt; answers are fetched in bulk first.

:class:`Responder` is the only way probes get model answers. It is planned with every case collected in
this process, and on the first request it fetches all planned prompts that have no answer yet, through
the prefetcher (batched or concurrent) and the response cache.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .cases import GenParams, TrustCase


@dataclass(frozen=True)
class Request:
    prompt: str
    params: GenParams
    sample: int = 0

    def key(self, model_identity: dict[str, Any]) -> str:
        """Cache key: backend, model, endpoint, generation parameters, prompt, sample index."""
        payload = {"model": model_identity, "params": self.params.as_dict(), "prompt": self.prompt,
                   "sample": self.sample}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Response:
    """A model's answer, or the error that prevented one (never a fake empty answer)."""

    text: str | None
    error: str | None = None
    cached: bool = False
    replay_miss: bool = False  # --trust-replay and no cached answer
    cut: bool = False  # the answer stopped at the token limit (max_new_tokens; finish_reason "length")


class TrustResponse(str):
    """The answer a probe gets: a plain ``str`` that also knows its prompt and case, and whether it was cut at
    the token limit (``cut``)."""

    prompt: str
    case: TrustCase | None
    cut: bool

    def __new__(cls, text: str, prompt: str = "", case: TrustCase | None = None,
                cut: bool = False) -> TrustResponse:
        obj = super().__new__(cls, text)
        obj.prompt, obj.case, obj.cut = prompt, case, cut
        return obj


def requests_for(case: TrustCase) -> list[Request]:
    return [Request(p, case.params, case.sample) for p in case.prompts]


class Responder:
    """Holds the planned requests and the answers; fills them through a fetch function on demand.

    On a miss the fetch function gets the missing request first, then every other unanswered planned
    request in plan order (those after it, then those before it). It must answer the first; it may answer
    any part of the rest: all of it in one process, a window of upcoming requests under xdist.
    """

    def __init__(self, fetch) -> None:
        self._fetch = fetch  # callable(list[Request]) -> dict[Request, Response]
        self._planned: dict[Request, int] = {}
        self._answers: dict[Request, Response] = {}

    def plan(self, cases: Iterable[TrustCase]) -> None:
        for case in cases:
            for request in requests_for(case):
                self._planned.setdefault(request, len(self._planned))

    def get(self, request: Request) -> Response:
        if request not in self._answers:
            position = self._planned.setdefault(request, len(self._planned))
            ordered = list(self._planned)
            rest = ordered[position + 1:] + ordered[:position]
            pending = [request, *(r for r in rest if r not in self._answers)]
            self._answers.update(self._fetch(pending))
        return self._answers[request]

    def peek(self, request: Request) -> Response | None:
        """The answer to REQUEST if it has come already; never fetches."""
        return self._answers.get(request)

    @property
    def pending(self) -> int:
        return sum(1 for r in self._planned if r not in self._answers)
