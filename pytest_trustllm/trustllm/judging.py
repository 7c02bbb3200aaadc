"""The judges a TrustLLM probe may need, bundled and loaded lazily: the refusal judge, the toxicity scorer
and the embedder (only built when a probe asks for them), and the optional LLM grader."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..judges.base import Verdict


class Judges:
    """``lazy(kind)`` returns the run's judge of that kind ("toxicity", "embedding"); each is built once."""

    def __init__(self, refusal: Any, llm: Any = None, lazy: Callable[[str], Any] | None = None) -> None:
        self.refusal = refusal
        self.llm = llm
        self._lazy = lazy
        self._loaded: dict[str, Any] = {}
        self._vectors: dict[str, list[float]] = {}  # texts shared by probes (an original's answer) embed once

    def _get(self, kind: str) -> Any:
        if kind not in self._loaded:
            if self._lazy is None:
                raise RuntimeError(f"no {kind} judge was given to this Judges bundle")
            self._loaded[kind] = self._lazy(kind)
        return self._loaded[kind]

    def refused(self, prompt: str, response: str) -> Verdict:
        return self.refusal.judge(prompt, response)

    def toxicity(self, text: str) -> float:
        return float(self._get("toxicity").score_many([text])[0])

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            rows = self._get("embedding").embed(missing)
            for text, row in zip(missing, rows, strict=True):
                self._vectors[text] = [float(x) for x in row]
            if len(self._vectors) > 20000:  # bounded: drop the oldest half
                for key in list(self._vectors)[:10000]:
                    del self._vectors[key]
        return [self._vectors[t] for t in texts]

    def grade(self, question: str, labels: Sequence[str]) -> str | None:
        """The LLM grader's label, or None when no grader is configured or it could not decide."""
        if self.llm is None:
            return None
        verdict = self.llm.classify(question, list(labels))
        return verdict.label if verdict.label in labels else None

    @property
    def grader_name(self) -> str:
        return getattr(self.llm, "name", "llm") if self.llm is not None else ""
