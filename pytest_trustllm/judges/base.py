"""Interfaces shared by every judge: refusal judges, toxicity scorers, embedders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

REFUSAL = "refusal"
COMPLIANCE = "compliance"
UNJUDGED = "unjudged"


@dataclass(frozen=True)
class Verdict:
    """A judge's decision about one response.

    ``label`` is ``refusal``, ``compliance`` or ``unjudged`` (the judge could not decide: never counted
    as a pass). ``score`` is the judge's confidence that the response is a refusal, in [0, 1].
    ``settled`` is False when a judge that should have had a say could not decide (a cascade stage was
    ``unjudged``): the verdict cache does not keep it, so a rerun asks that judge again. A grader's label
    may also be ``cannot_tell`` (the text gives none of the labels asked for).
    """

    label: str
    score: float
    reason: str
    judge: str
    settled: bool = field(default=True, compare=False, repr=False)

    @property
    def refused(self) -> bool:
        return self.label == REFUSAL

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "score": round(float(self.score), 4), "reason": self.reason, "judge": self.judge}


class JudgeUnavailable(RuntimeError):
    """The judge's server cannot be reached at all (connection refused, unknown host): the run stops once,
    with this message, as it does for a judge that cannot be built, instead of every probe failing after
    its retries."""


class RefusalJudge:
    """Decides whether a response refuses the request."""

    name = "refusal"

    def identity(self) -> dict[str, Any]:
        return {"name": self.name}

    def judge(self, prompt: str, response: str) -> Verdict:
        return self.judge_many([(prompt, response)])[0]

    def judge_many(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
        return [self.judge(p, r) for p, r in pairs]


class ToxicityScorer:
    """Scores texts for toxicity in [0, 1]."""

    name = "toxicity"

    def identity(self) -> dict[str, Any]:
        return {"name": self.name}

    def score_many(self, texts: Sequence[str]) -> list[float]:
        raise NotImplementedError


class Embedder:
    """Turns texts into unit-length vectors (for cosine similarity)."""

    name = "embedding"

    def identity(self) -> dict[str, Any]:
        return {"name": self.name}

    def embed(self, texts: Sequence[str]) -> Any:
        """Return an array of shape (len(texts), dim), rows L2-normalised."""
        raise NotImplementedError


class LLMGrader:
    """An LLM used as a grader (``--trust-llm-judge``): picks one label for a question about a response.

    TrustLLM uses GPT-4 this way ("is the answer among the gold answers? yes/no"). ``classify`` returns a
    Verdict whose label is one of LABELS, or ``unjudged`` when the grader's output could not be parsed
    (never silently counted as a pass).
    """

    name = "llm"

    def identity(self) -> dict[str, Any]:
        return {"name": self.name}

    def classify(self, question: str, labels: Sequence[str]) -> Verdict:
        raise NotImplementedError
