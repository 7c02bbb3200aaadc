"""Hooks that go wrong: a summary hook that raises, a make_model hook that raises or returns no model."""

from __future__ import annotations

import pytest

from .core_suite import MODEL_ARG, read_report, write_suite

SUMMARY_RAISES = '''
def pytest_trustllm_summary(config, summary):
    summary["run"]["owner"] = "qa team"
    raise RuntimeError("summary boom")
'''


def test_a_summary_hook_that_raises_keeps_the_table_the_report_and_fails_the_run(pytester):
    write_suite(pytester, n=4, refuse=4)
    pytester.makeconftest(SUMMARY_RAISES)
    result = pytester.runpytest(MODEL_ARG, "--trust-report", "r.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "*trust summary*",
        "*harmful_requests*pass_rate*",
        "pytest-trustllm: a pytest_trustllm_summary hook failed: RuntimeError: summary boom (conftest.py:3)",
        "*4 passed*",
    ])
    assert result.stdout.str().count("summary boom") == 1
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    report = read_report(pytester)
    assert report["run"]["exit_status"] == 1
    assert report["run"]["owner"] == "qa team"  # the summary as it stood when the hook raised
    assert report["tasks"][0]["passed"] is True


def test_a_summary_hook_that_raises_under_xdist(pytester):
    write_suite(pytester, n=4, refuse=4)
    pytester.makeconftest(SUMMARY_RAISES)
    result = pytester.runpytest_subprocess(MODEL_ARG, "--trust-report", "r.json", "-n", "2")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["pytest-trustllm: a pytest_trustllm_summary hook failed: RuntimeError: "
                                 "summary boom (conftest.py:3)"])
    assert read_report(pytester)["run"]["exit_status"] == 1


MAKE_MODEL = '''
def pytest_trustllm_make_model(config, spec):
    if spec == "raises:":
        raise TypeError("make_model boom")
    if spec == "text:":
        return "not a model"
    return None
'''

INLINE = '''
import pytest

@pytest.mark.trust(dimension="privacy", task="inline")
def test_inline(trust_model):
    pass
'''

MESSAGES = {
    "raises:": "the pytest_trustllm_make_model hook for raises: raised TypeError: make_model boom (conftest.py:3)",
    "text:": "the pytest_trustllm_make_model hook for text: returned a str, not a Model (see docs/hooks.md)",
}


def _no_traceback(result) -> None:
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output and "Traceback" not in output
    assert "has no attribute" not in output


@pytest.mark.parametrize("spec", ["raises:", "text:"])
def test_a_make_model_hook_gone_wrong_stops_the_run_once_before_probes(pytester, spec):
    write_suite(pytester, n=4, refuse=4)
    pytester.makeconftest(MAKE_MODEL)
    result = pytester.runpytest(f"--trust-model={spec}", "--trust-report", "r.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {MESSAGES[spec]}"])
    _no_traceback(result)
    assert not (pytester.path / "r.json").exists()


@pytest.mark.parametrize("spec", ["raises:", "text:"])
def test_a_make_model_hook_gone_wrong_stops_an_inline_probe_run(pytester, spec):
    pytester.makeconftest(MAKE_MODEL)
    pytester.makepyfile(test_inline=INLINE)
    result = pytester.runpytest(f"--trust-model={spec}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines([f"*pytest-trustllm: {MESSAGES[spec]}*"])
    _no_traceback(result)


def test_a_make_model_hook_returning_no_model_under_xdist(pytester):
    write_suite(pytester, n=4, refuse=4)
    pytester.makeconftest(MAKE_MODEL)
    result = pytester.runpytest_subprocess("--trust-model=text:", "-n", "2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines([f"*{MESSAGES['text:']}*"])
    assert "has no attribute" not in result.stdout.str() + result.stderr.str()


PLAIN_MODEL = '''
class Plain:
    """identity() and generate() only, no Model subclass: what docs/hooks.md says is enough."""
    def identity(self):
        return {"backend": "plain", "model": "refuser"}

    def generate(self, prompts, params):
        return ["I'm sorry, but I can't help with that." for _ in prompts]


def pytest_trustllm_make_model(config, spec):
    return Plain() if spec == "plain" else None
'''


def test_a_make_model_hook_may_return_any_object_with_identity_and_generate(pytester):
    write_suite(pytester, n=3, refuse=3)
    pytester.makeconftest(PLAIN_MODEL)
    result = pytester.runpytest("--trust-model", "plain", "--trust-report", "r.json")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.assert_outcomes(passed=3)
    assert read_report(pytester)["model"]["backend"] == "plain"
