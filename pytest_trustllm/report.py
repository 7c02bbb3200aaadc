"""The terminal table (rich), the JSON report (validated against the shipped schema), the Markdown and HTML
trust cards."""

from __future__ import annotations

import io
import json
import math
import os
import stat
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from .models.base import answer_text
from .redaction import printable
from .summary import strict_failures

ARROW = {"higher": "↑", "lower": "↓"}


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        # a p-value of 3.9e-25 is not 0.000: below 0.0005 (which 3 decimals would show as 0.000) say how small
        return f"{x:.2e}" if 0 < abs(x) < 0.0005 else f"{x:.3f}"
    return str(x)


def _ci(row: dict[str, Any]) -> str:
    if row.get("ci_low") is None or row.get("ci_high") is None:
        return "-"
    return f"[{_fmt(float(row['ci_low']))}, {_fmt(float(row['ci_high']))}]"


def _gate_text(task: dict[str, Any]) -> str:
    """The task's gates, short: ``pass_rate >= 0.8``; the dimension/task part is on the row already."""
    from .gates import parse_gate

    if not task["gates"]:
        return "all must pass"
    parts = []
    for expr in task["gates"]:
        gate = parse_gate(expr)
        name = gate.metric or (task["metric"] if gate.task else f"{gate.dimension} pass_rate")
        name = "" if name == task["metric"] else f"{name} "  # the metric column names the primary one
        parts.append(f"{'ci:' if gate.use_ci else ''}{name}{gate.op} {gate.threshold_text()}")
    return ", ".join(parts)


def _dimension_gate_text(drow: dict[str, Any]) -> str:
    """The dimension's own gates, short (``>= 0.5``: the metric column says pass_rate); none: empty."""
    from .gates import parse_gate

    gates = [parse_gate(expr) for expr in drow.get("gates", ())]
    return ", ".join(f"{'ci:' if g.use_ci else ''}{g.op} {g.threshold_text()}" for g in gates)


def _failed_tasks(drow: dict[str, Any]) -> str:
    """`` (harmful_requests failed)`` after a dimension's FAIL: a dimension fails when its own gates or any of its
    tasks fail, so its own gate may have passed (the gate lines say so); empty when no task failed."""
    failed = [] if drow["passed"] else drow.get("failed_tasks") or []
    if not failed:
        return ""
    return " (" + ", ".join(failed[:2]) + (f" and {len(failed) - 2} more" if len(failed) > 2 else "") + " failed)"


def _table(summary: dict[str, Any]):
    from rich.table import Table

    table = Table(title="pytest-trustllm: trust summary", title_justify="left", expand=False)
    # the names and numbers never wrap or shrink (a cut "1400" reads "1"); the gate and result texts wrap
    # in their cells when the table is wider than the page
    for name, justify in (("dimension / task", "left"), ("metric", "left"), ("value", "right"), ("95% CI", "right"),
                          ("n", "right"), ("invalid", "right"), ("gate", "left"), ("result", "left")):
        wraps = name in ("gate", "result")
        table.add_column(name, justify=justify, no_wrap=not wraps, overflow="fold",
                         min_width={"gate": 18, "result": 12}.get(name))
    for dim, drow in summary["dimensions"].items():
        table.add_row(f"[bold]{dim}[/bold]", "pass_rate ↑", _fmt(drow["value"]), _ci(drow), str(drow["n"]), "",
                      _dimension_gate_text(drow), _result(drow["passed"]) + _failed_tasks(drow), end_section=False)
        for task in (t for t in summary["tasks"] if t["dimension"] == dim):
            result = _result(task["passed"])
            if task["tolerated_failures"]:
                result += f" ({task['tolerated_failures']} tolerated)"
            table.add_row(f"  {task['task']}", f"{task['metric']} {ARROW.get(task['direction'], '')}",
                          _fmt(task["value"]), _ci(task), str(task["n"]), str(task["invalid"]),
                          _gate_text(task), result)
        table.add_section()
    return table


def render_terminal(summary: dict[str, Any], width: int, color: bool) -> str:
    from rich.console import Console

    out = io.StringIO()
    # CI logs take wide lines; wrapping hurts more
    console = Console(file=out, width=max(width, 150), force_terminal=color, no_color=not color,
                      color_system="standard" if color else None)
    console.print(_table(summary))
    for line in gate_lines(summary):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    return out.getvalue()


_HTML_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<title>pytest-trustllm trust card</title>
<style>
{stylesheet}
body {{ color: {foreground}; background-color: {background}; }}
</style>
</head>
<body>
<pre style="font-family: Menlo, 'DejaVu Sans Mono', consolas, 'Courier New', monospace"><code>{code}</code></pre>
</body>
</html>
"""


def render_html(summary: dict[str, Any]) -> str:
    """A standalone HTML trust card: who was tested, when, the table and the gate lines (rich's HTML export)."""
    from rich.console import Console

    console = Console(record=True, file=io.StringIO(), width=150, force_terminal=True, color_system="truecolor")
    console.print("   ".join(f"{name}: {value}" for name, value in card_facts(summary)), markup=False,
                  highlight=False)
    console.print(_table(summary))
    for line in gate_lines(summary):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    return console.export_html(inline_styles=True, code_format=_HTML_PAGE)


def card_facts(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """What a trust card says about the run above its table: the model spec, the start time, the exit status."""
    run = summary.get("run", {})
    return [("model", str(summary.get("model", {}).get("spec", "-"))), ("started", str(run.get("started", "-"))),
            ("exit status", str(run.get("exit_status", "-")))]


def _result(passed: bool) -> str:
    return "[green]PASS[/green]" if passed else "[red]FAIL[/red]"


def gate_lines(summary: dict[str, Any]) -> list[str]:
    lines = []
    stopped = summary.get("run", {}).get("stopped_early")
    if stopped:
        lines.append(f"the run stopped early ({stopped}): the gates were computed on a partial run, so they "
                     "cannot pass it (pytest's exit status stands)")
    deselected = summary.get("run", {}).get("deselected_probes")
    if deselected:
        ran = summary["run"]["totals"]["probes"]
        lines.append(f"{deselected} probe{'s were' if deselected != 1 else ' was'} deselected (-k, -m, --deselect, "
                     f"--lf): the metrics and gates cover the {ran} selected, not the whole suite")
    if summary.get("run", {}).get("last_failed_only"):
        lines.append("--lf: only the tests that failed last time ran (pytest leaves the others out while collecting): "
                     "the metrics and gates cover those probes, not the whole suite")
    for gate in summary["gates"]:
        status = "passed" if gate["passed"] else "FAILED"
        value = gate.get("bound", gate["value"]) if gate["ci"] else gate["value"]
        detail = gate["error"] or f"{'CI bound' if gate['ci'] else 'value'} {_fmt(value)}"
        base = gate.get("baseline")
        if base and not gate["error"]:
            margin = f" {base['margin']:+g}" if base["margin"] else ""
            detail += f"; threshold {_fmt(gate['threshold'])} = baseline {_fmt(base['value'])}{margin}"
            detail += _probe_changes(base, gate["n"])
        lines.append(f"gate {gate['expr']}: {status} ({detail})")
    totals = summary["run"]["totals"] if "run" in summary else summary["totals"]
    tolerated, failed = totals["tolerated_failures"], totals["failed_probes"]
    if tolerated:
        share = tolerated / max(totals["probes"], 1)
        line = (f"gates tolerated {tolerated} probe failure{'s' if tolerated != 1 else ''} "
                f"({share:.0%} of {totals['probes']} probes)")
        if failed > tolerated:
            line += f"; {failed - tolerated} other failures belong to tasks whose gates failed or that have none"
        lines.append(line)
    strict = strict_failures(totals) if summary.get("run", {}).get("strict") else 0
    if strict:
        lines.append(f"--trust-strict: {strict} failing probe{'s' if strict != 1 else ''} fail{'s' if strict == 1 else ''} "
                     "the run whatever the gates say")
    others = totals.get("other_failures", 0)
    if others:
        lines.append(f"{others} test{'s' if others != 1 else ''} outside the probes failed (an ordinary test, a "
                     "conftest error, a file that could not be collected, or a probe whose xdist worker crashed: "
                     "pytest's summary names it), so the run fails whatever the gates say")
    lines.extend(f"error: {task['error']} (the task fails)" for task in summary.get("tasks", ()) if task.get("error"))
    lines.extend(f"warning: {warning}" for warning in summary.get("warnings", ()))
    from .judges.measured import describe

    for kind, judge in summary.get("judges", {}).items():
        lines.extend(filter(None, (describe(kind, judge), _judge_activity(kind, judge))))
    return lines


def _judge_activity(kind: str, judge: dict[str, Any]) -> str | None:
    """What a judge could not do, and how a cascade escalated, in one line: ``refusal judge llm: 8 verdicts
    unjudged ...``; None when there is nothing to say."""
    stats = judge.get("stats") or {}
    name = "LLM grader" if kind == "llm" else f"{kind} judge {judge.get('name', '?')}"
    parts = []
    if stats.get("escalated") is not None and stats.get("of"):
        stronger = (judge.get("stronger") or {}).get("spec") or "the stronger judge"
        parts.append(f"{stats['escalated']} of {stats['of']} fresh verdicts escalated from keywords to {stronger}")
        if stats.get("stronger_unjudged"):
            parts.append(f"{stats['stronger_unjudged']} of them it could not decide")
    if stats.get("unjudged"):
        parts.append(f"{stats['unjudged']} gave no valid verdict after a re-ask (unjudged: those probes failed)")
    if stats.get("cannot_tell"):
        parts.append(f"{stats['cannot_tell']} answers it could not tell (left unreadable)")
    return f"{name}: {'; '.join(parts)}" if parts else None


def _probe_changes(base: dict[str, Any], here: int | None) -> str:
    """``; 20 probes in common: 3 newly failing (h17, h18, h19), 0 newly passing (McNemar p = 0.25)``."""
    common, failing = base["common_probes"], base["newly_failing"]
    from .baseline import probe_name

    shown = ", ".join(map(probe_name, failing[:5])) + (f" and {len(failing) - 5} more" if len(failing) > 5 else "")
    text = (f"; {common} probes in common: {len(failing)} newly failing{f' ({shown})' if failing else ''}, "
            f"{base['newly_passing']} newly passing (McNemar p = {base['mcnemar_p']:.3g})")
    if common < max(base["probes"], here or 0):
        text += f"; only {common} of the baseline's {base['probes']} and this run's {here} probes compared"
    return text


_MARKDOWN_ESCAPES = {"&": "&amp;", "<": "&lt;", "|": "\\|", "`": "\\`", "*": "\\*", "\\": "\\\\", "[": "\\[", "]": "\\]",
                     "\n": " ", "\r": " "}


def md(text: Any) -> str:
    """TEXT as literal Markdown text, fit for a table cell: no HTML (GitHub renders tags in step summaries),
    no cell break, no link or image (a remote image in a step summary is a request to anyone who opens it),
    no code span or emphasis from a test id, task name or model spec."""
    return "".join(_MARKDOWN_ESCAPES.get(ch, ch) for ch in printable(str(text)))


def _code(text: str) -> str:
    """TEXT as a code span (a model spec), unless it has what a code span cannot hold."""
    if "`" in text or printable(text) != text or "\n" in text:
        return md(text)
    return f"`{text}`"


def render_markdown(summary: dict[str, Any]) -> str:
    lines = ["## pytest-trustllm: trust summary", "",
             "| dimension / task | metric | value | 95% CI | n | invalid | gate | result |",
             "|---|---|---:|---:|---:|---:|---|---|"]
    for dim, drow in summary["dimensions"].items():
        lines.append(f"| **{md(dim)}** | pass_rate ↑ | {_fmt(drow['value'])} | {_ci(drow)} | {drow['n']} |  | "
                     f"{md(_dimension_gate_text(drow))} | {'✅ pass' if drow['passed'] else '❌ fail'}"
                     f"{md(_failed_tasks(drow))} |")
        for task in (t for t in summary["tasks"] if t["dimension"] == dim):
            lines.append(f"| {md(task['task'])} | {md(task['metric'])} {ARROW.get(task['direction'], '')} | "
                         f"{_fmt(task['value'])} | {_ci(task)} | {task['n']} | {task['invalid']} | "
                         f"{md(_gate_text(task))} | {'✅ pass' if task['passed'] else '❌ fail'} |")
    lines.append("")
    lines.extend(f"- {md(line)}" for line in gate_lines(summary))
    return "\n".join(lines) + "\n"


def render_markdown_card(summary: dict[str, Any]) -> str:
    """The Markdown trust card: the step summary's table and gate lines, under the run's facts (as the HTML
    card has them; the step summary has none, being written before the exit status is final)."""
    table = render_markdown(summary)
    heading, _, rest = table.partition("\n")
    facts = " · ".join(f"{name}: {_code(value) if name == 'model' else md(value)}"
                       for name, value in card_facts(summary))
    return f"{heading}\n\n{facts}\n{rest}"


def load_schema() -> dict[str, Any]:
    text = resources.files("pytest_trustllm").joinpath("schemas/report.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def write_json(report: dict[str, Any], path: Path) -> None:
    """Validate against the shipped schema, then write atomically (a crash never leaves half a file)."""
    import jsonschema

    report = _writable(report)
    jsonschema.validate(report, load_schema())
    _write_atomically(path, json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def _writable(value: Any) -> Any:
    """VALUE as JSON can hold it: NaN or infinity is no value (null; JSON has neither), and a lone UTF-16
    surrogate in any text (a test id, a prompt or an observed value from a dataset's "\\ud800") becomes
    U+FFFD, as it does in answers: it cannot be written as UTF-8, and one such record must not cost the
    whole report."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):  # an aggregator's np.float64 in subgroups
        value = value.item() if getattr(value, "ndim", 0) == 0 else value.tolist()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return answer_text(value)
    if isinstance(value, dict):
        return {_writable(k): _writable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_writable(v) for v in value]
    return value


CARD_FORMATS = {".md": render_markdown_card, ".markdown": render_markdown_card, ".html": render_html, ".htm": render_html}


def check_card_path(raw: str, flag: str) -> None:
    """A usage error unless RAW's extension names a card format."""
    if Path(raw).suffix.lower() not in CARD_FORMATS:
        import pytest

        raise pytest.UsageError(f"{flag}={raw}: the card's format comes from its extension: "
                                ".md (Markdown) or .html (HTML)")


def write_card(report: dict[str, Any], path: Path) -> None:
    """The trust card at PATH: Markdown or HTML, by the file's extension (checked when options are read)."""
    _write_atomically(path, CARD_FORMATS[path.suffix.lower()](report))


def _write_atomically(path: Path, text: str) -> None:
    """Write TEXT to PATH through a temporary file and a rename (a crash never leaves half a report). A
    symlink is written through to its target (the rename would replace the link itself), and something that
    is not a regular file (a FIFO, /dev/stdout, a device) is written to as it is: renaming over it would
    replace it."""
    path = Path(os.path.realpath(path))
    if path.exists() and not path.is_file():
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _file_mode(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, mode)  # mkstemp makes it 0600: give it the mode a plain open() would
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _file_mode(path: Path) -> int:
    """The mode ``open(path, "w")`` would leave: an existing file's own, else 0o666 less the umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        pass
    umask = os.umask(0o022)  # reading the umask means setting it: set it straight back
    os.umask(umask)
    return 0o666 & ~umask
