"""``openai:MODEL`` and ``openai:MODEL@URL``: the official ``openai`` client (AsyncOpenAI) against the OpenAI
API or any OpenAI-compatible server (vLLM, TGI, SGLang, Ollama, llama.cpp server, ``transformers serve``).

API key: ``TRUSTLLM_OPENAI_API_KEY`` (the key for the model under test, when it differs from your usual one),
else ``OPENAI_API_KEY``. The OpenAI API itself needs one; a custom URL works without (local servers rarely
check). The key stays inside the client: it is not part of the identity, the cache, the report or any message.

Environment: ``TRUSTLLM_OPENAI_TIMEOUT`` (seconds per request, default 120), ``TRUSTLLM_OPENAI_STREAM=1``
(stream answers: long generations behind proxies that cut idle connections). The client's own retries are
off: :mod:`.retry` retries timeouts, resets, 429 (honouring Retry-After) and 5xx, and lowers concurrency on 429.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Sequence
from typing import Any

import pytest

from ..cases import GenParams
from ..endpoints import OPENAI_URL, normalise
from ..redaction import SERVER_WORDS, server_words, strip_credentials
from .base import Answer, Model, ModelError, ModelUnavailable, TransientModelError, is_cut
from .env import api_key, env_switch, openai_timeout
from .retry import retry_after  # Retry-After parsing lives with the retrying (kept importable from here)

KEY_VARIABLES = ("TRUSTLLM_OPENAI_API_KEY", "OPENAI_API_KEY")
NO_KEY = "no-key"  # what OpenAI-compatible servers without authentication expect to receive


def parse_spec(spec: str) -> tuple[str, str]:
    """``openai:MODEL[@URL]`` -> (MODEL, URL without credentials, query or trailing slash).

    A URL that cannot be parsed (port out of range or not a number, an unclosed IPv6 bracket) is a usage
    error naming it; messages never show the URL's ``user:password@``.
    """
    shown = strip_credentials(spec)
    target = spec.removeprefix("openai:")
    name, _, url = target.partition("@")
    if not name:
        raise pytest.UsageError(f"--trust-model={shown}: expected openai:MODEL or openai:MODEL@URL")
    url = url or os.environ.get("OPENAI_BASE_URL", "") or OPENAI_URL
    return name, normalise(url, f"--trust-model={shown}")


def identity_of(spec: str) -> dict[str, Any]:
    """What identifies this spec's answers (and keys them in the cache): no client, no key, no network."""
    name, url = parse_spec(spec)
    return {"backend": "openai", "model": name, "endpoint": url}


def api_key_for(url: str, spec: str) -> str:
    key = api_key(*KEY_VARIABLES)
    if key:
        return key
    if url == OPENAI_URL:
        raise pytest.UsageError(f"--trust-model={strip_credentials(spec)}: the OpenAI API needs a key: set OPENAI_API_KEY "
                                "(or TRUSTLLM_OPENAI_API_KEY)")
    return NO_KEY


def _answer(text: str | None, finish_reason: str | None) -> str:
    """TEXT (None: the reply had no text field) as the answer, streamed or not. No text is an answer only
    when the model stopped (``stop``: it said nothing) or the provider's filter withheld it
    (``content_filter``); an empty reply for any other reason is an error, never an empty answer, which a
    refusal probe would count as a refusal: cut by the token limit (a reasoning model that spent every token
    thinking: raise --trust-max-tokens), or only a tool call. Text cut by the token limit
    (``finish_reason="length"``) is an answer that says it was cut (:class:`Answer`)."""
    if text is not None and (text.strip() or finish_reason in ("stop", "content_filter")):
        return Answer(text, cut=True) if finish_reason == "length" else text
    if finish_reason == "content_filter":
        return ""  # the provider's filter withheld it: no answer, as an empty one (a refusal)
    if finish_reason == "length":
        raise ModelError("the answer was cut at the token limit before any text (finish_reason=length); "
                         "raise --trust-max-tokens")
    raise ModelError(f"the answer has no text (finish_reason={finish_reason})")


class OpenAIModel(Model):
    kind = "api"
    batch_size = 1

    def __init__(self, spec: str, *, check: bool = True, transport: Any = None) -> None:
        self.spec = spec
        self._transport = transport  # an httpx2 transport (tests: httpx2.MockTransport); None: the network
        self.name, self.url = parse_spec(spec)
        self._key = api_key_for(self.url, spec)
        self.timeout = openai_timeout()
        self.stream = env_switch("TRUSTLLM_OPENAI_STREAM")
        self._clients: dict[int, tuple[asyncio.AbstractEventLoop, Any]] = {}
        self._own_loop: asyncio.AbstractEventLoop | None = None
        try:
            import httpx2  # noqa: F401  (openai 3.x is built on httpx2; older clients use httpx)
            import openai  # noqa: F401
        except ImportError:
            raise pytest.UsageError(f"--trust-model={strip_credentials(spec)} needs the openai client 3.x (built on httpx2): "
                                    "pip install -U 'pytest-trustllm[openai]' 'openai>=3'") from None
        if check:
            self.check()

    def identity(self) -> dict[str, Any]:
        return {"backend": "openai", "model": self.name, "endpoint": self.url}  # as identity_of(spec)

    # -- clients: one per event loop (an httpx2 connection pool belongs to the loop that made it) ------------
    def _client(self):
        import openai

        loop = asyncio.get_running_loop()
        entry = self._clients.get(id(loop))
        if entry is None or entry[0] is not loop:
            client = openai.AsyncOpenAI(base_url=self.url, api_key=self._key, max_retries=0,
                                        timeout=self._timeout(), http_client=self._http_client(asynchronous=True))
            self._clients = {k: v for k, v in self._clients.items() if not v[0].is_closed()}
            self._clients[id(loop)] = entry = (loop, client)
        return entry[1]

    def _http_client(self, asynchronous: bool):
        if self._transport is None:
            return None  # the openai client's own defaults (connection pool sized for concurrency)
        import httpx2

        cls = httpx2.AsyncClient if asynchronous else httpx2.Client
        return cls(transport=self._transport, timeout=self._timeout())

    def _timeout(self):
        import httpx2

        return httpx2.Timeout(self.timeout, connect=min(10.0, self.timeout))

    def check(self) -> None:
        """Fail fast, once: an unreachable endpoint, a rejected key or an unknown model stops the run."""
        import openai

        with openai.OpenAI(base_url=self.url, api_key=self._key, max_retries=1, timeout=self._timeout(),
                           http_client=self._http_client(asynchronous=False)) as client:
            try:
                served = [m.id for m in client.models.list()]
            except openai.APIConnectionError as exc:
                raise ModelUnavailable(f"cannot reach {self.url} ({self._cause(exc)}); is the server running?") from None
            except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
                raise ModelUnavailable(self._auth_message(exc)) from None
            except openai.APIStatusError:
                served = None  # some servers do not list models: the first request will tell
            except (ValueError, TypeError, AttributeError, openai.APIResponseValidationError) as exc:
                raise ModelUnavailable(f"{self.url}/models did not answer with a model list ({type(exc).__name__}); "
                                       "is the URL right? It usually ends in /v1") from None
        if served is None or self.name in served or any(m.startswith(self.name + ":") for m in served):
            return
        try:  # servers that accept aliases (TGI, proxies) do not list them: ask once with a tiny request
            asyncio.run(self._probe_once())
        except ModelUnavailable as exc:
            listed = ", ".join(served[:10]) + (" ..." if len(served) > 10 else "")
            raise ModelUnavailable(f"{exc}; {self.url} serves: {listed or 'no models'}") from None
        except ModelError as exc:  # not listed, and a one-token request was refused: the name is wrong
            listed = ", ".join(served[:10]) + (" ..." if len(served) > 10 else "")
            raise ModelUnavailable(f"model {self.name!r} is not listed at {self.url} and a one-token request "
                                   f"was refused ({exc}); {self.url} serves: {listed or 'no models'}") from None

    async def _probe_once(self) -> None:
        try:
            await self.agenerate("ping", GenParams(max_new_tokens=1))
        finally:
            await self._client().close()

    def _auth_message(self, exc: Exception) -> str:
        return (f"{self.url} rejected the API key ({self._server_words(self._message(exc))}); set TRUSTLLM_OPENAI_API_KEY "
                "or OPENAI_API_KEY")

    @staticmethod
    def _message(exc: Exception) -> str:
        """The server's own words: OpenAI and vLLM send {"error": {"message"}}, TGI {"error": "..."},
        FastAPI servers such as `transformers serve` {"detail": "..."}."""
        body = getattr(exc, "body", None)  # the client already unwrapped "error" where there was one
        if isinstance(body, dict):
            body = body.get("error", body)
        if isinstance(body, dict):
            body = body.get("message") or body.get("detail")
        if isinstance(body, str) and body:
            return body
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__

    @staticmethod
    def _cause(exc: BaseException) -> str:
        cause = exc.__cause__ or exc.__context__
        return f"{type(cause).__name__}: {cause}" if cause is not None else type(exc).__name__

    # -- generation --------------------------------------------------------------------------------------
    def _request(self, prompt: str, params: GenParams) -> dict[str, Any]:
        request: dict[str, Any] = {"model": self.name, "messages": [{"role": "user", "content": prompt}],
                                   "temperature": params.temperature, "max_tokens": params.max_new_tokens}
        if params.top_p is not None:
            request["top_p"] = params.top_p
        if params.seed is not None:
            request["seed"] = params.seed
        return request

    async def agenerate(self, prompt: str, params: GenParams) -> str:
        """One answer. Every error leaves through here with the server's words redacted (keys, credentials),
        cut short and printable: servers echo requests, headers and whole HTML pages."""
        try:
            return await self._agenerate(prompt, params)
        except (ModelError, ModelUnavailable) as exc:
            exc.args = (self._server_words(str(exc), limit=600),)
            raise

    def _server_words(self, text: str, limit: int = SERVER_WORDS) -> str:
        """Servers echo keys in errors ("Incorrect API key provided: sk-..."): never pass them on."""
        return server_words(text, self._key if self._key != NO_KEY else None, limit=limit)

    def _without_key(self, text: str) -> str:
        """An answer that quotes the API key (a server or proxy that echoes the request's headers) keeps
        ``***`` in its place: answers go to the cache, the report and failure messages."""
        key = self._key
        if key == NO_KEY or len(key) < 8 or key not in text:
            return text
        return Answer(text.replace(key, "***"), cut=is_cut(text))  # a cut answer stays marked

    async def _agenerate(self, prompt: str, params: GenParams) -> str:
        import httpx2
        import openai

        client = self._client()
        try:
            if self.stream:
                return self._without_key(await self._streamed(client, self._request(prompt, params)))
            # client.post (documented for raw endpoints) skips the typed-params transform and the pydantic
            # response model: measured 2.8 -> 2.0 ms of client CPU per request, the bottleneck at high concurrency
            response = await client.post("/chat/completions", body=self._request(prompt, params),
                                         cast_to=httpx2.Response)
            return self._without_key(self._text(response))
        except openai.APITimeoutError:
            raise TransientModelError(f"timed out after {self.timeout:g} s ({self.url})", timed_out=True) from None
        except openai.APIConnectionError as exc:
            raise TransientModelError(f"connection failed ({self._cause(exc)})", connection=True) from None
        except openai.RateLimitError as exc:
            raise TransientModelError(f"rate limited (429): {self._message(exc)}", rate_limited=True,
                                      retry_after=retry_after(exc.response.headers)) from None
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise ModelUnavailable(self._auth_message(exc)) from None
        except openai.NotFoundError as exc:
            raise ModelUnavailable(f"model {self.name!r} not found at {self.url}: "
                                   f"{self._message(exc)}") from None
        except openai.APIStatusError as exc:
            status = exc.status_code
            message = f"HTTP {status}: {self._message(exc)}"
            if status >= 500 or status in (408, 409):
                raise TransientModelError(message, retry_after=retry_after(exc.response.headers)) from None
            raise ModelError(message) from None
        except openai.APIError as exc:  # e.g. an error event inside a stream
            raise TransientModelError(f"{type(exc).__name__}: {self._message(exc)}") from None

    async def _streamed(self, client, request: dict[str, Any]) -> str:
        """The streamed answer. A stream that ends without a finish_reason was cut (a proxy or the server
        closed it): a transient error, retried and never cached, however much text had arrived."""
        pieces: list[str] = []
        finish = None
        stream = await client.chat.completions.create(**request, stream=True)
        async with stream:
            async for chunk in stream:
                for choice in chunk.choices[:1]:
                    for field in ("content", "refusal"):
                        piece = getattr(choice.delta, field, None)
                        if isinstance(piece, str):
                            pieces.append(piece)
                    finish = choice.finish_reason or finish
        if finish is None:
            received = sum(map(len, pieces))
            raise TransientModelError(f"the stream ended before the answer was finished (no finish_reason; "
                                      f"{received} characters received)")
        return _answer("".join(pieces) if pieces else None, finish)

    @staticmethod
    def _text(response: Any) -> str:
        """The answer text of a chat completion body (a refusal field counts as the answer)."""
        try:
            choice = json.loads(response.content)["choices"][0]
            message = choice.get("message") or {}
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            body = response.content[:4000].decode("utf-8", "replace")  # the message quotes 600 at most
            raise ModelError(f"not a chat completion (is the URL right? it usually ends in /v1): {body!r}") from None
        text = next((message[f] for f in ("content", "refusal") if isinstance(message.get(f), str)), None)
        return _answer(text, choice.get("finish_reason"))

    def generate(self, prompts: Sequence[str], params: GenParams) -> list[str]:
        """Blocking, for tests that call ``trust_model.generate`` directly; same retries as the prefetcher."""
        from .retry import AdaptiveLimit, RetryPolicy, generate_with_retries

        async def run() -> list[str]:
            limit, policy = AdaptiveLimit(16), RetryPolicy.from_env()
            return list(await asyncio.gather(*(generate_with_retries(self, p, params, limit, policy) for p in prompts)))

        if self._own_loop is None:
            self._own_loop = asyncio.new_event_loop()
        return self._own_loop.run_until_complete(run())

    async def aclose(self) -> None:
        """Close the client of the running event loop (the prefetcher calls this before closing its loop)."""
        entry = self._clients.pop(id(asyncio.get_running_loop()), None)
        if entry is not None:
            await entry[1].close()

    def close(self) -> None:
        for loop, client in self._clients.values():
            if not loop.is_closed() and not loop.is_running():
                loop.run_until_complete(client.close())
        self._clients.clear()
        if self._own_loop is not None:
            self._own_loop.close()
            self._own_loop = None
