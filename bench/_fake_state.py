"""A minimal stand-in for the plugin's TrustState, so benchmarks drive the real Prefetcher without pytest."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

from pytest_trustllm.options import Settings


def fake_state(model, cache: Path | None, concurrency: int = 16, batch_size: int | None = None):
    settings = Settings(model=getattr(model, "spec", "bench"), judge="keywords", toxicity="profanity",
                        embedding="minilm", llm_judge="", data_dir=None, report=None, cache=cache,
                        no_cache=cache is None, replay=False, sample=None, seed=0, concurrency=concurrency,
                        batch_size=batch_size, temperature=None, max_tokens=None, strict=False)
    config = SimpleNamespace(pluginmanager=SimpleNamespace(getplugin=lambda name: None), rootpath=Path("."))
    return SimpleNamespace(settings=settings, config=config, model=model, _model=model, started=time.time(),
                           is_worker=False)
