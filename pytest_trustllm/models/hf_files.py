"""What a local ``hf:`` model folder holds, read without loading it: the fingerprints in its identity, whether
it is a model folder at all, and (for a hub id) the commit of its snapshot in the local Hugging Face cache."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from .base import ModelUnavailable

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "vocab.txt", "spiece.model")
_NOT_MODEL_FILES = re.compile(r"(?i)^(readme|license|licence|notice|copying|changelog)|\.(md|rst|png|jpe?g|gif)$")
_HASH_LIMIT = 64 * 2**20  # bigger non-weight files are fingerprinted by size and date, like the weights


def weights_fingerprint(path: Path) -> str:
    """Names, sizes and mtimes of a local model's weight files: answers cached for old weights are not reused.
    (Never their contents: hashing gigabytes at every start would cost seconds; nothing is loaded either.)"""
    parts = []
    for f in sorted(path.iterdir()):
        if f.is_file() and f.suffix in WEIGHT_SUFFIXES:
            st = f.stat()
            parts.append(f"{f.name}:{st.st_size}:{int(st.st_mtime)}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def config_fingerprint(path: Path) -> str:
    """sha256 of the contents of the folder's other files that shape answers: config.json,
    generation_config.json, the tokenizer files and the chat template (chat_template.jinja, tokenizer_config.json,
    additional_chat_templates/), and any code a trust_remote_code model runs. Documentation is left out."""
    files = [f for f in sorted(path.iterdir()) if f.is_file()]
    extra = path / "additional_chat_templates"
    if extra.is_dir():
        files += [f for f in sorted(extra.iterdir()) if f.is_file()]
    digest = hashlib.sha256()
    for f in files:
        if f.suffix in WEIGHT_SUFFIXES or f.name.startswith(".") or _NOT_MODEL_FILES.search(f.name):
            continue
        st = f.stat()
        content = f.read_bytes() if st.st_size <= _HASH_LIMIT else f"{st.st_size}:{int(st.st_mtime)}".encode()
        digest.update(f"{f.relative_to(path).as_posix()}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()[:16]


def missing_parts(folder: Path) -> str | None:
    """What a local folder lacks to be a transformers chat model, in words; None when nothing is missing."""
    missing = []
    if not (folder / "config.json").is_file():
        missing.append("no config.json")
    if not any(f.is_file() and (f.name in TOKENIZER_FILES or f.name.startswith("tokenizer") or f.suffix == ".tiktoken")
               for f in folder.iterdir()):
        missing.append(f"no tokenizer files ({', '.join(TOKENIZER_FILES[:3])}, ...)")
    if not missing:
        return None
    return f"{' and '.join(missing)} in {folder}: not a transformers model folder"


def first_meaningful_line(exc: BaseException) -> str:
    """``Type: message`` on one line: the first non-empty line of the message, and when it ends with a colon
    (it introduces a list) the lines after it, joined, so the reason is never cut off."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    text = lines[0]
    for line in lines[1:]:
        if not text.endswith(":") or len(text) > 400:
            break
        text = f"{text} {line}"
    return f"{type(exc).__name__}: {text}"


def is_local_path(target: str) -> bool:
    return target.startswith(("/", "./", "../", "~", ".\\")) or Path(target).expanduser().is_dir()


def check_local_folder(target: str) -> None:
    """A local path that is no folder, or a folder that is no model: ModelUnavailable saying what is missing."""
    local = Path(target).expanduser()
    if not is_local_path(target):
        return
    if not local.is_dir():
        raise ModelUnavailable(f"no model folder at {target} (a local path; for a Hugging Face hub model "
                               "give its id, e.g. hf:HuggingFaceTB/SmolLM2-135M-Instruct)")
    problem = missing_parts(local)
    if problem:
        raise ModelUnavailable(problem)


def identity_for(target: str, dtype: Any, revision: str | None, commit: str | None = None) -> dict[str, Any]:
    """The identity of TARGET's answers: a local folder by its path and fingerprints, a hub id by the commit
    the local Hugging Face cache holds for REVISION (else REVISION as asked, else the COMMIT transformers
    recorded). Loading and ``--trust-replay`` both read that cache, so both give the same identity."""
    identity: dict[str, Any] = {"backend": "hf", "model": target, "dtype": str(dtype).removeprefix("torch.")}
    local = Path(target).expanduser()
    if local.is_dir():
        identity["model"] = str(local.resolve())
        identity["weights"] = weights_fingerprint(local)
        identity["config"] = config_fingerprint(local)
    else:
        identity["revision"] = cached_commit(target, revision) or revision or commit
    return identity


def cached_commit(repo_id: str, revision: str | None) -> str | None:
    """The commit of REPO_ID (at REVISION, default main) in the local Hugging Face cache, without network: the
    snapshot transformers loads the model from (and downloads into when it is missing)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    try:
        found = try_to_load_from_cache(repo_id, "config.json", revision=revision)
    except Exception:  # an id huggingface_hub rejects: not in the cache either
        return None
    return Path(found).parent.name if isinstance(found, str) else None
