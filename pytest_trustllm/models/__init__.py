"""Model backends, resolved from ``--trust-model`` specs through ``pytest_trustllm_make_model``.

Each backend lives in its own module and is imported only when its spec is used, so plugin load
stays fast even with torch installed.
"""

from __future__ import annotations

import re

import pytest

from .base import Model, ModelError, ModelUnavailable, TransientModelError

__all__ = ["Model", "ModelError", "ModelUnavailable", "SPEC_FORMS", "TransientModelError", "check_spec_syntax"]

SPEC_FORMS = "smollm2, rules, hf:PATH_OR_ID, openai:MODEL, openai:MODEL@URL, py:MODULE:FUNCTION"
_SPEC = re.compile(r"^(smollm2|rules|hf:.+|openai:[^@\s]+(@\S+)?|py:[\w.]+:[\w.]+|(?!py:)[\w.-]+(:\S*)?)$")


def check_spec_syntax(spec: str) -> None:
    """Reject specs no backend could ever accept, before anything is loaded. (Each backend checks the rest of
    its spec when it is built: a plugin's ``pytest_trustllm_make_model`` may accept more.)"""
    from ..redaction import strip_credentials

    shown = strip_credentials(spec)
    if spec.startswith("py:") and not _SPEC.match(spec):
        raise pytest.UsageError(f"--trust-model={shown}: expected py:MODULE:FUNCTION, e.g. py:mymodels:generate")
    if not _SPEC.match(spec):
        raise pytest.UsageError(f"--trust-model={shown!r} is not a model spec; accepted: {SPEC_FORMS}")


def _replaying(config: pytest.Config) -> bool:
    from ..state import STATE_KEY

    state = config.stash.get(STATE_KEY, None)
    return bool(state.settings.replay) if state is not None else bool(config.getoption("trust_replay", False))


class BuiltinBackends:
    """The built-in ``pytest_trustllm_make_model`` implementation (registered as a plugin)."""

    @pytest.hookimpl(trylast=True)
    def pytest_trustllm_make_model(self, config: pytest.Config, spec: str) -> Model | None:
        if _replaying(config):  # answers come from the cache: build the identity only (no network, key, weights)
            from .replay import replay_model

            model = replay_model(spec)
            if model is not None:
                return model
        if spec == "rules":
            from .rules import RulesModel

            return RulesModel()
        if spec.startswith("py:"):
            from .python import PythonModel

            return PythonModel(spec)
        if spec.startswith("openai:"):
            from .openai_api import OpenAIModel

            return OpenAIModel(spec)
        if spec.startswith("hf:"):
            from .hf import HFModel

            return HFModel(spec)
        if spec == "smollm2":
            from .smollm2 import make_smollm2

            return make_smollm2(spec)
        return None
