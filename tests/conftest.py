"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import os

import pytest

from pytest_trustllm.models.smollm2 import cache_root
from tests.support.openai_server import OpenAIStub

# Nothing in the test suite may reach a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# pytester points HOME at a temporary folder: keep the converted SmolLM2 in the real cache, so the embedded
# model is converted once per machine, not once per pytester test.
os.environ.setdefault("TRUSTLLM_MODEL_CACHE", str(cache_root()))


@pytest.fixture
def openai_stub():
    """A started :class:`tests.support.openai_server.OpenAIStub` (``.url``, ``.model``, ``.add_fault``,
    ``.requests``); configure ``.reply``/``.latency`` as needed. Closed after the test."""
    with OpenAIStub() as stub:
        yield stub


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory) -> str:
    """Folder of a tiny random GPT-2 with a chat template (``hf:<folder>?dtype=float32`` loads it)."""
    import torch

    from tests.support.tiny_models import build_tiny_gpt2

    # Tiny matrices on a shared 2-core machine: one thread avoids OpenMP spin-waits (measured 2.3 s -> 0.03 s
    # per generate call under load).
    torch.set_num_threads(1)
    return str(build_tiny_gpt2(tmp_path_factory.mktemp("tiny-gpt2")))
