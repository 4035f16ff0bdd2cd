"""The batch posterior of one standings table, rebuilt from what standings.json holds.

Planning reads standings only (as every stage after rating does). The pooled table's posterior
is fitted again from the pooled pair counts in ``standings.pairs`` with the same prior, beta and
draw margin as the rating stage (the fit is deterministic, so the means agree with the table's
scores), and its covariance is inflated by the table's per-model clustering factors as the
rating stage does. Slice tables have no pair counts in the standings: their covariance is the
diagonal of the table's ``sd`` (correlations between models are ignored there, which makes a
difference look *less* certain than it is; the plan says so).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from prefboard.matchmaking.tables import pairs_of
from prefboard.rating import batch
from prefboard.rating.trueskill import draw_margin
from prefboard.standings.model import POOLED, Standings, Table

__all__ = ["TablePosterior", "draw_margin_of", "table_posterior"]


@dataclass(frozen=True)
class TablePosterior:
    """Models of one table (in table order = rank order), their posterior and its origin."""

    keys: list[str]
    mean: np.ndarray
    cov: np.ndarray
    beta: float
    eps: float
    full: bool
    """True: full covariance refitted from pair counts; False: diagonal from the table's sd."""


def draw_margin_of(standings: Standings, dimension: str) -> float:
    """The draw margin the rating stage used for ``dimension`` (learnt or pinned)."""
    for t in standings.ties:
        if t.dimension == dimension:
            return float(t.draw_margin)
    p = standings.parameters.draw_probability
    return draw_margin(0.10 if p is None else p, standings.parameters.beta)


def _refit(standings: Standings, table: Table, eps: float) -> np.ndarray | None:
    """Full covariance of a pooled table from its pair counts, or None if there are none."""
    rows = _pair_rows(standings, table)
    if rows is None:
        return None
    m = len(table.entries)
    flat = np.zeros((m, m, 3))
    a, b, won = rows
    swap = a > b  # each pair's counts go to its (lower, higher) index cell, a's wins first
    won[swap] = won[swap][:, [1, 0, 2]]
    np.add.at(flat, (np.where(swap, b, a), np.where(swap, a, b)), won)
    if flat.sum() == 0:
        return None
    i, j = np.triu_indices(m, k=1)
    pc = batch.PairCounts(m, i.astype(np.int64), j.astype(np.int64), flat[i, j].copy())
    prm = standings.parameters
    if eps == 0.0 and pc.counts[:, 2].sum() > 0:
        return None
    post = batch.fit_counts(
        pc, prior_mean=prm.mu, prior_sigma=prm.sigma, beta=prm.beta, draw_margin=eps
    )
    score = np.array([e.score for e in table.entries])
    if np.max(np.abs(post.mean - score)) > 1e-6 * (1.0 + np.max(np.abs(score))):
        # Not the fit the table came from (other settings or a hand-edited file): its
        # covariance would not belong to these scores.
        return None
    factor = np.array([e.inflation for e in table.entries])
    return post.cov * np.outer(factor, factor)


def _pair_rows(
    standings: Standings, table: Table
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Table indices ``a``, ``b`` and ``(wins_a, wins_b, ties)`` of the standings' pairs of the
    table's dimension between two of its models, or None if there are none. One pass over the
    pairs (a 300-model board's dimension lists ~45 k; three passes took ~0.1 CPU s more per
    build); the counts are ints, exact in float64."""
    index = {e.model: n for n, e in enumerate(table.entries)}
    rows = [
        (ia, ib, p.wins_a, p.wins_b, p.ties)
        for p in pairs_of(standings, table.dimension)
        if (ia := index.get(p.model_a)) is not None and (ib := index.get(p.model_b)) is not None
    ]
    if not rows:
        return None
    cols = np.array(rows, dtype=np.int64)
    return cols[:, 0].copy(), cols[:, 1].copy(), cols[:, 2:].astype(np.float64)


# The queue and the stopping rule both need a table's posterior; the refit costs a full EP
# run, so it is kept per table object (identity checked, so a new standings never hits).
_CACHE: dict[int, tuple[Standings, Table, TablePosterior]] = {}
_CACHE_SIZE = 64


def table_posterior(standings: Standings, table: Table) -> TablePosterior:
    hit = _CACHE.get(id(table))
    if hit is not None and hit[0] is standings and hit[1] is table:
        return hit[2]
    post = _table_posterior(standings, table)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()
    _CACHE[id(table)] = (standings, table, post)
    return post


def _table_posterior(standings: Standings, table: Table) -> TablePosterior:
    eps = draw_margin_of(standings, table.dimension)
    keys = [e.model for e in table.entries]
    mean = np.array([e.score for e in table.entries], dtype=np.float64)
    cov = _refit(standings, table, eps) if table.slice_attribute == POOLED else None
    full = cov is not None
    if cov is None:
        sd = np.array([e.sd for e in table.entries], dtype=np.float64)
        cov = np.diag(np.maximum(sd, 1e-9) ** 2)
    return TablePosterior(keys, mean, cov, standings.parameters.beta, eps, full)
