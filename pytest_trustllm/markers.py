"""The ``trust`` marker's options and gates, and their checks: a mistake in them is a usage error that stops
the run before any probe runs."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest


def default_task(dataset: Any, test_name: str) -> str:
    """A probe's task when none is named: the data file's stem, else (a marker without ``dataset=``) the test
    function's name."""
    if isinstance(dataset, str) and dataset:
        # a name gates can refer to: "harm.v2.jsonl" and "harm requests.csv" give "harm-v2", "harm-requests"
        return gate_name(Path(dataset.split(":")[-1]).stem) or test_name
    return gate_name(test_name) or test_name


def gate_name(text: str) -> str:
    """TEXT as a name gates can refer to: "harm.v2" and "harm requests" give "harm-v2", "harm-requests"."""
    return re.sub(r"[^\w-]+", "-", text).strip("-_")


def marker_options(args: Sequence[Any], kwargs: Mapping[str, Any], test_name: str) -> dict[str, Any]:
    """The ``trust`` marker's options: positional ``dimension``, ``task`` (as ``pytest --markers`` shows
    them) merged into the keywords, and the task defaulted (:func:`default_task`). Lenient: mistakes in
    them are :func:`check_marker`'s to report."""
    options = dict(kwargs)
    for name, value in zip(("dimension", "task"), args, strict=False):
        options.setdefault(name, value)
    if not options.get("task"):
        options["task"] = default_task(options.get("dataset"), test_name)
    return options


def marker_gates(kwargs: Mapping[str, Any], dimension: str, task: str) -> list[str]:
    """The ``gates=`` of a marker, in full: ``.rta>=0.9`` and ``ci:.rta>=0.9`` gate DIMENSION/TASK, its own.

    ``threshold=`` is not among them: its metric and direction are the task's primary metric's, known once
    the task is aggregated (see :func:`marker_threshold` and ``Results.all_gates``)."""
    from .gates import parse_gate

    return [parse_gate(_full_gate(expr, dimension, task), origin="marker").expr for expr in kwargs.get("gates", ())]


def marker_threshold(kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
    """``threshold=`` as the case record keeps it: the number, and ``metric=``/``direction=`` if given."""
    if kwargs.get("threshold") is None:
        return None
    return {"value": float(kwargs["threshold"]), "metric": kwargs.get("metric"), "direction": kwargs.get("direction")}


def _full_gate(expr: str, dimension: str | None, task: str | None) -> str:
    """``[ci:][.]METRIC OP N`` (or ``[ci:]OP N``: the primary metric) on the marker's task; a gate naming
    its own DIMENSION/TASK stays as it is."""
    text = expr.strip()
    ci = ""
    if text.startswith("ci:"):
        ci, text = "ci:", text[3:].lstrip()
    if "/" in re.split(r"[<>]", text, maxsplit=1)[0]:
        return ci + text
    metric = text.removeprefix(".")
    return f"{ci}{dimension}/{task}{'' if metric.startswith(('<', '>')) else '.'}{metric}"


PROBE_KEYWORDS = ("dataset", "dimension", "task", "schema", "prompt_field", "id_field", "temperature",
                  "max_new_tokens", "threshold", "metric", "direction", "gates", "subgroups", "group_field", "prompts",
                  "where", "aggregate")


def check_keywords(kwargs: Mapping[str, Any]) -> None:
    """A ``pytest.UsageError`` for a keyword neither ``probe`` nor the ``trust`` marker knows (a misspelt
    ``treshold=`` would otherwise drop the gate without a word), suggesting the closest known one."""
    import difflib

    for name, value in kwargs.items():
        if name not in PROBE_KEYWORDS:
            close = difflib.get_close_matches(name, PROBE_KEYWORDS, n=1)
            hint = (f"did you mean {close[0]}?" if close
                    else f"probe() and the trust marker take {', '.join(PROBE_KEYWORDS)}")
            raise pytest.UsageError(f"{name}={short_repr(value, 40)}: unknown keyword; {hint}")


MARKER_GATE_SYNTAX = ("'[ci:][.]METRIC OP NUMBER' on this task (e.g. '.pass_rate>=0.9', 'ci:.rta>=0.8'), or a "
                      "full gate '[ci:]DIMENSION/TASK[.METRIC] OP NUMBER', with OP one of >= <= > <")


def check_marker(kwargs: Mapping[str, Any], args: Sequence[Any] = ()) -> None:
    """A ``pytest.UsageError`` (without the test's name) for a mistake in a marker's positional arguments,
    its keywords (:func:`check_keywords`), ``dimension``, ``task``, ``threshold=``, ``metric=``,
    ``direction=`` or ``gates=``, so it stops the run before any probe runs."""
    import math

    from .gates import is_name, parse_gate

    check_keywords(kwargs)
    if len(args) > 2:
        raise pytest.UsageError(f"trust marker: at most two positional arguments (dimension, task), got "
                                f"{len(args)}: {', '.join(map(repr, args))}; give the other options by name")
    for name, value in zip(("dimension", "task"), args, strict=False):
        if name in kwargs:
            raise pytest.UsageError(f"trust marker: {name} given twice: positionally ({value!r}) and as "
                                    f"{name}={kwargs[name]!r}")
    named = dict(zip(("dimension", "task"), args, strict=False), **kwargs)
    for name in ("dimension", "task"):
        value = named.get(name)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise pytest.UsageError(f"{name}={value!r}: expected a non-empty string, e.g. "
                                    f"@pytest.mark.trust(dimension='safety', task='harmful_requests')")
        if value is not None and not is_name(value):
            raise pytest.UsageError(f"{name}={value!r}: a {name} is a name gates can refer to (letters, digits, "
                                    f"'_' and '-', starting with a letter or digit), e.g. "
                                    f"{gate_name(value) or 'harmful_requests'!r}")

    threshold = kwargs.get("threshold")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
                                  or not math.isfinite(threshold)):
        kind = " (a string, not a number)" if isinstance(threshold, str) else ""
        raise pytest.UsageError(f"threshold={threshold!r}{kind}: expected a number, e.g. threshold=0.9")
    metric = kwargs.get("metric")
    if metric is not None and not is_name(metric):
        raise pytest.UsageError(f"metric={metric!r}: expected the name of one of the task's metrics, e.g. "
                                "metric='rta'")
    direction = kwargs.get("direction")
    if direction is not None and direction not in ("higher", "lower"):
        raise pytest.UsageError(f"direction={direction!r}: expected 'higher' or 'lower' (which is better)")
    aggregate = kwargs.get("aggregate")
    if aggregate is not None:
        from .results import AggregatorError, load_aggregator

        if not isinstance(aggregate, str) or ":" not in aggregate:
            raise pytest.UsageError(f"aggregate={aggregate!r}: expected 'module:function'")
        try:
            load_aggregator(aggregate)
        except AggregatorError as exc:
            raise pytest.UsageError(str(exc)) from None
    gates = kwargs.get("gates", ())
    if isinstance(gates, str) or not isinstance(gates, (list, tuple)):
        raise pytest.UsageError(f"gates={gates!r}: expected a list of gate expressions, e.g. gates=['.rta>=0.9']")
    for expr in gates:
        if not isinstance(expr, str):
            raise pytest.UsageError(f"gates=[{expr!r}]: expected a gate expression (a string), e.g. '.rta>=0.9'")
        try:
            parse_gate(_full_gate(expr, kwargs.get("dimension") or "custom", kwargs.get("task") or "task"),
                       origin="marker")
        except pytest.UsageError:
            raise pytest.UsageError(f"gates=[{expr!r}]: malformed gate; expected {MARKER_GATE_SYNTAX}") from None


def short_repr(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[:width - 3] + "..."
