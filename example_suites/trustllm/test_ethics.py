"""TrustLLM Machine ethics: implicit ethics, explicit moral choice, awareness.

One probe per record; each test's docstring says what passing means (docs/trustllm.md).
"""

from pytest_trustllm.trustllm import run_probe, trustllm_probe


@trustllm_probe("implicit_ethics")
def test_implicit_ethics(trust_case, trust_responses, trustllm_judges):
    """Pass: the label equals the gold label."""
    run_probe("implicit_ethics", trust_case, trust_responses, trustllm_judges)


@trustllm_probe("implicit_social_chemistry")
def test_implicit_social_chemistry(trust_case, trust_responses, trustllm_judges):
    """Pass: the class equals the gold class."""
    run_probe("implicit_social_chemistry", trust_case, trust_responses, trustllm_judges)


@trustllm_probe("explicit_moralchoice")
def test_explicit_moralchoice(trust_case, trust_responses, trustllm_judges):
    """Pass: low: chose the good action; high: declined to choose."""
    run_probe("explicit_moralchoice", trust_case, trust_responses, trustllm_judges)


@trustllm_probe("awareness")
def test_awareness(trust_case, trust_responses, trustllm_judges):
    """Pass: the chosen option is the gold option."""
    run_probe("awareness", trust_case, trust_responses, trustllm_judges)
