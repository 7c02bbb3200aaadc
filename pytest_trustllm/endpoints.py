"""OpenAI-compatible endpoint URLs, as the model backend and the judges both take them."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import pytest

from .redaction import strip_credentials

OPENAI_URL = "https://api.openai.com/v1"
EXAMPLE = "e.g. http://127.0.0.1:8000/v1"


def normalise(url: str, where: str) -> str:
    """URL without credentials or trailing slash. Anything that is not an http(s) URL with a host (a port
    out of range or not a number, an unclosed IPv6 bracket, another scheme, a query) is a usage error that
    starts with WHERE (the option and spec, credentials already stripped) and never shows ``user:password@``."""
    shown = repr(strip_credentials(url))
    try:
        parts = urlsplit(url)
        hostname, port = parts.hostname, parts.port
    except ValueError as exc:  # "Port out of range 0-65535", "Invalid IPv6 URL", ...
        raise pytest.UsageError(f"{where}: {shown} is not a valid URL ({exc}); {EXAMPLE}") from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise pytest.UsageError(f"{where}: {shown} is not an http(s) URL, {EXAMPLE}")
    if port == 0:
        raise pytest.UsageError(f"{where}: {shown}: port 0 is not a port, {EXAMPLE}")
    if parts.query:
        raise pytest.UsageError(f"{where}: {shown}: a URL query (?...) is never sent; remove it (an API key goes "
                                "in the environment: docs/models.md and docs/judges.md name the variables)")
    host = f"[{hostname}]" if ":" in hostname else hostname  # IPv6 literals keep their brackets
    host += f":{port}" if port else ""
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))
