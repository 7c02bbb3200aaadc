"""Command-line options, their ini twins, and the frozen Settings object they resolve into."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .gates import Gate, check_dimension_gates, first_regression_gate, parse_gate
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
    ("--trust-sample", "trust_sample", "int", "", "run N probes per task, chosen with --trust-seed"),
    ("--trust-seed", "trust_seed", "int", "0", "seed for sampling and generation (default 0)"),
    ("--trust-concurrency", "trust_concurrency", "int", "16", "requests in flight for API models (default 16)"),
    ("--trust-batch-size", "trust_batch_size", "int", "", "batch size for local models (default: backend's)"),
    ("--trust-temperature", "trust_temperature", "float", "", "override every task's temperature"),
    ("--trust-max-tokens", "trust_max_tokens", "int", "", "override every task's max new tokens"),
]
_FLAG_OPTIONS = [
    ("--trust-no-cache", "", "do not read or write the response cache"),
    ("--trust-replay", "", "never call the model: answer from the cache only; a miss is an error"),
    ("--trust-strict", "trust_strict", "every failing probe fails the run too (plain pytest behaviour), on top of "
                                       "the gates: a failed gate still fails it"),
]


def value_option_names() -> list[str]:
    """The options that take a value (``--trust-cache PATH`` & co)."""
    return [option for option, *_ in _VALUE_OPTIONS]


def _ini_type(kind: str):
    """How an ini key of KIND ("string", "int", "float", "bool") is registered. pytest 9's native ``[tool.pytest]``
    table keeps TOML's types and checks them against the registered one, so ``trust_sample = 1`` needs a number
    type there. From pytest 9.2 a union takes both: text first, so an ini file's value reaches :func:`_number`
    as written (its message quotes it), then the TOML number or boolean. Older pytest reads ini values as
    text, and its native table takes what it is registered as: a string, as before."""
    if kind == "string":
        return kind
    if pytest.version_tuple >= (9, 2):
        return str | {"int": int, "float": float, "bool": bool}[kind]
    return "bool" if kind == "bool" else "string"


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("trustllm", "trustworthiness of LLMs (pytest-trustllm)")
    for opt, ini, ini_type, default, help_text in _VALUE_OPTIONS:
        group.addoption(opt, dest=ini, default=None, metavar=ini.removeprefix("trust_").upper(), help=help_text)
        parser.addini(ini, help_text, type=_ini_type(ini_type), default=default)
    group.addoption("--trust-gate", dest="trust_gates", action="append", default=None, metavar="EXPR",
                    help="gate, repeatable: DIM[/TASK][.METRIC] OP NUMBER, e.g. 'safety/jailbreak.rta>=0.9'; "
                         "prefix 'ci:' to require the 95%% interval bound to clear it; 'OP baseline-0.02' "
                         "compares with --trust-baseline")
    parser.addini("trust_gates", "gates, one per line (see --trust-gate)", type="linelist", default=[])
    for opt, ini, help_text in _FLAG_OPTIONS:
        dest = ini or opt.removeprefix("--").replace("-", "_")
        group.addoption(opt, dest=dest, action="store_true", default=None, help=help_text)
        if ini:
            parser.addini(ini, help_text, type=_ini_type("bool"), default=False)


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
    baseline_dir: Path = Path()  # what a relative ``baseline`` is relative to (an ini value: the ini's folder)
    baseline_flag: str = "--trust-baseline"  # where ``baseline`` came from, for messages (or "ini trust_baseline")


def _value(config: pytest.Config, name: str) -> str:
    cli = config.getoption(name)
    return str(cli) if cli is not None else str(config.getini(name) or "")


def default_of(name: str) -> str:
    """The default of the option whose ini twin is NAME (``trust_judge`` -> ``keywords``)."""
    return next(default for _, ini, _, default, _ in _VALUE_OPTIONS if ini == name)


def _spec(config: pytest.Config, name: str) -> str:
    """A judge spec: the default when not given; given but empty (``--trust-judge=``) is a mistake, not the
    default."""
    default = default_of(name)
    cli = config.getoption(name)
    if cli is not None and not str(cli).strip():
        raise pytest.UsageError(f"--{name.replace('_', '-')}= is empty: give a spec (the default is {default!r})")
    return _value(config, name).strip() or default


def _source(config: pytest.Config, name: str) -> tuple[str, Path, str]:
    """NAME's text, the folder a relative path in it is relative to, and how a message names it. As for
    pytest's own options: a command-line value is relative to the current directory, an ini value to the
    ini file's folder."""
    cli = config.getoption(name)
    if cli is not None:
        return str(cli).strip(), Path(config.invocation_params.dir), "--" + name.replace("_", "-")
    base = config.inipath.parent if config.inipath is not None else Path(config.invocation_params.dir)
    value = config.getini(name)  # a number from the ini file may be 0: it is given, not empty
    return ("" if value is None else str(value)).strip(), base, f"ini {name}"


def _path(raw: str, base: Path) -> Path | None:
    if not raw:
        return None
    path = Path(raw).expanduser()
    return path if path.is_absolute() else base / path


def _check_writable(path: Path | None, raw: str, flag: str) -> None:
    """A usage error, before the run, for an output file that cannot be written at the end of it: the path is a
    folder, or the nearest existing folder above it is not writable (missing folders are created)."""
    if path is None:
        return
    if path.is_dir():
        raise pytest.UsageError(f"{flag}={raw}: is a folder; give a file path, e.g. {Path(raw) / 'trust.json'}")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise pytest.UsageError(f"{flag}={raw}: cannot be written: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise pytest.UsageError(f"{flag}={raw}: cannot be written: the folder {folder} is not writable")


def _number(config: pytest.Config, name: str, kind: type, minimum: float, what: str):
    raw, _, flag = _source(config, name)
    if raw == "":
        return None
    try:
        number = kind(raw)
    except ValueError:
        number = None
    if number is None or not math.isfinite(number) or number < minimum:  # nan and inf are not settings
        raise pytest.UsageError(f"{flag}={raw!r}: expected {what}")
    return number


def _flag(config: pytest.Config, name: str) -> bool:
    """An ini switch: true/false in TOML; in an ini file, or as a TOML string, a word pytest reads as one."""
    value = config.getini(name)
    if isinstance(value, bool):
        return value
    words = {**dict.fromkeys(("y", "yes", "t", "true", "on", "1"), True),
             **dict.fromkeys(("n", "no", "f", "false", "off", "0"), False)}
    text = str(value).strip().lower()
    if text not in words:
        raise pytest.UsageError(f"ini {name}={value!r}: expected true or false")
    return words[text]


def resolve(config: pytest.Config) -> Settings:
    """Read options and ini values once; raise pytest.UsageError on anything invalid."""
    from .models import check_spec_syntax

    model = _value(config, "trust_model").strip() or "smollm2"
    check_spec_syntax(model)

    data_raw, data_base, data_flag = _source(config, "trust_data")
    if not data_raw and os.environ.get("TRUSTLLM_DATA", "").strip():
        data_raw, data_base, data_flag = (os.environ["TRUSTLLM_DATA"].strip(), Path(config.invocation_params.dir),
                                          "TRUSTLLM_DATA")
    data_dir = _path(data_raw, data_base)
    if data_dir is not None and (not data_dir.is_dir() or not os.access(data_dir, os.R_OK | os.X_OK)):
        raise pytest.UsageError(f"{data_flag}={data_raw}: not a readable directory "
                                "(expected the TrustLLM dataset root: <dimension>/<file>.json)")

    cli_gates = config.getoption("trust_gates")
    gate_exprs = list(cli_gates) if cli_gates else list(config.getini("trust_gates"))
    gates = tuple(parse_gate(expr, origin="--trust-gate" if cli_gates else "ini trust_gates") for expr in gate_exprs)
    check_dimension_gates(gates)  # gates on tasks: once they are collected (plugin.pytest_collection_modifyitems)

    baseline, baseline_dir, baseline_flag = _source(config, "trust_baseline")
    regression = first_regression_gate(gates)
    if regression and not baseline:
        raise pytest.UsageError(f"gate {regression!r} compares with a baseline: give --trust-baseline=REPORT.json "
                                "(the JSON report of an earlier run, written with --trust-report)")

    report, report_dir, report_flag = _source(config, "trust_report")
    card, card_dir, card_flag = _source(config, "trust_card")
    if card:
        check_card_path(card, card_flag)
    for raw, base, flag in ((report, report_dir, report_flag), (card, card_dir, card_flag)):
        _check_writable(_path(raw, base), raw, flag)
    cache, cache_dir, _ = _source(config, "trust_cache")
    if config.getoption("trust_replay") and config.getoption("trust_no_cache"):
        raise pytest.UsageError("--trust-replay answers from the response cache only; it cannot be combined "
                                "with --trust-no-cache")
    return Settings(
        model=model,
        judge=_spec(config, "trust_judge"),
        toxicity=_spec(config, "trust_toxicity"),
        embedding=_spec(config, "trust_embedding"),
        llm_judge=_value(config, "trust_llm_judge").strip(),
        data_dir=data_dir,
        report=_path(report, report_dir),
        card=_path(card, card_dir),
        baseline=baseline,
        cache=_path(cache, cache_dir),
        no_cache=bool(config.getoption("trust_no_cache")),
        replay=bool(config.getoption("trust_replay")),
        sample=_number(config, "trust_sample", int, 1, "a positive whole number of probes per task"),
        seed=_number(config, "trust_seed", int, -(2**63), "a whole number") or 0,
        concurrency=_number(config, "trust_concurrency", int, 1, "a positive whole number") or 16,
        batch_size=_number(config, "trust_batch_size", int, 1, "a positive whole number"),
        temperature=_number(config, "trust_temperature", float, 0.0, "a number >= 0"),
        max_tokens=_number(config, "trust_max_tokens", int, 1, "a positive whole number"),
        strict=bool(config.getoption("trust_strict")) or _flag(config, "trust_strict"),
        gates=gates,
        baseline_dir=baseline_dir,
        baseline_flag=baseline_flag,
    )
