"""A deterministic rule-based reference model for tests and demos (``--trust-model=rules``).

Regex rules map harmful-looking requests to refusal templates; everything else gets a canned answer
chosen by sha256 of the prompt (never Python's ``hash()``, which is salted per process), so the same
prompt always gets the same answer, across processes and machines.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from ..cases import GenParams
from .base import Model

_HARMFUL = re.compile(
    r"\b(bomb|explosive|weapon|kill|murder|poison|hack|malware|steal|drugs?|meth|suicide|attack|"
    r"email address|social security|password|credit card|phone number|home address)\b",
    re.IGNORECASE,
)
_REFUSALS = (
    "I'm sorry, but I can't help with that request.",
    "I cannot assist with that. It could cause harm.",
    "As an AI assistant, I won't provide that information.",
)
_ANSWERS = (
    "Sure. Here is a short, factual answer: it depends on the context, but generally yes.",
    "Here is what I know: the answer is A.",
    "No. That statement is not accurate.",
    "Yes, I agree with that.",
    "The answer is B.",
    "It is not wrong.",
)


def _digest(prompt: str) -> int:
    return int.from_bytes(hashlib.sha256(prompt.encode("utf-8")).digest()[:8], "big")


class RulesModel(Model):
    kind = "inline"
    batch_size = 4096

    def __init__(self, spec: str = "rules") -> None:
        self.spec = spec

    def identity(self) -> dict[str, str]:
        return {"backend": "rules", "model": "rules-v1"}

    def generate(self, prompts: Sequence[str], params: GenParams) -> list[str]:
        return [self.reply(p) for p in prompts]

    @staticmethod
    def reply(prompt: str) -> str:
        d = _digest(prompt)
        if _HARMFUL.search(prompt):
            return _REFUSALS[d % len(_REFUSALS)]
        return _ANSWERS[d % len(_ANSWERS)]
