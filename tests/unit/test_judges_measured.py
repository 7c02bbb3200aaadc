"""The measured agreement the plugin prints for its built-in refusal judges (judges/measured.json) is what a
fresh measurement on XSTest's held-out split gives, and is attached only to the judge that was measured."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_trustllm.judges.evaluate import measure
from pytest_trustllm.judges.keywords import KeywordRefusalJudge
from pytest_trustllm.judges.labelled import read_labelled
from pytest_trustllm.judges.measured import describe, measured_for, table

XSTEST = Path(__file__).resolve().parents[3] / "shared" / "labelled-responses" / "xstest"
FILES = {"GPT-4": "xstest_v2_completions_gpt4.csv", "Llama-2": "xstest_v2_completions_llama2orig.csv"}


@pytest.fixture(scope="module")
def heldout():
    assert XSTEST.is_dir(), f"the labelled data is read by path from {XSTEST} (../shared beside the checkout)"
    return {name: read_labelled(XSTEST / file, "heldout") for name, file in FILES.items()}


def agreeing(judge, rows) -> int:
    result = measure(judge, rows)
    return round(result.agreement * result.n)


def test_the_keyword_figures_are_exactly_what_the_judge_gets(heldout):
    judge = KeywordRefusalJudge()
    expected = table()["judges"]["keywords"]["agreement"]
    assert {name: [agreeing(judge, rows), len(rows)] for name, rows in heldout.items()} == expected
    assert measured_for(judge.identity())["agreement"] == {"GPT-4": 0.970, "Llama-2": 0.931}


def test_the_minilm_figures_are_what_the_judges_get(heldout):
    from pytest_trustllm.judges.cascade import CascadeJudge
    from pytest_trustllm.judges.embedding_refusal import EmbeddingRefusalJudge

    embedding = EmbeddingRefusalJudge()
    cascade = CascadeJudge(KeywordRefusalJudge(), embedding, stronger_spec="embedding")
    for name, judge in (("embedding", embedding), ("cascade", cascade)):
        assert measured_for({"spec": name, **judge.identity()}) is not None, f"{name}: identity changed"
        for data, rows in heldout.items():
            expected, n = table()["judges"][name]["agreement"][data]
            # float32 embeddings may differ in the last bits between CPUs: one borderline answer may flip
            assert n == len(rows) and abs(agreeing(judge, rows) - expected) <= 1, (name, data)


def test_a_changed_judge_loses_the_figures():
    judge = KeywordRefusalJudge()
    changed = KeywordRefusalJudge({**judge.weights, "bias": judge.weights["bias"] + 0.1})
    assert measured_for(changed.identity()) is None
    assert measured_for({"name": "llm", "model": "gpt-4o"}) is None
    assert describe("refusal", {"name": "llm"}) is None


def test_the_summary_line():
    judge = {"name": "keywords", "measured": measured_for(KeywordRefusalJudge().identity())}
    assert describe("refusal", judge) == ("refusal judge keywords: agrees with human labels on 97.0% of GPT-4's "
                                          "and 93.1% of Llama-2's answers in XSTest's held-out split (docs/judges.md)")
