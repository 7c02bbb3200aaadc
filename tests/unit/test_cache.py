"""The SQLite response store: round trips, corruption, several writers at once, xdist claims."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from types import SimpleNamespace

import pytest

from pytest_trustllm import cache as cache_module
from pytest_trustllm.cache import ResponseCache
from pytest_trustllm.cases import GenParams
from pytest_trustllm.responses import Request

IDENTITY = {"backend": "openai", "model": "m", "endpoint": "http://127.0.0.1:1/v1"}


def put(store: ResponseCache, key: str, text: str) -> None:
    store.put(key, text, model=IDENTITY, params=GenParams().as_dict(), prompt=f"prompt {key}", sample=0)


def test_an_answer_cut_at_the_token_limit_stays_cut(tmp_path):
    from pytest_trustllm.models.base import Answer

    store = ResponseCache(tmp_path / "c.sqlite3")
    put(store, "cut", Answer("Step 1: take the", cut=True))
    put(store, "whole", Answer("Paris."))
    found = store.get_many(["cut", "whole"])
    assert found["cut"][0] == "Step 1: take the" and found["cut"][0].cut is True
    assert getattr(found["whole"][0], "cut", False) is False
    store.close()


def test_a_cache_stays_readable_and_writable_by_0_1_0(tmp_path):
    # QA: a "cut" column made 0.1.0's positional INSERT fail ("8 columns but 7 values") on a cache this version
    # had opened (a CI cache shared by branches on different releases); the marks now live in the meta table
    from pytest_trustllm.models.base import Answer

    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)  # the tables as 0.1.0 writes them
    conn.executescript(cache_module._SCHEMA.replace("IF NOT EXISTS ", ""))
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.execute("INSERT INTO responses VALUES ('old', 'an old answer', '{}', '{}', 'p', 0, 1.0)")
    conn.commit()
    conn.close()
    store = ResponseCache(path)
    old = store.get_many(["old"])["old"][0]
    assert old == "an old answer" and getattr(old, "cut", False) is False
    put(store, "cut", Answer("Step 1: take the", cut=True))
    put(store, "recut", Answer("Step 1", cut=True))
    put(store, "recut", Answer("Step 1. Done."))  # a replaced answer loses the mark it had
    store.close()
    conn = sqlite3.connect(path)  # what 0.1.0 does: insert by position, read by key
    conn.execute("INSERT OR REPLACE INTO responses VALUES ('v010', 'from 0.1.0', '{}', '{}', 'p', 0, 2.0)")
    conn.commit()
    assert {row[1] for row in conn.execute("PRAGMA table_info(responses)")} == _columns_of_0_1_0()
    conn.close()
    found = ResponseCache(path).get_many(["cut", "recut", "old", "v010"])
    assert found["cut"][0].cut is True and getattr(found["recut"][0], "cut", False) is False
    assert found["old"][0] == "an old answer" and getattr(found["old"][0], "cut", False) is False
    assert found["v010"][0] == "from 0.1.0"


def _columns_of_0_1_0() -> set[str]:
    return {"key", "text", "model", "params", "prompt", "sample", "created"}


def test_answers_round_trip_as_plain_text_and_json(tmp_path):
    store = ResponseCache(tmp_path / "c.sqlite3")
    put(store, "k1", "first answer")
    assert store.get_many(["k1", "missing"])["k1"][0] == "first answer"
    assert store.journal_mode == "wal"
    store.close()
    row = sqlite3.connect(tmp_path / "c.sqlite3").execute("SELECT text, model, params FROM responses").fetchone()
    assert row[0] == "first answer"
    assert json.loads(row[1]) == IDENTITY and json.loads(row[2])["temperature"] == 0.0


def test_key_covers_model_endpoint_params_prompt_and_sample():
    base = Request("p", GenParams())
    keys = {
        base.key(IDENTITY),
        base.key({**IDENTITY, "endpoint": "http://127.0.0.1:2/v1"}),
        base.key({**IDENTITY, "model": "other"}),
        Request("p", GenParams(temperature=0.7)).key(IDENTITY),
        Request("p", GenParams(max_new_tokens=8)).key(IDENTITY),
        Request("q", GenParams()).key(IDENTITY),
        Request("p", GenParams(), sample=1).key(IDENTITY),
    }
    assert len(keys) == 7
    assert base.key(dict(reversed(list(IDENTITY.items())))) == base.key(IDENTITY)  # order does not matter


def test_many_keys_are_looked_up_in_chunks(tmp_path):
    store = ResponseCache(tmp_path / "c.sqlite3")
    for i in range(1200):
        put(store, f"k{i}", f"a{i}")
    found = store.get_many(f"k{i}" for i in range(0, 1300))
    assert len(found) == 1200 and found["k1199"][0] == "a1199" and len(store) == 1200


def test_a_corrupt_file_is_moved_aside_with_a_warning(tmp_path):
    path = tmp_path / "c.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    store, warning = ResponseCache.open_or_reset(path)
    assert warning is not None and "unreadable" in warning and "fresh" in warning
    put(store, "k", "v")
    assert store.get_many(["k"])["k"][0] == "v"
    assert list(tmp_path.glob("c.sqlite3.corrupt-*"))


def test_a_healthy_file_opens_without_warning(tmp_path):
    ResponseCache(tmp_path / "c.sqlite3").close()
    store, warning = ResponseCache.open_or_reset(tmp_path / "c.sqlite3")
    assert warning is None


def test_several_writers_at_once_lose_nothing(tmp_path):
    path = tmp_path / "c.sqlite3"
    ResponseCache(path).close()
    errors = []

    def writer(n: int) -> None:
        try:
            store = ResponseCache(path)  # its own connection, as an xdist worker has
            for i in range(150):
                put(store, f"w{n}-{i}", f"answer {n} {i}")
            store.close()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(ResponseCache(path)) == 600


def test_claims_share_work_between_workers(tmp_path):
    path = tmp_path / "c.sqlite3"
    a, b = ResponseCache(path), ResponseCache(path)
    assert a.claim("run", "gw0", ["k1", "k2"]) == {"k1", "k2"}
    assert b.claim("run", "gw1", ["k2", "k3"]) == {"k3"}  # k2 is gw0's
    assert b.claim_of("run", "k2") == ("gw0", None)
    put(a, "k1", "answer")
    a.release("run", "k1")
    a.release("run", "k2", error="HTTP 500 (gave up after 6 attempts)")
    assert b.claim_of("run", "k1") is None
    assert b.claim_of("run", "k2") == ("gw0", "HTTP 500 (gave up after 6 attempts)")
    assert b.claim("run", "gw1", ["k1"]) == set()  # answered already: nothing to send
    assert a.claim("other-run", "gw0", ["k2"]) == {"k2"}  # claims belong to one run


def test_a_dead_workers_claims_are_taken_over(tmp_path, monkeypatch):
    path = tmp_path / "c.sqlite3"
    a, b = ResponseCache(path), ResponseCache(path)
    a.claim("run", "gw0", ["k"])
    assert not b.take_over_if_stale("run", "k", "gw1")  # gw0 beat just now
    monkeypatch.setattr(cache_module, "STALE_AFTER_S", -1.0)
    assert b.take_over_if_stale("run", "k", "gw1")
    assert b.claim_of("run", "k") == ("gw1", None)


def test_default_location_is_under_the_pytest_cache(pytestconfig, tmp_path):
    class NoCacheConfig:
        rootpath = tmp_path

    assert cache_module.default_path(NoCacheConfig()) == tmp_path / ".pytest_cache" / "trustllm" / "responses.sqlite3"
    if getattr(pytestconfig, "cache", None) is not None:  # absent under -p no:cacheprovider (CI)
        assert cache_module.default_path(pytestconfig).parts[-3:] == ("d", "trustllm", "responses.sqlite3")


class _LockedAtFirst:
    """A connection whose first ``PRAGMA journal_mode`` fails as a concurrent opener's does ("database is
    locked", which SQLite may return at once, without its busy timeout)."""

    def __init__(self, conn: sqlite3.Connection, failures: int) -> None:
        self._conn, self.failures = conn, failures

    def execute(self, sql, *args):
        if sql.startswith("PRAGMA journal_mode") and self.failures:
            self.failures -= 1
            raise sqlite3.OperationalError("database is locked")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._conn, name)


def test_a_cache_locked_while_another_worker_sets_it_up_is_opened_after_a_retry(tmp_path, monkeypatch):
    real = cache_module.connect
    monkeypatch.setattr(cache_module, "connect", lambda path: _LockedAtFirst(real(path), failures=3))
    store = ResponseCache(tmp_path / "c.sqlite3")
    assert store.journal_mode == "wal" and len(store) == 0
    store.close()


def test_a_cache_that_stays_locked_is_named_as_unusable(tmp_path, monkeypatch):
    real = cache_module.connect
    monkeypatch.setattr(cache_module, "connect", lambda path: _LockedAtFirst(real(path), failures=10**9))
    clock = iter(range(0, 10**6, 10))  # each look at the clock is 10 s later: the 30 s are up at the 4th
    monkeypatch.setattr(cache_module, "time", SimpleNamespace(monotonic=lambda: next(clock), sleep=lambda s: None,
                                                              time=time.time))
    with pytest.raises(cache_module.CacheUnusable) as info:
        ResponseCache(tmp_path / "c.sqlite3")
    assert str(info.value) == f"cannot use {tmp_path / 'c.sqlite3'} as the response cache: SQLite cannot use it " \
                              "(database is locked)"


def test_what_differs_from_a_cached_answer_is_said_shortly():
    from pytest_trustllm.cache_misses import closest

    params = GenParams().as_dict()
    assert closest(IDENTITY, params, []) is None
    other = {**IDENTITY, "endpoint": "http://127.0.0.1:2/v1", "dtype": "bfloat16"}
    assert closest(IDENTITY, params, [(other, params)]) == (
        "dtype 'bfloat16' in the cache, none now; endpoint 'http://127.0.0.1:2/v1' in the cache, "
        "'http://127.0.0.1:1/v1' now")
    many = {**params, "temperature": 1.0, "max_new_tokens": 8, "seed": 3, "top_p": 0.5}
    assert closest(IDENTITY, params, [(IDENTITY, many)]).endswith("; 1 more")
    # QA: the latest entry was named even when an older one differed in one setting only
    one_off = {**params, "temperature": 0.5}
    assert closest(IDENTITY, params, [(other, many), (IDENTITY, one_off)]) == "temperature 0.5 in the cache, 0.0 now"


def test_long_values_are_shown_where_they_differ():
    from pytest_trustllm.cache_misses import closest

    params = GenParams().as_dict()
    base = "https://contoso-prod.openai.azure.com/openai/deployments/gpt-4o-"
    east, west = {**IDENTITY, "endpoint": base + "eastus/v1"}, {**IDENTITY, "endpoint": base + "westus/v1"}
    assert closest(west, params, [(east, params)]) == (
        "endpoint ...'ents/gpt-4o-eastus/v1' in the cache, ...'ents/gpt-4o-westus/v1' now")


def test_values_are_compared_as_the_cache_key_sees_them():
    from pytest_trustllm.cache_misses import closest

    params = GenParams().as_dict()
    # a tuple and a list are one JSON value (no false difference)...
    assert closest({**IDENTITY, "layers": (1, 2)}, params, [({**IDENTITY, "layers": [1, 2]}, params)]) is None
    # ...but 0 and 0.0 are two keys (as in 0.1.0, whose caches still hit): said, not silent
    assert closest(IDENTITY, params, [(IDENTITY, {**params, "temperature": 0})]) == (
        "temperature 0 in the cache, 0.0 now")


def test_the_cache_finds_other_answers_to_the_same_prompt(tmp_path):
    store = ResponseCache(tmp_path / "c.sqlite3")
    store.put("a", "old", model={"model": "m1"}, params={"max_new_tokens": 8}, prompt="p", sample=0)
    time.sleep(0.01)
    store.put("b", "new", model={"model": "m2"}, params={"max_new_tokens": 16}, prompt="p", sample=0)
    store.put("c", "other sample", model={"model": "m3"}, params={}, prompt="p", sample=1)
    found = store.stored_for([("p", 0), ("q", 0)])
    assert found == {("p", 0): [({"model": "m2"}, {"max_new_tokens": 16}), ({"model": "m1"}, {"max_new_tokens": 8})]}
    # answers stored since the run began (another xdist worker's) are not "another run"
    assert store.stored_for([("p", 0)], before=time.time() - 3600) == {}
    store.close()


def test_a_cut_mark_counts_only_for_the_answer_it_was_written_with(tmp_path):
    # QA: 0.1.0 replaces an answer without touching its mark, which then flagged the whole new answer as cut
    from pytest_trustllm.models.base import Answer

    store = ResponseCache(tmp_path / "c.sqlite3")
    put(store, "k", Answer("Step 1: take the", cut=True))
    store._conn.execute("INSERT OR REPLACE INTO responses VALUES ('k', 'The answer is 42. Done.', '{}', '{}', "
                        "'p', 0, 2.0)")  # what 0.1.0's put does
    answer = store.get_many(["k"])["k"][0]
    assert answer == "The answer is 42. Done." and getattr(answer, "cut", False) is False
    store.close()


def test_a_failed_write_keeps_sqlites_own_error(tmp_path, monkeypatch):
    # QA: put's ROLLBACK after SQLite had rolled back itself (a full disk) replaced the cause with
    # "cannot rollback - no transaction is active"
    store = ResponseCache(tmp_path / "c.sqlite3")
    store._conn.execute("CREATE TRIGGER full BEFORE INSERT ON responses BEGIN SELECT RAISE(ROLLBACK, "
                        "'database or disk is full'); END")
    with pytest.raises(sqlite3.DatabaseError, match="database or disk is full"):
        put(store, "k", "an answer")
    assert not store._conn.in_transaction
    store.close()
