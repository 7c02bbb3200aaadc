"""Judges: refusal, toxicity, embeddings, LLM graders, resolved through ``pytest_trustllm_make_judge``."""

from __future__ import annotations

import pytest

from .base import COMPLIANCE, REFUSAL, UNJUDGED, Embedder, RefusalJudge, ToxicityScorer, Verdict

__all__ = ["COMPLIANCE", "REFUSAL", "UNJUDGED", "Embedder", "RefusalJudge", "ToxicityScorer", "Verdict"]


class BuiltinJudges:
    """The built-in ``pytest_trustllm_make_judge`` implementation (registered as a plugin)."""

    @pytest.hookimpl(trylast=True)
    def pytest_trustllm_make_judge(self, config: pytest.Config, kind: str, spec: str):
        if kind == "refusal" and spec == "keywords":
            from .keywords import KeywordRefusalJudge

            return KeywordRefusalJudge()
        return None
