"""``--trust-replay``: the model under test stands in as its identity only.

Replay answers from the response cache, whose keys hold the model's identity (backend, model, endpoint with no
credentials, weights and tokenizer digests, dtype...). So the built-in backends build just that identity: no
connection, no API key, no weights loaded, nothing downloaded. A backend added through the
``pytest_trustllm_make_model`` hook is built as usual (the plugin cannot know what its identity needs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..cases import GenParams
from .base import Model, ModelError

NEVER_CALLED = "--trust-replay never calls the model; run without --trust-replay to generate answers"


class ReplayModel(Model):
    """A model's identity and kind, for answers read from the cache; calling it is an error."""

    def __init__(self, spec: str, kind: str, identity: dict[str, Any]) -> None:
        self.spec = spec
        self.kind = kind
        self._identity = dict(identity)

    def identity(self) -> dict[str, Any]:
        return dict(self._identity)

    def generate(self, prompts: Sequence[str], params: GenParams) -> list[str]:
        raise ModelError(NEVER_CALLED)

    async def agenerate(self, prompt: str, params: GenParams) -> str:
        raise ModelError(NEVER_CALLED)


def replay_model(spec: str) -> ReplayModel | None:
    """The stand-in for a built-in backend's SPEC; None for inline models (rules, py:), which are built as
    usual (they are never cached, so the prefetcher says there is nothing to replay)."""
    if spec.startswith("openai:"):
        from .openai_api import identity_of

        return ReplayModel(spec, "api", identity_of(spec))
    if spec.startswith("hf:"):
        from .hf import identity_of

        return ReplayModel(spec, "local", identity_of(spec))
    if spec == "smollm2":
        from .smollm2 import identity_of

        return ReplayModel(spec, "local", identity_of(spec))
    return None
