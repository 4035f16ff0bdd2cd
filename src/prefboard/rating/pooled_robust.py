"""Cluster-robust (sandwich) variance carried through the pooled groups of `pooling`.

Why: votes that share a participant or a prompt are not independent. A group's pooled estimate
borrows the population skill, which every group's battles inform, so a prompt judged in two
groups correlates their data; a factor measured on the group's battles alone misses that (with 4
votes per prompt spread over 3 groups, group bands covered 89-93 % instead of 95 %).

The pooled posterior means are linear in the groups' likelihood shifts h_j (`pooling`, items
3-4): for any weights w over the groups, H = Σ_g w_g θ_g has E H = const + Σ_j B_j h_j with
    B_j = Σ_g w_g Cov(θ_g, θ_j) = (Σ_g w_g C_g) Σ_s C_j + w_j τ² C_j.
A battle moves its group's h_j by its score at the group's pooled mean (the Laplace expansion
point), so, with U_c the scores of cluster c stacked over groups (g_c = (u_c1, ..., u_cJ)):
    robust  = B (Σ_c g_c g_cᵀ) Bᵀ        B = [B_1 ... B_J]
    model   = Σ_j B_j L_j B_jᵀ          what the model says the same variance is.
Two clusterings (participant, prompt) add as V_1 + V_2 - V_12 (V_12 clustered by their
intersection; Cameron, Gelbach & Miller 2011). Everything is taken relative to the table's
average (A = I - 1uᵀ, u uniform over models that played): only differences are identified, and
the overall level's prior variance must not leak into a band. Per model, with R = A cov Aᵀ,
    f_i = sqrt(max(1, (R_ii + [A (robust - model) Aᵀ]_ii) / R_ii)),
i.e. the model's sampling variance is swapped for the robust one while the shrinkage part of
the posterior (posterior minus sampling variance, Σ P₀ Σ ⪰ 0) is kept; f_i >= 1 as in
`batch.cluster_inflation` (clustering widens a band, never narrows it). The published
covariance is F R F + (uᵀ cov u) 11ᵀ: the differences' correlations kept, the level unchanged
(`batch.relative_widening`, which the unpooled tables use too). Only that diagonal is
computed, never robust or model themselves: the meat is built in rating/pooled_meat.py and
carried through each group's map once per fit in rating/pooled_bands.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from prefboard.jit import njit
from prefboard.rating import batch, pooled_bands
from prefboard.rating.batch_cluster import average_of, widen_by
from prefboard.rating.groups import GroupFit, Model
from prefboard.rating.pooled_meat import (
    _FIXED,
    Meat,
    Rows,
    _battle,
    _clustered,
    _codes,
    _intersection,
    _means,
    _meat,
    _Scores,
)
from prefboard.rating.pooling import Pooled

__all__ = ["Meat", "Sandwich", "sandwich", "widen"]


@dataclass(frozen=True)
class Sandwich:
    """The clustered scores of one pooled fit, over slots (group, model)."""

    n_models: int
    terms: list[Meat]
    means: sparse.csr_matrix  # (J x J·n): row j holds ū_j in group j's block
    information: list[np.ndarray | None]  # L_j at the group's pooled mean; None: no battles
    played: np.ndarray  # models with a battle in any group
    mapped: pooled_bands.Mapped  # the same carried through the fit's maps, for the bands

    def robust(self, maps: np.ndarray) -> np.ndarray:
        """B (Σ_c (g_c - ḡ_c)(g_c - ḡ_c)ᵀ) Bᵀ for B = ``maps`` (n x J·n), in full (a reference:
        the bands need only `excess`'s diagonal)."""
        bt = maps.T
        y = self.means @ bt  # J x n: the group means' scores mapped
        out = np.zeros((self.n_models, self.n_models))
        for t in self.terms:
            cross = (t.scores_by_count.T @ bt).T @ y
            out += t.sign * (bt.T @ (t.raw @ bt) - cross - cross.T + y.T @ (t.count_products @ y))
        return out


@njit(cache=True, nogil=True)
def _occurs(rows: Rows, slots: int, m: int) -> np.ndarray:
    """Which (slot, pair lo < hi) cells hold a battle, in one pass (`pooled_meat._battle`)."""
    seen = np.zeros(slots * m * m, dtype=np.bool_)
    for k in range(rows[0].shape[0]):
        seen[_battle(rows, k, slots, m)[3] // 3] = True
    return seen


def _battle_scores(
    fit: GroupFit,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    group: np.ndarray,
    model: Model,
) -> _Scores:
    """The battles' scores at their group's pooled mean: one score table per group over the
    pairs it holds, in fixed point, read through each battle's (group, pair, outcome) key."""
    m, slots = fit.pooled.population_mean.shape[0], len(fit.counts)
    rows = (a, b, outcome, group)
    occurs = _occurs(rows, slots, m)
    seen = np.flatnonzero(occurs)
    tables = np.zeros((slots, m * m * 3))
    by_slot = occurs.reshape(slots, m * m)
    # Per group its pairs from the mark array (np.unique over the cells hashes them: slow).
    for j in np.flatnonzero(by_slot.any(axis=1)):
        pairs = np.flatnonzero(by_slot[j])
        tables[j] = batch.score_table(
            fit.pooled.group_mean(int(j)), pairs, beta=model.beta, draw_margin=model.draw_margin
        )
    # Rounded per table cell, not per battle: each battle reads the integer its own rounding
    # of the same float gave (the cells number slots·m²·3, a few million at most).
    q = np.rint(tables.reshape(-1) * _FIXED).astype(np.int64)
    played = np.zeros(m, dtype=bool)
    played[seen % (m * m) // m] = True
    played[seen % m] = True
    return _Scores(rows, q, played, slots, m)


def sandwich(
    fit: GroupFit,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    group: np.ndarray,
    clusters: list[np.ndarray],
    model: Model,
) -> Sandwich:
    """The clustered scores and information of one pooled fit: battles ``a, b, outcome`` with
    ``group`` per battle as given to `groups.fit_groups` (-1 = not given) and one or two cluster
    code arrays of the same length (participant, then prompt)."""
    if not 1 <= len(clusters) <= 2:
        raise ValueError("clusters must hold one or two code arrays")
    # any integer dtypes: the kernels read the arrays as given (no int64 copies)
    a, b, outcome, group = (np.asarray(x) for x in (a, b, outcome, group))
    sc = _battle_scores(fit, a, b, outcome, group, model)
    first = _codes(clusters[0])
    g, counts = _clustered(*first, sc)
    terms = [_meat(g, counts, 1.0, sc.m)]
    if len(clusters) == 2:
        second = _codes(clusters[1])
        # the intersection, ordered by (first, second) code as the clusters themselves are
        both = _intersection(first[0], second[0], second[1])
        terms += [
            _meat(*_clustered(*second, sc), 1.0, sc.m),
            _meat(*_clustered(*both, sc), -1.0, sc.m),
        ]
    information: list[np.ndarray | None] = []
    for j, pc in enumerate(fit.counts):
        if not pc.counts.size:
            information.append(None)
            continue
        at = fit.pooled.group_mean(j)
        lap = batch.likelihood_information(pc, at, beta=model.beta, draw_margin=model.draw_margin)
        information.append(lap[1])
    means = _means(g, counts, sc)
    mapped = pooled_bands.mapped(fit.pooled, terms, means, information)
    return Sandwich(sc.m, terms, means, information, sc.played, mapped)


def _left(pooled: Pooled, weights: np.ndarray) -> np.ndarray:
    """(Σ_g w_g C_g) Σ_s, the part every B_j shares (module docstring)."""
    n = pooled.population_mean.shape[0]
    mix = np.zeros((n, n))
    for w, c in zip(weights, pooled.maps, strict=True):
        if w:
            mix += w * c
    return np.asarray(mix @ pooled.population_cov)


def _maps(pooled: Pooled, weights: np.ndarray, left: np.ndarray | None = None) -> np.ndarray:
    """[B_1 ... B_J] (n x J·n) for the weights over the groups (module docstring)."""
    left = _left(pooled, weights) if left is None else left
    t2 = pooled.tau**2
    return np.hstack([left @ c + (w * t2) * c for w, c in zip(weights, pooled.maps, strict=True)])


def widen(
    pooled: Pooled, sw: Sandwich, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, covariance and per-model sd factor of Σ w_g θ_g with clustered votes accounted
    for (module docstring). The factor is relative to the table's average, as the band is;
    it needs only diag(A (robust - model) Aᵀ), group by group (rating/pooled_bands.py)."""
    mean, cov = pooled.combine(weights)
    u = average_of(sw.played)
    mapped = sw.mapped
    if mapped.pooled is not pooled:
        mapped = pooled_bands.mapped(pooled, sw.terms, sw.means, sw.information)
    left = _left(pooled, weights)
    extra = pooled_bands.excess(mapped, sw.terms, weights, u, left)
    if mapped.rest:
        maps = _maps(pooled, weights, left)
        y = maps - np.outer(np.ones(maps.shape[0]), u @ maps)
        for t in sw.terms:
            extra += t.sign * t.quadratic(y, between=True)
    cov, factor = widen_by(cov, extra, u)
    return mean, cov, factor
