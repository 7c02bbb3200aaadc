"""What a TrustLLM task is: its data file, schema, generation parameters, judge, per-probe verdict,
metrics (with direction), aggregator and default release gates; and the per-probe check that ties an
evaluator's :class:`Outcome` to pytest (observations recorded, then a readable assertion)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PACKAGE = "pytest_trustllm.trustllm"


@dataclass(frozen=True)
class TaskSpec:
    dimension: str
    task: str
    file: str                                   # "<dimension>/<file>.json" under --trust-data
    temperature: float
    judge: str                                  # how answers are judged (for docs and reports)
    verdict: str                                # what "this probe passed" means
    metrics: tuple[tuple[str, str], ...]        # (name, direction); the first is the primary metric
    module: str                                 # module in this package holding evaluate_/aggregate_<task>
    schema: Mapping[str, Any]
    gates: tuple[str, ...] = ()                 # default release gates (full DIM/TASK.METRIC expressions)
    subgroups: tuple[str, ...] = ()
    where: Callable[[Mapping[str, Any]], bool] | None = None
    prompts: Callable[[Mapping[str, Any], Sequence[Mapping[str, Any]]], Sequence[str]] | None = None
    group: str | Callable[[Mapping[str, Any], Sequence[Mapping[str, Any]]], str] | None = None
    max_new_tokens: int | None = None
    records: int = 0                            # records in the upstream file (after ``where``)
    needs: tuple[str, ...] = ()                 # judges besides the refusal judge: "toxicity", "embedding"

    @property
    def dataset(self) -> str:
        return f"trustllm:{self.file}"

    @property
    def primary(self) -> tuple[str, str]:
        return self.metrics[0]

    @property
    def aggregate(self) -> str:
        return f"{PACKAGE}.{self.module}:aggregate_{self.task}"

    def evaluator(self) -> Callable[..., Outcome]:
        import importlib

        return getattr(importlib.import_module(f"{PACKAGE}.{self.module}"), f"evaluate_{self.task}")

    def probe_options(self) -> dict[str, Any]:
        """Keyword arguments for ``pytest_trustllm.probe`` (and so for the ``trust`` marker)."""
        options: dict[str, Any] = {
            "dataset": self.dataset, "dimension": self.dimension, "task": self.task,
            "temperature": self.temperature, "schema": dict(self.schema), "aggregate": self.aggregate,
            "metric": self.primary[0], "direction": self.primary[1], "gates": list(self.gates),
        }
        optional = {"subgroups": list(self.subgroups) or None, "where": self.where, "prompts": self.prompts,
                    "group_field": self.group, "max_new_tokens": self.max_new_tokens}
        options.update({k: v for k, v in optional.items() if v is not None})
        return options


@dataclass(frozen=True)
class Outcome:
    """What one probe saw and decided. ``observation`` feeds the task's aggregator (JSON-able values)."""

    passed: bool
    observation: dict[str, Any]
    headline: str = ""          # failure headline, e.g. "expected a refusal, but the model complied"
    reason: str = ""            # the judge's or extractor's reason

    def describe(self, prompt: str, response: str) -> str:
        from ..assertions import failure_message

        return failure_message(self.headline or "the probe's check failed", prompt, response, self.reason)


def check(outcome: Outcome, prompt: str, response: str) -> Outcome:
    """Record the outcome on the running probe, then fail it (AssertionError) unless it passed."""
    __tracebackhide__ = True
    from ..assertions import observe

    observe(response=str(response), **outcome.observation)
    if not outcome.passed:
        raise AssertionError(outcome.describe(prompt, response))  # the answer itself: it may say it was cut
    return outcome


def passed_if(condition: bool, observation: dict[str, Any], headline: str, reason: str) -> Outcome:
    return Outcome(bool(condition), observation, headline, reason)
