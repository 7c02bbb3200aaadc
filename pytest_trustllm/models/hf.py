"""``hf:PATH_OR_ID[?options]``: a transformers causal LM with a chat template, batched generation.

Options after ``?`` (``&``-separated): ``trust_remote_code=1`` (off unless asked: it runs the repository's
Python code), ``dtype=bfloat16|float16|float32``, ``device=cpu|cuda|cuda:1|mps``, ``revision=REV``,
``batch_size=N``, ``threads=N`` (CPU threads; under xdist the default is the cores divided among workers).
Defaults: the first GPU when there is one (bf16, or fp16 where bf16 is unsupported), else the CPU in bf16 where
it has bf16 instructions (avx512_bf16/amx), else float32. Every option is checked when the spec is parsed: a
wrong value is one usage error naming it.

Identity (the cache key's model part): for a local folder its resolved path, the names, sizes and dates of the
weight files, and a digest of the contents of every other file that shapes the answers (config.json,
generation_config.json, tokenizer files, the chat template); for a hub id its revision. Under --trust-replay
the identity is all that is built (:func:`identity_of`): no weights are loaded.

Generation: each prompt is wrapped in the tokenizer's chat template as one user turn; prompts are sorted
by token length into batches (less padding), left-padded, and decoded without the prompt. Temperature 0 is
greedy; otherwise sampling seeded with ``params.seed`` before every batch, so a rerun gives the same answers.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from ..cases import GenParams
from ..redaction import strip_credentials
from ..requirements import hf_problem
from .base import Answer, Model, ModelError, ModelUnavailable
from .hf_files import (  # noqa: F401  (weights_fingerprint, config_fingerprint: part of this module's API)
    check_local_folder,
    config_fingerprint,
    first_meaningful_line,
    identity_for,
    is_local_path,
    weights_fingerprint,
)

_OPTIONS = {"trust_remote_code", "dtype", "device", "revision", "batch_size", "threads"}
_DEVICE = re.compile(r"^(cpu|mps|(cuda|xpu)(:\d+)?)$")
_DTYPES = ("bfloat16", "float16", "half", "float32", "float", "float64", "double")
_BOOLEANS = ("1", "0", "true", "false", "yes", "no", "on", "off", "")


def parse_spec(spec: str) -> tuple[str, dict[str, str]]:
    """``hf:PATH?k=v&k=v`` -> (PATH, {k: v}); unknown keys and wrong values are a usage error naming them."""
    target, _, query = spec.removeprefix("hf:").partition("?")
    options = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
    unknown = sorted(set(options) - _OPTIONS)
    if not target or unknown:
        problem = f"unknown option(s) {', '.join(unknown)}" if unknown else "no model path or id"
        raise pytest.UsageError(f"--trust-model={spec}: {problem}; expected hf:PATH_OR_ID[?option=value&...] with "
                                f"options {', '.join(sorted(_OPTIONS))}")
    for name in ("batch_size", "threads"):
        value = options.get(name, "")
        if value and not (value.isascii() and value.isdigit() and int(value) > 0):
            raise pytest.UsageError(f"--trust-model={spec}: {name}={value!r}: expected a positive whole number")
    checks = (("device", lambda v: bool(_DEVICE.match(v)), "cpu, cuda, cuda:N, mps, xpu or xpu:N"),
              ("dtype", lambda v: v in _DTYPES, "bfloat16, float16 or float32"),
              ("trust_remote_code", lambda v: v.strip().lower() in _BOOLEANS, "1 or 0"))
    for name, valid, expected in checks:
        if name in options and not valid(options[name]):
            raise pytest.UsageError(f"--trust-model={spec}: {name}={options[name]!r}: expected {expected}")
    return target, options


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def pick_device(requested: str | None = None) -> str:
    import torch

    if requested:
        return requested
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(device: str, requested: str | None = None):
    import torch

    if requested:
        if not hasattr(torch, requested) or not isinstance(getattr(torch, requested), torch.dtype):
            raise pytest.UsageError(f"hf: unknown dtype {requested!r} (bfloat16, float16, float32)")
        return getattr(torch, requested)
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.bfloat16 if cpu_has_fast_bf16() else torch.float32


def cpu_has_fast_bf16() -> bool:
    """bf16 matmuls beat float32 only on CPUs with bf16 instructions (measured: ~2x at batch 8 on avx512_bf16)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def identity_of(spec: str) -> dict[str, Any]:
    """The identity of SPEC's answers without loading the model (``--trust-replay``): for a local folder, its
    fingerprints (files are hashed or stat'ed, never loaded); for a hub id, the commit in the local cache."""
    target, options = parse_spec(spec)
    check_local_folder(target)
    problem = hf_problem(f"--trust-model={strip_credentials(spec)}")  # the default dtype depends on the machine
    if problem:
        raise pytest.UsageError(problem)
    dtype = pick_dtype(pick_device(options.get("device")), options.get("dtype"))
    identity = identity_for(target, dtype, options.get("revision"))
    if "revision" in identity and identity["revision"] is None:  # a hub id, not asked for by revision, not cached
        raise ModelUnavailable(f"{target!r} is not in the local Hugging Face cache, so --trust-replay cannot tell "
                               "which revision its cached answers belong to; run once without --trust-replay, "
                               "or restore the Hugging Face cache (HF_HOME) with the response cache")
    return identity


def set_cpu_threads(requested: str | None) -> None:
    """Under xdist every worker would use every core (oversubscribed: measured 10-70x slower per step on
    2 busy cores): give each worker its share unless ``threads=N`` says otherwise."""
    import torch

    try:
        workers = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1))
    except ValueError:
        workers = 1
    threads = int(requested) if requested else (max(1, (os.cpu_count() or 1) // workers) if workers > 1 else 0)
    if threads:
        torch.set_num_threads(threads)


@contextlib.contextmanager
def quiet_transformers():
    """No "Loading weights" progress bars in the middle of pytest's output."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


class HFModel(Model):
    kind = "local"
    batch_size = 8

    def __init__(self, spec: str, *, path: str | None = None, identity: dict[str, Any] | None = None) -> None:
        problem = hf_problem(f"--trust-model={strip_credentials(spec)}")
        if problem:  # before pick_device() imports torch
            raise pytest.UsageError(problem)
        target, options = parse_spec(spec) if path is None else (path, {})
        self.spec = spec
        self.target = target
        if options.get("batch_size"):
            self.batch_size = int(options["batch_size"])
        self.device = pick_device(options.get("device"))
        self.dtype = pick_dtype(self.device, options.get("dtype"))
        self.trust_remote_code = _truthy(options.get("trust_remote_code"))
        self.revision = options.get("revision")
        if self.device == "cpu":
            set_cpu_threads(options.get("threads"))
        self.tokenizer, self.model = self._load()
        self._identity = identity or self._default_identity()

    def _load(self):
        try:
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise pytest.UsageError(f"--trust-model={self.spec} needs transformers and torch: "
                                    f"pip install 'pytest-trustllm[hf]' ({exc})") from None
        kwargs = {"trust_remote_code": self.trust_remote_code, "revision": self.revision}
        check_local_folder(self.target)
        try:
            with quiet_transformers():
                tokenizer = AutoTokenizer.from_pretrained(self.target, **kwargs)
                model = AutoModelForCausalLM.from_pretrained(self.target, dtype=self.dtype, **kwargs)
            if getattr(tokenizer, "chat_template", None):
                model.to(self.device)
        except Exception as exc:  # any failure to load (a truncated weights file: SafetensorError) is "unavailable"
            hint = " (offline: HF_HUB_OFFLINE is set, only local folders and cached ids load)" \
                if os.environ.get("HF_HUB_OFFLINE") and not is_local_path(self.target) else ""
            if "trust_remote_code" in str(exc) and not self.trust_remote_code:
                hint += " (the model needs its repository's own code: add ?trust_remote_code=1 if you trust it)"
            raise ModelUnavailable(f"cannot load {self.target!r} with transformers{hint}: "
                                   f"{first_meaningful_line(exc)}") from None
        if not getattr(tokenizer, "chat_template", None):
            raise ModelUnavailable(f"{self.target!r} has no chat template (chat_template.jinja, or chat_template in "
                                   "tokenizer_config.json); "
                                   "pytest-trustllm sends chat prompts, use an instruct/chat model")
        tokenizer.padding_side = "left"  # decoder-only: generation continues from the right edge
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        model.eval()
        return tokenizer, model

    def _default_identity(self) -> dict[str, Any]:
        return identity_for(self.target, self.dtype, self.revision, getattr(self.model.config, "_commit_hash", None))

    def identity(self) -> dict[str, Any]:
        return dict(self._identity)

    def identity_extra(self, **fields: Any) -> None:
        self._identity.update(fields)

    def chat_text(self, prompt: str) -> str:
        return self.tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                                  add_generation_prompt=True)

    def generate(self, prompts: Sequence[str], params: GenParams) -> list[str]:
        """Answers in the order of PROMPTS; internally sorted by length and cut into batches."""
        texts = [self.chat_text(p) for p in prompts]
        lengths = [len(self.tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]
        context = self._context()
        for length in lengths:
            if context and length + params.max_new_tokens > context:
                raise ModelError(f"the prompt ({length} tokens) and {params.max_new_tokens} new tokens exceed the "
                                 f"model's context of {context} tokens; lower --trust-max-tokens or shorten it")
        order = sorted(range(len(texts)), key=lambda i: lengths[i])
        answers: list[str] = [""] * len(texts)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start:start + self.batch_size]
            for i, answer in zip(chunk, self._generate_batch([texts[i] for i in chunk], params), strict=True):
                answers[i] = answer
        return answers

    def _context(self) -> int | None:
        """The most tokens the model takes (learned positions fail beyond it), if its config says."""
        config = self.model.config
        return next((getattr(config, name) for name in ("max_position_embeddings", "n_positions")
                     if isinstance(getattr(config, name, None), int)), None)

    def _generate_batch(self, texts: list[str], params: GenParams) -> list[str]:
        import torch

        enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        sampling = params.temperature > 0
        limit = params.max_new_tokens
        # one token more than asked, dropped below: an answer whose end token comes right at the limit is whole,
        # not cut (the first LIMIT tokens are the same, greedy or seeded, with or without it)
        context = self._context()
        extra = 1 if context is None or enc["input_ids"].shape[1] + limit + 1 <= context else 0
        kwargs: dict[str, Any] = {"max_new_tokens": limit + extra, "do_sample": sampling,
                                  "pad_token_id": self.tokenizer.pad_token_id}
        if sampling:
            kwargs["temperature"] = params.temperature
            if params.top_p is not None:
                kwargs["top_p"] = params.top_p
            torch.manual_seed(params.seed if params.seed is not None else 0)
        else:  # greedy: neutralise sampling defaults a generation_config may carry
            kwargs.update(temperature=None, top_p=None, top_k=None)
        try:
            with torch.inference_mode():
                out = self.model.generate(**enc, **kwargs)
        except (RuntimeError, ValueError) as exc:  # e.g. out of memory, bad parameters: fail this batch only
            raise ModelError(f"{type(exc).__name__} during generation: {str(exc).splitlines()[0]}") from exc
        rows = out[:, enc["input_ids"].shape[1]:].tolist()
        texts = self.tokenizer.batch_decode([row[:limit] for row in rows], skip_special_tokens=True)
        # an answer with no end (EOS, or padding after it) within LIMIT + EXTRA tokens stopped at the limit
        stops = self._stop_ids()
        ends = [next((i for i, t in enumerate(row) if int(t) in stops), len(row)) for row in rows]
        return [Answer(text.strip(), cut=end >= limit + extra) for text, end in zip(texts, ends, strict=True)]

    def _stop_ids(self) -> set[int]:
        """The token ids that end an answer: the generation config's EOS id(s) and the padding id."""
        ids = getattr(getattr(self.model, "generation_config", None), "eos_token_id", None)
        stops = set(ids if isinstance(ids, list) else [ids]) | {self.tokenizer.pad_token_id,
                                                                 self.tokenizer.eos_token_id}
        return {int(i) for i in stops if isinstance(i, int)}

    def close(self) -> None:
        self.model = None
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.empty_cache()
