"""The plugin's fixtures: the model under test, the probe's record and its (prefetched) answer, judges."""

from __future__ import annotations

from typing import NoReturn

import pytest

from .assertions import excerpt
from .responses import Request, TrustResponse
from .state import STATE_KEY, ProbeError


def _state(request: pytest.FixtureRequest):
    return request.config.stash[STATE_KEY]


@pytest.fixture
def trust_case(request: pytest.FixtureRequest):
    """The probe's record as a :class:`pytest_trustllm.TrustCase` (``.record`` is the raw dict)."""
    case = getattr(request, "param", None)
    if case is None:
        raise pytest.UsageError(f"{request.node.nodeid}: trust_case needs a probe dataset: use "
                                "@pytest_trustllm.probe(dataset=...) or @pytest.mark.trust(..., dataset=...)")
    return case


def _stop_run(state, exc: Exception) -> NoReturn:
    """The model cannot serve at all: stop the whole run with one message, not one error per probe."""
    __tracebackhide__ = True
    state.stop_run(str(exc) if isinstance(exc, pytest.UsageError) else f"--trust-model={state.settings.model}: {exc}")


@pytest.fixture(scope="session")
def trust_model(request: pytest.FixtureRequest):
    """The model under test (``--trust-model``); ``trust_model.generate(prompts, params)``."""
    state = _state(request)
    try:
        return state.model
    except pytest.UsageError as exc:
        _stop_run(state, exc)


def _answer(state, node: pytest.Item, case, index: int) -> TrustResponse:
    __tracebackhide__ = True  # the probe's error message says it all; plugin internals are noise
    from .models.base import ModelUnavailable

    prompt = case.prompts[index]
    try:
        response = state.responder.get(Request(prompt, case.params, case.sample))
    except (ModelUnavailable, pytest.UsageError) as exc:
        _stop_run(state, exc)
    if response.error is not None:
        if response.replay_miss:
            from .prefetch_hooks import REPLAY_MISS_PROPERTY

            node.user_properties.append((REPLAY_MISS_PROPERTY, case.case_id))
        raise ProbeError(f"the model gave no answer to {case.task}-{case.case_id}: {response.error}\n"
                         f"prompt: {excerpt(prompt, 300)}")
    return TrustResponse(response.text, prompt=prompt, case=case, cut=response.cut)


@pytest.fixture
def trust_response(request: pytest.FixtureRequest, trust_case) -> TrustResponse:
    """The model's answer to the probe's prompt (a ``str`` with ``.prompt`` and ``.case``)."""
    from .assertions import observe_on

    answer = _answer(_state(request), request.node, trust_case, 0)
    observe_on(request.node, response=str(answer), **({"cut": 1} if answer.cut else {}))
    return answer


@pytest.fixture
def trust_responses(request: pytest.FixtureRequest, trust_case) -> list[TrustResponse]:
    """The answers to every prompt of the probe, for probes that compare answers."""
    from .assertions import observe_on

    state = _state(request)
    answers = [_answer(state, request.node, trust_case, i) for i in range(len(trust_case.prompts))]
    cut = sum(a.cut for a in answers)
    observe_on(request.node, responses=[str(a) for a in answers], **({"cut": cut} if cut else {}))
    return answers


@pytest.fixture(scope="session")
def trust_judge(request: pytest.FixtureRequest):
    """The refusal judge (``--trust-judge``): ``trust_judge.judge(prompt, response) -> Verdict``."""
    return _state(request).judge("refusal")


@pytest.fixture(scope="session")
def trust_toxicity(request: pytest.FixtureRequest):
    """The toxicity scorer (``--trust-toxicity``): ``score_many(texts) -> list[float]`` in [0, 1]."""
    return _state(request).judge("toxicity")


@pytest.fixture(scope="session")
def trust_embedder(request: pytest.FixtureRequest):
    """The embedding model (``--trust-embedding``): ``embed(texts)`` -> unit vectors."""
    return _state(request).judge("embedding")


@pytest.fixture(scope="session")
def trust_llm_judge(request: pytest.FixtureRequest):
    """The LLM grader (``--trust-llm-judge``), or None when the run uses rules only."""
    state = _state(request)
    return state.judge("llm") if state.settings.llm_judge else None
