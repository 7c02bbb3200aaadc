"""The model interface every backend follows, and the errors it raises."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..cases import GenParams


class ModelError(Exception):
    """A model call failed for one prompt (after retries). The probe becomes an error, never a pass."""


class ContractError(ModelError):
    """A backend broke ``generate``'s contract (another number of answers than prompts, not strings): asking
    again prompt by prompt would only hide it."""


class TransientModelError(ModelError):
    """A failure worth retrying (timeout, connection reset, 429, 5xx). The prefetcher retries it with
    bounded exponential backoff, honouring ``retry_after``, and lowers its concurrency when ``rate_limited``."""

    def __init__(self, message: str, *, retry_after: float | None = None, rate_limited: bool = False,
                 connection: bool = False, timed_out: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.rate_limited = rate_limited
        self.timed_out = timed_out
        # the endpoint could not be reached, or did not answer in time (counts toward "unavailable")
        self.connection = connection or timed_out


class ModelUnavailable(Exception):
    """The model cannot serve at all (unreachable endpoint, unknown model name). Stops the run early."""


class Model:
    """Base class of model backends.

    ``kind`` tells the prefetcher how to drive it: ``"api"`` models are called concurrently through
    :meth:`agenerate`; ``"local"`` and ``"inline"`` ones through :meth:`generate` in batches of
    ``batch_size``.
    """

    kind: str = "inline"
    batch_size: int = 64
    spec: str = ""
    # Answers go to the response cache when True; None means: "api" and "local" models yes, inline ones
    # (rules, py:) no: they are cheap and their code may change between runs under the same name.
    cacheable: bool | None = None

    def identity(self) -> dict[str, Any]:
        """What identifies the answers this model gives: backend, model, endpoint. Never secrets."""
        return {"backend": type(self).__name__, "model": self.spec}

    def generate(self, prompts: Sequence[str], params: GenParams) -> list[str]:
        raise NotImplementedError

    async def agenerate(self, prompt: str, params: GenParams) -> str:
        """One prompt, asynchronously (API backends). The default runs :meth:`generate` on one prompt."""
        return self.generate([prompt], params)[0]

    def close(self) -> None:
        """Release resources (HTTP clients, GPU memory). Called once at the end of the session."""


class ProtocolModel(Model):
    """A hook's model that follows the protocol (``identity()`` and ``generate()``) without subclassing
    :class:`Model`: what it leaves out (``kind``, ``batch_size``, ``cacheable``, ``agenerate``, ``close``)
    takes Model's defaults, so it runs as an inline model unless it says otherwise."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        for name in ("kind", "batch_size", "spec", "cacheable"):
            if hasattr(inner, name):
                setattr(self, name, getattr(inner, name))

    def identity(self) -> dict[str, Any]:
        return self.inner.identity()

    def generate(self, prompts: Sequence[str], params: GenParams) -> list[str]:
        return self.inner.generate(prompts, params)

    async def agenerate(self, prompt: str, params: GenParams) -> str:
        if hasattr(self.inner, "agenerate"):
            return await self.inner.agenerate(prompt, params)
        return await super().agenerate(prompt, params)

    def close(self) -> None:
        getattr(self.inner, "close", lambda: None)()


class Answer(str):
    """An answer that says whether it was cut at the token limit (``max_new_tokens``; an API's
    ``finish_reason="length"``). Backends return it where they know; a plain ``str`` means "not known to be
    cut". A cut answer is judged as it is, but the run says how many there were: a refusal or an answer
    that would have come after the limit is missing from it."""

    cut: bool

    def __new__(cls, text: str, cut: bool = False) -> Answer:
        obj = super().__new__(cls, text)
        obj.cut = bool(cut)
        return obj


def is_cut(text: Any) -> bool:
    return bool(getattr(text, "cut", False))


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def answer_text(text: str) -> str:
    """An answer as it is stored and judged: a lone UTF-16 surrogate (valid JSON, "\\ud800", but no
    character, and not encodable as UTF-8) becomes U+FFFD, so one odd answer cannot break the cache.
    An :class:`Answer` keeps its ``cut``."""
    if text.isascii():
        return text
    cleaned = _LONE_SURROGATE.sub("\ufffd", text)
    return Answer(cleaned, cut=True) if is_cut(text) else cleaned


def as_model(model: Any) -> Model:
    """MODEL itself when it subclasses :class:`Model`, else wrapped so the plugin finds Model's defaults."""
    return model if isinstance(model, Model) else ProtocolModel(model)
