"""Secrets never reach a message: the exact key, and anything key-shaped a server echoes back."""

from pytest_trustllm.redaction import redact


def test_exact_secret_is_removed():
    assert redact("bad key abc123secret!", "abc123secret") == "bad key ***!"


def test_key_shaped_tokens_are_removed_even_when_partly_masked():
    message = "Incorrect API key provided: sk-proj-****************************wxyz. You can find your key at ..."
    assert redact(message) == "Incorrect API key provided: ***. You can find your key at ..."
    assert redact("Authorization: Bearer eyJhbGciOi.JIUzI1NiJ9") == "Authorization: Bearer ***"
    assert redact("key=AIzaSyA1234567890abcdefghijklmno rejected") == "key=*** rejected"


def test_ordinary_text_is_untouched():
    text = "HTTP 500: upstream timed out after 30 s (task-7, sk- prefix)"
    assert redact(text, None, "") == text
