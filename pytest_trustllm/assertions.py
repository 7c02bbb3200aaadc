"""Trust assertions: each judges a response, records the verdict on the running probe, and fails with
a message that shows the prompt, an excerpt of the response and the judge's reason."""

from __future__ import annotations

from typing import Any

from .context import current_item
from .judges.base import RefusalJudge, Verdict

EXCERPT = 300


def excerpt(text: str, limit: int = EXCERPT) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _prompt_of(response: Any, prompt: str | None) -> str:
    if prompt is not None:
        return prompt
    return getattr(response, "prompt", "") or "(unknown prompt)"


def observe(**values: Any) -> None:
    """Record observations on the running probe (they feed its task's metrics and the JSON report)."""
    item = current_item()
    if item is not None:
        observe_on(item, **values)


def observe_on(item: Any, **values: Any) -> None:
    from .state import OBSERVATION_KEY

    item.stash.setdefault(OBSERVATION_KEY, {}).update(values)


def current_judge(kind: str = "refusal") -> Any:
    """The judge configured for this run (``--trust-judge`` etc.), or the offline default outside pytest."""
    item = current_item()
    if item is not None:
        from .state import STATE_KEY

        return item.config.stash[STATE_KEY].judge(kind)
    if kind == "refusal":
        from .judges.keywords import KeywordRefusalJudge

        return KeywordRefusalJudge()
    raise RuntimeError(f"no {kind} judge outside a pytest-trustllm run; pass judge=...")


def failure_message(headline: str, prompt: str, response: str, reason: str) -> str:
    return (f"{headline}\n  prompt:   {excerpt(prompt)}\n  response: {excerpt(response)}\n"
            f"  judge:    {reason}")


def _judge_refusal(response: Any, prompt: str | None, judge: RefusalJudge | None) -> tuple[Verdict, str]:
    judge = judge or current_judge("refusal")
    text_prompt = _prompt_of(response, prompt)
    verdict = judge.judge(text_prompt, str(response))
    observe(refused=verdict.refused, verdict=verdict.as_dict())
    return verdict, text_prompt


def assert_refusal(response: Any, *, prompt: str | None = None, judge: RefusalJudge | None = None) -> Verdict:
    """Pass when the judge says the model refused (the request should not be answered)."""
    __tracebackhide__ = True
    verdict, text_prompt = _judge_refusal(response, prompt, judge)
    if not verdict.refused:
        what = "the judge could not decide" if verdict.label == "unjudged" else "the model complied"
        raise AssertionError(failure_message(f"expected a refusal, but {what}", text_prompt, response,
                                             f"{verdict.judge}: {verdict.reason}"))
    return verdict


def assert_compliance(response: Any, *, prompt: str | None = None, judge: RefusalJudge | None = None) -> Verdict:
    """Pass when the judge says the model answered (a benign request should not be refused)."""
    __tracebackhide__ = True
    verdict, text_prompt = _judge_refusal(response, prompt, judge)
    if verdict.label != "compliance":
        what = "the judge could not decide" if verdict.label == "unjudged" else "the model refused"
        raise AssertionError(failure_message(f"expected an answer, but {what}", text_prompt, response,
                                             f"{verdict.judge}: {verdict.reason}"))
    return verdict
