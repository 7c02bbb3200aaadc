"""Evaluate gates on task results, decide which probe failures they tolerate, build the run summary."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from .baseline import Baseline, probe_changes, probe_key
from .gates import RATE, Gate, builtin_range, gate_problem
from .metrics import HIGHER, rate_metric, significant
from .results import Results, TaskResult


def _dimension_metrics(tasks: list[TaskResult], results: Results) -> dict[str, Any]:
    by_dim: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in results.sorted_records():
        by_dim[record["dimension"]].append(record)
    out = {}
    for dim, records in sorted(by_dim.items()):
        judged = [r["outcome"] == "passed" for r in records if r["outcome"] in ("passed", "failed")]
        out[dim] = rate_metric("pass_rate", judged, HIGHER)
    return out


REGATE_ORIGIN = "--gate"  # a gate given to ``python -m pytest_trustllm.regate``


def evaluate_gate(gate: Gate, tasks: dict[tuple[str, str], TaskResult], dims: dict[str, Any],
                  baseline: Baseline | None = None,
                  outcomes: dict[tuple[str, str], dict[str, str]] | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"expr": gate.expr, "origin": gate.origin, "op": gate.op, "threshold": gate.threshold,
                           "ci": gate.use_ci, "value": None, "passed": False, "error": None}
    if gate.task is None:
        metric = dims.get(gate.dimension)
        if metric is None:
            row["error"] = (f"no probe of dimension {gate.dimension!r} ran in this session "
                            f"(dimensions here: {', '.join(sorted(dims)) or 'none'}); check the name or -k/-m")
            return row
        if gate.metric not in (None, "pass_rate"):
            row["error"] = f"dimension gates measure pass_rate, not {gate.metric!r}"
            return row
    else:
        task = tasks.get((gate.dimension, gate.task))
        if task is None:
            known = sorted(f"{d}/{t}" for d, t in tasks)
            row["error"] = (f"no probe of task {gate.dimension}/{gate.task} ran in this session "
                            f"(tasks here: {', '.join(known) or 'none'}); check the name or -k/-m")
            return row
        if task.error:
            row["error"] = "no value: the task's aggregator failed (the error line under the table says why)"
            return row
        metric = task.metric(gate.metric)
        if metric is None:
            row["error"] = (f"task {gate.dimension}/{gate.task} has no metric {gate.metric!r} "
                            f"(metrics: {', '.join(m.name for m in task.metrics)})")
            return row
    row["metric"] = metric.name
    row["direction"] = metric.direction
    # only the plugin's own metrics have a known side and range: a user's aggregator may leave a metric's
    # direction at its default, and its gates (and the marker's direction=) are the user's to word
    builtin = gate.task is None or task.builtin
    bounds = RATE if gate.task is None else builtin_range(metric.name) if builtin else None
    problem = gate_problem(gate, metric.name, metric.direction, bounds) if builtin else None
    if problem and gate.origin == REGATE_ORIGIN:  # regate runs nothing: its --gate is checked like --trust-gate
        raise pytest.UsageError(f"{gate.origin} {gate.expr!r}: {problem}")
    if problem:
        row["error"] = problem
        return row
    row["value"] = None if metric.value is None else significant(metric.value)
    row["n"] = metric.n
    if gate.against_baseline and not _resolve_baseline(gate, row, baseline, outcomes or {}):
        return row
    compared = metric.value
    if gate.use_ci:
        compared = getattr(metric, gate.bound_name())
        row["bound"] = None if compared is None else significant(compared)
    if compared is None and metric.value is not None:
        row["error"] = (f"{metric.name} has a value ({metric.value:.3f}) but no confidence interval, so a ci: gate "
                        "cannot be checked; gate on the value (without ci:)")
        return row
    if compared is None:
        row["error"] = "no value (no judged probes, or every answer was invalid)"
        return row
    row["passed"] = gate.compare(compared, row["threshold"])
    return row


def _resolve_baseline(gate: Gate, row: dict[str, Any], baseline: Baseline | None,
                      outcomes: dict[tuple[str, str], dict[str, str]]) -> bool:
    """Fill a regression gate's threshold (baseline value + margin) and the probe-by-probe comparison into
    ROW; False, with the error, if the baseline has no value."""
    if baseline is None:
        row["error"] = ("a regression gate needs a baseline: give --trust-baseline=REPORT.json "
                        "(the JSON report of an earlier run, written with --trust-report)")
        return False
    found = baseline.lookup(gate.dimension, gate.task, row["metric"])
    if found.missing:
        row["error"] = found.missing
        return False
    row["threshold"] = significant(found.value + gate.margin)

    def probes(by_task: dict[tuple[str, str], dict[str, str]]) -> dict[str, str]:
        if gate.task is not None:
            return by_task.get((gate.dimension, gate.task), {})
        return {f"{task}-{cid}": o for (dim, task), cases in by_task.items() if dim == gate.dimension
                for cid, o in cases.items()}

    before = probes(baseline.outcomes)
    row["baseline"] = {"value": significant(found.value), "margin": gate.margin, "n": found.n,
                       "probes": len(before), **probe_changes(before, probes(outcomes))}
    return True


def _covers(gate: Gate, dimension: str, task: str) -> bool:
    return gate.dimension == dimension and gate.task in (None, task)


def build(results: Results, baseline: Baseline | None = None) -> dict[str, Any]:
    """The summary (the JSON report's tasks/dimensions/gates/cases and the exit decision inputs)."""
    tasks = results.tasks()
    task_index = {(t.dimension, t.task): t for t in tasks}
    dims = _dimension_metrics(tasks, results)
    outcomes: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for record in results.records.values():
        outcomes[(record["dimension"], record["task"])][probe_key(record)] = record["outcome"]
    gates = results.all_gates({(t.dimension, t.task): t.primary.name for t in tasks},
                              {(t.dimension, t.task, m.name): m.direction for t in tasks for m in t.metrics})
    gate_rows = [(g, evaluate_gate(g, task_index, dims, baseline, outcomes)) for g in gates]

    for task in tasks:
        # a task is judged by its own gates; a dimension gate speaks for the tasks that have none
        covering = [(g, row) for g, row in gate_rows if g.dimension == task.dimension and g.task == task.task]
        covering = covering or [(g, row) for g, row in gate_rows if _covers(g, task.dimension, task.task)]
        task.gates = [dict(row, metric=row.get("metric", g.metric)) for g, row in covering]
        failures = task.counts["failed"]
        if covering:
            task.passed = all(row["passed"] for _, row in covering) and task.counts["error"] == 0
            task.tolerated = failures if task.passed else 0
        else:  # a probe without any gate must pass
            task.passed = failures == 0 and task.counts["error"] == 0
        if task.error:
            task.passed = False

    dimensions = {}
    for dim, metric in dims.items():
        dim_tasks = [t for t in tasks if t.dimension == dim]
        dim_gates = [row for g, row in gate_rows if g.dimension == dim and g.task is None]
        dimensions[dim] = {
            # the row passes when its own gates (on the dimension's pass rate) pass and so does every task in it
            "passed": all(t.passed for t in dim_tasks) and all(r["passed"] for r in dim_gates),
            "gates": [r["expr"] for r in dim_gates],
            "tasks": len(dim_tasks),
            "failed_tasks": [t.task for t in dim_tasks if not t.passed],
            "metric": "pass_rate",
            **metric.as_dict(),
            "tolerated_failures": sum(t.tolerated for t in dim_tasks),
        }
    failed_probes = sum(t.counts["failed"] for t in tasks)
    cut = {nodeid: record for nodeid, record in results.records.items() if _cut(record)}
    cut_answers = sum(_cut(record) for record in cut.values())
    warnings = [w for w in (_unpaired_refusals(results), _cut_warning(cut, cut_answers)) if w]
    tolerated = sum(t.tolerated for t in tasks)
    return {
        "tasks": [t.as_dict() for t in tasks],
        "dimensions": dimensions,
        "gates": [row for _, row in gate_rows],
        "cases": results.sorted_records(),
        "warnings": warnings,
        "totals": {
            "probes": len(results.records),
            "failed_probes": failed_probes,
            "tolerated_failures": tolerated,
            "errors": sum(t.counts["error"] for t in tasks),
            "other_failures": len(results.other_failures),
            "gates_failed": sum(1 for _, row in gate_rows if not row["passed"]),
            "aggregate_errors": sum(1 for t in tasks if t.error),
            "cut_answers": cut_answers,
            "xfailed_probes": sum(1 for r in results.records.values() if r.get("xfailed")),
        },
    }


def _cut(record: dict[str, Any]) -> int:
    cut = (record.get("observation") or {}).get("cut")
    return cut if isinstance(cut, int) and not isinstance(cut, bool) and cut > 0 else 0


def _cut_warning(cut: dict[str, dict[str, Any]], cut_answers: int) -> str | None:
    """Answers cut at the token limit are judged as they are: a refusal, an answer or a closing remark the
    model would have given after the limit is missing from them. Say how many, in which tasks, and one probe
    (CUT: the records with cut answers, by node id)."""
    if not cut_answers:
        return None
    probes = sorted(cut)
    tasks = sorted({f"{r['dimension']}/{r['task']}" for r in cut.values()})
    shown = ", ".join(tasks[:3]) + (f" and {len(tasks) - 3} more" if len(tasks) > 3 else "")
    return (f"{cut_answers} answer{'s' if cut_answers != 1 else ''} in {len(probes)} probe"
            f"{'s' if len(probes) != 1 else ''} stopped at the token limit ({shown}; e.g. {probes[0]}), judged as "
            "written, without what the model would have said after it; raise --trust-max-tokens (or the task's "
            "max_new_tokens) to judge whole answers")


def _unpaired_refusals(results: Results) -> str | None:
    """A run that checks refusals but no over-refusal rewards a model that refuses everything: say so."""
    expects: dict[str, set[str]] = defaultdict(set)
    for record in results.records.values():
        kind = (record.get("observation") or {}).get("expects")
        if kind:
            expects[kind].add(f"{record['dimension']}/{record['task']}")
    if not expects["refusal"] or expects["compliance"]:
        return None
    names = sorted(expects["refusal"])
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    return (f"{shown} expect{'s' if len(names) == 1 else ''} refusals, but no probe here expects an answer to a "
            "benign look-alike: a model that refuses everything would pass. Pair them with over-refusal probes "
            "(assert_compliance; TrustLLM: safety/exaggerated_safety)")


def gated_exit_status(summary: dict[str, Any], pytest_status: int) -> int:
    """Exit status under gated semantics (ARCHITECTURE.md section 2).

    0 when every failure is a trust probe tolerated by its passing gates and every gate passes; 1 when a
    gate fails, an untolerated probe fails, a probe errors, or a non-probe test fails. Statuses other than
    0 and 1 (interrupted, internal or usage error, no tests) are left alone. A task whose aggregator failed
    fails the run too.
    """
    if pytest_status not in (0, 1):
        return pytest_status
    totals = summary["totals"]
    untolerated = totals["failed_probes"] - totals["tolerated_failures"]
    if totals["gates_failed"] or untolerated or totals["errors"] or totals["other_failures"] or \
            totals.get("aggregate_errors"):
        return 1
    return 0


def exit_status(summary: dict[str, Any], pytest_status: int, strict: bool = False, stopped: bool = False) -> int:
    """The run's exit status: the gates decide (:func:`gated_exit_status`). STRICT adds "any failing probe
    fails the run" on top of them; a run that STOPPED early (``-x``, ``--maxfail``) keeps pytest's failing
    status, since its gates saw only part of the probes: so they tolerate no failure, and the SUMMARY's
    counts say so (no "gates tolerated" line under "the run stopped early"). Nor does a STRICT run with a
    failure pytest counts (an xfail is none)."""
    # xdist's -x/--maxfail and Ctrl-C end with status 2: still nothing tolerated
    if stopped or (strict and strict_failures(summary["totals"])):
        _tolerate_nothing(summary)
    gated = gated_exit_status(summary, pytest_status)
    if pytest_status in (0, 1) and (strict or stopped):
        return max(gated, pytest_status)
    return gated


def strict_failures(totals: dict[str, Any]) -> int:
    """Failing probes that fail a --trust-strict run: those pytest counts as failures (not xfails)."""
    return totals["failed_probes"] - totals.get("xfailed_probes", 0)


def _tolerate_nothing(summary: dict[str, Any]) -> None:
    summary["totals"]["tolerated_failures"] = 0
    for row in (*summary.get("tasks", ()), *summary.get("dimensions", {}).values()):
        row["tolerated_failures"] = 0
