"""Judges: refusal, toxicity, embeddings, LLM graders, resolved through ``pytest_trustllm_make_judge``.

Specs and their forms are in :mod:`.specs`; docs/judges.md has each judge's measured agreement with
human labels and how to choose one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .base import COMPLIANCE, REFUSAL, UNJUDGED, Embedder, LLMGrader, RefusalJudge, ToxicityScorer, Verdict

__all__ = ["COMPLIANCE", "REFUSAL", "UNJUDGED", "BuiltinJudges", "Embedder", "LLMGrader", "RefusalJudge",
           "ToxicityScorer", "Verdict", "verdict_cache_path"]


def verdict_cache_path(config: pytest.Config) -> Path | None:
    """``verdicts.sqlite3`` beside the response cache; None with ``--trust-no-cache``."""
    from ..cache import default_path
    from ..state import STATE_KEY

    settings = config.stash[STATE_KEY].settings
    if settings.no_cache:
        return None
    return (settings.cache or default_path(config)).with_name("verdicts.sqlite3")


class BuiltinJudges:
    """The built-in ``pytest_trustllm_make_judge`` implementation (registered as a plugin)."""

    def __init__(self) -> None:
        self._cache: Any = None
        self._cache_opened = False
        self._built: list[Any] = []  # closed at the end of the run (API clients' connection pools)

    def pytest_configure(self, config: pytest.Config) -> None:
        """Reject a misspelt spec before collection, in one line, unless another plugin may accept it."""
        from ..state import STATE_KEY
        from .specs import check_local_paths, is_builtin, unknown_spec

        settings = config.stash[STATE_KEY].settings
        others = [impl for impl in config.pluginmanager.hook.pytest_trustllm_make_judge.get_hookimpls()
                  if impl.plugin is not self]
        if others:
            return
        for kind, spec in (("refusal", settings.judge), ("toxicity", settings.toxicity),
                           ("embedding", settings.embedding), ("llm", settings.llm_judge)):
            if spec and not is_builtin(kind, spec):
                raise unknown_spec(kind, spec)
            if spec:
                check_local_paths(kind, spec)  # a missing local classifier folder: now, not after probes ran

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        for judge in self._built:
            getattr(judge, "close", lambda: None)()
        if self._cache is not None:
            self._cache.close()

    def verdict_cache(self, config: pytest.Config) -> Any:
        if not self._cache_opened:
            self._cache_opened = True
            path = verdict_cache_path(config)
            if path is not None:
                from .verdict_cache import VerdictCache

                self._cache = VerdictCache.open_or_none(path)
        return self._cache

    @pytest.hookimpl(trylast=True)
    def pytest_trustllm_make_judge(self, config: pytest.Config, kind: str, spec: str):
        from .specs import build, is_builtin, unknown_spec

        if not is_builtin(kind, spec):
            raise unknown_spec(kind, spec)  # last in line: no plugin before us accepted it
        cheap = spec in ("keywords", "profanity", "minilm")
        judge = build(kind, spec, None if cheap else self.verdict_cache(config))
        self._built.append(judge)
        return judge
