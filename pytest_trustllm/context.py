"""Which probe is running now, so that bare assertions (``assert_refusal(response)``) can record into it."""

from __future__ import annotations

import contextvars
from typing import Any

_CURRENT: contextvars.ContextVar[Any] = contextvars.ContextVar("pytest_trustllm_current_item", default=None)


def set_current(item: Any) -> contextvars.Token:
    return _CURRENT.set(item)


def reset_current(token: contextvars.Token) -> None:
    _CURRENT.reset(token)


def current_item() -> Any:
    return _CURRENT.get()
