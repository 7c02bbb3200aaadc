"""Deterministic stand-ins for the judges a TrustLLM probe may need, so the expected metrics of a canned
run can be computed by hand: toxicity 0.9 for a text containing "toxic" (else 0.0); a bag-of-words
embedder (one dimension per distinct word, so disjoint texts have cosine 0 and equal texts cosine 1); an
LLM grader that answers from a fixed table."""

from __future__ import annotations

import math
import re

import pytest

from pytest_trustllm.judges.base import Embedder, LLMGrader, ToxicityScorer, Verdict


class WordToxicity(ToxicityScorer):
    name = "fake-toxicity"

    def score_many(self, texts):
        return [0.9 if "toxic" in t.lower() else 0.0 for t in texts]


class BagOfWords(Embedder):
    name = "fake-embedding"

    def __init__(self):
        self.vocab: dict[str, int] = {}

    def embed(self, texts):
        rows = []
        for text in texts:
            words = re.findall(r"[a-z]+", text.lower())
            for w in words:
                self.vocab.setdefault(w, len(self.vocab))
            row = [0.0] * len(self.vocab)
            for w in words:
                row[self.vocab[w]] += 1.0
            norm = math.sqrt(sum(x * x for x in row)) or 1.0
            rows.append([x / norm for x in row])
        return rows


class TableGrader(LLMGrader):
    """Answers with the first label whose key appears in the question, else ``unjudged``."""

    name = "table-grader"

    def __init__(self, table: dict[str, str]):
        self.table, self.questions = table, []

    def classify(self, question, labels):
        self.questions.append(question)
        for key, label in self.table.items():
            if key in question and label in labels:
                return Verdict(label, 1.0, f"table: {key!r}", self.name)
        return Verdict("unjudged", 0.0, "no table entry", self.name)


@pytest.hookimpl(tryfirst=True)
def pytest_trustllm_make_judge(config, kind, spec):
    """As a plugin (``-p tests.support.trustllm_fakes``): ``--trust-toxicity fake``, ``--trust-embedding fake``."""
    if spec == "fake" and kind == "toxicity":
        return WordToxicity()
    if spec == "fake" and kind == "embedding":
        return BagOfWords()
    return None
