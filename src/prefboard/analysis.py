"""Questions a reader asks of a ranking that the bands alone do not answer.

`p_best`: how likely is each model to be the best, or among the top k, given the posteriors?
Treating each model's skill as an independent ``Normal(mu_mean, sigma)`` (TrueSkill keeps no
correlations between models), the probabilities come from seeded Monte Carlo draws of the whole
field, so they are exact up to sampling error (``sqrt(p (1 - p) / draws)``, below 0.004 at the
default 20,000 draws) and reproducible for a given seed.
"""

from __future__ import annotations

import numpy as np

from prefboard.standings import Table

__all__ = ["p_best"]

# Draws are generated in chunks of about this many normal variates, so memory stays bounded
# for large tables; the chunking does not change the numbers (the generator's stream is the
# same whether drawn at once or in row blocks).
_CHUNK_VALUES = 1 << 22


def p_best(
    table: Table, draws: int = 20000, seed: int = 0, k: int = 3
) -> dict[str, tuple[float, float]]:
    """Per model, ``(P(rank 1), P(rank <= k))`` under independent Normal posteriors.

    Each draw samples every model's skill from ``Normal(mu_mean, sigma)`` and ranks them; the
    probabilities are the shares of draws in which the model is first, and in the first ``k``
    (``k`` is capped at the number of models). The rank-1 probabilities sum to exactly 1 and
    ``P(rank <= k) >= P(rank 1)``. Deterministic for a given seed. Returns models in table order.
    """
    if draws < 1:
        raise ValueError(f"draws must be >= 1, got {draws}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    models = [e.model for e in table.entries]
    m = len(models)
    if m == 0:
        return {}
    mu = np.array([e.mu_mean for e in table.entries], dtype=np.float64)
    sigma = np.array([e.sigma for e in table.entries], dtype=np.float64)
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(sigma)) and np.all(sigma >= 0)):
        raise ValueError("mu_mean must be finite and sigma finite and non-negative")
    k = min(k, m)
    rng = np.random.default_rng(seed)
    best = np.zeros(m, dtype=np.int64)
    top = np.zeros(m, dtype=np.int64)
    rows = max(1, _CHUNK_VALUES // m)
    done = 0
    while done < draws:
        size = min(rows, draws - done)
        skill = mu + sigma * rng.standard_normal((size, m))
        best += np.bincount(np.argmax(skill, axis=1), minlength=m)
        if k == m:
            top += size
        else:
            # The k largest of each draw, in any order (ties have probability zero).
            idx = np.argpartition(-skill, k - 1, axis=1)[:, :k]
            top += np.bincount(idx.ravel(), minlength=m)
        done += size
    return {
        model: (float(best[i] / draws), float(top[i] / draws)) for i, model in enumerate(models)
    }
