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


def test_url_queries_are_masked_like_credentials():
    from pytest_trustllm.redaction import strip_credentials

    assert strip_credentials("openai:m@http://u:p@h:1/v1?api-key=SECRET then text") == \
        "openai:m@http://***@h:1/v1?*** then text"
    assert strip_credentials("see http://h/v1 and 'http://h/x?k=1'") == "see http://h/v1 and 'http://h/x?***'"
    assert strip_credentials("Is it at http://host:8000/v1? yes") == "Is it at http://host:8000/v1? yes"


def test_server_words_redact_before_cutting_and_make_control_characters_visible():
    from pytest_trustllm.redaction import server_words

    key = "AIzaSyQA-PERSP-SECRET-0123456789abcdefg"
    body = "API key not valid. " + "x" * 290 + f" key={key}"  # the key straddles the cut at 300
    words = server_words(body, key)
    assert "AIza" not in words and words.endswith("... (317 characters)")  # counted after redaction
    assert server_words("<h1>\x1b[2J502\x07</h1>") == "<h1>\\x1b[2J502\\x07</h1>"


def test_hidden_strings_work_as_strings_and_show_as_stars():
    from pytest_trustllm.redaction import Hidden

    url = Hidden("http://h/analyze?key=SECRET")
    assert repr(url) == "'***'" and repr({"url": url}) == "{'url': '***'}"
    assert url + "&x=1" == "http://h/analyze?key=SECRET&x=1" and url.startswith("http://h/")
