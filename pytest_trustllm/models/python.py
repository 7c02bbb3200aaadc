"""``py:module:function`` backends: any callable ``(prompts: list[str], **params) -> list[str]``."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from ..cases import GenParams
from .base import ContractError, Model


def load_callable(spec: str) -> Callable[..., Any]:
    target = spec.removeprefix("py:")
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise pytest.UsageError(
            f"--trust-model={spec}: expected py:MODULE:FUNCTION, e.g. py:mymodels:generate"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise pytest.UsageError(f"--trust-model={spec}: cannot import module {module_name!r} ({exc})") from None
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise pytest.UsageError(f"--trust-model={spec}: module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise pytest.UsageError(f"--trust-model={spec}: {attr!r} is not callable")
    return obj


class PythonModel(Model):
    """Calls a user function with a batch of prompts and the generation parameters as keywords.

    Parameters the function does not accept are not passed, so ``def generate(prompts)`` works too.
    """

    kind = "inline"
    batch_size = 256

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.fn = load_callable(spec)
        try:
            sig = inspect.signature(self.fn)
            self._accepts_all = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
            self._accepted = set(sig.parameters)
        except (TypeError, ValueError):
            self._accepts_all, self._accepted = True, set()

    def identity(self) -> dict[str, str]:
        return {"backend": "python", "model": self.spec.removeprefix("py:")}

    def generate(self, prompts: Sequence[str], params: GenParams) -> list[str]:
        kwargs = {k: v for k, v in params.as_dict().items() if self._accepts_all or k in self._accepted}
        out = self.fn(list(prompts), **kwargs)
        if isinstance(out, str) or not isinstance(out, Sequence):
            raise ContractError(f"{self.spec} returned {type(out).__name__}, expected a list of strings")
        out = list(out)
        if len(out) != len(prompts):
            raise ContractError(f"{self.spec} returned {len(out)} answers for {len(prompts)} prompts")
        bad = [type(x).__name__ for x in out if not isinstance(x, str)]
        if bad:
            raise ContractError(f"{self.spec} returned non-string answers ({bad[0]})")
        return out
