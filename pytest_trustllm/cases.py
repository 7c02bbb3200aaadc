"""The unit of work: one probe (a dataset record) with its prompts and generation parameters."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class GenParams:
    """Generation parameters sent with a prompt. Part of the response cache key."""

    temperature: float = 0.0
    max_new_tokens: int = 256
    top_p: float | None = None
    seed: int | None = 0

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> GenParams:
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


@dataclass(frozen=True)
class TrustCase:
    """One probe: a record of a dataset, bound to a dimension and task.

    ``prompts`` usually holds one prompt. Tasks that compare answers (a perturbed instruction and its
    original, a pair of opposite opinions) carry the other prompts too; every prompt is prefetched and
    cached on its own, so shared prompts are generated once.
    """

    dimension: str
    task: str
    case_id: str
    index: int
    prompts: tuple[str, ...]
    params: GenParams = field(default_factory=GenParams)
    source: str = ""
    group: str | None = None
    subgroups: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)
    record: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    sample: int = 0

    @property
    def prompt(self) -> str:
        return self.prompts[0]

    def describe(self) -> dict[str, Any]:
        """JSON-friendly identity of the case, for reports."""
        return {
            "dimension": self.dimension,
            "task": self.task,
            "case_id": self.case_id,
            "index": self.index,
            "source": self.source,
            "group": self.group,
            "subgroups": dict(self.subgroups),
        }
