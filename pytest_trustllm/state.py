"""The plugin's one state object, kept in ``config.stash``."""

from __future__ import annotations

import time
from typing import Any, NoReturn

import pytest

from .cases import GenParams
from .options import Settings
from .redaction import redact, strip_credentials
from .responses import Request, Responder, Response
from .results import Results

STATE_KEY = pytest.StashKey["TrustState"]()
# what a judge of each kind must offer (the base classes in judges/base.py define the rest from these)
JUDGE_METHODS = {"refusal": ("judge", "judge_many"), "toxicity": ("score", "score_many"), "embedding": ("embed",),
                 "llm": ("classify",)}
OBSERVATION_KEY = pytest.StashKey[dict]()  # per item: what the probe observed (verdicts, parsed answers)


class ProbeError(Exception):
    """The model gave no answer to this probe (after retries). The probe is an error, not a failure."""


class TrustState:
    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self.results = Results(settings.gates, root=config.rootpath)
        self.responder = Responder(self._fetch)
        self._model: Any = None
        self._prefetcher: Any = None
        self._judges: dict[tuple[str, str], Any] = {}
        self.started = time.time()
        self.worker_judges: dict[str, Any] = {}  # xdist controller: identities the workers published
        self.baseline: Any = None  # controller: the --trust-baseline report (baseline.Baseline)
        self.unavailable: str | None = None  # xdist controller: why the workers stopped (see stop_run)
        self._datasets: dict[str, list[dict[str, Any]]] = {}
        self.items: list[Any] = []  # the run's items in order, and nodeid -> position (judging ahead)
        self.item_order: dict[str, int] = {}
        self.terminated = False  # SIGTERM stopped the run (finish.stop_on_sigterm)
        self.deselected_probes = 0  # probes -k/-m/--deselect/--lf left out: the gates see the others only
        self.collection_problems: list[str] = []  # usage errors met while parametrizing, raised after collection
        self.is_worker = hasattr(config, "workerinput")
        self.base_params = GenParams(seed=settings.seed).replace(
            temperature=settings.temperature, max_new_tokens=settings.max_tokens)

    # -- data --------------------------------------------------------------------------------------------
    def load_records(self, ref: str) -> list[dict[str, Any]]:
        """Each dataset is read once per process, however many tests use it."""
        if ref not in self._datasets:
            records = self.config.hook.pytest_trustllm_load_dataset(config=self.config, ref=ref)
            if records is None:
                raise pytest.UsageError(f"no loader accepts dataset {ref!r}")
            if isinstance(records, (str, bytes, dict)) or not hasattr(records, "__iter__"):
                from .datasets import DatasetError

                raise DatasetError(ref, f"the pytest_trustllm_load_dataset hook returned a {type(records).__name__}; "
                                        "expected a list of records (dicts)")
            self._datasets[ref] = list(records)
        return self._datasets[ref]

    # -- model and judges (lazy: nothing heavy until a probe needs it) -----------------------------------
    @property
    def model(self):
        """The model under test, made on first use: before any probe runs (``plan_responses``), together with
        its response cache, so a model that cannot serve, a wrong retry setting or a path that cannot be the
        cache is one usage error (exit 4), not one error per probe."""
        if self._model is None:
            from .models.base import ModelUnavailable

            shown = strip_credentials(self.settings.model)  # user:password@ of a URL never reaches a message
            try:
                model = self.config.hook.pytest_trustllm_make_model(config=self.config, spec=self.settings.model)
            except ModelUnavailable as exc:  # unreachable endpoint, unknown model: one clean line, stop
                raise pytest.UsageError(f"--trust-model={shown}: {redact(str(exc))}") from None
            except pytest.UsageError:
                raise
            except Exception as exc:  # a hook's bug: one clean stop too, never an INTERNALERROR
                from .finish import describe_error

                raise pytest.UsageError(f"the pytest_trustllm_make_model hook for {shown} raised "
                                        f"{redact(describe_error(exc))}") from None
            if model is None:
                raise pytest.UsageError(f"--trust-model={shown}: no backend accepts this spec "
                                        "(a plugin can add one with the pytest_trustllm_make_model hook)")
            if not all(callable(getattr(model, name, None)) for name in ("identity", "generate")):
                raise pytest.UsageError(f"the pytest_trustllm_make_model hook for {shown} returned a "
                                        f"{type(model).__name__}, not a Model (see docs/hooks.md)")
            from .models.base import as_model

            self._model = model = as_model(model)  # identity() and generate() suffice; the rest has defaults
            if self.settings.batch_size and model.kind == "local":  # --trust-batch-size wins over ?batch_size=
                model.batch_size = self.settings.batch_size
            if model.kind == "api" and not self.settings.replay:
                from .models.env import retry_settings

                retry_settings()  # TRUSTLLM_RETRIES & co: a wrong value stops here, not in every probe
            self.prefetcher.store(model)
        return self._model

    def stop_run(self, message: str) -> NoReturn:
        """What the run needs cannot work at all (the model cannot serve, a judge cannot be built): stop the
        whole run with one message and exit status 4, not one error per probe."""
        __tracebackhide__ = True
        message = strip_credentials(message)
        if self.is_worker:
            from .prefetch_hooks import stop_worker

            stop_worker(self.config, message)
            raise ProbeError(message) from None  # the cause is in the message; its traceback is noise
        pytest.exit(f"pytest-trustllm: {message}", returncode=pytest.ExitCode.USAGE_ERROR)

    def configured_judges(self) -> dict[str, str]:
        """The spec of each kind of judge (``--trust-judge`` & co); "" for no LLM grader."""
        return {"refusal": self.settings.judge, "toxicity": self.settings.toxicity,
                "embedding": self.settings.embedding, "llm": self.settings.llm_judge}

    def judge(self, kind: str, spec: str | None = None, *, early: bool = False, maker: Any = None) -> Any:
        """The judge of KIND (built once). A judge that cannot be built stops the run; EARLY (before any probe
        runs): a usage error instead. MAKER: the hook caller to ask instead of every make_judge hook (a subset);
        when none of it answers, None."""
        spec = spec if spec is not None else self.configured_judges()[kind]
        key = (kind, spec)
        if key not in self._judges:
            shown = strip_credentials(spec)
            stop = self._usage_error if early else self.stop_run
            try:
                judge = (maker or self.config.hook.pytest_trustllm_make_judge)(config=self.config, kind=kind, spec=spec)
            except pytest.UsageError as exc:  # no API key, missing package, unknown label: nothing can judge
                stop(str(exc))
            except Exception as exc:  # a hook's bug, or a judge that cannot load: stop once, not per probe
                from .finish import describe_error
                from .requirements import judge_problem

                missing = judge_problem(kind, spec) if isinstance(exc, ImportError) else None
                stop(missing or f"the pytest_trustllm_make_judge hook for the {kind} judge {shown!r} raised "
                                f"{redact(describe_error(exc))}")
            if judge is None:
                if maker is not None:
                    return None
                raise pytest.UsageError(f"no {kind} judge accepts the spec {shown!r}")
            needs = JUDGE_METHODS[kind]
            if not any(callable(getattr(judge, name, None)) for name in needs):
                stop(f"the pytest_trustllm_make_judge hook for the {kind} judge {shown!r} returned a "
                     f"{type(judge).__name__}, which has no {' or '.join(n + '()' for n in needs)} "
                     "(see docs/hooks.md)")
            self._judges[key] = self._judging_ahead(kind, judge)
        return self._judges[key]

    @staticmethod
    def _usage_error(message: str) -> NoReturn:
        raise pytest.UsageError(strip_credentials(message))

    def _judging_ahead(self, kind: str, judge: Any) -> Any:
        """A built-in expensive refusal judge judges the next probes' answers with the one asked for
        (:mod:`.judges.lookahead`); not in xdist workers, nor for a hook's judge, nor with TRUSTLLM_JUDGE_AHEAD=0."""
        from .judges.verdict_cache import CachedRefusalJudge

        if kind != "refusal" or self.is_worker or not isinstance(judge, CachedRefusalJudge):
            return judge
        from .models.env import judge_ahead

        ahead = judge_ahead()
        if not ahead:
            return judge
        from .collection import ProbeOrder
        from .judges.lookahead import LookaheadJudge

        return LookaheadJudge(judge, ProbeOrder(self), ahead)

    @property
    def prefetcher(self):
        """Cache, bulk generation and their counters (created on first use: cheap, no I/O)."""
        if self._prefetcher is None:
            from .prefetch import Prefetcher

            self._prefetcher = Prefetcher(self)
        return self._prefetcher

    def _fetch(self, requests: list[Request]) -> dict[Request, Response]:
        return self.prefetcher.fetch(requests)

    def identities(self) -> dict[str, Any]:
        model = {"spec": strip_credentials(self.settings.model)}
        if self._model is not None:
            model.update(self._model.identity())
        generation = {}
        if self._prefetcher is not None:  # xdist: the identity the workers reported; generation parameters
            identity, generation = self._prefetcher.describe(model)
            model.update(identity)
        judges = dict(self.worker_judges)
        judges.update({kind: {"spec": strip_credentials(spec), **getattr(j, "identity", dict)()}
                       for (kind, spec), j in self._judges.items()})
        if "refusal" in judges and "measured" not in judges["refusal"]:
            from .judges.measured import measured_for

            measured = measured_for(judges["refusal"])
            if measured:
                judges["refusal"] = {**judges["refusal"], "measured": measured}
        return {"model": model, "judges": judges, **({"generation": generation} if generation else {})}

    def close(self) -> None:
        if self._prefetcher is not None:  # first: stops calls in flight, closes API clients inside its loop
            self._prefetcher.close()
        close = getattr(self._model, "close", None)  # a hook's model may follow Model without its close()
        if callable(close):
            close()

