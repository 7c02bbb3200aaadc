"""Runs in real subprocesses: a killed run resumes without paying twice; xdist workers do not fetch
the same prompt twice; an API key never reaches the cache, the reports or the output."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from tests.support.openai_server import OpenAIStub

from .prefetch_suite import FAST_RETRIES, cached_prompts, model_arg, prompts, read_json, write_suite

FAKE_KEY = "sk-test-LEAKCHECK-5f2c9a7e1d"


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "TRUSTLLM_OPENAI_API_KEY",
                                                            "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER")}
    return {**env, **FAST_RETRIES, **extra}


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT], ids=["kill", "ctrl-c"])
def test_an_interrupted_run_resumes_sending_only_missing_prompts(pytester, stop):
    write_suite(pytester, prompts(30))
    with OpenAIStub(latency=0.1) as stub:
        args = [sys.executable, "-m", "pytest", model_arg(stub), "--trust-concurrency=2", "--trust-cache=c.sqlite3",
                "-p", "no:cacheprovider", "-q"]
        proc = subprocess.Popen(args, cwd=pytester.path, env=subprocess_env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while stub.count() < 8 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        proc.send_signal(stop)
        proc.wait(timeout=60)
        first_run = stub.count()
        answered = cached_prompts(pytester.path / "c.sqlite3")
        assert 0 < len(answered) < 30  # written as they arrived, not at the end

        result = pytester.runpytest(model_arg(stub), "--trust-cache=c.sqlite3", "-p", "no:cacheprovider")
        result.assert_outcomes(passed=30)
        resent = stub.chat_prompts()[first_run:]
        assert sorted(resent) == sorted(set(prompts(30)) - answered)  # only what never got an answer, once


def test_xdist_workers_share_the_work_and_the_report_names_the_model(pytester):
    write_suite(pytester, prompts(40))
    with OpenAIStub(latency=0.02) as stub:
        result = pytester.runpytest_subprocess(model_arg(stub), "-n", "2", "--trust-report=r.json",
                                               "--trust-concurrency=4")
        result.assert_outcomes(passed=40)
        sent = Counter(stub.chat_prompts())
    assert set(sent) == set(prompts(40)) and max(sent.values()) == 1  # no prompt fetched by both workers
    report = read_json(pytester.path / "r.json")
    assert report["model"]["backend"] == "openai" and report["model"]["model"] == "stub-model"  # from the workers
    assert report["generation"]["answers"]["generated"] == 40
    assert report["generation"]["params"][0]["requests"] == 40


def test_xdist_without_a_cache_shares_a_scratch_store_for_the_run(pytester):
    import glob
    import tempfile

    write_suite(pytester, prompts(30))
    scratch = set(glob.glob(f"{tempfile.gettempdir()}/pytest-trustllm-run-*"))
    with OpenAIStub(latency=0.02) as stub:
        result = pytester.runpytest_subprocess(model_arg(stub), "-n", "2", "--trust-no-cache", "--trust-concurrency=2")
        result.assert_outcomes(passed=30)
        sent = Counter(stub.chat_prompts())
    assert set(sent) == set(prompts(30)) and max(sent.values()) == 1
    assert set(glob.glob(f"{tempfile.gettempdir()}/pytest-trustllm-run-*")) == scratch  # removed at the end
    assert not (pytester.path / ".pytest_cache" / "d" / "trustllm").exists()


def test_xdist_resume_reads_the_shared_cache(pytester):
    write_suite(pytester, prompts(12))
    with OpenAIStub() as stub:
        pytester.runpytest_subprocess(model_arg(stub)).assert_outcomes(passed=12)
        again = pytester.runpytest_subprocess(model_arg(stub), "-n", "2")
        again.assert_outcomes(passed=12)
        assert stub.count() == 12


def test_the_api_key_reaches_no_file_and_no_output(pytester, monkeypatch):
    module = '''
from pytest_trustllm import probe

@probe(dataset="data/prompts.jsonl", dimension="safety", task="leak")
def test_answer(trust_response, trust_model):
    print("model:", trust_model.identity(), vars(trust_model).keys())
    assert "fine" in trust_response, f"unexpected answer {trust_response!r}"
'''
    write_suite(pytester, ["fine 1", "bad 1", "poison 1"], module=module)
    with OpenAIStub(api_key=FAKE_KEY, reply=lambda m, b: "fine" if "fine" in m[-1]["content"] else "bad") as stub:
        stub.add_fault("500", times=None, match="poison")
        args = [model_arg(stub), "--trust-report=r.json", "--junitxml=j.xml", "--trust-cache=c.sqlite3",
                "-rA", "--log-level=DEBUG", "-l", "--tb=long"]
        env = {**FAST_RETRIES, "OPENAI_API_KEY": FAKE_KEY}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        result = pytester.runpytest_subprocess(*args)
        result.assert_outcomes(passed=1, failed=1, errors=1)
        assert all(r.headers.get("authorization") == f"Bearer {FAKE_KEY}" for r in stub.requests)  # it was used
    for name in ("c.sqlite3", "r.json", "j.xml"):
        assert FAKE_KEY.encode() not in (pytester.path / name).read_bytes(), name
    for suffix in ("-wal", "-shm"):
        side = pytester.path / f"c.sqlite3{suffix}"
        assert not side.exists() or FAKE_KEY.encode() not in side.read_bytes()
    output = "\n".join(result.outlines + result.errlines)
    assert "unexpected answer 'bad'" in output and "HTTP 500" in output  # the output is there...
    assert FAKE_KEY not in output  # ...the key is not


def test_progress_bar_only_on_a_terminal(pytester):
    import pty

    write_suite(pytester, prompts(6))
    with OpenAIStub() as stub:
        primary, secondary = pty.openpty()
        args = [sys.executable, "-m", "pytest", model_arg(stub), "--trust-no-cache", "-q", "-p", "no:cacheprovider"]
        proc = subprocess.run(args, cwd=pytester.path, env=subprocess_env(), stdout=subprocess.PIPE,
                              stderr=secondary, timeout=120)
        os.close(secondary)
        terminal = b""
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # the other side is closed: all read
                break
            if not chunk:
                break
            terminal += chunk
        os.close(primary)
        piped = pytester.runpytest_subprocess(model_arg(stub), "--trust-no-cache")
    assert proc.returncode == 0
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal.decode("utf-8", "replace"))
    assert "pytest-trustllm: answers" in text and "6/6" in text and "pytest-trustllm: 6 answers in" in text
    assert "answers in" not in piped.stdout.str() + piped.stderr.str()  # quiet when not a terminal
