"""The moving parts of one fetch: the API runner (bounded, adaptive concurrency), the batch runner, the
progress bar, the xdist heartbeat, and the counters that end up in the report."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .models.base import ContractError, ModelError, ModelUnavailable
from .models.retry import AdaptiveLimit, Breaker, CallStats, RetryPolicy, generate_with_retries
from .responses import Request

Settle = Callable[[Request, "str | None", "str | None"], None]  # (request, text, error)


@dataclass
class FetchStats:
    generated: int = 0
    shared: int = 0  # xdist: answered by another worker of the same run
    failed: int = 0
    unsaved: int = 0  # answers the response cache could not store (kept for this run only)
    seconds: float = 0.0
    # by key, so xdist workers whose windows overlap count an answer once: from earlier runs; not in the cache
    cached_keys: set = field(default_factory=set)
    missed_keys: set = field(default_factory=set)
    # key -> what differs from the cached answer to the same prompt (another model identity or parameters)
    elsewhere: dict = field(default_factory=dict)
    cache_replaced: str = ""  # xdist worker: the cache file it writes was removed or replaced during the run
    calls: CallStats = field(default_factory=CallStats)
    lowest_concurrency: int | None = None
    params: Counter = field(default_factory=Counter)  # JSON of GenParams -> requests sent with them

    def count_params(self, params) -> None:
        self.params[json.dumps(params.as_dict(), sort_keys=True)] += 1

    @property
    def cached(self) -> int:
        return len(self.cached_keys)

    @property
    def replay_misses(self) -> int:
        return len(self.missed_keys)

    def as_dict(self) -> dict:
        return {"generated": self.generated, "cached": self.cached, "shared": self.shared, "failed": self.failed,
                "replay_misses": self.replay_misses, "unsaved": self.unsaved, "seconds": round(self.seconds, 3),
                "retries": self.calls.retries, "rate_limited": self.calls.rate_limited,
                "lowest_concurrency": self.lowest_concurrency, "params": dict(self.params),
                "cached_otherwise": self.cached_otherwise()}

    def cached_otherwise(self) -> dict:
        """How many answers missed the cache although it holds an answer to the same prompt under another
        model identity or other parameters, and the differences behind them, most common first."""
        reasons = Counter(self.elsewhere.values()).most_common()
        return {"answers": len(self.elsewhere), "differences": len(reasons),
                "because": [{"difference": r, "answers": n} for r, n in reasons[:5]]}

    def published(self) -> dict:
        """:meth:`as_dict` with the keys behind the counts, for the xdist controller's :meth:`merge`."""
        return {**self.as_dict(), "cached_keys": sorted(self.cached_keys), "missed_keys": sorted(self.missed_keys),
                "elsewhere": self.elsewhere, "cache_replaced": self.cache_replaced}

    def merge(self, other: dict) -> None:
        for name in ("generated", "shared", "failed", "unsaved"):
            setattr(self, name, getattr(self, name) + int(other.get(name, 0)))
        self.cached_keys.update(other.get("cached_keys", ()))
        self.missed_keys.update(other.get("missed_keys", ()))
        self.elsewhere.update(other.get("elsewhere", {}))
        self.cache_replaced = self.cache_replaced or other.get("cache_replaced", "")
        self.seconds = max(self.seconds, float(other.get("seconds", 0)))  # workers fetch side by side
        self.calls.retries += int(other.get("retries", 0))
        self.calls.rate_limited += int(other.get("rate_limited", 0))
        if other.get("lowest_concurrency") is not None:
            self.lowest_concurrency = min(filter(None, (self.lowest_concurrency, other["lowest_concurrency"])))
        self.params.update(other.get("params", {}))


def params_for(request: Request):
    """Sample k of a prompt gets seed + k: several samples at temperature > 0 must differ."""
    if request.sample and request.params.seed is not None:
        return request.params.replace(seed=request.params.seed + request.sample)
    return request.params


def run_api(loop: asyncio.AbstractEventLoop, model, requests: list[Request], concurrency: int, settle: Settle,
            advance: Callable[[int], None], stats: FetchStats) -> None:
    """All REQUESTS through ``model.agenerate``, at most CONCURRENCY in flight (adaptive on 429).

    A request that still fails after retries settles as an error; the others go on. Raises
    ModelUnavailable (after cancelling the rest) when the endpoint cannot serve at all: the model is
    unknown, the key is rejected, or every recent request failed to connect.
    """
    limit, policy = AdaptiveLimit(concurrency), RetryPolicy.from_env()
    # more than one request's worth of attempts, so a single unlucky prompt cannot trip it
    breaker = Breaker(max(2 * concurrency, policy.retries + 3, 8), model.identity().get("endpoint", model.spec))

    async def one(request: Request) -> None:
        try:
            text = await generate_with_retries(model, request.prompt, params_for(request), limit, policy,
                                               stats.calls, breaker)
        except ModelUnavailable:
            raise
        except ModelError as exc:
            settle(request, None, str(exc))
        else:
            settle(request, text, None)
        advance(1)

    async def main() -> None:
        tasks = [asyncio.ensure_future(one(r)) for r in requests]
        try:
            await asyncio.gather(*tasks)
        finally:  # ModelUnavailable, Ctrl-C: stop everything still in flight
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    try:
        loop.run_until_complete(main())
    finally:
        low = limit.lowest
        stats.lowest_concurrency = low if stats.lowest_concurrency is None else min(low, stats.lowest_concurrency)


def run_batches(model, requests: list[Request], size: int, settle: Settle, advance: Callable[[int], None],
                sort: bool) -> None:
    """REQUESTS through ``model.generate`` in batches of SIZE with the same generation parameters; local
    models get prompts sorted by length (less padding). A failing batch is tried again prompt by prompt,
    so only the prompts that fail alone are errors."""
    groups: dict = {}
    for request in requests:
        groups.setdefault(params_for(request), []).append(request)
    for params, group in groups.items():
        if sort:
            group.sort(key=lambda r: len(r.prompt))
        for start in range(0, len(group), size):
            batch = group[start:start + size]
            try:
                texts = _generate(model, batch, params)
            except ModelUnavailable:
                raise
            except ContractError as exc:  # the model breaks its contract: one by one would hide it
                texts = [exc] * len(batch)
            except Exception as exc:  # one prompt may spoil its batch (longer than the context): one by one
                texts = [exc] if len(batch) == 1 else [_alone(model, request, params) for request in batch]
            for request, text in zip(batch, texts, strict=True):
                if isinstance(text, str):
                    settle(request, text, None)
                elif isinstance(text, Exception):
                    settle(request, None, f"{type(text).__name__}: {text}")
                else:  # a hook's model that answered None: no answer, never the text "None"
                    settle(request, None, f"the model returned {type(text).__name__} ({text!r:.40}), "
                                          "not an answer string")
            advance(len(batch))


def _alone(model, request: Request, params) -> Any:
    """REQUEST's answer generated on its own, or the exception that stopped it (ModelUnavailable stops all)."""
    try:
        return _generate(model, [request], params)[0]
    except ModelUnavailable:
        raise
    except Exception as exc:
        return exc


def _generate(model, batch: list[Request], params) -> list[Any]:
    texts = list(model.generate([r.prompt for r in batch], params))
    if len(texts) != len(batch):
        raise ContractError(f"{len(texts)} answers for {len(batch)} prompts")
    return texts


PLAIN_EVERY_S = 30.0  # a progress line this often when stderr is a log, not a terminal


class PlainProgress:
    """Progress for logs (stderr is not a terminal: CI): one line every PLAIN_EVERY_S seconds while the fetch
    runs, from a thread, so a slow or stuck fetch still shows it is alive (CI systems kill silent steps), with
    the rate and the time left. A fetch shorter than that prints nothing."""

    def __init__(self, total: int, stream: Any, every: float) -> None:
        self.total, self.done, self.stream, self.every = total, 0, stream, every
        self.lines = 0
        self.started = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trustllm-progress", daemon=True)
        self._thread.start()

    def advance(self, n: int) -> None:
        self.done += n  # one writer (the fetch); the thread only reads

    def line(self) -> str:
        elapsed = time.perf_counter() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = f", about {_duration((self.total - self.done) / rate)} left" if rate > 0 else ""
        return (f"pytest-trustllm: answers {self.done}/{self.total} ({self.done / self.total:.0%}) after "
                f"{_duration(elapsed)}, {rate:.1f}/s{left}")

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            print(self.line(), file=self.stream, flush=True)
            self.lines += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


@contextlib.contextmanager
def progress_for(config, total: int, is_worker: bool):
    """A rich progress bar (done/total, rate, ETA) on stderr when it is a terminal; a plain line every
    ``PLAIN_EVERY_S`` seconds otherwise (:class:`PlainProgress`); nothing in xdist workers (their output is
    not shown).

    The fetch runs inside a probe's setup, where pytest captures output: capture is suspended around it.
    """
    capture = config.pluginmanager.getplugin("capturemanager")
    suspended = capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext()
    with suspended:
        if is_worker or total < 2:
            yield lambda n: None
            return
        if not sys.stderr.isatty():
            plain = PlainProgress(total, sys.stderr, PLAIN_EVERY_S)
            try:
                yield plain.advance
            finally:
                plain.stop()
            if plain.lines:
                print(f"pytest-trustllm: {total} answers in {_duration(time.perf_counter() - plain.started)}",
                      file=sys.stderr, flush=True)
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        class Rate(TextColumn):
            def render(self, task):  # noqa: D102
                speed = task.finished_speed or task.speed
                return super().render(task) if speed is None else f"{speed:6.1f}/s"

        console = Console(file=sys.stderr)
        console.print()
        columns = (TextColumn("pytest-trustllm: answers"), BarColumn(), MofNCompleteColumn(), Rate(""),
                   TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("fetch", total=total)
            started = time.perf_counter()
            yield lambda n: progress.advance(task, n)
        elapsed = time.perf_counter() - started
        console.print(f"pytest-trustllm: {total} answers in {elapsed:.1f} s ({total / max(elapsed, 1e-9):.1f}/s)",
                      highlight=False)


class Heartbeat:
    """A thread that tells other xdist workers this one is alive while it holds claims."""

    def __init__(self, path: Path, run: str, owner: str, every_s: float = 2.0) -> None:
        from .cache import connect

        self._conn = connect(path)
        self._stop = threading.Event()
        self._args = (run, owner)
        self._every = every_s
        with contextlib.suppress(Exception):  # a cache that cannot be written: claims go stale, nothing fails
            self._beat()
        self._thread = threading.Thread(target=self._run, name="trustllm-heartbeat", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        self._conn.execute("INSERT OR REPLACE INTO owners VALUES (?, ?, ?)", (*self._args, time.time()))

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            with contextlib.suppress(Exception):  # a busy database must not kill the worker
                self._beat()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._conn.close()
