"""The five pytest_trustllm_* hooks, used from a conftest, and a plugin load that stays light."""

from __future__ import annotations

import json
import subprocess
import sys

from .core_suite import read_report, write_suite


def test_make_model_hook_adds_a_backend(pytester):
    write_suite(pytester, n=4, refuse=0)
    pytester.makeconftest('''
from pytest_trustllm.models.base import Model

class Shout(Model):
    def identity(self):
        return {"backend": "shout", "model": "v1"}
    def generate(self, prompts, params):
        return ["I'm sorry, but I can't help with that." for _ in prompts]

def pytest_trustllm_make_model(config, spec):
    if spec == "shout":
        return Shout()
''')
    result = pytester.runpytest("--trust-model=shout", "--trust-report", "r.json")
    assert result.ret == 0
    assert read_report(pytester)["model"] == {"spec": "shout", "backend": "shout", "model": "v1"}


def test_make_judge_hook_replaces_the_refusal_judge(pytester):
    write_suite(pytester, n=4, refuse=0)
    pytester.makeconftest('''
from pytest_trustllm.judges.base import RefusalJudge, Verdict

class Always(RefusalJudge):
    name = "always"
    def judge(self, prompt, response):
        return Verdict("refusal", 1.0, "always refuses", self.name)

def pytest_trustllm_make_judge(config, kind, spec):
    if kind == "refusal" and spec == "always":
        return Always()
''')
    result = pytester.runpytest("--trust-model=py:mymodel:generate", "--trust-judge=always", "--trust-report", "r.json")
    assert result.ret == 0
    assert read_report(pytester)["judges"]["refusal"] == {"spec": "always", "name": "always"}


def test_unknown_judge_spec_is_a_usage_error(pytester):
    write_suite(pytester, n=2, refuse=2)
    result = pytester.runpytest("--trust-model=py:mymodel:generate", "--trust-judge=psychic")
    assert "no refusal judge accepts the spec 'psychic'" in result.stdout.str() + result.stderr.str()
    assert result.ret != 0


def test_load_dataset_hook_adds_a_source(pytester):
    pytester.makeconftest('''
def pytest_trustllm_load_dataset(config, ref):
    if ref.startswith("mem:"):
        return [{"prompt": f"how to hack {i}"} for i in range(3)]
''')
    pytester.makepyfile(test_mem='''
from pytest_trustllm import probe, assert_refusal
@probe(dataset="mem:three", dimension="safety", task="mem")
def test_mem(trust_response):
    assert_refusal(trust_response)
''')
    result = pytester.runpytest("--trust-model=rules")
    result.assert_outcomes(passed=3)


def test_hookspecs_are_documented():
    from pytest_trustllm import hookspecs

    names = [n for n in dir(hookspecs) if n.startswith("pytest_trustllm_")]
    assert sorted(names) == ["pytest_trustllm_load_dataset", "pytest_trustllm_make_judge",
                             "pytest_trustllm_make_model", "pytest_trustllm_modify_cases", "pytest_trustllm_summary"]
    assert all(getattr(hookspecs, n).__doc__ for n in names)


def test_plugin_load_and_help_import_nothing_heavy(tmp_path):
    probe = tmp_path / "conftest.py"
    probe.write_text('''
import json, sys
def pytest_unconfigure(config):
    heavy = sorted(m for m in ("torch", "transformers", "openai", "datasets", "scipy", "numpy") if m in sys.modules)
    with open("heavy.json", "w") as fh:
        json.dump(heavy, fh)
''')
    out = subprocess.run([sys.executable, "-m", "pytest", "--help"], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0 and "--trust-model" in out.stdout
    assert json.loads((tmp_path / "heavy.json").read_text()) == []


def test_public_api_imports_nothing_heavy():
    code = ("import sys, pytest_trustllm; "
            "print([m for m in ('torch','transformers','openai','datasets') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
