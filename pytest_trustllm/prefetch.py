"""Bulk generation of planned requests: batches for local models, bounded concurrency for API models."""

from __future__ import annotations

from collections import defaultdict

from .models.base import ModelError
from .responses import Request, Response


def fetch(state, requests: list[Request]) -> dict[Request, Response]:
    """Answer REQUESTS with the model, batch by batch (same generation parameters per batch).

    A failing batch turns into one error response per request of that batch; the rest goes on.
    """
    model = state.model
    by_params: dict = defaultdict(list)
    for request in requests:
        by_params[request.params].append(request)
    size = state.settings.batch_size or model.batch_size
    answers: dict[Request, Response] = {}
    for params, group in by_params.items():
        for start in range(0, len(group), size):
            batch = group[start:start + size]
            try:
                texts = model.generate([r.prompt for r in batch], params)
            except ModelError as exc:
                answers.update({r: Response(None, error=str(exc)) for r in batch})
                continue
            answers.update({r: Response(t) for r, t in zip(batch, texts)})
    return answers
