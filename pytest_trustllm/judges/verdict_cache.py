"""The verdict cache: re-judging a cached run is free and gives the same verdicts.

SQLite (WAL, safe for several xdist workers) beside the response cache, JSON values only (no pickle).
A key is sha256 of the judge's identity (name, model, endpoint, prompt hash, parameters, weights digest),
the kind of question and its texts, so changing any of them misses. ``unjudged`` verdicts are never
stored, nor verdicts that are not ``settled`` (a cascade stage could not decide): a rerun asks again.

The wrappers below also count what happened (cache hits, fresh judgements, requests that failed with an
error such as an unreachable server, and what the judge itself counts, e.g. a cascade's escalations);
``identity()`` reports those counters under ``stats`` (``failed`` only when some did).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .base import UNJUDGED, LLMGrader, RefusalJudge, ToxicityScorer, Verdict

_SCHEMA = "CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY, value TEXT NOT NULL, judge TEXT NOT NULL, " \
          "created REAL NOT NULL)"
_CHUNK = 500


def verdict_key(identity: dict[str, Any], kind: str, *texts: Any) -> str:
    blob = json.dumps([identity, kind, list(texts)], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class VerdictCache:
    def __init__(self, path: str | Path) -> None:
        from ..cache import connect

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = connect(self.path)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute(_SCHEMA)
        self._lock = threading.Lock()

    @classmethod
    def open_or_none(cls, path: str | Path) -> VerdictCache | None:
        """An unusable file (corrupt, read-only) turns the cache off with a warning; judging still works."""
        try:
            return cls(path)
        except (sqlite3.DatabaseError, OSError) as exc:
            warnings.warn(f"pytest-trustllm: verdict cache {path} unusable ({exc}); judging without it", stacklevel=2)
            return None

    def get_many(self, keys: Sequence[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        unique = list(dict.fromkeys(keys))
        with self._lock:
            for start in range(0, len(unique), _CHUNK):
                chunk = unique[start:start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(f"SELECT key, value FROM verdicts WHERE key IN ({marks})", chunk).fetchall()
                found.update((k, json.loads(v)) for k, v in rows)
        return found

    def put_many(self, items: Sequence[tuple[str, Any]], judge: str) -> None:
        now = time.time()
        rows = [(k, json.dumps(v, ensure_ascii=False), judge, now) for k, v in items]
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany("INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?)", rows)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def __len__(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class _Cached:
    """Shared machinery: look up, judge the misses in one batch, store what is worth storing."""

    kind = ""

    def __init__(self, inner: Any, cache: VerdictCache | None) -> None:
        self.inner = inner
        self.cache = cache
        self.name = inner.name
        self.hits = 0
        self.fresh = 0
        self.failed = 0  # inputs whose judging raised (server unreachable, kept failing): not judged
        self._key_identity = inner.identity()  # fixed at construction: the key never includes counters

    def identity(self) -> dict[str, Any]:
        stats = {"cache_hits": self.hits, "judged": self.fresh, **({"failed": self.failed} if self.failed else {}),
                 **getattr(self.inner, "stats", dict)()}
        return {**self.inner.identity(), "stats": stats}

    def close(self) -> None:
        getattr(self.inner, "close", lambda: None)()

    def _through(self, inputs: Sequence[tuple], compute: Callable[[list[tuple]], list[Any]],
                 encode: Callable[[Any], Any], decode: Callable[[Any], Any],
                 storable: Callable[[Any], bool], kind: str = "") -> list[Any]:
        if self.cache is None:
            return self._compute(compute, list(inputs))
        keys = [verdict_key(self._key_identity, kind or self.kind, *item) for item in inputs]
        cached = self.cache.get_many(keys)
        missing = [i for i, k in enumerate(keys) if k not in cached]
        results: list[Any] = [None] * len(inputs)
        for i, k in enumerate(keys):
            if k in cached:
                results[i] = decode(cached[k])
        self.hits += len(inputs) - len(missing)
        if missing:
            computed = self._compute(compute, [inputs[i] for i in missing])
            for i, value in zip(missing, computed, strict=True):
                results[i] = value
            fresh = [(keys[i], encode(v)) for i, v in zip(missing, computed, strict=True) if storable(v)]
            self.cache.put_many(fresh, json.dumps(self._key_identity, sort_keys=True))
        return results

    def _compute(self, compute: Callable[[list[tuple]], list[Any]], items: list[tuple]) -> list[Any]:
        try:
            computed = compute(items)
        except Exception:
            self.failed += len(items)
            raise
        self.fresh += len(items)
        return computed


def _verdict_to(verdict: Verdict) -> dict[str, Any]:
    # the full score (as_dict rounds): a cached verdict equals the fresh one; only settled ones are stored
    return {k: v for k, v in dataclasses.asdict(verdict).items() if k != "settled"}


def _storable(verdict: Verdict) -> bool:
    return verdict.label != UNJUDGED and verdict.settled


def _verdict_from(d: dict[str, Any]) -> Verdict:
    return Verdict(d["label"], float(d["score"]), d["reason"], d["judge"])


class CachedRefusalJudge(_Cached, RefusalJudge):
    kind = "refusal"

    def judge_many(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
        return self._through([(p, r) for p, r in pairs], self.inner.judge_many, _verdict_to, _verdict_from,
                             _storable)


class CachedGrader(_Cached, LLMGrader, RefusalJudge):
    kind = "llm"

    def classify(self, question: str, labels: Sequence[str]) -> Verdict:
        return self._through([(question, list(labels))], lambda items: [self.inner.classify(*items[0])],
                             _verdict_to, _verdict_from, _storable)[0]

    def judge_many(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
        """The LLM judge is also a refusal judge: the ``llm`` grader can answer both questions."""
        return self._through([(p, r) for p, r in pairs], self.inner.judge_many, _verdict_to, _verdict_from,
                             _storable, kind="refusal")


class CachedScorer(_Cached, ToxicityScorer):
    kind = "toxicity"

    def score_many(self, texts: Sequence[str]) -> list[float]:
        return self._through([(t,) for t in texts], lambda items: self.inner.score_many([t for (t,) in items]),
                             float, float, lambda v: v is not None)
