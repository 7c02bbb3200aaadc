"""A real OpenAI-compatible HTTP server for tests: stdlib only, on 127.0.0.1, with fault injection.

Stable API (other tests rely on it; extend, do not rename)::

    from tests.support.openai_server import OpenAIStub

    with OpenAIStub(reply=lambda messages, body: "I'm sorry, I can't help.", latency=0.0) as stub:
        stub.url            # "http://127.0.0.1:PORT/v1"  (base_url for openai.OpenAI / --trust-model=openai:M@URL)
        stub.model          # "stub-model": the first served model name
        stub.add_fault("429", times=2, retry_after=0.1)          # next 2 chat calls get 429 + Retry-After
        stub.add_fault("500", match="poison")                    # every call whose prompt contains "poison"
        ...
        stub.requests       # snapshot list[ReceivedRequest] (method, path, body, headers with lower-case
                            # names, time), thread-safe
        stub.chat_prompts() # the last user message of every POST /v1/chat/completions received
        stub.count("/v1/chat/completions")

Constructor keywords: ``reply(messages, body) -> str`` (default: ``"stub answer: <last user message>"``),
``latency`` seconds per request, ``models`` (served names; any other model name gets a 404
``model_not_found``), ``api_key`` (when set, a request without ``Authorization: Bearer <api_key>`` gets 401),
``embedding_dim`` (default 16). ``reply``, ``latency``, ``models`` and ``finish_reason`` (default "stop") are plain
attributes: change them any time; a ``reply`` that returns None sends ``content: null``.

Endpoints: ``POST /v1/chat/completions`` (``stream`` off: one JSON body; on: SSE ``data:`` chunks word by
word then ``data: [DONE]``), ``GET /v1/models``, ``GET /v1/models/{id}``, ``POST /v1/embeddings``
(deterministic unit vectors from sha256 of each text; ``encoding_format`` float or base64, as the client asks).

Fault kinds for :meth:`add_fault` (applied to chat completions and embeddings):

* ``"429"``: rate limited, with ``Retry-After: <retry_after>`` (seconds, default 0.05);
* ``"500"``, ``"502"``, ``"503"``: server errors with an OpenAI-style error body;
* ``"hang"``: holds the request ``delay`` seconds (default: until the stub closes) without answering,
  so the client times out;
* ``"reset"``: the TCP connection is reset (RST) before any response byte;
* ``"404"``: model not found, whatever the model name;
* ``"echo"``: 200 with a body that is not an OpenAI one: the request's headers, the API key among them (a
  proxy's echo page, a wrong path);
* ``"empty"``: 200 in OpenAI's shape without what was asked: no choices, or one embedding too few.
* ``"cut"``: a stream that ends after the role and the first word, without finish_reason or ``[DONE]`` (a
  proxy closing it);
* ``"toolcall"``: only a tool call, no text (``finish_reason: tool_calls``), streamed or not.

``times`` is how many requests the fault hits (None: forever); ``match`` limits it to requests whose last user
message contains that substring (or for which a callable ``match(messages, body)`` is true). Faults are tried
in the order added; the first one that applies is used and consumed.

The ``openai_stub`` fixture in ``tests/conftest.py`` yields a started ``OpenAIStub()`` for one test.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = Callable[[list[dict[str, Any]], dict[str, Any]], str]


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    body: dict[str, Any] | None
    headers: dict[str, str]
    time: float


@dataclass
class Fault:
    kind: str
    times: int | None = 1
    match: str | Callable[[list[dict[str, Any]], dict[str, Any]], bool] | None = None
    retry_after: float = 0.05
    delay: float | None = None
    hits: int = field(default=0)

    def applies(self, messages: list[dict[str, Any]], body: dict[str, Any]) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.match is None:
            return True
        if callable(self.match):
            return bool(self.match(messages, body))
        return self.match in last_user_message(messages) or self.match in json.dumps(body.get("input", ""))


def last_user_message(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):  # content parts
                return "".join(p.get("text", "") for p in content if isinstance(p, dict))
            return str(content)
    return ""


def default_reply(messages: list[dict[str, Any]], body: dict[str, Any]) -> str:
    return f"stub answer: {last_user_message(messages)}"


def embedding_of(text: str, dim: int) -> list[float]:
    """A deterministic unit vector from sha256 of TEXT (same text, same vector, in every process)."""
    raw = b""
    counter = 0
    while len(raw) < dim:
        raw += hashlib.sha256(f"{counter}:{text}".encode()).digest()
        counter += 1
    values = [(b - 127.5) / 127.5 for b in raw[:dim]]
    norm = sum(v * v for v in values) ** 0.5 or 1.0
    return [v / norm for v in values]


class OpenAIStub:
    """An OpenAI-compatible server on 127.0.0.1:<free port>; see the module docstring."""

    def __init__(self, reply: Reply | None = None, *, latency: float = 0.0, models: tuple[str, ...] = ("stub-model",),
                 api_key: str | None = None, embedding_dim: int = 16) -> None:
        self.reply: Reply = reply or default_reply
        self.finish_reason = "stop"  # what every answer says it ended by ("length", "content_filter", ...)
        self.latency = latency
        self.models = tuple(models)
        self.api_key = api_key
        self.embedding_dim = embedding_dim
        self._faults: list[Fault] = []
        self._log: list[ReceivedRequest] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> OpenAIStub:
        handler = type("Handler", (_Handler,), {"stub": self})
        server = _QuietServer(("127.0.0.1", 0), handler, bind_and_activate=False)
        server.daemon_threads = True
        server.request_queue_size = 512  # bursts of many concurrent connections must not be refused
        server.server_bind()
        server.server_activate()
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="openai-stub", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()  # wakes hanging requests
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> OpenAIStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        assert self._server is not None, "the stub is not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def model(self) -> str:
        return self.models[0]

    # -- faults and log ----------------------------------------------------------------------------------
    def add_fault(self, kind: str, *, times: int | None = 1, match: Any = None, retry_after: float = 0.05,
                  delay: float | None = None) -> Fault:
        if kind not in ("429", "500", "502", "503", "hang", "reset", "404", "echo", "empty", "cut", "toolcall"):
            raise ValueError(f"unknown fault kind {kind!r}")
        fault = Fault(kind, times, match, retry_after, delay)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def take_fault(self, messages: list[dict[str, Any]], body: dict[str, Any]) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.applies(messages, body):
                    fault.hits += 1
                    return fault
        return None

    def record(self, entry: ReceivedRequest) -> None:
        with self._lock:
            self._log.append(entry)

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._log)

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    def count(self, path: str = "/v1/chat/completions") -> int:
        return sum(1 for r in self.requests if r.path == path)

    def chat_prompts(self) -> list[str]:
        return [last_user_message((r.body or {}).get("messages", [])) for r in self.requests
                if r.path == "/v1/chat/completions"]

    def wait(self, seconds: float) -> None:
        """Sleep that ends early when the stub closes (so hanging handlers do not outlive a test)."""
        self._closing.wait(seconds)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # resets and client timeouts are part of the tests; no tracebacks on stderr


class _Handler(BaseHTTPRequestHandler):
    stub: OpenAIStub
    protocol_version = "HTTP/1.1"  # keep-alive, like real servers: clients pool connections
    # TCP_NODELAY, as real servers set it: headers and body go out as two writes, and Nagle's algorithm
    # with the client's delayed ACK would add ~40 ms to every keep-alive request (measured: 96 ms vs 50 ms)
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:  # the connection was reset on purpose, or the client went away
            pass

    # -- plumbing ----------------------------------------------------------------------------------------
    def _send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None):
        kind = "invalid_request_error" if status < 500 else "server_error"
        self._send_json(status, {"error": {"message": message, "type": kind, "param": None, "code": code}}, headers)

    def _read_body(self) -> dict[str, Any] | None:
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return None
        raw = self.rfile.read(length)
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def _reset(self) -> None:
        # SO_LINGER 0 makes close() send RST instead of FIN: the client sees a connection reset.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _header_dict(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.headers.items()}

    def _authorised(self) -> bool:
        expected = self.stub.api_key
        return expected is None or self.headers.get("Authorization") == f"Bearer {expected}"

    # -- routes ------------------------------------------------------------------------------------------
    def do_GET(self) -> None:
        stub = self.stub
        stub.record(ReceivedRequest("GET", self.path, None, self._header_dict(), time.time()))
        if not self._authorised():
            return self._error(401, "Incorrect API key provided.", "invalid_api_key")
        if self.path.rstrip("/") == "/v1/models":
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "stub"} for m in stub.models]
            return self._send_json(200, {"object": "list", "data": data})
        if self.path.startswith("/v1/models/"):
            name = self.path.removeprefix("/v1/models/")
            if name in stub.models:
                return self._send_json(200, {"id": name, "object": "model", "created": 0, "owned_by": "stub"})
            return self._error(404, f"The model `{name}` does not exist.", "model_not_found")
        self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:
        stub = self.stub
        body = self._read_body() or {}
        stub.record(ReceivedRequest("POST", self.path, body, self._header_dict(), time.time()))
        if self.path not in ("/v1/chat/completions", "/v1/embeddings"):
            return self._error(404, f"no route {self.path}")
        if not self._authorised():
            return self._error(401, "Incorrect API key provided.", "invalid_api_key")
        messages = body.get("messages") or []
        fault = stub.take_fault(messages, body)
        if stub.latency:
            stub.wait(stub.latency)
        if fault is not None and self._apply_fault(fault, body):
            return
        if body.get("model") not in stub.models:
            return self._error(404, f"The model `{body.get('model')}` does not exist or you do not have access "
                                    "to it.", "model_not_found")
        if self.path == "/v1/embeddings":
            return self._embeddings(body)
        text = stub.reply(messages, body)
        if body.get("stream"):
            return self._stream(body, text)
        self._send_json(200, {
            "id": "chatcmpl-stub", "object": "chat.completion", "created": int(time.time()), "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": stub.finish_reason,
                         "logprobs": None}],
            "usage": {"prompt_tokens": 1, "completion_tokens": len((text or "").split()),
                      "total_tokens": 1 + len((text or "").split())},
        })

    def _apply_fault(self, fault: Fault, body: dict[str, Any]) -> bool:
        """Answer with FAULT; return True when the request is done."""
        if fault.kind == "429":
            self._error(429, "Rate limit reached; retry later.", "rate_limit_exceeded",
                        {"Retry-After": f"{fault.retry_after:g}"})
        elif fault.kind in ("500", "502", "503"):
            self._error(int(fault.kind), "The server had an error while processing your request.")
        elif fault.kind == "404":
            self._error(404, f"The model `{body.get('model')}` does not exist.", "model_not_found")
        elif fault.kind == "hang":
            self.stub.wait(fault.delay if fault.delay is not None else 3600.0)
            self._reset()
        elif fault.kind == "reset":
            self._reset()
        elif fault.kind == "echo":
            self._send_json(200, {"headers": dict(self.headers.items())})
        elif fault.kind == "empty" and self.path == "/v1/embeddings":
            inputs = body.get("input")
            count = 1 if isinstance(inputs, str) else len(inputs or [])
            data = [{"object": "embedding", "index": i, "embedding": embedding_of(str(i), self.stub.embedding_dim)}
                    for i in range(count - 1)]
            self._send_json(200, {"object": "list", "data": data, "model": body.get("model"),
                                  "usage": {"prompt_tokens": 1, "total_tokens": 1}})
        elif fault.kind == "empty":
            self._send_json(200, {"id": "chatcmpl-stub", "object": "chat.completion", "created": 0,
                                  "model": body.get("model"), "choices": []})
        elif fault.kind == "cut":  # a stream that a proxy ends after the first word: no finish_reason, no [DONE]
            self._stream(body, self.stub.reply(body.get("messages") or [], body), cut_after=1)
        elif fault.kind == "toolcall":  # only a tool call, no text
            call = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
            if body.get("stream"):
                self._stream(body, "", tool_call=call)
            else:
                self._send_json(200, {"id": "chatcmpl-stub", "object": "chat.completion", "created": 0,
                                      "model": body.get("model"),
                                      "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                                          "role": "assistant", "content": None, "tool_calls": [call]}}]})
        return True

    def _embeddings(self, body: dict[str, Any]) -> None:
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
        rows = []
        for i, text in enumerate(texts):
            vector = embedding_of(str(text), self.stub.embedding_dim)
            if body.get("encoding_format") == "base64":
                vector = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
            rows.append({"object": "embedding", "index": i, "embedding": vector})
        self._send_json(200, {"object": "list", "data": rows, "model": body["model"],
                              "usage": {"prompt_tokens": len(texts), "total_tokens": len(texts)}})

    def _stream(self, body: dict[str, Any], text: str, cut_after: int | None = None,
                tool_call: dict[str, Any] | None = None) -> None:
        """SSE chunks: the role, the words, the finish_reason, [DONE]; CUT_AFTER words then the end of the
        body (a cut stream); TOOL_CALL: a tool call in place of the words."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        base = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": body["model"]}
        words = (text or "").split(" ")
        pieces = [w if i == 0 else " " + w for i, w in enumerate(words)]
        chunks = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                        "finish_reason": None}]}]
        if tool_call is not None:
            chunks.append({**base, "choices": [{"index": 0, "delta": {"tool_calls": [tool_call]}, "finish_reason": None}]})
        else:
            chunks += [{**base, "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]}
                       for p in pieces[:cut_after]]
        if cut_after is None:
            finish = "tool_calls" if tool_call is not None else self.stub.finish_reason
            chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        for chunk in chunks:
            self._write_chunk(f"data: {json.dumps(chunk)}\n\n".encode())
        if cut_after is None:
            self._write_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()
