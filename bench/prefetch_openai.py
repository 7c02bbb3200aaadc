"""Bulk prefetch against an OpenAI-compatible server: N prompts, 50 ms latency each, C in flight.

    python bench/prefetch_openai.py [--n 1000] [--concurrency 32] [--latency 0.05] [--sequential 100]

Baselines measured in the same run: the ideal N*latency/C seconds, and a sequential client (the same
AsyncOpenAI calls one at a time, measured on --sequential prompts and scaled to N). Then where the time
goes: the client's own cost per request (zero-latency server), the cache writes, and the gap to ideal.
The stub runs in a separate process so that it does not compete with the client for the GIL.
Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._fake_state import fake_state  # noqa: E402
from pytest_trustllm.cases import GenParams  # noqa: E402
from pytest_trustllm.models.openai_api import OpenAIModel  # noqa: E402
from pytest_trustllm.prefetch import Prefetcher  # noqa: E402
from pytest_trustllm.responses import Request  # noqa: E402


def serve(latency: float, conn) -> None:
    from tests.support.openai_server import OpenAIStub

    with OpenAIStub(latency=latency) as stub:
        conn.send(stub.url)
        conn.recv()  # until the parent says stop


def start_stub(latency: float):
    parent, child = multiprocessing.Pipe()
    proc = multiprocessing.Process(target=serve, args=(latency, child), daemon=True)
    proc.start()
    return parent.recv(), parent, proc


def prefetch(url: str, n: int, concurrency: int, cache: Path | None, tag: str) -> float:
    model = OpenAIModel(f"openai:stub-model@{url}")
    state = fake_state(model, cache, concurrency=concurrency)
    prefetcher = Prefetcher(state)
    requests = [Request(f"{tag} prompt {i}", GenParams(max_new_tokens=32)) for i in range(n)]
    started = time.perf_counter()
    answers = prefetcher.fetch(requests)
    elapsed = time.perf_counter() - started
    assert len(answers) == n and all(a.text for a in answers.values()), "every prompt must be answered"
    prefetcher.close()
    model.close()
    return elapsed


def sequential(url: str, n: int) -> float:
    model = OpenAIModel(f"openai:stub-model@{url}")

    async def run() -> None:
        for i in range(n):
            await model.agenerate(f"sequential prompt {i}", GenParams(max_new_tokens=32))
        await model.aclose()

    started = time.perf_counter()
    asyncio.run(run())
    return time.perf_counter() - started


def cache_write_cost(n: int, folder: Path) -> float:
    from pytest_trustllm.cache import ResponseCache

    store = ResponseCache(folder / "writes.sqlite3")
    started = time.perf_counter()
    for i in range(n):
        store.put(f"k{i}", "stub answer: some prompt", model={"backend": "openai"}, params={}, prompt="p", sample=0)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--sequential", type=int, default=100, help="prompts timed one at a time (scaled to N)")
    args = parser.parse_args()
    n, c, latency = args.n, args.concurrency, args.latency
    os.environ.setdefault("TRUSTLLM_OPENAI_TIMEOUT", "30")
    print(f"host: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url, pipe, proc = start_stub(latency)
        try:
            prefetch(url, 50, c, None, "warm-up")
            plugin_s = prefetch(url, n, c, folder / "cache.sqlite3", "bench")
            no_cache_s = prefetch(url, n, c, None, "nocache")
            seq_s = sequential(url, args.sequential) * n / args.sequential
        finally:
            pipe.send("stop")
            proc.join(5)
        url0, pipe0, proc0 = start_stub(0.0)
        try:
            prefetch(url0, 50, c, None, "warm-up")
            cpu_s = prefetch(url0, n, c, None, "zero-latency")
        finally:
            pipe0.send("stop")
            proc0.join(5)
        writes_s = cache_write_cost(n, folder)

    ideal = n * latency / c
    print(f"\nN={n} prompts, latency {latency * 1000:.0f} ms, concurrency {c}")
    print(f"  ideal (N*latency/C)                 {ideal:7.2f} s")
    print(f"  plugin prefetch (cache on)          {plugin_s:7.2f} s   {plugin_s / ideal:5.2f}x ideal   "
          f"{n / plugin_s:6.0f} req/s")
    print(f"  plugin prefetch (cache off)         {no_cache_s:7.2f} s   {no_cache_s / ideal:5.2f}x ideal")
    print(f"  sequential client (scaled from {args.sequential}) {seq_s:7.2f} s   "
          f"plugin is {seq_s / plugin_s:5.1f}x faster")
    print("where the time goes:")
    print(f"  client+server CPU, zero latency      {cpu_s:7.2f} s   ({cpu_s / n * 1000:.2f} ms per request: "
          f"the floor on this host)")
    print(f"  cache writes (SQLite WAL, commit each) {writes_s:5.2f} s   ({writes_s / n * 1e6:.0f} us per answer)")
    print(f"  latency-bound part (ideal)          {ideal:7.2f} s")
    print(f"  max(ideal, CPU floor)               {max(ideal, cpu_s):7.2f} s   measured/that = "
          f"{plugin_s / max(ideal, cpu_s):.2f}")


if __name__ == "__main__":
    main()
