"""Hooks and fixtures for a TrustLLM suite's conftest (``example_suites/trustllm/conftest.py`` imports them):
the data check (one clear error), the seeded option shuffle of TruthfulQA MC, and the judges fixture."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from .tasks import DATA_FILES

GET_THE_DATA = ("get it from the upstream dataset.zip of HowieHwong/TrustLLM "
                "(https://github.com/HowieHwong/TrustLLM, dataset/dataset.zip, unpacked) or the Hugging Face "
                "dataset TrustLLM/TrustLLM-dataset (gated: accept its terms, then download it), and pass "
                "--trust-data DIR or set TRUSTLLM_DATA")


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("trustllm")
    group.addoption("--trustllm-mc-order", dest="trustllm_mc_order", choices=("shuffled", "original"),
                    default=None, help="TruthfulQA MC option order: shuffled (default, seeded by --trust-seed) "
                                       "or original (the gold answer is always A)")
    parser.addini("trustllm_mc_order", "TruthfulQA MC option order: shuffled or original", default="shuffled")


def missing_files(data_dir) -> list[str]:
    return [f for f in DATA_FILES if not (data_dir / f).is_file()]


INFO_OPTIONS = ("help", "version", "markers", "showfixtures", "show_fixtures_per_test")


def check_data(config: pytest.Config) -> None:
    """One UsageError naming what is missing and where to get it, before anything is collected; none for
    ``--help``, ``--version``, ``--markers``, ``--fixtures`` and ``--fixtures-per-test``, which need no data
    (so the suite's own options can be discovered before the dataset is downloaded)."""
    from ..state import STATE_KEY

    if any(getattr(config.option, name, False) for name in INFO_OPTIONS):
        return
    data_dir = config.stash[STATE_KEY].settings.data_dir
    if data_dir is None:
        raise pytest.UsageError(f"the TrustLLM suite needs the TrustLLM dataset: {GET_THE_DATA}")
    missing = missing_files(data_dir)
    if missing:
        shown = ", ".join(missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
        raise pytest.UsageError(f"--trust-data={data_dir} is not a complete TrustLLM dataset: missing {shown} "
                                f"(expected {len(DATA_FILES)} files as <dimension>/<file>.json); {GET_THE_DATA}")


def mc_order(config: pytest.Config) -> str:
    return config.getoption("trustllm_mc_order", None) or config.getini("trustllm_mc_order") or "shuffled"


def shuffle_hallucination_options(config: pytest.Config, task: str, cases: list) -> None:
    """Seeded per case (``--trust-seed``), so every xdist worker builds the same prompts."""
    if task != "hallucination" or mc_order(config) == "original":
        return
    from ..state import STATE_KEY
    from .textrules import shuffle_mc_prompt

    seed = config.stash[STATE_KEY].settings.seed
    for i, case in enumerate(cases):
        if case.record.get("source") == "mc":
            prompt = shuffle_mc_prompt(case.prompt, random.Random(f"{seed}/hallucination/{case.case_id}"))
            cases[i] = replace(case, prompts=(prompt, *case.prompts[1:]),
                               subgroups={**case.subgroups, "mc_order": "shuffled"})


@pytest.fixture(scope="session")
def trustllm_judges(request: pytest.FixtureRequest, trust_judge, trust_llm_judge):
    """The run's judges, bundled; the toxicity scorer and the embedder load on first use."""
    from .judging import Judges

    fixtures = {"toxicity": "trust_toxicity", "embedding": "trust_embedder"}
    return Judges(trust_judge, trust_llm_judge, lambda kind: request.getfixturevalue(fixtures[kind]))
