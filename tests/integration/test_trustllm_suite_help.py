"""``pytest example_suites/trustllm --help`` (and ``--markers``, ``--fixtures``) work before the TrustLLM
dataset is downloaded, so the suite's own options can be discovered; a run still needs the data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

SUITE = Path(__file__).resolve().parents[2] / "example_suites" / "trustllm"


@pytest.fixture
def suite(pytester, monkeypatch):
    """The suite copied into the pytester directory, with no dataset configured."""
    monkeypatch.delenv("TRUSTLLM_DATA", raising=False)
    for path in SUITE.iterdir():
        if path.suffix in (".py", ".ini"):
            shutil.copy(path, pytester.path / path.name)
    return pytester


def test_help_lists_the_suites_options_without_the_dataset(suite):
    result = suite.runpytest("--help", "-p", "no:cacheprovider")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["  --trustllm-mc-order={shuffled,original}", "*TruthfulQA MC option order: *"])
    assert "needs the TrustLLM dataset" not in result.stdout.str() + result.stderr.str()


def test_markers_work_without_the_dataset(suite):
    result = suite.runpytest("--markers", "-p", "no:cacheprovider")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["@pytest.mark.trust(dimension, task, **options): a trust probe of DIMENSION/TASK*"])
    assert "needs the TrustLLM dataset" not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize("option", ["--fixtures", "--fixtures-per-test"])
def test_fixtures_are_listed_without_the_dataset(suite, option):
    result = suite.runpytest(option, "-p", "no:cacheprovider")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["trustllm_judges*", "*The run's judges, bundled*"])
    assert "error" not in result.stdout.str().lower() and not result.stderr.str().strip()


def test_a_run_still_needs_the_dataset(suite):
    result = suite.runpytest("--collect-only", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: the TrustLLM suite needs the TrustLLM dataset: get it from the upstream "
                                 "dataset.zip of HowieHwong/TrustLLM *"])
