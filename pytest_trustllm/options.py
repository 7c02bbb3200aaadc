"""Command-line options, their ini twins, and the frozen Settings object they resolve into."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .gates import Gate, first_regression_gate, parse_gate
from .report import check_card_path

# (option, ini name, ini type, default, help). CLI wins over ini; ini wins over the default.
_VALUE_OPTIONS = [
    ("--trust-model", "trust_model", "string", "smollm2",
     "model under test: smollm2 (embedded default), rules, hf:PATH_OR_ID, openai:MODEL[@URL], py:MODULE:FUNCTION"),
    ("--trust-judge", "trust_judge", "string", "keywords",
     "refusal judge: keywords (default, offline), embedding, hf-classifier:PATH_OR_ID, llm:MODEL[@URL], cascade[:SPEC[,SPEC...]]"),
    ("--trust-toxicity", "trust_toxicity", "string", "profanity",
     "toxicity scorer: profanity (offline), perspective[@URL], hf-classifier:PATH_OR_ID"),
    ("--trust-embedding", "trust_embedding", "string", "minilm",
     "embedding model for similarity metrics: minilm (offline), openai:MODEL[@URL]"),
    ("--trust-llm-judge", "trust_llm_judge", "string", "",
     "LLM grader for answers no rule can parse (TrustLLM uses GPT-4): llm:MODEL[@URL]. Default: none, rules only"),
    ("--trust-data", "trust_data", "string", "",
     "root of the TrustLLM dataset (<dimension>/<file>.json); env TRUSTLLM_DATA also works"),
    ("--trust-report", "trust_report", "string", "", "write the JSON report to this path"),
    ("--trust-card", "trust_card", "string", "",
     "write a trust card (the summary table and gates) to this path: .md for Markdown, .html for HTML"),
    ("--trust-baseline", "trust_baseline", "string", "",
     "JSON report of an earlier run, for regression gates such as 'safety/jailbreak.rta>=baseline-0.02'"),
    ("--trust-cache", "trust_cache", "string", "", "response cache file (default: under .pytest_cache/)"),
    ("--trust-sample", "trust_sample", "string", "", "run N probes per task, chosen with --trust-seed"),
    ("--trust-seed", "trust_seed", "string", "0", "seed for sampling and generation (default 0)"),
    ("--trust-concurrency", "trust_concurrency", "string", "16", "requests in flight for API models (default 16)"),
    ("--trust-batch-size", "trust_batch_size", "string", "", "batch size for local models (default: backend's)"),
    ("--trust-temperature", "trust_temperature", "string", "", "override every task's temperature"),
    ("--trust-max-tokens", "trust_max_tokens", "string", "", "override every task's max new tokens"),
]
_FLAG_OPTIONS = [
    ("--trust-no-cache", "", "do not read or write the response cache"),
    ("--trust-replay", "", "never call the model: answer from the cache only; a miss is an error"),
    ("--trust-strict", "trust_strict", "every failing probe fails the run (plain pytest behaviour)"),
]


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("trustllm", "trustworthiness of LLMs (pytest-trustllm)")
    for opt, ini, ini_type, default, help_text in _VALUE_OPTIONS:
        group.addoption(opt, dest=ini, default=None, metavar=ini.removeprefix("trust_").upper(), help=help_text)
        parser.addini(ini, help_text, type=ini_type, default=default)
    group.addoption("--trust-gate", dest="trust_gates", action="append", default=None, metavar="EXPR",
                    help="gate, repeatable: DIM[/TASK][.METRIC] OP NUMBER, e.g. 'safety/jailbreak.rta>=0.9'; "
                         "prefix 'ci:' to require the 95%% interval bound to clear it; 'OP baseline-0.02' "
                         "compares with --trust-baseline")
    parser.addini("trust_gates", "gates, one per line (see --trust-gate)", type="linelist", default=[])
    for opt, ini, help_text in _FLAG_OPTIONS:
        dest = ini or opt.removeprefix("--").replace("-", "_")
        group.addoption(opt, dest=dest, action="store_true", default=None, help=help_text)
        if ini:
            parser.addini(ini, help_text, type="bool", default=False)


@dataclass(frozen=True)
class Settings:
    model: str
    judge: str
    toxicity: str
    embedding: str
    llm_judge: str
    data_dir: Path | None
    report: Path | None
    card: Path | None
    baseline: str  # path of an earlier run's JSON report ("": none); read on the controller (see baseline.py)
    cache: Path | None
    no_cache: bool
    replay: bool
    sample: int | None
    seed: int
    concurrency: int
    batch_size: int | None
    temperature: float | None
    max_tokens: int | None
    strict: bool
    gates: tuple[Gate, ...] = field(default_factory=tuple)


def _value(config: pytest.Config, name: str) -> str:
    cli = config.getoption(name)
    return str(cli) if cli is not None else str(config.getini(name) or "")


def _number(config: pytest.Config, name: str, kind: type, minimum: float, what: str):
    raw = _value(config, name).strip()
    if raw == "":
        return None
    try:
        number = kind(raw)
    except ValueError:
        number = None
    if number is None or number < minimum:
        flag = "--" + name.replace("_", "-")
        raise pytest.UsageError(f"{flag}={raw!r}: expected {what}")
    return number


def resolve(config: pytest.Config) -> Settings:
    """Read options and ini values once; raise pytest.UsageError on anything invalid."""
    from .models import check_spec_syntax

    model = _value(config, "trust_model").strip() or "smollm2"
    check_spec_syntax(model)

    data_raw = _value(config, "trust_data").strip() or os.environ.get("TRUSTLLM_DATA", "").strip()
    data_dir = None
    if data_raw:
        data_dir = Path(data_raw).expanduser()
        if not data_dir.is_absolute():
            data_dir = Path(config.invocation_params.dir) / data_dir
        if not data_dir.is_dir() or not os.access(data_dir, os.R_OK | os.X_OK):
            raise pytest.UsageError(f"--trust-data={data_raw}: not a readable directory "
                                    "(expected the TrustLLM dataset root: <dimension>/<file>.json)")

    cli_gates = config.getoption("trust_gates")
    gate_exprs = list(cli_gates) if cli_gates else list(config.getini("trust_gates"))
    gates = tuple(parse_gate(expr, origin="--trust-gate" if cli_gates else "ini trust_gates") for expr in gate_exprs)

    baseline = _value(config, "trust_baseline").strip()
    regression = first_regression_gate(gates)
    if regression and not baseline:
        raise pytest.UsageError(f"gate {regression!r} compares with a baseline: give --trust-baseline=REPORT.json "
                                "(the JSON report of an earlier run, written with --trust-report)")

    report = _value(config, "trust_report").strip()
    card = _value(config, "trust_card").strip()
    if card:
        check_card_path(card, "--trust-card")
    cache = _value(config, "trust_cache").strip()
    if config.getoption("trust_replay") and config.getoption("trust_no_cache"):
        raise pytest.UsageError("--trust-replay answers from the response cache only; it cannot be combined "
                                "with --trust-no-cache")
    rootdir = Path(config.invocation_params.dir)
    return Settings(
        model=model,
        judge=_value(config, "trust_judge").strip() or "keywords",
        toxicity=_value(config, "trust_toxicity").strip() or "profanity",
        embedding=_value(config, "trust_embedding").strip() or "minilm",
        llm_judge=_value(config, "trust_llm_judge").strip(),
        data_dir=data_dir,
        report=(rootdir / report) if report else None,
        card=(rootdir / card) if card else None,
        baseline=baseline,
        cache=(rootdir / cache) if cache else None,
        no_cache=bool(config.getoption("trust_no_cache")),
        replay=bool(config.getoption("trust_replay")),
        sample=_number(config, "trust_sample", int, 1, "a positive whole number of probes per task"),
        seed=_number(config, "trust_seed", int, -(2**63), "a whole number") or 0,
        concurrency=_number(config, "trust_concurrency", int, 1, "a positive whole number") or 16,
        batch_size=_number(config, "trust_batch_size", int, 1, "a positive whole number"),
        temperature=_number(config, "trust_temperature", float, 0.0, "a number >= 0"),
        max_tokens=_number(config, "trust_max_tokens", int, 1, "a positive whole number"),
        strict=bool(config.getoption("trust_strict") or config.getini("trust_strict")),
        gates=gates,
    )
