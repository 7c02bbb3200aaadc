"""Judges on any OpenAI-compatible server: ``llm:MODEL[@URL]`` (refusal judge and LLM grader) and
``openai:MODEL[@URL]`` (embeddings).

The LLM judge is pinned: temperature 0, seed 0, a fixed prompt whose sha256 is in ``identity()``. Its
verdict is constrained JSON (``response_format`` json_schema), validated with jsonschema; a malformed one
is asked for again once, then counted as ``unjudged`` (never a pass). Server failures (after the client's
retries), and replies that are not an OpenAI body at all, raise :class:`JudgeError`: the probe is an
error, not a verdict. A server that cannot be reached, or that rejects the key, raises
:class:`JudgeUnavailable`: the run stops once. Requests time out after ``TRUSTLLM_OPENAI_TIMEOUT`` seconds
(default 120) and are retried twice.

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
from ..models.env import api_key, openai_timeout
from ..redaction import server_words, strip_credentials
from .base import COMPLIANCE, REFUSAL, UNJUDGED, Embedder, JudgeUnavailable, LLMGrader, RefusalJudge, Verdict
from .llm_prompts import (
    CANNOT_TELL,
    GRADER_TEMPLATE,
    REFUSAL_LABELS,
    REFUSAL_TEMPLATE,
    RETRY_MESSAGE,
    SYSTEM,
    fenced,
    verdict_schema,
)

KEY_VARIABLES = ("TRUSTLLM_JUDGE_API_KEY", "OPENAI_API_KEY")
NO_KEY = "no-key"
CONCURRENCY = 8
PROMPT_SHA256 = hashlib.sha256("\n".join((SYSTEM, REFUSAL_TEMPLATE, GRADER_TEMPLATE, RETRY_MESSAGE))
                               .encode("utf-8")).hexdigest()


class JudgeError(RuntimeError):
    """The judge's server failed (kept failing after retries, or answered with a broken reply)."""


class BrokenReply(ValueError):
    """An OpenAI-shaped reply without what was asked: no answer text, or the wrong number of vectors."""


def parse_target(target: str, flag: str) -> tuple[str, str]:
    """``MODEL[@URL]`` -> (MODEL, URL without credentials, query or trailing slash); FLAG, the option as a
    message shows it, must already be without credentials."""
    name, _, url = target.partition("@")
    if not name:
        raise pytest.UsageError(f"{flag}: expected MODEL or MODEL@http(s)://HOST[:PORT]/v1, "
                                f"got {strip_credentials(target)!r}")
    url = url or os.environ.get("OPENAI_BASE_URL", "") or OPENAI_URL
    return name, normalise(url, flag)


def _client(url: str, flag: str):
    try:
        import openai
    except ImportError:
        raise pytest.UsageError(f"{flag} needs the openai client: pip install 'pytest-trustllm[openai]'") from None
    key = api_key(*KEY_VARIABLES)
    if not key and url == OPENAI_URL:
        raise pytest.UsageError(f"{flag}: the OpenAI API needs a key: set TRUSTLLM_JUDGE_API_KEY or OPENAI_API_KEY")
    return openai.OpenAI(base_url=url, api_key=key or NO_KEY, max_retries=2, timeout=openai_timeout()), key


def _guarded(what: str, key: str, call):
    """CALL()'s result; its failures as the judge errors a run understands, with the server's words redacted
    and cut short. WHAT names the judge and its server ("LLM judge m at http://..."). The openai client's
    own frames (whose locals may hold an echoed key) never reach a traceback."""
    import openai

    try:
        return call()
    except openai.APITimeoutError:  # slow, not gone: this probe is an error, the run goes on
        raise JudgeError(f"{what}: timed out after {openai_timeout():g} s (and 2 retries); if the server is only "
                         "slow, raise TRUSTLLM_OPENAI_TIMEOUT") from None
    except openai.APIConnectionError as exc:  # refused, unknown host, after the retries
        cause = exc.__cause__ or exc.__context__ or exc
        raise JudgeUnavailable(f"{what}: cannot reach the server ({type(cause).__name__}: "
                               f"{server_words(str(cause), key)}); is it running?") from None
    except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
        raise JudgeUnavailable(f"{what}: the server rejected the API key ({server_words(str(exc), key)}); "
                               "set TRUSTLLM_JUDGE_API_KEY or OPENAI_API_KEY") from None
    except openai.NotFoundError as exc:
        raise JudgeUnavailable(f"{what}: the server does not serve this model ({server_words(str(exc), key)})") from None
    except openai.APIError as exc:
        raise JudgeError(f"{what}: {server_words(str(exc), key)}") from None
    except BrokenReply as exc:
        raise JudgeError(f"{what}: {exc}") from None
    except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:  # a 200 that is not OpenAI's
        raise JudgeError(f"{what}: the reply is not an OpenAI API response ({type(exc).__name__}: "
                         f"{server_words(str(exc), key, limit=120)}); is the URL right? It usually ends in /v1") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):  # {"label": "refusal", "label": "compliance"} says two things
        raise ValueError(f"duplicate key in {keys}")
    return dict(pairs)


def json_objects(text: str) -> list[Any]:
    """Every top-level JSON object in a reply, in order, skipping what is not JSON around them: code fences,
    chatter with braces of its own ("the format {label, reason}"), a reasoning model's ``<think>`` block.
    An object with a duplicate key is not one."""
    text = re.sub(r"<think>.*?</think>", " ", text, flags=re.DOTALL)
    decoder = json.JSONDecoder(object_pairs_hook=_unique_keys)
    found, start = [], text.find("{")
    while start >= 0:
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:  # not an object here (JSONDecodeError), or a duplicate key
            start = text.find("{", start + 1)
            continue
        found.append(value)
        start = text.find("{", end)
    return found


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
        self.cannot_tell = 0

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "model": self.model, "endpoint": self.url, "temperature": 0, "seed": self.seed,
                "max_tokens": self.max_tokens, "prompt_sha256": PROMPT_SHA256}

    def stats(self) -> dict[str, int]:
        stats = {"retried": self.retried, "unjudged": self.unjudged}
        if self.cannot_tell:
            stats["cannot_tell"] = self.cannot_tell
        return stats

    # -- refusal judge --------------------------------------------------------------------------------
    def judge_many(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
        if len(pairs) <= 1:
            return [self._refusal(p, r) for p, r in pairs]
        with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
            return list(pool.map(lambda pair: self._refusal(*pair), pairs))

    def _refusal(self, prompt: str, response: str) -> Verdict:
        question = REFUSAL_TEMPLATE.format(prompt=fenced(prompt), response=fenced(response))
        label, reason = self._ask(question, REFUSAL_LABELS)
        if label is None:
            return Verdict(UNJUDGED, 0.5, f"the LLM judge gave no valid verdict (asked twice); {reason}", self.name)
        if label == "compliance":
            return Verdict(COMPLIANCE, 0.05, reason, self.name)
        return Verdict(REFUSAL, 0.95 if label == "refusal" else 0.9, f"{label.replace('_', ' ')}: {reason}", self.name)

    # -- grader ---------------------------------------------------------------------------------------
    def classify(self, question: str, labels: Sequence[str]) -> Verdict:
        """One of LABELS; ``cannot_tell`` when the grader says the text gives none of them (the answer stays
        unreadable, never a guess; cached like any verdict); ``unjudged`` when it gave no valid label twice."""
        labels = [str(label) for label in labels]
        allowed = labels + [CANNOT_TELL] if CANNOT_TELL not in labels else labels
        label, reason = self._ask(GRADER_TEMPLATE.format(question=fenced(question), labels=json.dumps(labels)),
                                  allowed)
        if label is None:
            return Verdict(UNJUDGED, 0.0, f"the LLM grader gave no valid label (asked twice); {reason}", self.name)
        if label == CANNOT_TELL and label not in labels:
            self.cannot_tell += 1
            return Verdict(CANNOT_TELL, 0.0, f"the LLM grader could not tell: {reason}", self.name)
        return Verdict(label, 1.0, reason, self.name)

    # -- one constrained exchange, with one re-ask ----------------------------------------------------
    def _ask(self, question: str, labels: Sequence[str]) -> tuple[str | None, str]:
        """(label, reason) from the judge; (None, an excerpt of its last reply) when it gave no valid verdict
        twice. A reply counts when its valid verdicts (JSON objects with an allowed label) agree."""
        import jsonschema

        schema = verdict_schema(labels)
        accepted = jsonschema.Draft202012Validator(verdict_schema(labels, strict=False))
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
        reply = ""
        for attempt in range(2):
            reply = self._complete(messages, schema)
            valid = [value for value in json_objects(reply) if accepted.is_valid(value)]
            if len({value["label"] for value in valid}) == 1:  # two verdicts that disagree say nothing
                return valid[0]["label"], " ".join(str(valid[0].get("reason", "")).split())[:300]
            if attempt == 0:
                self.retried += 1
                messages = messages + [{"role": "assistant", "content": reply},
                                       {"role": "user", "content": RETRY_MESSAGE}]
        self.unjudged += 1
        return None, f"its last reply: {server_words(reply, self._key, limit=120)!r}"

    def _complete(self, messages: list[dict[str, str]], schema: dict[str, Any]) -> str:
        return _guarded(f"LLM judge {self.model} at {self.url}", self._key, lambda: self._reply(messages, schema))

    def _reply(self, messages: list[dict[str, str]], schema: dict[str, Any]) -> str:
        """The reply's text. A body without an answer (no choices, content null, only tool calls) is a broken
        server, not a verdict: it raises (a JudgeError, so the probe is an error)."""
        import openai

        extra = {"response_format": {"type": "json_schema",
                                     "json_schema": {"name": "verdict", "schema": schema, "strict": True}}}
        try:
            result = self._openai.chat.completions.create(
                model=self.model, messages=messages, temperature=0, seed=self.seed, max_tokens=self.max_tokens,
                **(extra if self.constrained else {}))
        except openai.BadRequestError:
            if not self.constrained:
                raise
            # a server without structured output says so in its own words: ask once without it (the prompt
            # still asks for JSON); if that is rejected too, the 400 was about something else
            self.constrained = False
            try:
                return self._reply(messages, schema)
            except openai.BadRequestError:
                self.constrained = True
                raise
        content = result.choices[0].message.content if result.choices else None
        if not isinstance(content, str):
            finish = result.choices[0].finish_reason if result.choices else None
            raise BrokenReply(f"no answer text in the reply (choices: {len(result.choices or [])}, "
                             f"finish_reason: {finish})")
        return content

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

    def _vectors(self, chunk: list[str]) -> list[list[float]]:
        """One vector per text, in order. A reply with another count, vectors of different lengths, or of
        fewer than two dimensions (every cosine would be 1) is a broken server: it raises, never guesses."""
        data = sorted(self._openai.embeddings.create(model=self.model, input=chunk).data, key=lambda d: d.index)
        sizes = {len(item.embedding) for item in data}
        if len(data) != len(chunk) or len(sizes) != 1 or min(sizes) < 2:
            dims = " or ".join(map(str, sorted(sizes))) or "no"
            raise BrokenReply(f"{len(data)} vectors for {len(chunk)} texts ({dims} dimensions)")
        return [list(item.embedding) for item in data]

    def embed(self, texts: Sequence[str]) -> Any:
        import numpy as np

        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        rows: list[list[float]] = []
        what = f"embeddings {self.model} at {self.url}"
        for start in range(0, len(texts), self.batch):
            chunk = [str(t) or " " for t in texts[start:start + self.batch]]  # servers reject empty input
            rows.extend(_guarded(what, self._key, lambda chunk=chunk: self._vectors(chunk)))
        vectors = np.asarray(rows, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)
