"""Judge specs (``--trust-judge``, ``--trust-toxicity``, ``--trust-embedding``, ``--trust-llm-judge``):
which forms exist, and building a judge from one. Every backend module is imported only when its spec is
used, so plugin load never imports torch, transformers or openai.
"""

from __future__ import annotations

import re
from pathlib import Path
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


def unknown_spec(kind: str, spec: str, *, flag: str | None = None) -> pytest.UsageError:
    """The error for a spec no built-in judge accepts. FLAG: the option that gave it, when it is not the
    plugin's (e.g. ``--judge`` of ``python -m pytest_trustllm.judges.evaluate``, where no plugin applies)."""
    hook = "" if flag else " (a plugin can add more with the pytest_trustllm_make_judge hook)"
    from ..redaction import strip_credentials

    return pytest.UsageError(f"{flag or FLAGS.get(kind, kind)}: no {kind} judge accepts the spec "
                             f"{strip_credentials(spec)!r}; "
                             f"accepted: {ACCEPTED.get(kind, '(none built in)')}{hook}")


def split_labels(target: str) -> tuple[str, tuple[str, ...]]:
    """``PATH#LABEL_0+LABEL_3`` -> ("PATH", ("LABEL_0", "LABEL_3"))."""
    path, _, labels = target.partition("#")
    return path, tuple(label for label in labels.split("+") if label)


_PATH_LIKE = ("/", "./", "../", "~", ".\\")


def check_local_paths(kind: str, spec: str) -> None:
    """A UsageError when an ``hf-classifier:`` spec (or cascade stage) names a local folder that is not
    there: a path-like target (``/``, ``./``, ``../``, ``~``) is never a hub id, and transformers would
    only say "Repo id must use alphanumeric chars". Cheap (no import): callable before collection."""
    stages = spec.partition(":")[2].split(",") if spec.startswith("cascade:") else [spec]
    for stage in stages:
        if not stage.startswith("hf-classifier:"):
            continue
        path = split_labels(stage.removeprefix("hf-classifier:"))[0]
        local = Path(path).expanduser()
        if path.startswith(_PATH_LIKE) and not local.is_dir():
            what = "not a directory" if local.exists() else "no such directory"
            raise pytest.UsageError(f"{FLAGS.get(kind, kind)}={spec}: cannot load a text-classification model "
                                    f"({what}: {path}; a local model folder, or for a Hugging Face hub model "
                                    "its id, e.g. hf-classifier:LibrAI/longformer-harmful-ro)")


def build(kind: str, spec: str, cache: Any = None) -> Any:
    """The judge for (kind, spec), wrapped in the verdict cache when it is expensive; None if not built in.

    ``cache`` is a :class:`.verdict_cache.VerdictCache` or None (no persistence; counters still kept).
    """
    if not is_builtin(kind, spec):
        return None
    check_local_paths(kind, spec)
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
