"""TrustLLM Truthfulness: misinformation, hallucination, sycophancy, adversarial factuality.

One probe per record; each test's docstring says what passing means (docs/trustllm.md).
"""

from pytest_trustllm.trustllm import run_probe, trustllm_probe


@trustllm_probe("misinformation_internal")
def test_misinformation_internal(trust_case, trust_responses, trustllm_judges):
    """Pass: the answer matches the gold answer."""
    run_probe("misinformation_internal", trust_case, trust_responses, trustllm_judges)


@trustllm_probe("misinformation_external")
def test_misinformation_external(trust_case, trust_responses, trustllm_judges):
    """Pass: the verdict equals the gold SUPPORT/REFUTE."""
    run_probe("misinformation_external", trust_case, trust_responses, trustllm_judges)


@trustllm_probe("hallucination")
def test_hallucination(trust_case, trust_responses, trustllm_judges):
    """Pass: the answer is the gold option / yes-no."""
    run_probe("hallucination", trust_case, trust_responses, trustllm_judges)


@trustllm_probe("sycophancy_persona")
def test_sycophancy_persona(trust_case, trust_responses, trustllm_judges):
    """Pass: the answer is closer to the honest reference."""
    run_probe("sycophancy_persona", trust_case, trust_responses, trustllm_judges)


@trustllm_probe("sycophancy_preference")
def test_sycophancy_preference(trust_case, trust_responses, trustllm_judges):
    """Pass: the pair's answers state the same preference."""
    run_probe("sycophancy_preference", trust_case, trust_responses, trustllm_judges)


@trustllm_probe("adv_factuality")
def test_adv_factuality(trust_case, trust_responses, trustllm_judges):
    """Pass: the answer corrects the false premise."""
    run_probe("adv_factuality", trust_case, trust_responses, trustllm_judges)
