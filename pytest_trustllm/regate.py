"""Re-gate a finished run from its JSON report, without running anything again.

    python -m pytest_trustllm.regate trust-report.json [--gate EXPR ...] [--baseline BASE.json]
        [--strict] [--report OUT.json] [--card OUT.html|OUT.md]

The report keeps every probe's record, so the tasks are aggregated again from them exactly as in the run
(same aggregators, same seeded intervals), then gated: by the ``--gate`` expressions if given (they replace
the command-line and ini gates of the run; the probes' own ``threshold=``/``gates=`` still apply, as in a
run), else by the run's own gates. Regression gates compare with ``--baseline``, else with the run's own
baseline (``run.baseline.path``) while that file is there. It prints the trust table and the gate lines and
exits as the run would have: 0 if the gates pass, 1 if not, 2 for a bad argument or report. No model, judge,
cache or test file is needed (only a custom aggregator's module, importable from here): change a threshold,
add a regression gate, and decide again from last night's report.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

CLI_ORIGINS = ("--trust-gate", "ini trust_gates")


def run_gates(report: dict[str, Any], gates: Sequence[str] | None) -> list[Any]:
    """The gates to apply: --gate's, else the run's own command-line and ini gates (the probes' own gates
    live in their records)."""
    from .gates import parse_gate

    if gates is None:
        return [parse_gate(g["expr"], origin=g["origin"]) for g in report["gates"] if g.get("origin") in CLI_ORIGINS]
    return [parse_gate(expr, origin="--gate") for expr in gates]


def regate(report: dict[str, Any], gates: Sequence[str] | None, baseline: Any = None,
           strict: bool = False) -> dict[str, Any]:
    """The report, re-aggregated from its probe records and gated by GATES (None: the run's own gates)."""
    from . import summary
    from .results import Results

    results = Results(run_gates(report, gates), root=Path.cwd())
    for record in report["cases"]:
        results.add(record)
    result = summary.build(results, baseline)
    if results.unimportable:
        raise pytest.UsageError(f"{results.unimportable[0]}: regate aggregates the tasks again, so it needs the "
                                "aggregators the run used importable (run it from the suite's folder, or set "
                                "PYTHONPATH)")
    other = report["run"].get("totals", {}).get("other_failures", 0)
    result["totals"]["other_failures"] = other  # tests that are not probes failed in the run: they still count
    pytest_status = int(report["run"].get("pytest_exit_status", report["run"]["exit_status"]))
    strict = strict or bool(report["run"].get("strict"))  # a --trust-strict run stays strict
    status = summary.exit_status(result, pytest_status, strict, bool(report["run"].get("stopped_early")))
    run = {**report["run"], "exit_status": status, "totals": result["totals"], "regated": True, "strict": strict,
           "baseline": baseline.identity() if baseline else report["run"].get("baseline")}
    return {**report, "run": run, **{k: result[k] for k in ("tasks", "dimensions", "gates", "cases", "warnings")}}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_trustllm.regate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", help="the JSON report of a run (--trust-report)")
    parser.add_argument("--gate", action="append", metavar="EXPR",
                        help="gate, repeatable, as --trust-gate (default: the run's own gates)")
    parser.add_argument("--baseline", metavar="REPORT",
                        help="an earlier run's report, for regression gates (default: the run's own baseline, "
                             "if its file is still there)")
    parser.add_argument("--strict", action="store_true", help="any failing probe fails too (as --trust-strict; a strict run's report stays strict)")
    parser.add_argument("--report", dest="out", type=Path, metavar="PATH", help="write the re-gated JSON report")
    parser.add_argument("--card", type=Path, metavar="PATH", help="write a trust card (.md or .html)")
    args = parser.parse_args(argv)

    from .baseline import read_report
    from .report import check_card_path, render_terminal, write_card, write_json

    try:
        if args.card:
            check_card_path(str(args.card), "--card")
        gates = run_gates({"gates": []}, args.gate) if args.gate else None  # a malformed --gate: before reading
        _, report = read_report(args.report, Path.cwd(), "report")
        baseline = _baseline(report, gates if gates is not None else run_gates(report, None), args.baseline)
        result = regate(report, args.gate, baseline, args.strict)
    except pytest.UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(render_terminal(result, 150, sys.stdout.isatty()), end="")
    for path, write in ((args.out, write_json), (args.card, write_card)):
        if path is not None:
            try:
                write(result, path)
            except Exception as exc:
                print(f"error: could not write {path}: {exc}", file=sys.stderr)
                return 1
    return int(result["run"]["exit_status"])


def _baseline(report: dict[str, Any], gates: list[Any], given: str | None) -> Any:
    """The baseline for regression gates: --baseline, else the one the run used (its recorded path), if a
    gate needs one. A UsageError if one is needed and there is none."""
    from .baseline import load_baseline
    from .gates import first_regression_gate

    if given:
        return load_baseline(given, Path.cwd(), "--baseline")
    regression = first_regression_gate(gates)
    if not regression:
        return None
    recorded = (report["run"].get("baseline") or {}).get("path")
    if not recorded:
        raise pytest.UsageError(f"a regression gate needs --baseline REPORT.json (an earlier run's report): "
                                f"{regression!r} compares with a baseline, and the run recorded none")
    if not Path(recorded).expanduser().is_file():
        raise pytest.UsageError(f"a regression gate needs --baseline REPORT.json (an earlier run's report): "
                                f"{regression!r} compares with the run's baseline {recorded}, which is not there")
    return load_baseline(recorded, Path.cwd(), "run.baseline.path")


if __name__ == "__main__":
    raise SystemExit(main())
