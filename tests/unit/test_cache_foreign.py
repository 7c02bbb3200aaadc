"""What the response cache accepts: its own files (old or half-created), a corrupt file (moved aside), and never
another application's database or a path that cannot hold one (CacheUnusable: a usage error upstream)."""

from __future__ import annotations

import sqlite3

import pytest

from pytest_trustllm.cache import CacheUnusable, ResponseCache


def make_db(path, *statements: str) -> bytes:
    conn = sqlite3.connect(path)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()
    return path.read_bytes()


@pytest.mark.parametrize(("statements", "detail"), [
    (["CREATE TABLE users (id INTEGER, name TEXT)", "INSERT INTO users VALUES (1, 'alice')"], "tables: users"),
    (["CREATE TABLE responses (id INTEGER, body TEXT)"], "its table responses has columns body, id"),
    (["CREATE TABLE meta (k TEXT)"], "its table meta has columns k"),
])
def test_another_applications_database_is_neither_changed_nor_moved(tmp_path, statements, detail):
    path = tmp_path / "app.db"
    before = make_db(path, *statements)
    with pytest.raises(CacheUnusable) as info:
        ResponseCache.open_or_reset(path)
    assert str(info.value) == (f"cannot use {path} as the response cache: it is an SQLite database of another "
                               f"application ({detail}); pytest-trustllm neither changes nor moves it: give another "
                               "path with --trust-cache")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db"]


def test_a_cache_of_this_plugin_opens_even_half_created(tmp_path):
    path = tmp_path / "c.sqlite3"
    make_db(path, "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")  # killed while creating it
    store, warning = ResponseCache.open_or_reset(path)
    assert warning is None
    store.put("k", "v", model={}, params={}, prompt="p", sample=0)
    store.close()
    store, warning = ResponseCache.open_or_reset(path)
    assert warning is None and store.get_many(["k"])["k"][0] == "v"


def test_a_directory_or_an_impossible_folder_is_unusable(tmp_path):
    folder = tmp_path / "adir.sqlite"
    folder.mkdir()
    with pytest.raises(CacheUnusable, match="it is a directory"):
        ResponseCache.open_or_reset(folder)
    assert folder.is_dir() and not list(tmp_path.glob("*.corrupt-*"))
    (tmp_path / "afile").write_text("x")
    with pytest.raises(CacheUnusable) as info:
        ResponseCache(tmp_path / "afile" / "c.sqlite3")
    assert str(info.value).startswith(f"cannot use {tmp_path / 'afile' / 'c.sqlite3'} as the response cache: "
                                      f"cannot create its folder {tmp_path / 'afile'} (")


def test_a_truncated_database_is_still_moved_aside(tmp_path):
    path = tmp_path / "c.sqlite3"
    store = ResponseCache(path)
    for i in range(200):
        store.put(f"k{i}", "x" * 500, model={}, params={}, prompt="p", sample=0)
    store.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    store, warning = ResponseCache.open_or_reset(path)
    assert warning is not None and "moved it to" in warning
    assert list(tmp_path.glob("c.sqlite3.corrupt-*")) and len(store) == 0
