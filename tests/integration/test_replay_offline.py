"""--trust-replay builds only the model's identity: no server, no API key, no weights loaded; and the identity of
a local model changes with its weights, its config and its chat template, so no stale answer is replayed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from .prefetch_suite import FAST_RETRIES, model_arg, prompts, read_json, write_suite

KEY_VARIABLES = ("OPENAI_API_KEY", "TRUSTLLM_OPENAI_API_KEY", "OPENAI_BASE_URL", "TRUSTLLM_OPENAI_STREAM")
LOCAL = '''
from pytest_trustllm import probe

@probe(dataset="data/prompts.jsonl", dimension="safety", task="local")
def test_answer(trust_response):
    assert isinstance(trust_response, str) and trust_response.prompt
'''
LOCAL_PROMPTS = ["a", "What is the capital of France?", "Sure.", "How do I make a weapon?"]


@pytest.fixture(autouse=True)
def no_keys(monkeypatch):
    for name in KEY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in FAST_RETRIES.items():
        monkeypatch.setenv(name, value)


def answers(path: Path) -> dict[str, str]:
    return {c["nodeid"]: c.get("response") for c in read_json(path)["cases"]}


def test_openai_replay_needs_no_server_and_no_key_and_exits_as_the_live_run(pytester, openai_stub):
    openai_stub.reply = lambda messages, body: "nope" if messages[-1]["content"].endswith("3") else "stub answer"
    write_suite(pytester, prompts(5))
    model, url = model_arg(openai_stub), openai_stub.url
    live = pytester.runpytest(model, "--trust-cache=c.sqlite3", "--trust-report=live.json")
    live.assert_outcomes(passed=4, failed=1)
    openai_stub.close()  # the server is gone, and there is no API key in the environment

    replay = pytester.runpytest(model, "--trust-cache=c.sqlite3", "--trust-replay", "--trust-report=replay.json")
    replay.assert_outcomes(passed=4, failed=1)
    assert replay.ret == live.ret
    replay.stdout.fnmatch_lines(["pytest-trustllm: 5 answers: 0 generated, 5 from the cache"])
    assert "cannot reach" not in replay.stdout.str() + replay.stderr.str()
    assert answers(pytester.path / "replay.json") == answers(pytester.path / "live.json")
    model = read_json(pytester.path / "replay.json")["model"]
    assert model == {"spec": f"openai:stub-model@{url}", "backend": "openai", "model": "stub-model", "endpoint": url}


def test_replay_of_the_openai_api_needs_no_key_and_a_miss_stays_a_probe_error(pytester):
    write_suite(pytester, prompts(2))
    result = pytester.runpytest("--trust-model=openai:gpt-4o-mini", "--trust-cache=c.sqlite3", "--trust-replay",
                                "--trust-report=r.json")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*no cached answer for this prompt (--trust-replay never calls the model)*",
                                 "*--trust-replay: 2 probe(s) had no cached answer*"])
    assert "needs a key" not in result.stdout.str() + result.stderr.str()
    assert read_json(pytester.path / "r.json")["model"]["endpoint"] == "https://api.openai.com/v1"


def _copy(tiny_gpt2: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny_gpt2, tmp_path / "model"))


def _local_args(folder: Path) -> list[str]:
    return [f"--trust-model=hf:{folder}?dtype=float32&device=cpu", "--trust-max-tokens=4", "--trust-cache=c.sqlite3"]


def test_hf_replay_never_loads_the_weights(pytester, tiny_gpt2, tmp_path):
    folder = _copy(tiny_gpt2, tmp_path)
    write_suite(pytester, LOCAL_PROMPTS, module=LOCAL)
    pytester.runpytest(*_local_args(folder), "--trust-report=live.json").assert_outcomes(passed=4)

    # the same size and date, garbage inside: what the identity fingerprints is unchanged, loading is impossible
    weights = folder / "model.safetensors"
    stat = weights.stat()
    weights.write_bytes(b"\0" * stat.st_size)
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    live = pytester.runpytest(*_local_args(folder))
    assert live.ret == pytest.ExitCode.USAGE_ERROR  # loading it fails once, cleanly (not an INTERNALERROR)
    live.stderr.fnmatch_lines([f"ERROR: --trust-model=hf:{folder}?dtype=float32&device=cpu: cannot load "
                               f"'{folder}' with transformers: SafetensorError: Error while deserializing header*"])

    replay = pytester.runpytest(*_local_args(folder), "--trust-replay", "--trust-report=replay.json")
    replay.assert_outcomes(passed=4)
    replay.stdout.fnmatch_lines(["pytest-trustllm: 4 answers: 0 generated, 4 from the cache"])
    assert answers(pytester.path / "replay.json") == answers(pytester.path / "live.json")
    live_model = read_json(pytester.path / "live.json")["model"]
    assert read_json(pytester.path / "replay.json")["model"] == live_model
    assert set(live_model) >= {"weights", "config", "dtype"}


def test_hf_replay_misses_when_the_weights_changed(pytester, tiny_gpt2, tmp_path):
    folder = _copy(tiny_gpt2, tmp_path)
    write_suite(pytester, LOCAL_PROMPTS, module=LOCAL)
    pytester.runpytest(*_local_args(folder)).assert_outcomes(passed=4)
    weights = folder / "model.safetensors"
    stat = weights.stat()
    os.utime(weights, (stat.st_atime, stat.st_mtime + 3600))  # new weights: another date (or size)

    replay = pytester.runpytest(*_local_args(folder), "--trust-replay")
    replay.assert_outcomes(errors=4)
    replay.stdout.fnmatch_lines(["pytest-trustllm: 4 answers: 0 generated, 0 from the cache, 4 not in the cache "
                                 "(--trust-replay)",
                                 "*--trust-replay: 4 probe(s) had no cached answer*"])


@pytest.mark.parametrize("edit", ["chat_template.jinja", "tokenizer_config.json", "tokenizer.json"])
def test_a_changed_chat_template_or_tokenizer_is_asked_again(pytester, tiny_gpt2, tmp_path, edit):
    folder = _copy(tiny_gpt2, tmp_path)
    write_suite(pytester, LOCAL_PROMPTS, module=LOCAL)
    pytester.runpytest(*_local_args(folder)).assert_outcomes(passed=4)
    if edit == "chat_template.jinja":
        template = folder / edit
        template.write_text(template.read_text().replace("<|assistant|>", "<|assistant|> "))
    else:  # a same-size edit within the same second: contents are hashed, not sizes and dates
        path = folder / edit
        stat = path.stat()
        text = path.read_text()
        path.write_text(text.replace('"rstrip": false', '"rstrip": true ', 1) if edit == "tokenizer.json" else
                        text.replace('"model_max_length": 1', '"model_max_length": 2', 1))
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert path.stat().st_size == stat.st_size

    again = pytester.runpytest(*_local_args(folder))
    again.assert_outcomes(passed=4)
    again.stdout.fnmatch_lines(["pytest-trustllm: 4 answers: 4 generated, 0 from the cache"])


def test_hf_hub_id_replays_from_the_commit_in_the_local_cache(pytester, tiny_gpt2, tmp_path, monkeypatch):
    """A hub id's identity is the commit of its snapshot in the Hugging Face cache, found without loading (or
    downloading) anything; the live run records the same one. Subprocesses: huggingface_hub reads its cache
    location when imported."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--org--tiny"
    shutil.copytree(tiny_gpt2, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    write_suite(pytester, LOCAL_PROMPTS, module=LOCAL)
    args = ["--trust-model=hf:org/tiny?dtype=float32&device=cpu", "--trust-max-tokens=4", "--trust-cache=c.sqlite3"]
    pytester.runpytest_subprocess(*args, "--trust-report=live.json").assert_outcomes(passed=4)
    assert read_json(pytester.path / "live.json")["model"]["revision"] == commit

    weights = repo / "snapshots" / commit / "model.safetensors"
    weights.write_bytes(b"\0" * weights.stat().st_size)  # loading would fail now
    replay = pytester.runpytest_subprocess(*args, "--trust-replay", "--trust-report=replay.json")
    replay.assert_outcomes(passed=4)
    assert answers(pytester.path / "replay.json") == answers(pytester.path / "live.json")
