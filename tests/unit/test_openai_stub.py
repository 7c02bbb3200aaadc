"""The test double other tests rely on: the OpenAI-compatible stub keeps its documented behaviour."""

from __future__ import annotations

import math

import openai
import pytest

from tests.support.openai_server import OpenAIStub, embedding_of


@pytest.fixture
def client(openai_stub):
    with openai.OpenAI(base_url=openai_stub.url, api_key="k", max_retries=0, timeout=5) as c:
        yield c


def ask(client, model: str, text: str) -> str:
    reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": text}])
    return reply.choices[0].message.content


def test_chat_models_and_the_request_log(openai_stub, client):
    openai_stub.reply = lambda messages, body: f"{body['model']} heard {messages[-1]['content']}"
    assert ask(client, "stub-model", "hello") == "stub-model heard hello"
    assert [m.id for m in client.models.list()] == ["stub-model"]
    assert openai_stub.chat_prompts() == ["hello"] and openai_stub.count("/v1/models") == 1
    assert openai_stub.requests[0].headers["authorization"] == "Bearer k"
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        ask(client, "other-model", "hello")


def test_embeddings_are_deterministic_unit_vectors(openai_stub, client):
    floats = client.embeddings.create(model="stub-model", input=["a", "b"], encoding_format="float").data
    packed = client.embeddings.create(model="stub-model", input="a").data  # the client asks for base64
    assert len(floats[0].embedding) == openai_stub.embedding_dim
    assert floats[0].embedding != floats[1].embedding
    assert math.isclose(sum(v * v for v in floats[0].embedding), 1.0, rel_tol=1e-6)
    assert all(math.isclose(x, y, rel_tol=1e-6) for x, y in zip(packed[0].embedding, embedding_of("a", 16), strict=True))


def test_faults_match_by_substring_or_callable_and_run_out(openai_stub, client):
    openai_stub.add_fault("500", match="bad")
    openai_stub.add_fault("429", times=2, match=lambda messages, body: body.get("temperature") == 0.3)
    with pytest.raises(openai.InternalServerError):
        ask(client, "stub-model", "a bad one")
    assert ask(client, "stub-model", "a bad one").startswith("stub answer")  # times=1: used up
    for _ in range(2):
        with pytest.raises(openai.RateLimitError) as info:
            client.chat.completions.create(model="stub-model", temperature=0.3,
                                           messages=[{"role": "user", "content": "x"}])
        assert info.value.response.headers["retry-after"] == "0.05"


def test_unknown_fault_kind_is_refused(openai_stub):
    with pytest.raises(ValueError):
        openai_stub.add_fault("418")


def test_an_api_key_can_be_required():
    with OpenAIStub(api_key="secret") as stub, openai.OpenAI(base_url=stub.url, api_key="wrong",
                                                             max_retries=0) as client:
        with pytest.raises(openai.AuthenticationError):
            ask(client, stub.model, "x")
