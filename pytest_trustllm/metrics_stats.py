"""Statistics behind the TrustLLM metrics: seeded posterior and bootstrap intervals, Pearson r, chi-square
p-values.

Pure functions; scipy and numpy are imported when called (never at plugin load). Bootstrap intervals are
percentile intervals over ``n_resamples`` resamples drawn with a fixed seed, so a report is reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from .metrics import HIGHER, Metric

N_RESAMPLES = 1000
LEVEL = 0.95


def _percentiles(samples: list[float], level: float = LEVEL) -> tuple[float | None, float | None]:
    import numpy as np

    finite = [s for s in samples if s is not None and not math.isnan(s)]
    if not finite:
        return (None, None)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(np.asarray(finite, dtype=float), [tail, 100 - tail])
    return (float(low), float(high))


def bootstrap_ci(items: Sequence[Any], statistic: Callable[[list[Any]], float | None],
                 strata: Sequence[str] | None = None, n_resamples: int = N_RESAMPLES, seed: int = 0,
                 level: float = LEVEL) -> tuple[float | None, float | None]:
    """Percentile bootstrap interval of STATISTIC(items); resampling within each stratum when given.

    Returns (None, None) for fewer than 2 items (no spread can be estimated).
    """
    import numpy as np

    if len(items) < 2:
        return (None, None)
    rng = np.random.default_rng(seed)
    labels = list(strata) if strata is not None else [""] * len(items)
    groups: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(label, []).append(i)
    index_groups = [np.asarray(v) for _, v in sorted(groups.items())]
    samples = []
    for _ in range(n_resamples):
        picked = np.concatenate([g[rng.integers(0, len(g), len(g))] for g in index_groups])
        samples.append(statistic([items[i] for i in picked]))
    return _percentiles(samples, level)


def mean_ci(values: Sequence[float], n_resamples: int = N_RESAMPLES, seed: int = 0,
            level: float = LEVEL) -> tuple[float | None, float | None]:
    """Bootstrap interval of a mean (vectorised)."""
    import numpy as np

    if len(values) < 2:
        return (None, None)
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, len(data), (n_resamples, len(data)))].mean(axis=1)
    return _percentiles(list(means), level)


def stratified_rate_ci(groups: Sequence[tuple[int, int]], n_resamples: int = 20 * N_RESAMPLES, seed: int = 0,
                       level: float = LEVEL) -> tuple[float | None, float | None]:
    """Interval of the mean of per-group rates; GROUPS holds (successes, n) per group. A group with n = 0
    has no rate and is left out. The interval always contains the estimate (the mean of the observed rates).

    Each group's rate is drawn from its Jeffreys posterior Beta(k + 1/2, n - k + 1/2) and the draws are
    averaged (seeded simulation). Unlike resampling the observed outcomes, this never collapses to a point
    when a group is all-or-nothing (0/5 refusals is not proof that the refusal rate is 0), and for a single
    group it is the Jeffreys interval, which is close to Wilson's. Draws are cheap, so there are many: the
    tails of the interval are stable to about 0.005.
    """
    import numpy as np

    groups = [(k, n) for k, n in groups if n > 0]
    if not groups:
        return (None, None)
    rng = np.random.default_rng(seed)
    rates = np.stack([rng.beta(k + 0.5, n - k + 0.5, n_resamples) for k, n in groups])
    low, high = _percentiles(list(rates.mean(axis=0)), level)
    # the posterior of 0 of n lies just above 0 (of n of n, just below 1): keep the estimate inside
    estimate = sum(k / n for k, n in groups) / len(groups)
    return (min(low, estimate), max(high, estimate))


def dirichlet_ci(groups: Sequence[Sequence[int]], statistic: Callable[[list[Any]], Any], estimate: float | None = None,
                 n_draws: int = 20 * N_RESAMPLES, seed: int = 0,
                 level: float = LEVEL) -> tuple[float | None, float | None]:
    """Interval of STATISTIC when each group's category probabilities are drawn from their Jeffreys posterior,
    Dirichlet(counts + 1/2) (seeded simulation).

    GROUPS holds, per group (source, task, cell), the count of each outcome category; STATISTIC maps one
    (draws x categories) array per group to one value per draw. The Bayesian counterpart of a stratified
    bootstrap which, unlike it, does not collapse to a point when a group's outcomes are all alike (3 of 3
    right is not proof of a perfect model). The interval is widened to contain ESTIMATE when given (the
    posterior of a perfect score lies just below it).
    """
    import numpy as np

    if not groups or any(sum(counts) <= 0 for counts in groups):
        return (None, None)
    rng = np.random.default_rng(seed)
    draws = [rng.dirichlet(np.asarray(counts, dtype=float) + 0.5, n_draws) for counts in groups]
    low, high = _percentiles(list(np.asarray(statistic(draws), dtype=float)), level)
    if estimate is not None and low is not None:
        low, high = min(low, estimate), max(high, estimate)
    return (low, high)


def mean_metric(name: str, values: Sequence[float], direction: str = HIGHER, invalid: int = 0,
                subgroups: dict[str, Any] | None = None, seed: int = 0) -> Metric:
    """The mean of VALUES with a bootstrap interval (None when there is no value)."""
    if not values:
        return Metric(name, None, direction, 0, None, None, invalid, subgroups or {})
    low, high = mean_ci(values, seed=seed)
    return Metric(name, sum(values) / len(values), direction, len(values), low, high, invalid, subgroups or {})


def pearson(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Pearson's r, or None when it is undefined (fewer than 2 pairs, or a constant series)."""
    if len(x) != len(y):
        raise ValueError(f"pearson: {len(x)} x values but {len(y)} y values")
    if len(x) < 2 or len(set(x)) < 2 or len(set(y)) < 2:
        return None
    from scipy.stats import pearsonr

    return float(pearsonr(x, y)[0])


def pearson_metric(name: str, x: Sequence[float], y: Sequence[float], invalid: int = 0,
                   seed: int = 0) -> Metric:
    """Pearson r with a bootstrap interval over the pairs (resamples where r is undefined are skipped)."""
    pairs = list(zip(x, y, strict=True))
    r = pearson(list(x), list(y))
    low, high = (None, None)
    if r is not None and len(pairs) >= 3:
        low, high = bootstrap_ci(pairs, lambda ps: pearson([a for a, _ in ps], [b for _, b in ps]), seed=seed)
    return Metric(name, r, HIGHER, len(pairs), low, high, invalid)


def contingency(rows: Sequence[str], cols: Sequence[str]) -> tuple[list[str], list[str], list[list[int]]]:
    """Counts of (row, column) pairs, rows and columns sorted."""
    row_keys, col_keys = sorted(set(rows)), sorted(set(cols))
    table = [[0] * len(col_keys) for _ in row_keys]
    for r, c in zip(rows, cols, strict=True):
        table[row_keys.index(r)][col_keys.index(c)] += 1
    return row_keys, col_keys, table


def chi_square_p(rows: Sequence[str], cols: Sequence[str]) -> float | None:
    """p-value of the chi-square test of independence between two labellings of the same items.

    None when it cannot be computed (no items, or only one row value: nothing to compare). With one
    column value (every item got the same answer) the answer is independent of the row: p = 1.
    scipy's default continuity correction applies for a 2x2 table, as upstream.
    """
    row_keys, col_keys, table = contingency(rows, cols)
    if len(row_keys) < 2:
        return None
    if len(col_keys) < 2:
        return 1.0
    from scipy.stats import chi2_contingency

    return float(chi2_contingency(table)[1])
