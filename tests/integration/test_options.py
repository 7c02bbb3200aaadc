"""Bad configuration is one clean line (pytest.UsageError) saying what is wrong and what is accepted."""

from __future__ import annotations

import pytest

from .core_suite import MODEL_ARG, write_suite


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--trust-model", "gpt 4"], "--trust-model='gpt 4' is not a model spec; accepted: smollm2, rules, hf:PATH_OR_ID"),
        (["--trust-model", "py:nomodule"], "--trust-model=py:nomodule: expected py:MODULE:FUNCTION, e.g. py:mymodels:generate"),
        (["--trust-gate", "safety>>0.9"], "--trust-gate 'safety>>0.9': malformed gate; expected [ci:]DIMENSION[/TASK][.METRIC] OP (NUMBER | baseline[+-NUMBER])"),
        (["--trust-gate", "safety/jailbreak.rta>=high"], "--trust-gate 'safety/jailbreak.rta>=high': malformed gate"),
        (["--trust-sample", "-3"], "--trust-sample='-3': expected a positive whole number of probes per task"),
        (["--trust-sample", "five"], "--trust-sample='five': expected a positive whole number"),
        (["--trust-concurrency", "0"], "--trust-concurrency='0': expected a positive whole number"),
        (["--trust-temperature", "-1"], "--trust-temperature='-1': expected a number >= 0"),
        (["--trust-temperature", "nan"], "--trust-temperature='nan': expected a number >= 0"),
        (["--trust-temperature", "inf"], "--trust-temperature='inf': expected a number >= 0"),
        (["--trust-judge="], "--trust-judge= is empty: give a spec (the default is 'keywords')"),
        (["--trust-toxicity", ""], "--trust-toxicity= is empty: give a spec (the default is 'profanity')"),
        (["--trust-data", "does/not/exist"], "--trust-data=does/not/exist: not a readable directory (expected the TrustLLM dataset root"),
    ],
)
def test_bad_option_is_one_clean_usage_error(pytester, args, message):
    write_suite(pytester, n=2, refuse=2)
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"ERROR: {message}" in result.stderr.str()
    assert "Traceback" not in result.stderr.str()


@pytest.mark.parametrize(("spec", "message"), [
    ("py:nosuchmodule:generate", "cannot import module 'nosuchmodule'"),
    ("py:mymodel:nothere", "module 'mymodel' has no attribute 'nothere'"),
    ("bedrock:claude", "--trust-model=bedrock:claude: no backend accepts this spec"),
])
def test_model_that_cannot_be_made_stops_before_any_probe_runs(pytester, spec, message):
    write_suite(pytester, n=2, refuse=2)
    result = pytester.runpytest("--trust-model", spec)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()
    result.assert_outcomes()  # nothing ran


def test_collect_only_does_not_load_the_model(pytester):
    write_suite(pytester, n=2, refuse=2)
    assert pytester.runpytest("--trust-model", "bedrock:claude", "--collect-only").ret == 0


def test_ini_twins_and_cli_wins(pytester):
    write_suite(pytester, n=20, refuse=17)
    pytester.makeini("""
[pytest]
trust_model = py:mymodel:generate
trust_gates =
    safety/harmful_requests>=0.8
""")
    assert pytester.runpytest().ret == 0
    assert pytester.runpytest("--trust-gate", "safety/harmful_requests>=0.9").ret == 1


def test_bad_ini_gate_names_its_origin(pytester):
    write_suite(pytester, n=2, refuse=2)
    pytester.makeini("[pytest]\ntrust_gates =\n    safety=0.9\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: ini trust_gates 'safety=0.9': malformed gate*"])


def test_trustllm_data_env_var(pytester, monkeypatch, tmp_path):
    write_suite(pytester, n=2, refuse=2)
    monkeypatch.setenv("TRUSTLLM_DATA", str(tmp_path / "nope"))
    result = pytester.runpytest("--trust-model=py:mymodel:generate")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*not a readable directory*"])


def test_help_lists_the_option_group(pytester):
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["trustworthiness of LLMs (pytest-trustllm):", "*--trust-model=MODEL*",
                                 "*--trust-gate=EXPR*", "*--trust-replay*", "*--trust-strict*"])
    result.stdout.fnmatch_lines(["*trust_gates (linelist)*"])


def test_an_output_path_that_cannot_be_written_is_a_usage_error_before_the_run(pytester, monkeypatch):
    import importlib
    import os

    options = importlib.import_module("pytest_trustllm.options")
    write_suite(pytester, n=2, refuse=2)
    (pytester.path / "out").mkdir()
    result = pytester.runpytest(MODEL_ARG, "--trust-report=out")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --trust-report=out: is a folder; give a file path, e.g. out/trust.json"])
    assert "passed" not in result.stdout.str()  # nothing ran

    readonly = str(pytester.path / "ro")
    (pytester.path / "ro").mkdir()
    real_access = os.access
    monkeypatch.setattr(options.os, "access", lambda path, mode: False if str(path) == readonly else real_access(path, mode))
    result = pytester.runpytest(MODEL_ARG, f"--trust-card={readonly}/new/card.md")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: --trust-card={readonly}/new/card.md: cannot be written: the folder {readonly} "
                                 "is not writable"])
    assert pytester.runpytest(MODEL_ARG, "--trust-report=new/folder/r.json").ret == pytest.ExitCode.OK  # folders made


def test_a_wrong_judge_ahead_setting_stops_before_any_probe(pytester, monkeypatch):
    write_suite(pytester, n=2, refuse=2)
    monkeypatch.setenv("TRUSTLLM_JUDGE_AHEAD", "many")
    result = pytester.runpytest(MODEL_ARG)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: TRUSTLLM_JUDGE_AHEAD='many': expected a whole number >= 0"])
