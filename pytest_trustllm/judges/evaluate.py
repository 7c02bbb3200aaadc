"""Measure a refusal judge against human labels (XSTest's CSV format).

    python -m pytest_trustllm.judges.evaluate --judge keywords --labelled xstest_v2_completions_gpt4.csv \\
        [--split dev|heldout|all] [--json]

Prints binary agreement (full and partial refusal both count as refusal; an ``unjudged`` verdict counts as
a disagreement), the 3-class confusion matrix (human label x judge verdict), precision and recall for
refusal, and throughput (responses per second, judging only; loading is reported apart). The split is
fixed by sha256 of the prompt (see :mod:`.labelled`): tune on ``dev``, report ``heldout``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .base import COMPLIANCE, REFUSAL, UNJUDGED
from .labelled import CLASSES, SPLITS, LabelledDataError, LabelledResponse, read_labelled

VERDICTS = (REFUSAL, COMPLIANCE, UNJUDGED)


@dataclass
class Measurement:
    n: int
    agreement: float
    precision: float | None  # of the judge's refusals, how many humans call refusal
    recall: float | None  # of the human refusals, how many the judge finds
    unjudged: int
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)  # human label -> judge verdict -> count
    seconds: float = 0.0
    load_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.n / self.seconds if self.seconds > 0 else float("inf")

    @property
    def agreement_ci(self) -> tuple[float, float]:
        """95% Wilson interval of the agreement: how far a few hundred labels pin it down."""
        from ..metrics import wilson

        return wilson(round(self.agreement * self.n), self.n)

    def as_dict(self) -> dict[str, Any]:
        low, high = self.agreement_ci
        return {**asdict(self), "agreement_ci": [round(low, 4), round(high, 4)],
                "responses_per_second": round(self.per_second, 1)}


def score(rows: Sequence[LabelledResponse], labels: Sequence[str]) -> Measurement:
    """Agreement figures of judge LABELS (refusal/compliance/unjudged) against the human labels of ROWS."""
    confusion = {human: {verdict: 0 for verdict in VERDICTS} for human in CLASSES}
    for row, label in zip(rows, labels, strict=True):
        confusion[row.label][label] += 1
    n = len(rows)
    pairs = list(zip(rows, labels, strict=True))
    agree = sum(1 for row, label in pairs if label != UNJUDGED and (label == REFUSAL) == row.is_refusal)
    judged_refusal = sum(1 for label in labels if label == REFUSAL)
    true_refusal = sum(1 for row in rows if row.is_refusal)
    hits = sum(1 for row, label in pairs if row.is_refusal and label == REFUSAL)
    return Measurement(n=n, agreement=agree / n if n else 0.0,
                       precision=hits / judged_refusal if judged_refusal else None,
                       recall=hits / true_refusal if true_refusal else None,
                       unjudged=sum(1 for label in labels if label == UNJUDGED), confusion=confusion)


def measure(judge: Any, rows: Sequence[LabelledResponse], load_seconds: float = 0.0) -> Measurement:
    start = time.perf_counter()
    verdicts = judge.judge_many([(row.prompt, row.completion) for row in rows])
    seconds = time.perf_counter() - start
    result = score(rows, [v.label for v in verdicts])
    result.seconds, result.load_seconds = seconds, load_seconds
    return result


def render(result: Measurement, title: str) -> str:
    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    low, high = result.agreement_ci
    lines = [title, f"  n={result.n}  binary agreement={result.agreement:.3f} (95% CI [{low:.3f}, {high:.3f}])"
                    f"  refusal precision="
             f"{pct(result.precision)}  recall={pct(result.recall)}  unjudged={result.unjudged}",
             f"  throughput: {result.per_second:.1f} responses/s (judging {result.seconds:.2f} s; "
             f"loading {result.load_seconds:.2f} s)",
             "  confusion (rows: human label, columns: judge verdict)",
             "    " + " " * 20 + "".join(f"{v:>12}" for v in VERDICTS)]
    for human in CLASSES:
        lines.append(f"    {human:20}" + "".join(f"{result.confusion[human][v]:>12}" for v in VERDICTS))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_trustllm.judges.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--judge", required=True, help="refusal judge spec, as for --trust-judge")
    parser.add_argument("--labelled", required=True, nargs="+", help="CSV file(s): prompt, completion, final_label")
    parser.add_argument("--split", choices=SPLITS, default="all")
    parser.add_argument("--json", action="store_true", help="print one JSON object per file instead of text")
    args = parser.parse_args(argv)

    import pytest

    from ..redaction import strip_credentials
    from .specs import build

    shown = strip_credentials(args.judge)  # what output and errors call the judge: never user:password@
    started = time.perf_counter()
    try:
        judge = build("refusal", args.judge)
        if judge is None:
            from .specs import unknown_spec

            raise unknown_spec("refusal", args.judge, flag="--judge")
    except pytest.UsageError as exc:
        return _error(_this_command(str(exc)))
    load_seconds = time.perf_counter() - started
    for path in args.labelled:
        try:
            rows = read_labelled(path, args.split)
        except (OSError, LabelledDataError) as exc:
            return _error(str(exc))
        try:
            result = measure(judge, rows, load_seconds)
        except (RuntimeError, OSError, pytest.UsageError) as exc:  # JudgeError: the judge's server failed
            return _error(f"--judge {shown} failed on {path}: {_this_command(str(exc))}")
        load_seconds = 0.0  # paid once
        if args.json:
            print(json.dumps({"judge": shown, "file": path, "split": args.split, **result.as_dict()}))
        else:
            print(render(result, f"{shown} on {path} (split: {args.split})"))
    return 0


def _this_command(message: str) -> str:
    """Judges name the pytest flag in their messages; this command's flag is ``--judge``."""
    from .specs import FLAGS

    return message.replace(FLAGS["refusal"], "--judge")


def _error(message: str) -> int:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
