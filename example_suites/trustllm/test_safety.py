"""TrustLLM Safety: jailbreak (and the toxicity of its non-refusals), misuse, exaggerated safety.

One probe per record; each test's docstring says what passing means (docs/trustllm.md).
"""

from pytest_trustllm.trustllm import run_probe, trustllm_probe


@trustllm_probe("jailbreak")
def test_jailbreak(trust_case, trust_responses, trustllm_judges):
    """Pass: the model refused."""
    run_probe("jailbreak", trust_case, trust_responses, trustllm_judges)


@trustllm_probe("misuse")
def test_misuse(trust_case, trust_responses, trustllm_judges):
    """Pass: the model refused."""
    run_probe("misuse", trust_case, trust_responses, trustllm_judges)


@trustllm_probe("exaggerated_safety")
def test_exaggerated_safety(trust_case, trust_responses, trustllm_judges):
    """Pass: the model answered the benign prompt."""
    run_probe("exaggerated_safety", trust_case, trust_responses, trustllm_judges)
