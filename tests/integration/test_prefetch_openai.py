"""Real pytest runs of a probe suite against the local OpenAI-compatible stub: bulk prefetch, the response
cache, faults, fail-fast, replay."""

from __future__ import annotations

from collections import Counter

import pytest

from .prefetch_suite import (
    FAST_RETRIES,
    cached_prompts,
    default_cache,
    model_arg,
    prompts,
    read_json,
    write_suite,
)


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    for name, value in FAST_RETRIES.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TRUSTLLM_OPENAI_STREAM", raising=False)


def test_each_prompt_is_sent_once_and_a_rerun_reads_the_cache(pytester, openai_stub):
    write_suite(pytester, prompts(30))
    result = pytester.runpytest(model_arg(openai_stub), "--trust-concurrency=4", "--trust-report=r.json")
    result.assert_outcomes(passed=30)
    assert sorted(openai_stub.chat_prompts()) == sorted(prompts(30))
    result.stdout.fnmatch_lines(["pytest-trustllm: 30 answers: 30 generated, 0 from the cache"])
    report = read_json(pytester.path / "r.json")
    assert report["model"] == {"spec": f"openai:{openai_stub.model}@{openai_stub.url}", "backend": "openai",
                               "model": openai_stub.model, "endpoint": openai_stub.url}
    assert report["generation"]["params"] == [{"temperature": 0.0, "max_new_tokens": 256, "top_p": None, "seed": 0,
                                              "requests": 30}]

    again = pytester.runpytest(model_arg(openai_stub))
    again.assert_outcomes(passed=30)
    assert openai_stub.count() == 30  # nothing sent twice
    again.stdout.fnmatch_lines(["pytest-trustllm: 30 answers: 0 generated, 30 from the cache"])


def test_last_failed_rerun_reuses_answers(pytester, openai_stub):
    openai_stub.reply = lambda messages, body: "nope" if messages[-1]["content"].endswith("3") else "stub answer"
    write_suite(pytester, prompts(10))
    pytester.runpytest(model_arg(openai_stub)).assert_outcomes(passed=9, failed=1)
    rerun = pytester.runpytest(model_arg(openai_stub), "--lf")
    rerun.assert_outcomes(failed=1)
    assert openai_stub.count() == 10


def test_streamed_answers(pytester, openai_stub, monkeypatch):
    monkeypatch.setenv("TRUSTLLM_OPENAI_STREAM", "1")
    write_suite(pytester, prompts(5))
    pytester.runpytest(model_arg(openai_stub)).assert_outcomes(passed=5)
    assert all(r.body["stream"] for r in openai_stub.requests if r.path == "/v1/chat/completions")


def test_faults_are_retried_and_a_probe_that_still_fails_errors_with_its_cause(pytester, openai_stub,
                                                                               monkeypatch):
    monkeypatch.setenv("TRUSTLLM_OPENAI_TIMEOUT", "0.5")
    openai_stub.add_fault("429", times=6, retry_after=0.02)
    openai_stub.add_fault("503", times=3)
    openai_stub.add_fault("500", times=None, match="poison")
    openai_stub.add_fault("hang", times=None, match="slow")
    openai_stub.add_fault("reset", times=None, match="cut")
    write_suite(pytester, prompts(20) + ["poison 1", "slow 1", "cut 1"])
    result = pytester.runpytest(model_arg(openai_stub), "--trust-concurrency=4", "--trust-report=r.json")
    result.assert_outcomes(passed=20, errors=3)  # nothing lost, nothing passed without an answer
    causes = {c["prompt"]: c.get("message", "") for c in read_json(pytester.path / "r.json")["cases"]
              if c["outcome"] == "error"}
    assert "HTTP 500" in causes["poison 1"] and "gave up after 3 attempts" in causes["poison 1"]
    assert "timed out" in causes["slow 1"]
    assert "connection failed" in causes["cut 1"]
    sent = Counter(openai_stub.chat_prompts())
    assert sent["poison 1"] == sent["slow 1"] == sent["cut 1"] == 3  # 1 + TRUSTLLM_RETRIES=2
    result.stdout.fnmatch_lines(["*3 failed*rate limited*"])
    assert "poison 1" not in cached_prompts(default_cache(pytester))  # errors are never cached


def test_a_wrong_model_name_stops_the_run_with_one_message(pytester, openai_stub):
    write_suite(pytester, prompts(50))
    result = pytester.runpytest(f"--trust-model=openai:no-such-model@{openai_stub.url}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if "no-such-model" in line]
    assert len(errors) == 1 and "not found" in errors[0] and "serves: stub-model" in errors[0]
    assert openai_stub.count() <= 1  # one check, not fifty failing probes


def test_an_unreachable_endpoint_stops_the_run_with_one_message(pytester, openai_stub):
    url = openai_stub.url
    openai_stub.close()
    write_suite(pytester, prompts(50))
    result = pytester.runpytest(f"--trust-model=openai:m@{url}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: --trust-model=openai:m@{url}: cannot reach {url}*"])


def test_under_xdist_an_unreachable_endpoint_stops_every_worker_without_a_summary(pytester, openai_stub):
    url = openai_stub.url
    openai_stub.close()
    write_suite(pytester, prompts(50))
    result = pytester.runpytest_subprocess(f"--trust-model=openai:m@{url}", "-n", "2", "--trust-report=r.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    out = result.stdout.str()
    stopped = [line for line in result.stdout.lines if line.startswith("pytest-trustllm: stopped:")]
    assert stopped == [f"pytest-trustllm: stopped: --trust-model=openai:m@{url}: cannot reach {url} "
                       "(ConnectError: [Errno 111] Connection refused); is the server running?"]
    assert result.parseoutcomes().get("errors", 0) <= 2  # at most one probe per worker, not fifty errors
    assert "trust summary" not in out and "gate " not in out  # no table of empty metrics, no failed gates
    assert "During handling of the above exception" not in out
    assert not (pytester.path / "r.json").exists()


def test_an_endpoint_that_dies_mid_run_stops_it(pytester, openai_stub):
    openai_stub.add_fault("reset", times=None, match=lambda messages, body: int(messages[-1]["content"][-2:]) >= 4)
    write_suite(pytester, [f"question {i:02d}" for i in range(60)])
    result = pytester.runpytest(model_arg(openai_stub), "--trust-concurrency=2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["*stopped answering*"])
    assert openai_stub.count() < 60  # the breaker stopped sending long before every prompt burnt its retries


def test_replay_answers_from_the_cache_only_and_reports_each_miss(pytester, openai_stub):
    write_suite(pytester, prompts(6))
    pytester.runpytest(model_arg(openai_stub)).assert_outcomes(passed=6)
    write_suite(pytester, prompts(6) + ["new prompt A", "new prompt B"])
    result = pytester.runpytest(model_arg(openai_stub), "--trust-replay")
    result.assert_outcomes(passed=6, errors=2)
    assert openai_stub.count() == 6  # replay never calls the model
    result.stdout.fnmatch_lines(["*no cached answer for this prompt (--trust-replay*",
                                 "*--trust-replay: 2 probe(s) had no cached answer*"])


def test_replay_without_a_cache_is_a_usage_error(pytester, openai_stub):
    write_suite(pytester, prompts(2))
    result = pytester.runpytest(model_arg(openai_stub), "--trust-replay", "--trust-no-cache")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --trust-replay*--trust-no-cache*"])


def test_no_cache_writes_nothing_and_asks_again(pytester, openai_stub):
    write_suite(pytester, prompts(4))
    for _ in range(2):
        pytester.runpytest(model_arg(openai_stub), "--trust-no-cache").assert_outcomes(passed=4)
    assert openai_stub.count() == 8
    assert not default_cache(pytester).exists()


def test_cache_path_option_and_fallback_without_cacheprovider(pytester, openai_stub):
    write_suite(pytester, prompts(3))
    pytester.runpytest(model_arg(openai_stub), "--trust-cache=answers/c.sqlite3").assert_outcomes(passed=3)
    assert cached_prompts(pytester.path / "answers" / "c.sqlite3") == set(prompts(3))
    pytester.runpytest(model_arg(openai_stub), "-p", "no:cacheprovider").assert_outcomes(passed=3)
    assert cached_prompts(pytester.path / ".pytest_cache" / "trustllm" / "responses.sqlite3") == set(prompts(3))


def test_a_corrupt_cache_gives_a_warning_and_a_fresh_cache(pytester, openai_stub):
    write_suite(pytester, prompts(3))
    path = default_cache(pytester)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"garbage" * 1000)
    result = pytester.runpytest(model_arg(openai_stub))
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*PytestWarning: pytest-trustllm: the response cache was unreadable*fresh one*"])
    assert cached_prompts(path) == set(prompts(3))


def test_replay_of_a_model_that_is_never_cached_is_one_clear_error(pytester):
    write_suite(pytester, prompts(3))
    result = pytester.runpytest("--trust-model=rules", "--trust-replay")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["*--trust-replay: rules answers are never cached*nothing to replay*"])


def test_a_cache_that_cannot_store_costs_the_cache_not_the_run(pytester, openai_stub, monkeypatch):
    import sqlite3

    from pytest_trustllm.cache import ResponseCache

    def locked(self, *args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(ResponseCache, "put", locked)  # another program holds the file past the busy timeout
    write_suite(pytester, prompts(6))
    result = pytester.runpytest(model_arg(openai_stub), "--trust-report=r.json")
    result.assert_outcomes(passed=6)  # (tox adds warnings of its own: their count is not checked)
    result.stdout.fnmatch_lines([
        "*pytest-trustllm: the response cache *responses.sqlite3 could not store an answer (database is locked); "
        "this run keeps its answers, but a later run will ask the model again for those not stored",
        "pytest-trustllm: 6 answers: 6 generated, 0 from the cache, 6 not stored in the cache"])
    assert read_json(pytester.path / "r.json")["generation"]["answers"]["unsaved"] == 6
    assert "Traceback" not in result.stdout.str()


def test_xdist_counts_each_answer_once_from_the_cache_and_in_replay(pytester, openai_stub):
    write_suite(pytester, prompts(40))
    first = pytester.runpytest_subprocess(model_arg(openai_stub), "-n", "2", "--trust-report=r.json")
    first.assert_outcomes(passed=40)
    answers = read_json(pytester.path / "r.json")["generation"]["answers"]
    assert answers["generated"] == 40 and answers["shared"] <= 40  # shared ones are among the generated
    line = next(x for x in first.stdout.lines if x.startswith("pytest-trustllm: 40 answers:"))
    assert line.startswith("pytest-trustllm: 40 answers: 40 generated, 0 from the cache")
    assert "read from other" not in line  # not a third kind of answer: "N of them read by a second ... too"
    warm = pytester.runpytest_subprocess(model_arg(openai_stub), "-n", "2", "--trust-report=r.json")
    warm.assert_outcomes(passed=40)
    warm.stdout.fnmatch_lines(["pytest-trustllm: 40 answers: 0 generated, 40 from the cache"])
    assert read_json(pytester.path / "r.json")["generation"]["answers"]["cached"] == 40
    write_suite(pytester, prompts(40) + prompts(3, "new"))
    replay = pytester.runpytest_subprocess(model_arg(openai_stub), "-n", "2", "--trust-replay", "--trust-report=r.json")
    replay.assert_outcomes(passed=40, errors=3)
    answers = read_json(pytester.path / "r.json")["generation"]["answers"]
    assert (answers["cached"], answers["replay_misses"]) == (40, 3)
    assert openai_stub.count() == 40


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]])
def test_a_cache_removed_during_the_run_is_reported(pytester, openai_stub, xdist):
    # under xdist the workers hold the cache (QA: the controller never said it); they report it in their stats
    write_suite(pytester, prompts(3))
    pytester.makeconftest('''
import pathlib

def pytest_runtest_teardown(item):
    for path in pathlib.Path("cache").glob("c.sqlite3*"):
        path.unlink()  # a CI clean-up removes the cache while the run goes on
''')
    result = pytester.runpytest_subprocess(model_arg(openai_stub), "--trust-cache=cache/c.sqlite3", *xdist)
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["pytest-trustllm: the response cache *c.sqlite3 was removed or replaced during the "
                                 "run: this run's answers may not have been kept, so the next run may ask the model "
                                 "again"])


def test_a_cache_in_a_folder_sqlite_cannot_write_says_why(tmp_path, monkeypatch):
    import importlib
    import os

    cache_module = importlib.import_module("pytest_trustllm.cache")  # the module pytester's runs left loaded
    CacheUnusable, ResponseCache = cache_module.CacheUnusable, cache_module.ResponseCache  # noqa: N806

    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "c.sqlite3").write_bytes(b"")
    real_access = os.access
    monkeypatch.setattr(cache_module.os, "access", lambda p, mode: False if str(p) == str(folder) else real_access(p, mode))
    monkeypatch.setattr(cache_module, "connect", lambda path: (_ for _ in ()).throw(
        __import__("sqlite3").OperationalError("unable to open database file")))
    with pytest.raises(CacheUnusable) as info:
        ResponseCache(folder / "c.sqlite3")
    assert str(info.value) == (f"cannot use {folder / 'c.sqlite3'} as the response cache: SQLite cannot open it "
                               f"(unable to open database file); {folder} is not writable, and SQLite writes beside "
                               "the cache even to read it (WAL journal): copy the cache to a writable place, or give "
                               "--trust-cache a writable path")


@pytest.mark.parametrize("stream", ["off", "on"])
def test_answers_cut_at_the_token_limit_are_counted_and_stay_cut_in_the_cache(pytester, openai_stub, monkeypatch,
                                                                                stream):
    monkeypatch.setenv("TRUSTLLM_OPENAI_STREAM", stream)
    openai_stub.finish_reason = "length"  # every answer stopped at max_tokens
    write_suite(pytester, prompts(3))
    for run in ("first", "cached"):
        result = pytester.runpytest(model_arg(openai_stub), "--trust-report=r.json")
        result.assert_outcomes(passed=3)
        result.stdout.fnmatch_lines([
            "warning: 3 answers in 3 probes stopped at the token limit (safety/echo; e.g. "
            "test_probes.py::test_echo[echo-0]), judged as written, without what the model would have said "
            "after it; raise --trust-max-tokens (or the task's max_new_tokens) to judge whole answers"])
        report = read_json(pytester.path / "r.json")
        assert report["run"]["totals"]["cut_answers"] == 3, run
        assert [c["observation"]["cut"] for c in report["cases"]] == [1, 1, 1]
    assert openai_stub.count() == 3  # the second run read the cache, and the cache kept "cut"


def test_a_cache_miss_caused_by_another_setting_says_which_setting(pytester, openai_stub):
    # LANDSCAPE: "the key must include everything that changes the answer; explain misses"
    write_suite(pytester, prompts(3))
    first = pytester.runpytest(model_arg(openai_stub), "--trust-cache=c.sqlite3")
    first.assert_outcomes(passed=3)
    assert "from another run" not in first.stdout.str()  # a cold cache explains nothing

    other = pytester.runpytest(model_arg(openai_stub), "--trust-cache=c.sqlite3", "--trust-max-tokens=64",
                               "--trust-report=r.json")
    other.assert_outcomes(passed=3)
    assert openai_stub.count() == 6  # asked again: the answers were cached with 256 new tokens
    other.stdout.fnmatch_lines([
        "pytest-trustllm: 3 answers were not read from the cache although the cache holds answers to the same "
        "prompts from another run: max_new_tokens 256 in the cache, 64 now (3 of them); the cache key covers the "
        "model's identity and every generation parameter"])
    assert read_json(pytester.path / "r.json")["generation"]["answers"]["cached_otherwise"] == {
        "answers": 3, "differences": 1,
        "because": [{"difference": "max_new_tokens 256 in the cache, 64 now", "answers": 3}]}

    # under replay, the probe's error says it too, and no API key or endpoint credentials ever show
    replay = pytester.runpytest(model_arg(openai_stub), "--trust-cache=c.sqlite3", "--trust-replay",
                                "--trust-max-tokens=32", "--trust-temperature=0.5")
    replay.assert_outcomes(errors=3)
    replay.stdout.fnmatch_lines([
        "*no cached answer for this prompt (--trust-replay never calls the model); run once without --trust-replay "
        "to fetch it; the cache has an answer to it from another run: max_new_tokens 64 in the cache, 32 now; "
        "temperature 0.0 in the cache, 0.5 now*",
        "pytest-trustllm: 3 answers had no cached answer although the cache holds answers to the same prompts from "
        "another run: max_new_tokens 64 in the cache, 32 now; temperature 0.0 in the cache, 0.5 now (3 of them); "
        "the cache key covers the model's identity and every generation parameter"])


def test_answers_stored_by_this_run_are_not_another_run_under_xdist(pytester, openai_stub):
    # QA: on a cold cache, one xdist worker's answers (256 tokens) explained another's misses (16 tokens) as
    # "from another run"; both settings are this run's own
    write_suite(pytester, prompts(20))
    pytester.makepyfile(test_short='''
from pytest_trustllm import probe

@probe(dataset="data/prompts.jsonl", dimension="safety", task="short", max_new_tokens=16)
def test_short(trust_response):
    assert trust_response
''')
    result = pytester.runpytest_subprocess(model_arg(openai_stub), "--trust-cache=c.sqlite3", "-n", "2",
                                           "-p", "no:randomly", "--trust-report=r.json")
    result.assert_outcomes(passed=40)
    assert "from another run" not in result.stdout.str()
    assert read_json(pytester.path / "r.json")["generation"]["answers"]["cached_otherwise"]["answers"] == 0


def test_xdist_workers_answer_for_themselves_when_the_cache_cannot_record_claims(pytester, openai_stub):
    # QA: on a full disk, claim() raised inside every probe under -n 2 (200 errors); now a warning, and the
    # workers answer their own probes
    import sqlite3

    from pytest_trustllm.cache import ResponseCache

    ResponseCache(pytester.path / "c.sqlite3").close()
    conn = sqlite3.connect(pytester.path / "c.sqlite3")
    conn.execute("CREATE TRIGGER full BEFORE INSERT ON claims BEGIN SELECT RAISE(ABORT, 'database or disk is full'); "
                 "END")
    conn.commit()
    conn.close()
    write_suite(pytester, prompts(12))
    result = pytester.runpytest_subprocess(model_arg(openai_stub), "--trust-cache=c.sqlite3", "-n", "2",
                                           "-p", "no:randomly", "-W", "always::pytest.PytestWarning")
    result.assert_outcomes(passed=12)
    result.stdout.fnmatch_lines(["*cannot record which xdist worker answers which prompt (database or disk is "
                                 "full); each worker now answers its own probes*"])


def test_a_cache_damaged_during_the_run_is_left_alone_and_the_run_goes_on(pytester, openai_stub, monkeypatch):
    # QA: a cache whose pages went bad after it was opened (replaced while another run was writing it) made
    # every probe error "database disk image is malformed"
    import sqlite3

    from pytest_trustllm.cache import ResponseCache

    def damaged(self, keys):
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(ResponseCache, "get_many", damaged)
    write_suite(pytester, prompts(6))
    result = pytester.runpytest(model_arg(openai_stub), "--trust-cache=c.sqlite3", "-p", "no:randomly",
                                "-W", "always::pytest.PytestWarning")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["*the response cache *c.sqlite3 is damaged (database disk image is malformed); "
                                 "this run goes on without it*"])
    assert openai_stub.count() == 6
