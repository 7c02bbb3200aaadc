"""``hf:PATH_OR_ID[?options]``: a transformers causal LM with a chat template, batched generation.

Options after ``?`` (``&``-separated): ``trust_remote_code=1`` (off unless asked: it runs the repository's
Python code), ``dtype=bfloat16|float16|float32``, ``device=cpu|cuda|cuda:1|mps``, ``revision=REV``,
``batch_size=N``, ``threads=N`` (CPU threads; under xdist the default is the cores divided among workers). Defaults: the first GPU when there is one (bf16, or fp16 where bf16 is unsupported), else
the CPU in bf16 where it has bf16 instructions (avx512_bf16/amx), else float32.

Generation: each prompt is wrapped in the tokenizer's chat template as one user turn; prompts are sorted
by token length into batches (less padding), left-padded, and decoded without the prompt. Temperature 0 is
greedy; otherwise sampling seeded with ``params.seed`` before every batch, so a rerun gives the same answers.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from ..cases import GenParams
from .base import Model, ModelError, ModelUnavailable

_OPTIONS = {"trust_remote_code", "dtype", "device", "revision", "batch_size", "threads"}


def parse_spec(spec: str) -> tuple[str, dict[str, str]]:
    """``hf:PATH?k=v&k=v`` -> (PATH, {k: v}); unknown keys are a usage error."""
    target, _, query = spec.removeprefix("hf:").partition("?")
    options = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
    unknown = sorted(set(options) - _OPTIONS)
    if not target or unknown:
        problem = f"unknown option(s) {', '.join(unknown)}" if unknown else "no model path or id"
        raise pytest.UsageError(f"--trust-model={spec}: {problem}; expected hf:PATH_OR_ID[?option=value&...] with "
                                f"options {', '.join(sorted(_OPTIONS))}")
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


def weights_fingerprint(path: Path) -> str:
    """Names, sizes and mtimes of a local model's weight files: answers cached for old weights are not reused."""
    parts = []
    for f in sorted(path.iterdir()):
        if f.suffix in (".safetensors", ".bin", ".gguf", ".pt") or f.name == "config.json":
            st = f.stat()
            parts.append(f"{f.name}:{st.st_size}:{int(st.st_mtime)}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def set_cpu_threads(requested: str | None) -> None:
    """Under xdist every worker would use every core (oversubscribed: measured 10-70x slower per step on
    2 busy cores): give each worker its share unless ``threads=N`` says otherwise."""
    import torch

    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)
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
        local = Path(self.target).expanduser()
        if self.target.startswith(("/", "./", "../", "~", ".\\")) and not local.is_dir():
            raise ModelUnavailable(f"no model folder at {self.target} (a local path; for a Hugging Face hub model "
                                   "give its id, e.g. hf:HuggingFaceTB/SmolLM2-135M-Instruct)")
        try:
            with quiet_transformers():
                tokenizer = AutoTokenizer.from_pretrained(self.target, **kwargs)
                model = AutoModelForCausalLM.from_pretrained(self.target, dtype=self.dtype, **kwargs)
        except (OSError, ValueError) as exc:
            hint = " (offline: HF_HUB_OFFLINE is set, only local folders and cached ids load)" \
                if os.environ.get("HF_HUB_OFFLINE") else ""
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelUnavailable(f"cannot load {self.target!r} with transformers{hint}: {first_line}") from None
        if not getattr(tokenizer, "chat_template", None):
            raise ModelUnavailable(f"{self.target!r} has no chat template (tokenizer_config.json chat_template); "
                                   "pytest-trustllm sends chat prompts, use an instruct/chat model")
        tokenizer.padding_side = "left"  # decoder-only: generation continues from the right edge
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        model.to(self.device)
        model.eval()
        return tokenizer, model

    def _default_identity(self) -> dict[str, Any]:
        identity: dict[str, Any] = {"backend": "hf", "model": self.target, "dtype": str(self.dtype).removeprefix("torch.")}
        local = Path(self.target).expanduser()
        if local.is_dir():
            identity["model"] = str(local.resolve())
            identity["weights"] = weights_fingerprint(local)
        else:
            identity["revision"] = self.revision or getattr(self.model.config, "_commit_hash", None)
        return identity

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
        order = sorted(range(len(texts)), key=lambda i: lengths[i])
        answers: list[str] = [""] * len(texts)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start:start + self.batch_size]
            for i, answer in zip(chunk, self._generate_batch([texts[i] for i in chunk], params), strict=True):
                answers[i] = answer
        return answers

    def _generate_batch(self, texts: list[str], params: GenParams) -> list[str]:
        import torch

        enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        sampling = params.temperature > 0
        kwargs: dict[str, Any] = {"max_new_tokens": params.max_new_tokens, "do_sample": sampling,
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
        new_tokens = out[:, enc["input_ids"].shape[1]:]
        return [t.strip() for t in self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]

    def close(self) -> None:
        self.model = None
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.empty_cache()
