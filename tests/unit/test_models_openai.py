"""The openai backend: spec parsing, keys, error classification (httpx2.MockTransport), and the real
client against the local OpenAI-compatible stub (success, streaming, faults, fail-fast)."""

from __future__ import annotations

import asyncio
import json

import httpx2
import pytest

from pytest_trustllm.cases import GenParams
from pytest_trustllm.models.base import ModelError, ModelUnavailable, TransientModelError
from pytest_trustllm.models.openai_api import NO_KEY, OpenAIModel, api_key_for, parse_spec

FAKE_KEY = "sk-test-DO-NOT-LEAK-0123456789"


@pytest.fixture(autouse=True)
def no_ambient_keys(monkeypatch):
    for name in ("OPENAI_API_KEY", "TRUSTLLM_OPENAI_API_KEY", "OPENAI_BASE_URL", "TRUSTLLM_OPENAI_STREAM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRUSTLLM_OPENAI_TIMEOUT", "5")


def run(coro):
    return asyncio.new_event_loop().run_until_complete(coro)


def test_spec_parsing_normalises_the_url():
    assert parse_spec("openai:gpt-4o-mini") == ("gpt-4o-mini", "https://api.openai.com/v1")
    assert parse_spec("openai:llama3@http://127.0.0.1:8000/v1/") == ("llama3", "http://127.0.0.1:8000/v1")
    assert parse_spec("openai:m@http://user:secret@host:1/v1") == ("m", "http://host:1/v1")
    with pytest.raises(pytest.UsageError) as info:  # a key in the query would be dropped: say so, show none
        parse_spec("openai:m@http://host:1/v1?api-key=QA-SECRET")
    assert str(info.value) == ("--trust-model=openai:m@http://host:1/v1?***: 'http://host:1/v1?***': a URL query (?...) "
                               "is never sent; remove it (an API key goes in the environment: docs/models.md and "
                               "docs/judges.md name the variables)")
    with pytest.raises(pytest.UsageError, match="not an http"):
        parse_spec("openai:m@ftp://host")


def test_keys_the_openai_api_needs_one_a_local_server_does_not(monkeypatch):
    with pytest.raises(pytest.UsageError, match="OPENAI_API_KEY"):
        api_key_for("https://api.openai.com/v1", "openai:gpt-4o")
    assert api_key_for("http://127.0.0.1:8000/v1", "openai:m@...") == NO_KEY
    monkeypatch.setenv("OPENAI_API_KEY", "general")
    assert api_key_for("http://127.0.0.1:8000/v1", "s") == "general"
    monkeypatch.setenv("TRUSTLLM_OPENAI_API_KEY", "for-the-model-under-test")
    assert api_key_for("https://api.openai.com/v1", "s") == "for-the-model-under-test"


def mocked(handler, monkeypatch, key: str | None = None) -> OpenAIModel:
    if key:
        monkeypatch.setenv("OPENAI_API_KEY", key)
    return OpenAIModel("openai:m@http://127.0.0.1:9/v1", check=False, transport=httpx2.MockTransport(handler))


def error(status: int, message: str, headers: dict | None = None):
    def handler(request):
        return httpx2.Response(status, json={"error": {"message": message, "type": "x", "code": None}},
                               headers=headers or {})
    return handler


def completion(text: str):
    def handler(request):
        body = json.loads(request.content)
        assert body["messages"] == [{"role": "user", "content": "hi"}]
        assert body["temperature"] == 0.0 and body["max_tokens"] == 7 and body["seed"] == 0
        return httpx2.Response(200, json={
            "id": "x", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]})
    return handler


def test_sends_prompt_and_generation_parameters(monkeypatch):
    model = mocked(completion("hello"), monkeypatch)
    assert run(model.agenerate("hi", GenParams(max_new_tokens=7))) == "hello"
    assert model.identity() == {"backend": "openai", "model": "m", "endpoint": "http://127.0.0.1:9/v1"}


@pytest.mark.parametrize("status, headers, kind, check", [
    (429, {"retry-after": "3"}, TransientModelError, lambda e: e.rate_limited and e.retry_after == 3.0),
    (429, {"retry-after-ms": "250"}, TransientModelError, lambda e: e.retry_after == 0.25),
    (500, {}, TransientModelError, lambda e: not e.rate_limited and "HTTP 500" in str(e)),
    (503, {}, TransientModelError, lambda e: "HTTP 503" in str(e)),
    (400, {}, ModelError, lambda e: not isinstance(e, TransientModelError) and "HTTP 400" in str(e)),
    (404, {}, ModelUnavailable, lambda e: "not found" in str(e)),
    (401, {}, ModelUnavailable, lambda e: "rejected the API key" in str(e)),
])
def test_errors_are_classified_for_retrying(monkeypatch, status, headers, kind, check):
    model = mocked(error(status, "boom", headers), monkeypatch)
    with pytest.raises(kind) as info:
        run(model.agenerate("hi", GenParams()))
    assert check(info.value)


@pytest.mark.parametrize("body", [
    {"error": {"message": "max_tokens is too large", "type": "invalid_request_error"}},  # OpenAI, vLLM
    {"object": "error", "message": "max_tokens is too large"},  # older vLLM
    {"error": "max_tokens is too large", "error_type": "validation"},  # TGI
    {"detail": "max_tokens is too large"},  # FastAPI servers: `transformers serve`
])
def test_the_servers_own_error_message_is_shown(monkeypatch, body):
    model = mocked(lambda request: httpx2.Response(400, json=body), monkeypatch)
    with pytest.raises(ModelError, match=r"^HTTP 400: max_tokens is too large$"):
        run(model.agenerate("hi", GenParams()))


def test_an_unlisted_model_that_the_server_refuses_stops_the_run(monkeypatch):
    def server(request):
        if request.url.path.endswith("/models"):
            return httpx2.Response(200, json={"object": "list", "data": [
                {"id": "served-model", "object": "model", "created": 0, "owned_by": "x"}]})
        return httpx2.Response(400, json={"detail": "Server is pinned to 'served-model'; requested 'm'."})

    with pytest.raises(ModelUnavailable) as info:
        OpenAIModel("openai:m@http://127.0.0.1:9/v1", transport=httpx2.MockTransport(server))
    assert str(info.value) == ("model 'm' is not listed at http://127.0.0.1:9/v1 and a one-token request was "
                               "refused (HTTP 400: Server is pinned to 'served-model'; requested 'm'.); "
                               "http://127.0.0.1:9/v1 serves: served-model")


def test_an_unlisted_alias_the_server_answers_is_accepted(monkeypatch):
    def server(request):
        if request.url.path.endswith("/models"):
            return httpx2.Response(200, json={"object": "list", "data": [
                {"id": "served-model", "object": "model", "created": 0, "owned_by": "x"}]})
        return httpx2.Response(200, json={
            "id": "x", "object": "chat.completion", "created": 0, "model": "served-model",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "pong"}, "finish_reason": "stop"}]})

    model = OpenAIModel("openai:alias@http://127.0.0.1:9/v1", transport=httpx2.MockTransport(server))
    assert model.identity()["model"] == "alias"


def test_a_key_echoed_by_the_server_is_redacted(monkeypatch):
    model = mocked(error(401, f"Incorrect API key provided: {FAKE_KEY}"), monkeypatch, key=FAKE_KEY)
    with pytest.raises(ModelUnavailable) as info:
        run(model.agenerate("hi", GenParams()))
    assert FAKE_KEY not in str(info.value) and "***" in str(info.value)
    assert FAKE_KEY not in json.dumps(model.identity()) and FAKE_KEY not in repr(model)


def test_an_answer_quoting_the_key_keeps_its_cut_mark(monkeypatch):
    from pytest_trustllm.models.base import Answer

    model = mocked(error(500, "unused"), monkeypatch, key=FAKE_KEY)
    answer = model._without_key(Answer(f"Sure, your key is {FAKE_KEY} and step 1 is to", cut=True))
    assert answer == "Sure, your key is *** and step 1 is to" and answer.cut is True  # QA: the mark was lost
    assert getattr(model._without_key(f"key {FAKE_KEY}."), "cut", False) is False


def test_against_the_stub_plain_and_streamed(openai_stub, monkeypatch):
    openai_stub.reply = lambda messages, body: f"echo {messages[-1]['content']} at t={body['temperature']}"
    model = OpenAIModel(f"openai:{openai_stub.model}@{openai_stub.url}")
    assert run(model.agenerate("one two three", GenParams(temperature=0.5))) == "echo one two three at t=0.5"
    monkeypatch.setenv("TRUSTLLM_OPENAI_STREAM", "1")
    streamed = OpenAIModel(f"openai:{openai_stub.model}@{openai_stub.url}", check=False)
    assert run(streamed.agenerate("one two three", GenParams())) == "echo one two three at t=0.0"
    assert openai_stub.requests[-1].body["stream"] is True
    assert streamed.generate(["a", "b"], GenParams()) == ["echo a at t=0.0", "echo b at t=0.0"]
    streamed.close()


@pytest.mark.parametrize("kind, expected", [("hang", "timed out"), ("reset", "connection failed"),
                                            ("500", "HTTP 500"), ("429", "rate limited")])
def test_stub_faults_become_transient_errors(openai_stub, monkeypatch, kind, expected):
    monkeypatch.setenv("TRUSTLLM_OPENAI_TIMEOUT", "0.5")
    model = OpenAIModel(f"openai:{openai_stub.model}@{openai_stub.url}")
    openai_stub.add_fault(kind, times=1)
    with pytest.raises(TransientModelError, match=expected):
        run(model.agenerate("x", GenParams()))
    assert run(model.agenerate("x", GenParams())) == "stub answer: x"  # the fault was one-off


def test_fails_fast_on_a_wrong_model_name_listing_what_is_served(openai_stub):
    with pytest.raises(ModelUnavailable, match=r"'nope' not found.*serves: stub-model"):
        OpenAIModel(f"openai:nope@{openai_stub.url}")


def test_fails_fast_on_an_unreachable_endpoint(openai_stub):
    url = openai_stub.url
    openai_stub.close()
    with pytest.raises(ModelUnavailable, match="cannot reach"):
        OpenAIModel(f"openai:m@{url}")


def test_fails_fast_on_a_rejected_key_without_showing_it(monkeypatch):
    from tests.support.openai_server import OpenAIStub

    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    with OpenAIStub(api_key="the-right-key") as stub, pytest.raises(ModelUnavailable) as info:
        OpenAIModel(f"openai:{stub.model}@{stub.url}")
    assert "rejected the API key" in str(info.value) and FAKE_KEY not in str(info.value)


@pytest.mark.parametrize("text, finish, expected", [
    ("Paris.", "stop", "Paris."), ("", "stop", ""), (None, "content_filter", ""), ("", "content_filter", ""),
    ("I cannot help with th", "length", "I cannot help with th"),
])
def test_what_a_reply_gives_as_the_answer(text, finish, expected):
    from pytest_trustllm.models.openai_api import _answer

    answer = _answer(text, finish)
    assert answer == expected
    assert getattr(answer, "cut", False) is (finish == "length")  # text cut by the token limit says so


@pytest.mark.parametrize("text, finish, message", [
    (None, "length", "the answer was cut at the token limit before any text (finish_reason=length); raise "
                     "--trust-max-tokens"),  # vLLM's reasoning parser: content null, all tokens spent thinking
    ("  ", "length", "the answer was cut at the token limit before any text (finish_reason=length); raise "
                     "--trust-max-tokens"),
    (None, "tool_calls", "the answer has no text (finish_reason=tool_calls)"),
    ("", "tool_calls", "the answer has no text (finish_reason=tool_calls)"),
    (None, "stop", "the answer has no text (finish_reason=stop)"),
])
def test_a_reply_without_text_is_an_error_not_an_empty_answer(text, finish, message):
    from pytest_trustllm.models.base import ModelError
    from pytest_trustllm.models.openai_api import _answer

    with pytest.raises(ModelError) as info:
        _answer(text, finish)
    assert str(info.value) == message


@pytest.mark.parametrize("value, stream", [("on", True), ("1", True), ("Yes", True), ("off", False), ("", False)])
def test_streaming_is_switched_by_the_usual_words(monkeypatch, value, stream):
    from pytest_trustllm.models.openai_api import OpenAIModel

    monkeypatch.setenv("TRUSTLLM_OPENAI_STREAM", value)
    assert OpenAIModel("openai:m@http://127.0.0.1:9/v1", check=False).stream is stream


def test_an_unknown_streaming_word_is_a_usage_error_not_silently_off(monkeypatch):
    from pytest_trustllm.models.openai_api import OpenAIModel

    monkeypatch.setenv("TRUSTLLM_OPENAI_STREAM", "2")
    with pytest.raises(pytest.UsageError) as info:
        OpenAIModel("openai:m@http://127.0.0.1:9/v1", check=False)
    assert str(info.value) == "TRUSTLLM_OPENAI_STREAM='2': expected 1, true, yes or on (or 0, false, no, off)"
