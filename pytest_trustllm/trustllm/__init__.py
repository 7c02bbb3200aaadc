"""The TrustLLM benchmark (arXiv 2401.05561) as pytest probes: task definitions, evaluators, aggregators.

A suite test is one line per task::

    @trustllm_probe("jailbreak")
    def test_jailbreak(trust_case, trust_responses, trustllm_judges):
        run_probe("jailbreak", trust_case, trust_responses, trustllm_judges)

``example_suites/trustllm`` is the complete suite; ``docs/trustllm.md`` documents every task.
Nothing heavy is imported here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .spec import Outcome, TaskSpec, check
from .tasks import BY_NAME, DATA_FILES, PROBED, TASKS

__all__ = ["BY_NAME", "DATA_FILES", "PROBED", "TASKS", "Outcome", "TaskSpec", "run_probe", "spec_of",
           "trustllm_probe"]


def spec_of(task: str) -> TaskSpec:
    try:
        return BY_NAME[task]
    except KeyError:
        raise KeyError(f"unknown TrustLLM task {task!r}; known: {', '.join(sorted(BY_NAME))}") from None


def trustllm_probe(task: str, **overrides: Any) -> Callable:
    """``pytest_trustllm.probe`` with the task's definition (file, schema, temperature, pairing, gates...)."""
    from ..probe import probe

    return probe(**{**spec_of(task).probe_options(), **overrides})


def run_probe(task: str, case: Any, answers: Sequence[str], judges: Any) -> Outcome:
    """Evaluate one probe of TASK, record what it saw, and fail it (readable message) unless it passed."""
    __tracebackhide__ = True
    outcome = spec_of(task).evaluator()(case, [str(a) for a in answers], judges)
    return check(outcome, case.prompt, answers[0])
