"""A small probe suite for prefetch tests, written into a pytester directory."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

PROBES = '''
from pytest_trustllm import probe

@probe(dataset="data/prompts.jsonl", dimension="safety", task="echo")
def test_echo(trust_response):
    assert trust_response.startswith("stub answer"), trust_response
'''

FAST_RETRIES = {"TRUSTLLM_RETRIES": "2", "TRUSTLLM_BACKOFF_S": "0.01", "TRUSTLLM_OPENAI_TIMEOUT": "5"}


def write_suite(pytester, prompts: list[str], module: str = PROBES) -> None:
    data = pytester.path / "data"
    data.mkdir(exist_ok=True)
    with (data / "prompts.jsonl").open("w") as fh:
        for i, prompt in enumerate(prompts):
            fh.write(json.dumps({"id": f"p{i:03d}", "prompt": prompt}) + "\n")
    pytester.makepyfile(test_probes=module)


def prompts(n: int, prefix: str = "question") -> list[str]:
    return [f"{prefix} {i}" for i in range(n)]


def model_arg(stub) -> str:
    return f"--trust-model=openai:{stub.model}@{stub.url}"


def default_cache(pytester) -> Path:
    return pytester.path / ".pytest_cache" / "d" / "trustllm" / "responses.sqlite3"


def cached_prompts(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {prompt for (prompt,) in conn.execute("SELECT prompt FROM responses")}


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())
