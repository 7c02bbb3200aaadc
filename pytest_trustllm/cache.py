"""The response store: SQLite in WAL mode, safe for several xdist workers (and runs) at once.

``responses`` maps a request key (``Request.key(model.identity())``: backend, model, endpoint, generation
parameters, prompt, sample index) to the answer text. Only answers are stored, as text with JSON metadata:
never errors (a rerun retries them), never secrets, never pickles. Each answer is committed as it arrives,
so an interrupted run (Ctrl-C, kill) keeps everything answered so far and a rerun sends only the rest.

``claims`` and ``owners`` coordinate xdist workers within one run (see :mod:`.prefetch`): a worker claims
the requests it is about to send, others wait for those answers instead of sending them again.

A file that is not an SQLite database (corrupt, truncated) or a cache of another schema version is moved
aside and replaced (:meth:`ResponseCache.open_or_reset`). An SQLite database of another application is never
changed or moved, and a path that cannot hold a database (a directory, a folder that cannot be created, a
locked or read-only file) is never guessed around: both raise :class:`CacheUnusable`, a usage error.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .locks import file_lock
from .models.base import Answer, is_cut

SCHEMA_VERSION = "1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY, text TEXT NOT NULL, model TEXT NOT NULL, params TEXT NOT NULL,
    prompt TEXT NOT NULL, sample INTEGER NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS claims (
    run TEXT NOT NULL, key TEXT NOT NULL, owner TEXT NOT NULL, error TEXT, PRIMARY KEY (run, key));
CREATE TABLE IF NOT EXISTS owners (run TEXT NOT NULL, owner TEXT NOT NULL, beat REAL NOT NULL,
    PRIMARY KEY (run, owner));
"""
_CHUNK = 500  # keys per IN (...) query, below SQLite's variable limit
STALE_AFTER_S = 30.0  # a worker that has not beaten for this long is dead: its claims are taken over
_CUT = "cut:"  # meta rows "cut:KEY" -> _mark(text): the answer under KEY stopped at the token limit


def _mark(text: str) -> str:
    """A cut mark's value: a digest of the answer it marks. 0.1.0 replaces answers without touching marks, so
    a mark counts only for the very text it was written with."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


# the tables a cache holds and the columns this version reads and writes. An answer cut at the token limit is
# marked by a row ("cut:" + its key) in the meta table, not by a column: a cache stays readable and writable
# by 0.1.0, which inserts answers by position (a cache shared by CI branches on different releases)
_TABLES = {"meta": {"name", "value"},
           "responses": {"key", "text", "model", "params", "prompt", "sample", "created"},
           "claims": {"run", "key", "owner", "error"},
           "owners": {"run", "owner", "beat"}}
_CORRUPT_CODES = {"SQLITE_NOTADB", "SQLITE_CORRUPT"}  # primary codes: the file is not a (readable) database


class CacheCorrupt(Exception):
    """Not a database, or a cache of another schema version: moved aside and replaced."""


class CacheUnusable(Exception):
    """The path cannot hold the cache, or holds another application's database: stop before the run."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"cannot use {path} as the response cache: {reason}")
        self.path = path


def is_corrupt(exc: sqlite3.Error) -> bool:
    name = getattr(exc, "sqlite_errorname", "") or ""
    primary = "_".join(name.split("_")[:2])  # SQLITE_CORRUPT_INDEX -> SQLITE_CORRUPT
    return primary in _CORRUPT_CODES or "not a database" in str(exc) or "malformed" in str(exc)


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 30000")
    return conn


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def _not_writable(path: Path) -> str:
    """Why SQLite may fail on a file it can read: its folder or the file is not writable (a read-only mount)."""
    for target in (path.parent, path):
        if target.exists() and not os.access(target, os.W_OK):
            return (f"; {target} is not writable, and SQLite writes beside the cache even to read it (WAL "
                    "journal): copy the cache to a writable place, or give --trust-cache a writable path")
    return ""


class ResponseCache:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise CacheUnusable(self.path, "it is a directory (give a file path, e.g. "
                                           f"{self.path / 'responses.sqlite3'})")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheUnusable(self.path, f"cannot create its folder {self.path.parent} "
                                           f"({exc.strerror or type(exc).__name__})") from None
        try:
            self._conn = connect(self.path)
        except sqlite3.Error as exc:
            raise CacheUnusable(self.path, f"SQLite cannot open it ({exc}){_not_writable(self.path)}") from None
        try:
            mode, version = self._set_up()
        except (CacheUnusable, CacheCorrupt):
            self._conn.close()
            raise
        except sqlite3.Error as exc:
            self._conn.close()
            if is_corrupt(exc):
                raise CacheCorrupt(f"{self.path}: {exc}") from None
            raise CacheUnusable(self.path, f"SQLite cannot use it ({exc}){_not_writable(self.path)}") from None
        if version != SCHEMA_VERSION:
            self._conn.close()
            raise CacheCorrupt(f"{self.path}: schema version {version}, expected {SCHEMA_VERSION}")
        self.journal_mode = mode
        self.inode = _inode(self.path)

    def _set_up(self) -> tuple[str, str]:
        """Check the file is ours, switch it to WAL, create the tables: (journal mode, schema version).
        Several xdist workers open a new file at once, and switching the journal mode (or recovering another
        process's WAL) can fail with "database is locked" at once, without SQLite's busy timeout: retried
        for up to the same 30 s, as a busy write would be."""
        deadline = time.monotonic() + 30.0
        delay = 0.02
        while True:
            try:
                self._check_ours()
                mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                self._conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable across process kills
                self._conn.executescript(_SCHEMA)
                self._conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
                version = self._conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()[0]
                return mode, version
            except sqlite3.OperationalError as exc:
                busy = "locked" in str(exc) or "busy" in str(exc)
                if not busy or time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def still_there(self) -> bool:
        """Whether the path still names the file this cache writes to (not removed or replaced mid-run)."""
        return self.inode is not None and _inode(self.path) == self.inode

    def _check_ours(self) -> None:
        """An SQLite database with other tables, or with our table names but other columns, belongs to another
        application: never add tables to it, never move it."""
        tables = sorted(name for (name,) in self._conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"))
        foreign = [t for t in tables if t not in _TABLES]
        if foreign:
            raise CacheUnusable(self.path, f"it is an SQLite database of another application (tables: "
                                           f"{', '.join(foreign[:5])}{' ...' if len(foreign) > 5 else ''}); "
                                           "pytest-trustllm neither changes nor moves it: give another path "
                                           "with --trust-cache")
        for table in tables:
            columns = {row[1] for row in self._conn.execute(f"PRAGMA table_info({table})")}
            if not _TABLES[table] <= columns:
                raise CacheUnusable(self.path, f"it is an SQLite database of another application (its table "
                                               f"{table} has columns {', '.join(sorted(columns))}); "
                                               "pytest-trustllm neither changes nor moves it: give another path "
                                               "with --trust-cache")

    @classmethod
    def open_or_reset(cls, path: Path) -> tuple[ResponseCache, str | None]:
        """Open PATH; a file that is not a database, or a cache of another schema version, is moved aside and
        replaced by a fresh cache (with a warning). :class:`CacheUnusable` goes to the caller."""
        try:
            return cls(path), None
        except CacheCorrupt:
            pass
        with file_lock(Path(f"{path}.lock")):  # several xdist workers may find it corrupt at once: one resets
            try:
                return cls(path), None  # another process has replaced it meanwhile
            except CacheCorrupt as exc:
                aside = Path(f"{path}.corrupt-{int(time.time())}")
                for suffix in ("-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
                os.replace(path, aside)
                return cls(path), (f"pytest-trustllm: the response cache was unreadable ({exc}); moved it to "
                                   f"{aside} and started a fresh one")

    def close(self) -> None:
        self._conn.close()

    # -- answers -----------------------------------------------------------------------------------------
    def get_many(self, keys: Iterable[str]) -> dict[str, tuple[str, float]]:
        """{key: (answer text, time it was stored)} for the KEYS that have an answer; an answer that was cut
        at the token limit comes back as an :class:`~pytest_trustllm.models.base.Answer` that says so."""
        keys = list(keys)
        found: dict[str, tuple[str, float]] = {}
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start:start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            # one statement, one snapshot: the answer and its mark as they were written together
            rows = self._conn.execute(f"SELECT r.key, r.text, r.created, m.value FROM responses AS r LEFT JOIN meta "
                                      f"AS m ON m.name = '{_CUT}' || r.key WHERE r.key IN ({marks})", chunk)
            found.update((key, (Answer(text, cut=True) if mark == _mark(text) else text, created))
                         for key, text, created, mark in rows)
        return found

    def stored_for(self, items: Iterable[tuple[str, int]], before: float | None = None,
                   ) -> dict[tuple[str, int], list[tuple[dict, dict]]]:
        """For each (prompt, sample index) answered under any key (stored before BEFORE, if given): the model
        identities and parameters it was answered with, latest first, each once. What explains a miss: the
        same prompt answered by another model or with other parameters."""
        wanted = set(items)
        prompts = sorted({prompt for prompt, _ in wanted})
        rows_of: dict[tuple[str, int], list[tuple[float, str, str]]] = {}
        for start in range(0, len(prompts), _CHUNK):
            chunk = prompts[start:start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(f"SELECT prompt, sample, model, params, created FROM responses "
                                      f"WHERE prompt IN ({marks})", chunk)
            for prompt, sample, model, params, created in rows:
                if (prompt, sample) in wanted and (before is None or created < before):
                    rows_of.setdefault((prompt, sample), []).append((created, model, params))
        found = {}
        for item, rows in rows_of.items():
            distinct = dict.fromkeys((model, params) for _, model, params in sorted(rows, reverse=True))
            found[item] = [(json.loads(model), json.loads(params)) for model, params in distinct]
        return found

    def put(self, key: str, text: str, *, model: dict[str, Any], params: dict[str, Any], prompt: str,
            sample: int) -> None:
        """Store one answer (TEXT an :class:`~pytest_trustllm.models.base.Answer` keeps its ``cut``)."""
        self._conn.execute("BEGIN IMMEDIATE")  # one transaction: the answer and its mark
        try:
            self._conn.execute("INSERT OR REPLACE INTO responses (key, text, model, params, prompt, sample, created) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?)",
                               (key, str(text), json.dumps(model, sort_keys=True),
                                json.dumps(params, sort_keys=True), prompt, sample, time.time()))
            if is_cut(text):
                self._conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (_CUT + key, _mark(str(text))))
            else:
                self._conn.execute("DELETE FROM meta WHERE name = ?", (_CUT + key,))
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:  # SQLite may have rolled back already (a full disk): keep its error
                self._conn.execute("ROLLBACK")
            raise

    def __len__(self) -> int:
        return self._conn.execute("SELECT count(*) FROM responses").fetchone()[0]

    # -- claims (xdist workers of one run) ---------------------------------------------------------------
    def claim(self, run: str, owner: str, keys: list[str]) -> set[str]:
        """Claim KEYS that nobody claimed and nobody answered yet; return the ones now OWNER's."""
        if not keys:
            return set()
        self.beat(run, owner)
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            answered = set(self.get_many(keys))
            self._conn.executemany("INSERT OR IGNORE INTO claims VALUES (?, ?, ?, NULL)",
                                   [(run, k, owner) for k in keys if k not in answered])
            mine = set()
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start:start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                mine.update(k for (k,) in self._conn.execute(
                    f"SELECT key FROM claims WHERE run = ? AND owner = ? AND error IS NULL AND key IN ({marks})",
                    [run, owner, *chunk]))
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        return mine - answered

    def release(self, run: str, key: str, error: str | None = None) -> None:
        """Done with KEY: answered (the claim goes) or failed (the error stays, so waiters report it too)."""
        if error is None:
            self._conn.execute("DELETE FROM claims WHERE run = ? AND key = ?", (run, key))
        else:
            self._conn.execute("UPDATE claims SET error = ? WHERE run = ? AND key = ?", (error, run, key))

    def claim_of(self, run: str, key: str) -> tuple[str, str | None] | None:
        return self._conn.execute("SELECT owner, error FROM claims WHERE run = ? AND key = ?", (run, key)).fetchone()

    def take_over_if_stale(self, run: str, key: str, owner: str) -> bool:
        """Give KEY to OWNER when its claimer stopped beating (a crashed worker)."""
        limit = time.time() - STALE_AFTER_S
        cur = self._conn.execute(
            "UPDATE claims SET owner = ? WHERE run = ? AND key = ? AND error IS NULL AND owner NOT IN "
            "(SELECT owner FROM owners WHERE run = ? AND beat > ?)", (owner, run, key, run, limit))
        return cur.rowcount == 1

    def beat(self, run: str, owner: str) -> None:
        self._conn.execute("INSERT OR REPLACE INTO owners VALUES (?, ?, ?)", (run, owner, time.time()))

    def forget_old_runs(self, older_than_s: float = 24 * 3600) -> None:
        limit = time.time() - older_than_s
        self._conn.execute("DELETE FROM claims WHERE run NOT IN (SELECT run FROM owners WHERE beat > ?)", (limit,))
        self._conn.execute("DELETE FROM owners WHERE beat <= ?", (limit,))


def default_path(config) -> Path:
    """``<cache dir>/d/trustllm/responses.sqlite3`` (``.pytest_cache`` unless ``cache_dir`` says otherwise);
    ``<rootdir>/.pytest_cache/trustllm/`` when the cacheprovider plugin is off (``-p no:cacheprovider``)."""
    cache = getattr(config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("trustllm")) / "responses.sqlite3"
    return Path(config.rootpath) / ".pytest_cache" / "trustllm" / "responses.sqlite3"
