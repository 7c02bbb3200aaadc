"""The quickstart suite's probe files: valid, unique, balanced, and every refusal task paired with
benign look-alikes (so a model that refuses everything cannot pass)."""

from __future__ import annotations

import ast
import json
from collections import Counter
from pathlib import Path

import jsonschema
import pytest

QUICKSTART = Path(__file__).resolve().parents[2] / "example_suites" / "quickstart"
DATA = QUICKSTART / "data"
SCHEMA = json.loads((DATA / "probe.schema.json").read_text())
DIMENSIONS = ("truthfulness", "safety", "fairness", "robustness", "privacy", "ethics")


def records(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / f"{name}.jsonl").read_text().splitlines() if line.strip()]


def probes_by_file() -> dict[str, dict]:
    """{data file stem: {"dimension": ..., "check": assertion used, "module": ...}} read from the test modules."""
    found = {}
    for module in sorted(QUICKSTART.glob("test_*.py")):
        for fn in ast.parse(module.read_text()).body:
            if not isinstance(fn, ast.FunctionDef):
                continue
            for deco in fn.decorator_list:
                if isinstance(deco, ast.Call) and getattr(deco.func, "id", "") == "probe":
                    kw = {k.arg: k.value for k in deco.keywords}
                    stem = Path(ast.literal_eval(kw["dataset"])).stem
                    calls = [n.func.id for n in ast.walk(fn) if isinstance(n, ast.Call)
                             and isinstance(n.func, ast.Name) and n.func.id.startswith("assert_")]
                    found[stem] = {"dimension": ast.literal_eval(kw["dimension"]), "check": calls[0],
                                   "threshold": ast.literal_eval(kw["threshold"]), "module": module.name}
    return found


PROBES = probes_by_file()


def test_every_data_file_is_used_by_exactly_one_probe():
    assert sorted(PROBES) == sorted(p.stem for p in DATA.glob("*.jsonl"))


@pytest.mark.parametrize("stem", sorted(PROBES))
def test_records_match_the_schema_and_have_unique_ids(stem):
    validator = jsonschema.Draft202012Validator(SCHEMA)
    rows = records(stem)
    for i, record in enumerate(rows):
        errors = list(validator.iter_errors(record))
        assert not errors, f"{stem}.jsonl record {i}: {errors[0].message}"
    assert len({r["id"] for r in rows}) == len(rows)


def test_ids_are_unique_across_files():
    ids = Counter(r["id"] for stem in PROBES for r in records(stem))
    assert [i for i, n in ids.items() if n > 1] == []


@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_each_dimension_has_at_least_15_probes_and_a_gate_on_every_task(dimension):
    stems = [s for s, p in PROBES.items() if p["dimension"] == dimension]
    assert sum(len(records(s)) for s in stems) >= 15
    assert all(0 < PROBES[s]["threshold"] <= 1 for s in stems)


def test_answer_tasks_carry_expected_answers_and_are_balanced():
    for stem, probe in PROBES.items():
        if probe["check"] != "assert_answer":
            continue
        expected = Counter(r["expected"] for r in records(stem))
        assert sum(expected.values()) == len(records(stem)), f"{stem}: a record has no expected answer"
        # No single answer wins more than 60% of a task: answering one thing always cannot pass its gate.
        assert max(expected.values()) / sum(expected.values()) <= 0.6, f"{stem}: {dict(expected)}"
        assert max(expected.values()) / sum(expected.values()) < probe["threshold"]


def test_every_refusal_task_has_benign_lookalikes_in_its_dimension():
    for dimension in ("safety", "fairness", "privacy"):
        refusals = [s for s, p in PROBES.items() if p["dimension"] == dimension and p["check"] == "assert_refusal"]
        lookalikes = [s for s, p in PROBES.items() if p["dimension"] == dimension and p["check"] == "assert_compliance"]
        assert refusals and lookalikes, dimension
        refusal_ids = {r["id"] for s in refusals for r in records(s)}
        pairs = [r["pairs_with"] for s in lookalikes for r in records(s)]
        assert pairs and set(pairs) <= refusal_ids, f"{dimension}: look-alikes pair with unknown ids"


def test_perturbation_probes_have_variants_and_secrets_appear_in_their_prompts():
    for stem, probe in PROBES.items():
        if probe["check"] == "assert_consistent":
            assert all(r["variants"] for r in records(stem))
    for record in records("pii_leakage"):
        assert all(secret in record["prompt"] for secret in record.get("secrets", ()))
