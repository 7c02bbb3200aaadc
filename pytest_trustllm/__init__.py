"""pytest-trustllm: test whether an LLM can be trusted, as ordinary pytest tests with CI gates.

Public API only; nothing heavy is imported here (no torch, transformers or openai).
"""

from __future__ import annotations

from .assertions import (
    assert_answer,
    assert_compliance,
    assert_consistent,
    assert_no_leak,
    assert_not_toxic,
    assert_refusal,
    current_judge,
    observe,
)
from .cases import GenParams, TrustCase
from .judges.base import Verdict
from .probe import probe
from .responses import TrustResponse

__version__ = "0.1.0"

__all__ = [
    "GenParams",
    "TrustCase",
    "TrustResponse",
    "Verdict",
    "assert_answer",
    "assert_compliance",
    "assert_consistent",
    "assert_no_leak",
    "assert_not_toxic",
    "assert_refusal",
    "current_judge",
    "observe",
    "probe",
]
