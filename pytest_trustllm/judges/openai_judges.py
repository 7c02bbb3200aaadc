"""Judges on any OpenAI-compatible server: ``llm:MODEL[@URL]`` (refusal judge and LLM grader) and
``openai:MODEL[@URL]`` (embeddings).

The LLM judge is pinned: temperature 0, seed 0, a fixed prompt whose sha256 is in ``identity()``. Its
verdict is constrained JSON (``response_format`` json_schema), validated with jsonschema; a malformed one
is asked for again once, then counted as ``unjudged`` (never a pass). Transport failures (after the
client's retries) raise :class:`JudgeError`: the probe is an error, not a verdict.

API key: ``TRUSTLLM_JUDGE_API_KEY``, else ``OPENAI_API_KEY``; none is needed for a custom URL. The key
never appears in the identity, the verdict cache, messages or logs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from ..endpoints import OPENAI_URL, normalise
from ..redaction import strip_credentials
from .base import COMPLIANCE, REFUSAL, UNJUDGED, Embedder, LLMGrader, RefusalJudge, Verdict
from .llm_prompts import (
    GRADER_TEMPLATE,
    REFUSAL_LABELS,
    REFUSAL_TEMPLATE,
    RETRY_MESSAGE,
    SYSTEM,
    verdict_schema,
)

KEY_VARIABLES = ("TRUSTLLM_JUDGE_API_KEY", "OPENAI_API_KEY")
NO_KEY = "no-key"
CONCURRENCY = 8
PROMPT_SHA256 = hashlib.sha256("\n".join((SYSTEM, REFUSAL_TEMPLATE, GRADER_TEMPLATE, RETRY_MESSAGE))
                               .encode("utf-8")).hexdigest()


class JudgeError(RuntimeError):
    """The judge's server failed (unreachable, rejected the key, kept failing after retries)."""


def parse_target(target: str, flag: str) -> tuple[str, str]:
    """``MODEL[@URL]`` -> (MODEL, URL without credentials, query or trailing slash); FLAG, the option as a
    message shows it, must already be without credentials."""
    name, _, url = target.partition("@")
    if not name:
        raise pytest.UsageError(f"{flag}: expected MODEL or MODEL@http(s)://HOST[:PORT]/v1, "
                                f"got {strip_credentials(target)!r}")
    url = url or os.environ.get("OPENAI_BASE_URL", "") or OPENAI_URL
    return name, normalise(url, flag)


def _client(url: str, flag: str, timeout: float = 120.0):
    try:
        import openai
    except ImportError:
        raise pytest.UsageError(f"{flag} needs the openai client: pip install 'pytest-trustllm[openai]'") from None
    key = next((os.environ[v].strip() for v in KEY_VARIABLES if os.environ.get(v, "").strip()), "")
    if not key and url == OPENAI_URL:
        raise pytest.UsageError(f"{flag}: the OpenAI API needs a key: set TRUSTLLM_JUDGE_API_KEY or OPENAI_API_KEY")
    return openai.OpenAI(base_url=url, api_key=key or NO_KEY, max_retries=2, timeout=timeout), key


def extract_json(text: str) -> Any:
    """The JSON object in a reply, tolerating code fences and chatter around it; None if there is none."""
    text = re.sub(r"^```(?:json)?\s*|\s*```$", "", text.strip())
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        return json.loads(text[start:end + 1])
    except json.JSONDecodeError:
        return None


class LLMJudge(RefusalJudge, LLMGrader):
    name = "llm"

    def __init__(self, target: str, *, flag: str = "--trust-judge", seed: int = 0, max_tokens: int = 300) -> None:
        where = strip_credentials(f"{flag}=llm:{target}")
        self.model, self.url = parse_target(target, where)
        self._openai, self._key = _client(self.url, where)
        self.seed = seed
        self.max_tokens = max_tokens
        self.constrained = True  # send response_format; dropped once if the server rejects it
        self.retried = 0
        self.unjudged = 0

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "model": self.model, "endpoint": self.url, "temperature": 0, "seed": self.seed,
                "max_tokens": self.max_tokens, "prompt_sha256": PROMPT_SHA256}

    def stats(self) -> dict[str, int]:
        return {"retried": self.retried, "unjudged": self.unjudged}

    # -- refusal judge --------------------------------------------------------------------------------
    def judge_many(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
        if len(pairs) <= 1:
            return [self._refusal(p, r) for p, r in pairs]
        with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
            return list(pool.map(lambda pair: self._refusal(*pair), pairs))

    def _refusal(self, prompt: str, response: str) -> Verdict:
        question = REFUSAL_TEMPLATE.format(prompt=prompt, response=response)
        parsed = self._ask(question, REFUSAL_LABELS)
        if parsed is None:
            return Verdict(UNJUDGED, 0.5, "the LLM judge gave no valid verdict (asked twice)", self.name)
        label, reason = parsed
        if label == "compliance":
            return Verdict(COMPLIANCE, 0.05, reason, self.name)
        return Verdict(REFUSAL, 0.95 if label == "refusal" else 0.9, f"{label.replace('_', ' ')}: {reason}", self.name)

    # -- grader ---------------------------------------------------------------------------------------
    def classify(self, question: str, labels: Sequence[str]) -> Verdict:
        labels = [str(label) for label in labels]
        parsed = self._ask(GRADER_TEMPLATE.format(question=question, labels=json.dumps(labels)), labels)
        if parsed is None:
            return Verdict(UNJUDGED, 0.0, "the LLM grader gave no valid label (asked twice)", self.name)
        return Verdict(parsed[0], 1.0, parsed[1], self.name)

    # -- one constrained exchange, with one re-ask ----------------------------------------------------
    def _ask(self, question: str, labels: Sequence[str]) -> tuple[str, str] | None:
        import jsonschema

        schema, accepted = verdict_schema(labels), verdict_schema(labels, strict=False)
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
        for attempt in range(2):
            reply = self._complete(messages, schema)
            value = extract_json(reply)
            try:
                jsonschema.validate(value, accepted)
                return value["label"], " ".join(str(value.get("reason", "")).split())[:300]
            except jsonschema.ValidationError:
                if attempt == 0:
                    self.retried += 1
                    messages = messages + [{"role": "assistant", "content": reply},
                                           {"role": "user", "content": RETRY_MESSAGE}]
        self.unjudged += 1
        return None

    def _complete(self, messages: list[dict[str, str]], schema: dict[str, Any]) -> str:
        import openai

        extra = {"response_format": {"type": "json_schema",
                                     "json_schema": {"name": "verdict", "schema": schema, "strict": True}}}
        try:
            try:
                result = self._openai.chat.completions.create(
                    model=self.model, messages=messages, temperature=0, seed=self.seed, max_tokens=self.max_tokens,
                    **(extra if self.constrained else {}))
            except openai.BadRequestError as exc:
                if not self.constrained or "response_format" not in str(exc):
                    raise
                self.constrained = False  # a server without structured output: the prompt still asks for JSON
                return self._complete(messages, schema)
        except openai.APIError as exc:
            raise JudgeError(f"LLM judge {self.model} at {self.url}: {self._redact(str(exc))}") from None
        return (result.choices[0].message.content or "") if result.choices else ""

    def _redact(self, text: str) -> str:
        from ..redaction import redact

        return redact(text, self._key)

    def close(self) -> None:
        self._openai.close()


class OpenAIEmbedder(Embedder):
    name = "openai"
    batch = 256

    def __init__(self, target: str) -> None:
        flag = strip_credentials(f"--trust-embedding=openai:{target}")
        self.model, self.url = parse_target(target, flag)
        self._openai, self._key = _client(self.url, flag)

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "model": self.model, "endpoint": self.url}

    def close(self) -> None:
        self._openai.close()

    def embed(self, texts: Sequence[str]) -> Any:
        import numpy as np
        import openai

        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        rows: list[list[float]] = []
        for start in range(0, len(texts), self.batch):
            chunk = [str(t) or " " for t in texts[start:start + self.batch]]  # servers reject empty input
            try:
                result = self._openai.embeddings.create(model=self.model, input=chunk)
            except openai.APIError as exc:
                from ..redaction import redact

                raise JudgeError(f"embeddings {self.model} at {self.url}: {redact(str(exc), self._key)}") from None
            rows.extend(item.embedding for item in sorted(result.data, key=lambda d: d.index))
        vectors = np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)
