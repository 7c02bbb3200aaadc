"""``--trust-baseline``: the JSON report of an earlier run, for regression gates (``rta>=baseline-0.02``).

The baseline is read once on the controller, checked against the shipped report schema, and reduced to what
the gates need: each task's metric values and each probe's outcome, and each dimension's pass rate. A
regression gate also compares the two runs probe by probe: which probes newly fail, how many newly pass,
McNemar's exact p-value, and how many probes both runs judged (so a comparison on different probes shows).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

FLAG = "--trust-baseline"


@dataclass(frozen=True)
class BaselineValue:
    value: float | None
    n: int  # observations behind the value in the baseline run
    missing: str | None = None  # why there is no value to compare with


def probe_key(record: dict[str, Any]) -> str:
    """What matches a probe across two runs: its test id (a case id repeats when a probe is also parametrized,
    when two test files share a task, or when a hook duplicates cases)."""
    return str(record.get("nodeid") or record.get("case_id"))


def probe_name(key: str) -> str:
    """How a gate line names a probe: its parameter id (``harmful_requests-15``), else its test's name."""
    if key.endswith("]") and "[" in key:
        return key[key.index("[") + 1:-1]
    return key.rsplit("::", 1)[-1]


class Baseline:
    def __init__(self, path: Path, report: dict[str, Any]) -> None:
        self.path = path
        self.model = report.get("model", {}).get("spec")
        self.started = report.get("run", {}).get("started")
        self.tasks = {(t["dimension"], t["task"]): t for t in report["tasks"]}
        self.dimensions = report["dimensions"]
        # per task, each probe's outcome: for the probe-by-probe comparison of a regression gate
        self.outcomes: dict[tuple[str, str], dict[str, str]] = {}
        for case in report["cases"]:
            if case.get("case_id") is not None:
                key = (case.get("dimension"), case.get("task"))
                self.outcomes.setdefault(key, {})[probe_key(case)] = case.get("outcome", "")

    def identity(self) -> dict[str, Any]:
        return {"path": str(self.path), "model": self.model, "started": self.started}

    def lookup(self, dimension: str, task: str | None, metric: str) -> BaselineValue:
        """The baseline's value of DIMENSION[/TASK].METRIC, or why it has none."""
        name = f"{dimension}/{task}.{metric}" if task else dimension
        if task is None:
            measured = self.dimensions.get(dimension)
            if measured is None:
                return _missing(f"the baseline {self.path} has no dimension {dimension!r} "
                                f"(it has: {', '.join(sorted(self.dimensions))})")
        else:
            entry = self.tasks.get((dimension, task))
            if entry is None:
                known = ", ".join(sorted(f"{d}/{t}" for d, t in self.tasks)) or "none"
                return _missing(f"the baseline {self.path} has no task {dimension}/{task} (it has: {known})")
            measured = entry["metrics"].get(metric)
            if measured is None:
                return _missing(f"the baseline's {dimension}/{task} has no metric {metric!r} "
                                f"(it has: {', '.join(sorted(entry['metrics']))})")
        if measured.get("value") is None:
            return _missing(f"the baseline has no value for {name} (no judged probes there)")
        return BaselineValue(measured["value"], int(measured.get("n", 0)))


def _missing(why: str) -> BaselineValue:
    return BaselineValue(None, 0, why)


def load_baseline(raw: str, rootdir: Path, flag: str = FLAG) -> Baseline:
    """Read and check the report at RAW (relative to ROOTDIR); a UsageError (naming FLAG, where the value came
    from) says what is wrong with it."""
    path, report = read_report(raw, rootdir, flag)
    return Baseline(path, report)


def read_report(raw: str, rootdir: Path, flag: str) -> tuple[Path, dict[str, Any]]:
    """The JSON report at RAW, checked against the shipped schema; a UsageError (naming FLAG) if it is not one."""
    import jsonschema

    from .report import load_schema

    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = rootdir / path
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise pytest.UsageError(f"{flag}={raw}: cannot read it ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise pytest.UsageError(f"{flag}={raw}: not a JSON report of pytest-trustllm ({exc})") from None
    version = report.get("schema_version") if isinstance(report, dict) else None
    if isinstance(version, int) and not isinstance(version, bool) and version != 1:
        raise pytest.UsageError(f"{flag}={raw}: a report of schema_version {version}, written by another version of "
                                "pytest-trustllm; this one reads schema_version 1")
    try:
        jsonschema.validate(report, load_schema())
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "the top level"
        raise pytest.UsageError(f"{flag}={raw}: not a JSON report of pytest-trustllm (at {where}: "
                                f"{exc.message[:200]})") from None
    return path, report


def probe_changes(before: dict[str, str], after: dict[str, str]) -> dict[str, Any]:
    """Probe by probe, on the probes both runs judged (passed or failed): which now fail that passed in the
    baseline, how many now pass that failed, and McNemar's exact p-value for "no change" (two-sided)."""
    from scipy.stats import binomtest

    judged = ("passed", "failed")
    common = sorted(k for k in before.keys() & after.keys() if before[k] in judged and after[k] in judged)
    newly_failing = [k for k in common if before[k] == "passed" and after[k] == "failed"]
    newly_passing = sum(1 for k in common if before[k] == "failed" and after[k] == "passed")
    changed = len(newly_failing) + newly_passing
    p = binomtest(min(len(newly_failing), newly_passing), changed, 0.5).pvalue if changed else 1.0
    return {"common_probes": len(common), "newly_failing": newly_failing, "newly_passing": newly_passing,
            "mcnemar_p": float(f"{float(p):.4g}")}  # significant digits: a clear regression's p is 3.5e-18, not 0
