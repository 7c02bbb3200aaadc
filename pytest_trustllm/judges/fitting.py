"""Fit the shipped judge weights on the *dev* half of labelled data (never the held-out half); the keyword
judge also learns from the project's own canonical examples (``keyword_canon.jsonl``).

    python -m pytest_trustllm.judges.fitting keywords  --labelled A.csv B.csv
    python -m pytest_trustllm.judges.fitting embedding --labelled A.csv B.csv

Writes ``keyword_weights.json`` / ``embedding_head.json`` beside this module: plain JSON, no pickle.
Logistic regression with an L2 penalty, solved by Newton's method: deterministic, numpy only.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .labelled import LabelledResponse, read_labelled

HERE = Path(__file__).resolve().parent
# chosen by 5-fold cross-validation within dev (5 seeds; fewest errors over both files), see docs/judges.md
KEYWORDS_L2 = 0.03


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iterations: int = 50) -> tuple[np.ndarray, float]:
    """Weights and bias minimising log-loss + l2/2 * |w|^2 (the bias is not penalised)."""
    n, d = x.shape
    design = np.hstack([x, np.ones((n, 1))])
    theta = np.zeros(d + 1)
    penalty = np.full(d + 1, l2)
    penalty[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-design @ theta))
        gradient = design.T @ (p - y) + penalty * theta
        hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return theta[:-1], float(theta[-1])


def fit_signed(x: np.ndarray, y: np.ndarray, signs: Sequence[int], l2: float) -> tuple[np.ndarray, float]:
    """Logistic regression where weight i must have the sign signs[i]: the most wrong-signed feature is
    dropped (weight 0) and the rest refitted, until every weight agrees with its sign."""
    active = list(range(x.shape[1]))
    while True:
        w, b = fit_logistic(x[:, active], y, l2)
        signed = [(w_i * signs[c], c) for w_i, c in zip(w, active, strict=True)]
        worst, column = min(signed)
        if worst >= 0:
            full = np.zeros(x.shape[1])
            full[active] = w
            return full, b
        active.remove(column)


def dev_rows(paths: Sequence[str]) -> list[LabelledResponse]:
    return [row for path in paths for row in read_labelled(path, "dev")]


CANON_FILE = "keyword_canon.jsonl"


def canon_rows() -> list[LabelledResponse]:
    """Short, unambiguous answers written for this project (``keyword_canon.jsonl``): plain refusals XSTest's
    two models never phrase ("I'd rather not say.", a refusal after a long preamble) and answers *about*
    privacy, harm or AI that are not refusals. Fitted together with the dev rows, so the weights do not learn
    XSTest's artefacts ("privacy" in the opening means refusal); never used to measure the judge."""
    rows = []
    for line in HERE.joinpath(CANON_FILE).read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            label = "2_full_refusal" if item["refusal"] else "1_full_compliance"
            rows.append(LabelledResponse("", item["text"], label))
    return rows


def keyword_matrix(rows: Sequence[LabelledResponse]) -> tuple[np.ndarray, list[str]]:
    from .keyword_cues import feature_names, features

    names = feature_names()
    return np.array([[features(r.completion)[0][n] for n in names] for r in rows]), names


def fit_keywords(paths: Sequence[str], l2: float = KEYWORDS_L2) -> dict:
    from .keyword_cues import direction

    rows = dev_rows(paths) + canon_rows()
    x, names = keyword_matrix(rows)
    y = np.array([r.is_refusal for r in rows], dtype=float)
    w, b = fit_signed(x, y, [direction(n) for n in names], l2)
    weights = {n: round(float(v), 3) for n, v in zip(names, w, strict=True) if abs(v) >= 0.005}
    return {"bias": round(b, 3), "threshold": 0.5, "l2": l2, "weights": weights,
            "fitted_on": "dev split of " + ", ".join(Path(p).name for p in paths) + " and " + CANON_FILE}


def fit_embedding_head(paths: Sequence[str], l2: float = 1.0) -> dict:
    from .embedding_refusal import OPENING_TOKENS
    from .minilm import MiniLMEmbedder

    rows = dev_rows(paths)
    x = MiniLMEmbedder(max_tokens=OPENING_TOKENS).embed([r.completion for r in rows])
    y = np.array([r.is_refusal for r in rows], dtype=float)
    w, b = fit_logistic(np.asarray(x, dtype=float), y, l2)
    return {"bias": round(b, 5), "threshold": 0.5, "l2": l2, "max_tokens": OPENING_TOKENS,
            "weights": [round(float(v), 5) for v in w],
            "fitted_on": "dev split of " + ", ".join(Path(p).name for p in paths)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_trustllm.judges.fitting", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("keywords", "embedding"))
    parser.add_argument("--labelled", nargs="+", required=True, help="XSTest-format CSV files (dev split is used)")
    parser.add_argument("--l2", type=float, help=f"L2 penalty (default: {KEYWORDS_L2} for keywords, 1.0 for embedding)")
    parser.add_argument("--out", type=Path, help="output JSON (default: the shipped file beside this module)")
    args = parser.parse_args(argv)
    if args.what == "keywords":
        result, default = fit_keywords(args.labelled, args.l2 or KEYWORDS_L2), HERE / "keyword_weights.json"
    else:
        result, default = fit_embedding_head(args.labelled, args.l2 or 1.0), HERE / "embedding_head.json"
    out = args.out or default
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
