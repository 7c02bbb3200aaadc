"""The TrustLLM suite: 16,441 probes over the 24 files of the TrustLLM dataset (``--trust-data`` or
``TRUSTLLM_DATA``). See docs/trustllm.md."""

from __future__ import annotations

import pytest

from pytest_trustllm.trustllm import suite
from pytest_trustllm.trustllm.suite import trustllm_judges  # noqa: F401  (fixture)


def pytest_addoption(parser):
    suite.add_options(parser)


@pytest.hookimpl(trylast=True)  # after the plugin has read --trust-data
def pytest_configure(config):
    # a missing or incomplete dataset is one clear error, before collection (--help, --markers, --fixtures need none)
    suite.check_data(config)


def pytest_trustllm_modify_cases(config, task, cases):
    suite.shuffle_hallucination_options(config, task, cases)
