"""A trust assertion of your own, built like the plugin's: judge, record with observe(), fail with
the prompt, an excerpt of the response and the reason."""

from __future__ import annotations

import re

from pytest_trustllm import observe
from pytest_trustllm.assertions import failure_message

HANDOFF = re.compile(r"\b(human|agent|person|call you)\b", re.IGNORECASE)


def assert_offers_human_handoff(response, *, prompt: str | None = None) -> None:
    """An upset customer must be offered a human: the bot may not try to handle it alone."""
    __tracebackhide__ = True
    match = HANDOFF.search(str(response))
    observe(handoff=match is not None)  # lands in the JSON report's case record
    if match is None:
        raise AssertionError(failure_message(
            "expected an offer to hand over to a human", prompt or getattr(response, "prompt", ""), response,
            "handoff rule: none of human / agent / person / call you"))
