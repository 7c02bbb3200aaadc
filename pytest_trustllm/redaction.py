"""Keep secrets out of messages: servers echo API keys in errors, whole or partly masked."""

from __future__ import annotations

import re

# key-shaped tokens: OpenAI-style (sk-..., also partly masked "sk-proj-****abcd"), bearer tokens, Google keys
_KEY_SHAPED = re.compile(r"\b(sk-[A-Za-z0-9_\-*]{6,}|AIza[0-9A-Za-z_\-]{20,})|(?<=Bearer )[A-Za-z0-9_\-.=*]{8,}")


def redact(text: str, *secrets: str | None) -> str:
    """TEXT with every given secret, and anything shaped like an API key, replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _KEY_SHAPED.sub("***", text)
