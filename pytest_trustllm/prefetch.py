"""Bulk generation of planned requests, through the response cache.

One process (no xdist): the first probe that needs an answer triggers one fetch of every planned prompt
without an answer: cache first, then the model, concurrently for API models (``--trust-concurrency``
in flight, halved on 429 and raised back as calls succeed) and in length-sorted batches for local ones.

xdist: every worker collects every item but runs only some, and does not know in advance which. So a worker
fetches in *windows*: the request a probe waits for plus the next planned ones (``WINDOW_PER_SLOT`` per
concurrency slot or batch). Workers share the SQLite store and *claim* a window's requests before sending
them; a request another worker claimed is not sent again: the worker waits for its answer (or error) in the
store. A worker that dies stops beating and its claims are taken over. Without a persistent cache
(``--trust-no-cache``) the workers share a scratch store for the run. See docs/models.md.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from .cache import CacheUnusable, ResponseCache, default_path, is_corrupt
from .fetch_run import FetchStats, Heartbeat, progress_for, run_api, run_batches
from .models.base import ModelUnavailable, answer_text, is_cut
from .redaction import strip_credentials
from .responses import Request, Response

WINDOW_PER_SLOT = 4
UNAVAILABLE = "model unavailable: "  # prefix of a claim's error: other workers stop too
REPLAY_MISS = "no cached answer for this prompt (--trust-replay never calls the model); run once without " \
              "--trust-replay to fetch it"


EMPTY_CUT = "the answer was cut at the token limit before any text; raise --trust-max-tokens"


def scratch_path(run_id: str) -> Path:
    """The store xdist workers share for one run when there is no persistent cache."""
    return Path(tempfile.gettempdir()) / f"pytest-trustllm-run-{run_id}.sqlite3"


def uses_cache(model) -> bool:
    cacheable = getattr(model, "cacheable", None)
    return cacheable if cacheable is not None else getattr(model, "kind", "inline") in ("api", "local")


class Prefetcher:
    """Per process: answers requests from the store or the model; lives in ``state.prefetcher``."""

    def __init__(self, state) -> None:
        self.state = state
        self.settings = state.settings
        workerinput = getattr(state.config, "workerinput", None)
        self.run_id = workerinput.get("testrunuid") if workerinput else None
        self.owner = workerinput.get("workerid", "worker") if workerinput else "main"
        # answers stored after the run started come from other workers of this run, not from the cache
        self.started = (workerinput or {}).get("trustllm_started") or getattr(state, "started", 0.0)
        self.stats = FetchStats()
        self._store: ResponseCache | None = None
        self._store_ready = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self.remote_identity: dict | None = None
        # (prompt, sample) -> the settings the cache answered it with before this run (read once, on a miss)
        self._stored_before: dict[tuple[str, int], list] = {}
        self._claims_failed = False  # xdist: the cache could not record a claim (said once)
        self._damaged = False  # the cache file went bad during the run: answers without it (said once)

    # -- the store -----------------------------------------------------------------------------------------
    def cache_path(self) -> Path | None:
        if self.settings.no_cache:
            return None
        return self.settings.cache or default_path(self.state.config)

    def store(self, model) -> ResponseCache | None:
        """The persistent cache, a scratch store shared by xdist workers, or None. Opened once, before the first
        probe runs (``TrustState.model``): a path that cannot be the cache is one usage error, not one per probe."""
        if not self._store_ready:
            path = self.cache_path() if uses_cache(model) else None
            if path is None and self.coordinating(model):
                path = scratch_path(self.run_id)
            if path is not None:
                try:
                    self._store, warning = ResponseCache.open_or_reset(path)
                except CacheUnusable as exc:
                    raise pytest.UsageError(str(exc)) from None
                if warning:
                    warnings.warn(pytest.PytestWarning(warning), stacklevel=2)
            self._store_ready = True
        return self._store

    def coordinating(self, model) -> bool:
        """xdist workers share expensive work through claims; cheap inline models are simply re-run."""
        return self.run_id is not None and getattr(model, "kind", "inline") in ("api", "local")

    # -- fetching ------------------------------------------------------------------------------------------
    def fetch(self, requests: list[Request]) -> dict[Request, Response]:
        try:
            return self._fetch(requests)
        finally:
            self.publish()  # every path, cache hits and replay misses too: the controller counts them all

    def _fetch(self, requests: list[Request]) -> dict[Request, Response]:
        model = self.state.model
        if self.settings.replay and not uses_cache(model):
            raise pytest.UsageError(f"--trust-replay: {strip_credentials(self.settings.model)} answers are never cached (inline models "
                                    "are cheap and their code may change), so there is nothing to replay")
        planned = requests
        if self.coordinating(model) and not self.settings.replay:
            requests = requests[:self.window_size(model)]  # xdist: this worker's share, one window at a time
        identity = model.identity()
        keys = {r: r.key(identity) for r in requests}
        store = None if self._damaged else self.store(model)
        persistent = store is not None and uses_cache(model)
        answers: dict[Request, Response] = {}
        reasons: dict[Request, str] = {}
        if persistent:
            try:
                self._take_hits(store, requests, keys, answers)
            except sqlite3.DatabaseError as exc:
                if not is_corrupt(exc):
                    raise
                self._damage(store, exc)  # said once; this run goes on without the cache
                store, persistent, answers = None, False, {}
            else:
                reasons = self._miss_reasons(store, [r for r in requests if r not in answers], identity, planned)
        if self.settings.replay:
            for r in requests:
                if r not in answers:
                    why = f"; the cache has an answer to it from another run: {reasons[r]}" if r in reasons else ""
                    answers[r] = Response(None, error=REPLAY_MISS + why, replay_miss=True)
                    self.stats.missed_keys.add(keys[r])
                    if r in reasons:
                        self.stats.elsewhere[keys[r]] = reasons[r]
            return answers
        for r, reason in reasons.items():
            self.stats.elsewhere[keys[r]] = reason
        todo = [r for r in requests if r not in answers]
        if not todo:
            return answers
        if self.coordinating(model) and store is not None:
            self._fetch_shared(model, store, requests[0], todo, keys, answers)
        else:
            self._generate(model, todo, keys, store if persistent else None, answers)
        return answers

    def _damage(self, store, exc: sqlite3.DatabaseError) -> None:
        """The cache file was damaged during the run (e.g. replaced while a run was writing to it): no probe
        should fail for it. Said once; this process answers without the cache from now on."""
        self._damaged = True
        warnings.warn(pytest.PytestWarning(
            f"pytest-trustllm: the response cache {store.path} is damaged ({exc}); this run goes on without it "
            "(answers are neither read nor stored). Move the file aside; the next run starts a fresh cache"),
            stacklevel=3)

    def _take_hits(self, store, requests, keys, answers) -> int:
        """Answers already in the store: from earlier runs (cached) or from other xdist workers (shared)."""
        hits = store.get_many(keys[r] for r in requests)
        for request in requests:
            if keys[request] in hits:
                text, created = hits[keys[request]]
                answers[request] = Response(str(text), cached=True, cut=is_cut(text))
                if created >= self.started:
                    self.stats.shared += 1
                else:
                    self.stats.cached_keys.add(keys[request])
        return sum(1 for r in requests if keys[r] in hits)

    def _miss_reasons(self, store, missing: list[Request], identity: dict,
                      planned: list[Request]) -> dict[Request, str]:
        """Requests the cache has no answer for, but an answer to the same prompt (and sample) under another
        model identity or other parameters: what differs, for each (cache_misses.closest). What the cache held
        before the run is read once, for every PLANNED request (the prompt column has no index: one scan per
        500 prompts, not one per xdist window); answers this run stored (another worker's) are not "another
        run"."""
        if not missing:
            return {}
        from .cache_misses import closest

        unread = [r for r in missing if (r.prompt, r.sample) not in self._stored_before]
        if unread:
            wanted = {(r.prompt, r.sample) for r in (*unread, *planned)} - self._stored_before.keys()
            try:
                found = store.stored_for(wanted, before=self.started or None)
            except sqlite3.Error:  # an explanation is a courtesy: never the reason a fetch fails
                return {}
            self._stored_before.update({item: found.get(item, []) for item in wanted})
        reasons = {}
        for r in missing:
            reason = closest(identity, r.params.as_dict(), self._stored_before[(r.prompt, r.sample)])
            if reason:
                reasons[r] = reason
        return reasons

    def window_size(self, model) -> int:
        slots = self.settings.concurrency if model.kind == "api" else self.settings.batch_size or model.batch_size
        return max(WINDOW_PER_SLOT * slots, 1)

    def _fetch_shared(self, model, store, needed, window, keys, answers) -> None:
        """xdist: claim the window's unanswered requests, send ours, wait for NEEDED if another worker has it."""
        if not uses_cache(model):  # the scratch store: answers of other workers are only there
            self._take_hits(store, window, keys, answers)
            window = [r for r in window if r not in answers]
        mine = self._claim(store, [keys[r] for r in window])
        if mine is None:  # claims cannot be written (a full disk): this worker answers its window itself
            self._generate(model, window, keys, store, answers)
            return
        self._generate(model, [r for r in window if keys[r] in mine], keys, store, answers, claimed=True)
        if needed not in answers:
            answers[needed] = self._wait_for(model, store, needed, keys)

    def _claim(self, store, keys: list[str]) -> set[str] | None:
        """The KEYS this worker may answer (store.claim), or None when the cache cannot record claims (a full
        disk, a lock past the busy timeout): said once; the worker then answers for itself (some prompts may
        be asked twice) rather than failing its probes."""
        try:
            return store.claim(self.run_id, self.owner, keys)
        except sqlite3.Error as exc:
            self._claims_unrecordable(store, exc)
            return None

    def _claims_unrecordable(self, store, exc: sqlite3.Error) -> None:
        if not self._claims_failed:
            self._claims_failed = True
            warnings.warn(pytest.PytestWarning(
                f"pytest-trustllm: the response cache {store.path} cannot record which xdist worker answers which "
                f"prompt ({exc}); each worker now answers its own probes, so some prompts may be asked twice"),
                stacklevel=3)

    def _wait_for(self, model, store, request, keys) -> Response:
        key = keys[request]
        while True:
            found: dict[Request, Response] = {}
            if self._take_hits(store, [request], keys, found):
                return found[request]
            claim = store.claim_of(self.run_id, key)
            if claim is not None and claim[1] is not None:
                if claim[1].startswith(UNAVAILABLE):  # the worker that had it found the model cannot serve
                    raise ModelUnavailable(claim[1].removeprefix(UNAVAILABLE))
                return Response(None, error=claim[1])
            got: dict[Request, Response] = {}
            try:
                mine = (claim is None and store.claim(self.run_id, self.owner, [key])) or \
                    (claim is not None and store.take_over_if_stale(self.run_id, key, self.owner))
            except sqlite3.Error as exc:  # claims cannot be recorded: answer it here, unclaimed
                self._claims_unrecordable(store, exc)
                self._generate(model, [request], keys, store, got)
                return got[request]
            if mine:
                self._generate(model, [request], keys, store, got, claimed=True)
                return got[request]
            time.sleep(0.05)

    def _generate(self, model, requests, keys, store, answers, claimed: bool = False) -> None:
        """Send REQUESTS to the model; store each answer as it arrives (an interrupted run keeps it)."""
        if not requests:
            return
        identity = model.identity()
        for request in requests:
            self.stats.count_params(request.params)

        def settle(request: Request, text: str | None, error: str | None) -> None:
            if text is not None and is_cut(text) and not text.strip():  # an empty answer would read as a refusal
                text, error = None, EMPTY_CUT
            text = None if text is None else answer_text(text)
            answers[request] = Response(None if text is None else str(text), error=error, cut=is_cut(text))
            if text is not None:
                self.stats.generated += 1
                if store is not None:
                    self._keep(lambda: store.put(keys[request], text, model=identity, params=request.params.as_dict(),
                                                 prompt=request.prompt, sample=request.sample), store)
            else:
                self.stats.failed += 1
            if claimed:
                self._keep(lambda: store.release(self.run_id, keys[request], error), store, answer=False)

        heartbeat = Heartbeat(store.path, self.run_id, self.owner) if claimed else None
        started = time.perf_counter()
        try:
            with progress_for(self.state.config, len(requests), self.run_id is not None) as advance:
                if model.kind == "api":
                    run_api(self.loop(), model, requests, self.settings.concurrency, settle, advance, self.stats)
                else:
                    size = self.settings.batch_size or model.batch_size
                    run_batches(model, requests, size, settle, advance, sort=model.kind == "local")
        except BaseException as exc:
            if claimed:  # give back what we could not answer, so other workers are not left waiting
                why = UNAVAILABLE + str(exc) if isinstance(exc, ModelUnavailable) else f"not answered: {exc!r}"
                for request in requests:
                    if request not in answers:
                        self._keep(lambda r=request: store.release(self.run_id, keys[r], why), store, answer=False)
            raise
        finally:
            self.stats.seconds += time.perf_counter() - started
            if heartbeat is not None:
                heartbeat.stop()

    def _keep(self, write: Callable[[], None], store, answer: bool = True) -> None:
        """A write to the response cache. One that fails (the file locked by another program past the busy
        timeout, a full disk, the file removed) costs the cache that answer, never the run: the answer is kept
        for this run, counted as ``unsaved`` (a claim's release is no answer: not counted), and the first
        failure is a warning naming the file."""
        try:
            write()
        except sqlite3.Error as exc:
            if not answer:
                return
            self.stats.unsaved += 1
            if self.stats.unsaved == 1:
                warnings.warn(pytest.PytestWarning(
                    f"pytest-trustllm: the response cache {store.path} could not store an answer ({exc}); this run "
                    "keeps its answers, but a later run will ask the model again for those not stored"
                    + ("; the file is damaged: move it aside, and the next run starts a fresh cache"
                       if is_corrupt(exc) else "")), stacklevel=2)

    def loop(self) -> asyncio.AbstractEventLoop:
        """One event loop per process, kept between windows: API clients keep their connection pools."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop

    # -- what the report says about the model and its answers -------------------------------------------
    def publish(self) -> None:
        """xdist worker: hand identity and counters to the controller (sent when the worker finishes)."""
        output = getattr(self.state.config, "workeroutput", None)
        if output is not None and self._store is not None and self._store.path == self.cache_path() \
                and not self._store.still_there():
            self.stats.cache_replaced = str(self._store.path)
        if output is not None and self.state._model is not None:
            output["trustllm_fetch"] = {"identity": self.state._model.identity(), "stats": self.stats.published()}

    def merge_worker(self, output: dict) -> None:
        """Controller: fold one worker's published identity and counters into this run's."""
        published = output.get("trustllm_fetch")
        if published:
            self.remote_identity = self.remote_identity or published["identity"]
            self.stats.merge(published["stats"])

    def describe(self, known: dict) -> tuple[dict, dict]:
        """(identity fields the report's ``model`` lacks: the workers' under xdist, the report's ``generation``:
        the generation parameters requests were sent with, and what happened to them)."""
        identity = {k: v for k, v in (self.remote_identity or {}).items() if k not in known}
        stats = self.stats.as_dict()
        params = [dict(json.loads(p), requests=n) for p, n in sorted(stats.pop("params").items())]
        generation = {"params": params, "answers": stats, "concurrency": self.settings.concurrency,
                      "batch_size": self.settings.batch_size,
                      "cache": "off" if self.settings.no_cache else str(self.settings.cache or "default"),
                      "replay": self.settings.replay}
        return identity, generation

    def close(self) -> None:
        if self._loop is not None:
            pending = asyncio.all_tasks(self._loop)
            for task in pending:  # an interrupted fetch (Ctrl-C) leaves calls in flight: cancel, never resume
                task.cancel()
            if pending:
                self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            model = self.state._model
            if model is not None and hasattr(model, "aclose"):  # its HTTP client belongs to this loop
                self._loop.run_until_complete(model.aclose())
            self._loop.close()
            self._loop = None
        if self._store is not None:
            self._store.close()
            self._store = None
