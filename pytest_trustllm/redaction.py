"""Keep secrets out of messages: servers echo API keys in errors, whole or partly masked, and URLs may carry
``user:password@`` credentials."""

from __future__ import annotations

import re

# key-shaped tokens: OpenAI-style (sk-..., also partly masked "sk-proj-****abcd"), bearer tokens, Google keys
_KEY_SHAPED = re.compile(r"\b(sk-[A-Za-z0-9_\-*]{6,}|AIza[0-9A-Za-z_\-]{20,})|(?<=Bearer )[A-Za-z0-9_\-.=*]{8,}")
# the userinfo of a URL: scheme://USER:PASSWORD@host (everything up to the last "@" before the path)
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s]*@")
# the query of a URL ("?api-key=..."): keys travel there too
_URL_QUERY = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s?#'\"]*)\?[^\s#'\"]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
SERVER_WORDS = 300  # characters of a server's error body that a message quotes


def strip_credentials(text: str) -> str:
    """TEXT with the ``user:password@`` part and the query of every URL in it replaced by ``***``.

    ``openai:m@http://bob:pw@host/v1`` -> ``openai:m@http://***@host/v1``: model specs are written to reports
    and messages, credentials never are.
    """
    return _URL_QUERY.sub(r"\1?***", _URL_CREDENTIALS.sub(r"\1***@", text))


def redact(text: str, *secrets: str | None) -> str:
    """TEXT with every given secret, URL credentials, and anything shaped like an API key replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _KEY_SHAPED.sub("***", strip_credentials(text))


def printable(text: str) -> str:
    """TEXT with control characters (ESC, BEL, NUL...) written as ``\\xNN``: a model's answer or a server's
    error page must not clear the terminal, retitle its window or hide the lines around it."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def server_words(text: str, *secrets: str | None, limit: int = SERVER_WORDS) -> str:
    """What a server said, fit for a message: secrets redacted first (so no cut leaves part of a key),
    then cut to LIMIT characters and made printable. A proxy's 5 KB error page becomes one short line."""
    text = redact(text, *secrets)
    if len(text) > limit:
        text = f"{text[:limit]}... ({len(text):,} characters)"
    return printable(text)


class Hidden(str):
    """A string that must not be shown (a URL that carries a key): its repr is ``'***'``, so tracebacks
    with ``--showlocals`` print the variable holding it as ``'***'``; as a string it works as usual."""

    def __repr__(self) -> str:
        return "'***'"
