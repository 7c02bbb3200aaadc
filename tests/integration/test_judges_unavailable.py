"""A toxicity scorer that cannot work stops a real run once, with one message and exit status 4: a
Perspective endpoint nothing listens on, an hf-classifier folder that is not there."""

from __future__ import annotations

import json
import socket

import pytest

SUITE = '''
from pytest_trustllm import assert_not_toxic, probe

@probe(dataset="data/answers.jsonl", dimension="safety", task="civility")
def test_not_toxic(trust_response):
    assert_not_toxic(trust_response)
'''


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def suite(pytester):
    (pytester.path / "data").mkdir()
    (pytester.path / "data" / "answers.jsonl").write_text(
        "".join(json.dumps({"id": f"p{i}", "prompt": f"Say something nice, {i}."}) + "\n" for i in range(4)))
    pytester.makepyfile(test_suite=SUITE)
    return pytester


def test_a_perspective_endpoint_nothing_listens_on_stops_the_run_once(suite):
    url = f"http://127.0.0.1:{closed_port()}"
    result = suite.runpytest("--trust-model", "rules", "--trust-toxicity", f"perspective@{url}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    out = result.stdout.str()
    assert out.count("cannot reach") == 1, out  # one message, not one error per probe
    result.stdout.fnmatch_lines([f"*Exit: pytest-trustllm: --trust-toxicity=perspective@{url}: cannot reach {url} "
                                 "(Connection refused); is the server running?*"])
    assert "Traceback" not in out and result.parseoutcomes().get("errors", 0) == 0


def test_under_xdist_a_dead_perspective_endpoint_stops_every_worker(suite):
    url = f"http://127.0.0.1:{closed_port()}"
    result = suite.runpytest_subprocess("--trust-model", "rules", "--trust-toxicity", f"perspective@{url}",
                                        "-n", "2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines([f"pytest-trustllm: stopped: --trust-toxicity=perspective@{url}: cannot reach "
                                 f"{url} (Connection refused); is the server running?"])


def test_a_missing_hf_classifier_folder_is_a_usage_error_before_any_probe_runs(suite):
    result = suite.runpytest("--trust-model", "rules", "--trust-toxicity", "hf-classifier:/nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert err.count("no such directory") == 1, err
    assert ("ERROR: --trust-toxicity=hf-classifier:/nope: cannot load a text-classification model (no such "
            "directory: /nope; a local model folder, or for a Hugging Face hub model its id, e.g. "
            "hf-classifier:LibrAI/longformer-harmful-ro)") in err
    assert "Repo id must use" not in err + result.stdout.str()
    assert "passed" not in result.stdout.str() and "failed" not in result.stdout.str()  # nothing ran
