"""Keep secrets out of messages: servers echo API keys in errors, whole or partly masked, and URLs may carry
``user:password@`` credentials."""

from __future__ import annotations

import re

# key-shaped tokens: OpenAI-style (sk-..., also partly masked "sk-proj-****abcd"), bearer tokens, Google keys
_KEY_SHAPED = re.compile(r"\b(sk-[A-Za-z0-9_\-*]{6,}|AIza[0-9A-Za-z_\-]{20,})|(?<=Bearer )[A-Za-z0-9_\-.=*]{8,}")
# the userinfo of a URL: scheme://USER:PASSWORD@host (everything up to the last "@" before the path)
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s]*@")


def strip_credentials(text: str) -> str:
    """TEXT with the ``user:password@`` part of every URL in it replaced by ``***@``.

    ``openai:m@http://bob:pw@host/v1`` -> ``openai:m@http://***@host/v1``: model specs are written to reports
    and messages, credentials never are.
    """
    return _URL_CREDENTIALS.sub(r"\1***@", text)


def redact(text: str, *secrets: str | None) -> str:
    """TEXT with every given secret, URL credentials, and anything shaped like an API key replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _KEY_SHAPED.sub("***", strip_credentials(text))
