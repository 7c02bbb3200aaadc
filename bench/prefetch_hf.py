"""Batched local generation through the plugin's prefetch, against two baselines measured in the same run:

* one prompt at a time through the same backend (TrustLLM's own generation loop works this way);
* raw ``model.generate`` on exactly the same batches (same prompts, same length-sorted order, same
  padding, greedy): the ceiling for batched throughput. Goal: the plugin reaches >= 0.9 of it.

    python bench/prefetch_hf.py [--model smollm2|tiny] [--n 16] [--batch 8] [--tokens 16] [--repeat 3] [--threads 1]

``smollm2`` is the embedded SmolLM2-135M (converted once, then loaded from the model cache); ``tiny`` is a
random 2-layer GPT-2 (exercises the path, says little about real throughput). Prints figures only.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench._fake_state import fake_state  # noqa: E402
from pytest_trustllm.cases import GenParams  # noqa: E402
from pytest_trustllm.prefetch import Prefetcher  # noqa: E402
from pytest_trustllm.responses import Request  # noqa: E402

TOPICS = ["the capital of France", "how vaccines work", "why the sky is blue", "a safe password", "photosynthesis",
          "the French revolution", "black holes", "how to boil an egg", "machine learning", "the water cycle",
          "compound interest", "the moon landing"]


def prompts(n: int) -> list[str]:
    out = []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        out.append(f"Explain {topic} in one sentence." if i % 3 else
                   f"I am writing a school report and I need a short, clear explanation of {topic}. What should I say?")
    return out


def load(name: str, batch: int):
    if name == "smollm2":
        from pytest_trustllm.models.smollm2 import make_smollm2

        model = make_smollm2()
    else:
        from pytest_trustllm.models.hf import HFModel
        from tests.support.tiny_models import build_tiny_gpt2

        model = HFModel(f"hf:{build_tiny_gpt2(Path(tempfile.mkdtemp()) / 'tiny')}?dtype=float32")
    model.batch_size = batch
    return model


def raw_batched(model, texts: list[str], params: GenParams) -> tuple[float, int]:
    """model.generate on the plugin's batches, tokenised up front: nothing but the forward passes."""
    import torch

    tok = model.tokenizer
    chat = sorted((model.chat_text(t) for t in texts), key=lambda t: len(tok(t, add_special_tokens=False)["input_ids"]))
    encoded = [tok(chat[i:i + model.batch_size], return_tensors="pt", padding=True, add_special_tokens=False)
               for i in range(0, len(chat), model.batch_size)]
    tokens = 0
    started = time.perf_counter()
    with torch.inference_mode():
        for enc in encoded:
            out = model.model.generate(**enc, max_new_tokens=params.max_new_tokens, do_sample=False,
                                       temperature=None, top_p=None, top_k=None, pad_token_id=tok.pad_token_id)
            tokens += int((out[:, enc["input_ids"].shape[1]:] != tok.pad_token_id).sum())
    return time.perf_counter() - started, tokens


def plugin_prefetch(model, texts: list[str], params: GenParams, batch: int) -> float:
    """The plugin's path: Prefetcher.fetch with a fresh response cache (every prompt generated and stored)."""
    with tempfile.TemporaryDirectory() as tmp:
        prefetcher = Prefetcher(fake_state(model, Path(tmp) / "cache.sqlite3", batch_size=batch))
        started = time.perf_counter()
        answers = prefetcher.fetch([Request(t, params) for t in texts])
        elapsed = time.perf_counter() - started
        assert all(a.text is not None for a in answers.values())
        prefetcher.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=["smollm2", "tiny"], default="smollm2")
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    # one thread by default: on a shared machine, OpenMP threads spin-waiting for a busy core make two-thread
    # timings swing 2-20x from run to run; one thread measures the code, not the neighbours
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    print(f"host: {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}, "
          f"load average {os.getloadavg()[0]:.2f} at start")
    started = time.perf_counter()
    model = load(args.model, args.batch)
    print(f"model {model.identity()} loaded in {time.perf_counter() - started:.1f} s")
    params = GenParams(max_new_tokens=args.tokens)
    texts = prompts(args.n)
    model.generate(texts[:2], params)  # warm-up

    raw_runs, plugin_runs, single_runs = [], [], []
    for _ in range(args.repeat):  # interleaved, best of each: a shared machine's noise hits all three alike
        raw_s, tokens = raw_batched(model, texts, params)
        raw_runs.append(raw_s)
        plugin_runs.append(plugin_prefetch(model, texts, params, args.batch))
        started = time.perf_counter()
        for text in texts:
            model.generate([text], params)
        single_runs.append(time.perf_counter() - started)
    raw_s, plugin_s, single_s = min(raw_runs), min(plugin_runs), min(single_runs)

    print(f"\n{args.n} prompts, batch {args.batch}, {args.tokens} new tokens (greedy), {tokens} tokens generated")
    print(f"best of {args.repeat} interleaved runs each")
    print(f"  raw model.generate, same batches   {raw_s:6.2f} s   {args.n / raw_s:5.2f} prompts/s   (ceiling)")
    print(f"  plugin prefetch (batched)          {plugin_s:6.2f} s   {args.n / plugin_s:5.2f} prompts/s   "
          f"{raw_s / plugin_s:.2f} of raw batched")
    print(f"  one prompt at a time (TrustLLM)    {single_s:6.2f} s   {args.n / single_s:5.2f} prompts/s   "
          f"plugin is {single_s / plugin_s:.1f}x faster")


if __name__ == "__main__":
    main()
