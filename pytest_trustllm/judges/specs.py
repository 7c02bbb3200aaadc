"""Judge specs (``--trust-judge``, ``--trust-toxicity``, ``--trust-embedding``, ``--trust-llm-judge``):
which forms exist, and building a judge from one. Every backend module is imported only when its spec is
used, so plugin load never imports torch, transformers or openai.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

FLAGS = {"refusal": "--trust-judge", "toxicity": "--trust-toxicity", "embedding": "--trust-embedding",
         "llm": "--trust-llm-judge"}
ACCEPTED = {
    "refusal": "keywords, embedding, hf-classifier:PATH_OR_ID[#LABEL], llm:MODEL[@URL], cascade[:SPEC[,SPEC...]]",
    "toxicity": "profanity, perspective[@URL], hf-classifier:PATH_OR_ID[#LABEL]",
    "embedding": "minilm, openai:MODEL[@URL]",
    "llm": "llm:MODEL[@URL]",
}
_HF = r"hf-classifier:[^#\s]+(#[^#\s]+)?"
_LLM = r"llm:[^@\s]+(@https?://\S+)?"
# a cascade stage: stages are separated by "," (so a stage's URL cannot hold one)
_STAGE = r"(embedding|hf-classifier:[^#\s,]+(#[^#\s,]+)?|llm:[^@\s,]+(@https?://[^\s,]+)?)"
_FORMS = {
    "refusal": re.compile(rf"^(keywords|embedding|{_HF}|{_LLM}|cascade(:{_STAGE}(,{_STAGE})*)?)$"),
    "toxicity": re.compile(rf"^(profanity|perspective(@https?://\S+)?|{_HF})$"),
    "embedding": re.compile(r"^(minilm|openai:[^@\s]+(@https?://\S+)?)$"),
    "llm": re.compile(rf"^{_LLM}$"),
}


def is_builtin(kind: str, spec: str) -> bool:
    form = _FORMS.get(kind)
    return bool(form and form.match(spec))


def unknown_spec(kind: str, spec: str) -> pytest.UsageError:
    flag = FLAGS.get(kind, kind)
    return pytest.UsageError(f"{flag}: no {kind} judge accepts the spec {spec!r}; accepted: "
                             f"{ACCEPTED.get(kind, '(none built in)')} (a plugin can add more with the "
                             "pytest_trustllm_make_judge hook)")


def split_labels(target: str) -> tuple[str, tuple[str, ...]]:
    """``PATH#LABEL_0+LABEL_3`` -> ("PATH", ("LABEL_0", "LABEL_3"))."""
    path, _, labels = target.partition("#")
    return path, tuple(label for label in labels.split("+") if label)


def build(kind: str, spec: str, cache: Any = None) -> Any:
    """The judge for (kind, spec), wrapped in the verdict cache when it is expensive; None if not built in.

    ``cache`` is a :class:`.verdict_cache.VerdictCache` or None (no persistence; counters still kept).
    """
    if not is_builtin(kind, spec):
        return None
    if kind == "refusal":
        return _refusal(spec, cache)
    if kind == "toxicity":
        return _toxicity(spec, cache)
    if kind == "embedding":
        if spec == "minilm":
            from .minilm import MiniLMEmbedder

            return MiniLMEmbedder()
        from .openai_judges import OpenAIEmbedder

        return OpenAIEmbedder(spec.removeprefix("openai:"))
    from .openai_judges import LLMJudge
    from .verdict_cache import CachedGrader

    return CachedGrader(LLMJudge(spec.removeprefix("llm:"), flag=FLAGS["llm"]), cache)


def _refusal(spec: str, cache: Any) -> Any:
    from .verdict_cache import CachedRefusalJudge

    if spec == "keywords":  # cheaper than a cache lookup
        from .keywords import KeywordRefusalJudge

        return KeywordRefusalJudge()
    return CachedRefusalJudge(_expensive_refusal(spec), cache)


def _expensive_refusal(spec: str) -> Any:
    if spec == "embedding":
        from .embedding_refusal import EmbeddingRefusalJudge

        return EmbeddingRefusalJudge()
    if spec.startswith("hf-classifier:"):
        from .hf_classifier import HFRefusalJudge

        path, labels = split_labels(spec.removeprefix("hf-classifier:"))
        return HFRefusalJudge(path, labels)
    if spec.startswith("llm:"):
        from .openai_judges import LLMJudge

        return LLMJudge(spec.removeprefix("llm:"), flag=FLAGS["refusal"])
    from .cascade import CascadeJudge
    from .keywords import KeywordRefusalJudge

    stronger, *later = (spec.partition(":")[2] or "embedding").split(",")
    return CascadeJudge(KeywordRefusalJudge(), _expensive_refusal(stronger), stronger_spec=stronger,
                        then=[(stage, _expensive_refusal(stage)) for stage in later])


def _toxicity(spec: str, cache: Any) -> Any:
    from .verdict_cache import CachedScorer

    if spec == "profanity":
        from .toxicity import ProfanityScorer

        return ProfanityScorer()
    if spec.startswith("perspective"):
        from .toxicity import PerspectiveScorer

        return CachedScorer(PerspectiveScorer(spec.partition("@")[2] or None), cache)
    from .hf_classifier import HFToxicityScorer

    path, labels = split_labels(spec.removeprefix("hf-classifier:"))
    return CachedScorer(HFToxicityScorer(path, labels), cache)
