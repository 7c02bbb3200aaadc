"""Hooks that pytest-trustllm adds to pytest. Implement them in a conftest.py or a plugin.

Every hook is prefixed ``pytest_trustllm_``. The plugin's own built-ins (model backends, judges, file
formats, sampling) are implementations of these same hooks, so a user's implementation can override
them (``tryfirst=True``) or add to them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .cases import TrustCase


@pytest.hookspec(firstresult=True)
def pytest_trustllm_make_model(config: pytest.Config, spec: str) -> Any:
    """Return a model object for ``--trust-model=SPEC``, or None if this implementation does not know SPEC.

    The object needs ``identity()`` and ``generate(prompts, params) -> list[str]``; subclass
    :class:`pytest_trustllm.models.base.Model`, or leave out what Model provides (``kind``, ``batch_size``,
    ``cacheable``, ``agenerate`` for API models, ``close``) and the plugin uses Model's defaults.
    Raise ``pytest.UsageError`` when SPEC is yours but cannot be served (missing package, bad path).
    """


@pytest.hookspec(firstresult=True)
def pytest_trustllm_make_judge(config: pytest.Config, kind: str, spec: str) -> Any:
    """Return a judge for ``kind`` (``refusal``, ``toxicity``, ``embedding`` or ``llm``) built from SPEC,
    or None if this implementation does not know SPEC."""


@pytest.hookspec(firstresult=True)
def pytest_trustllm_load_dataset(config: pytest.Config, ref: str) -> list[dict[str, Any]] | None:
    """Return the records (a list of dicts) of dataset REF, or None to let other implementations try.

    Built in: ``.json`` (a list of objects), ``.jsonl``, ``.csv`` files, and ``hf:NAME[:SPLIT]`` through
    the ``datasets`` library. Raise :class:`pytest_trustllm.datasets.DatasetError` for bad data.
    """


@pytest.hookspec
def pytest_trustllm_modify_cases(config: pytest.Config, task: str, cases: list[TrustCase]) -> None:
    """Edit the cases of TASK in place before they are parametrized: filter, reorder, perturb, sample.

    The built-in ``--trust-sample``/``--trust-seed`` sampling is an implementation of this hook that runs
    last (``trylast``), so filters run before it.
    """


@pytest.hookspec
def pytest_trustllm_summary(config: pytest.Config, summary: dict[str, Any]) -> None:
    """Edit the run summary in place (the JSON report's structure) before it is printed and written.

    Called once, on the controller only (never on xdist workers), after gates are evaluated.
    """
