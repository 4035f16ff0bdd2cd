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
(`batch.relative_widening`, which the unpooled tables use too).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy import sparse

from prefboard.rating import batch
from prefboard.rating.batch import TIE
from prefboard.rating.groups import GroupFit, Model
from prefboard.rating.pooling import Pooled

__all__ = ["Meat", "Sandwich", "sandwich", "widen"]

# Per-cluster score sums in fixed point (units of 2^-24): integer sums do not depend on the
# order of the battles, so the result is bit-identical under any shuffle. The rounding (3e-8
# per battle) is far below the scores' own size (~1e-2 to 1). Sums are taken in int64; as
# float64 (the products, the totals in `_means`) they stay exact below 2^53, which a million
# battles at score 10 (2^47) are far from.
_FIXED = float(2**24)


@dataclass(frozen=True)
class Meat:
    """Σ_c (g_c - ḡ_c)(g_c - ḡ_c)ᵀ of one clustering, kept factored (never J·n x J·n dense):
    ḡ_c holds, per group j, n_cj (the cluster's battles in j) times the group's mean score
    per battle ū_j. Centring matters: scores are taken at the pooled (shrunk) group means,
    where they do not average to zero, and an uncentred sum would count that pull, squared
    and growing with a cluster's size, as clustering."""

    sign: float  # +1, or -1 for the intersection term of two-way clustering
    # sparse: a participant's scores lie in one group's block, so raw is block-diagonal then
    raw: sparse.csr_matrix  # Σ_c g_c g_cᵀ (J·n x J·n)
    scores_by_count: sparse.csr_matrix  # Σ_c g_c n_cᵀ (J·n x J)
    count_products: sparse.csr_matrix  # Σ_c n_c n_cᵀ (J x J)


@dataclass(frozen=True)
class Sandwich:
    """The clustered scores of one pooled fit, over slots (group, model)."""

    n_models: int
    terms: list[Meat]
    means: sparse.csr_matrix  # (J x J·n): row j holds ū_j in group j's block
    information: list[np.ndarray | None]  # L_j at the group's pooled mean; None: no battles
    played: np.ndarray  # models with a battle in any group

    def robust(self, maps: np.ndarray) -> np.ndarray:
        """B (Σ_c (g_c - ḡ_c)(g_c - ḡ_c)ᵀ) Bᵀ for B = ``maps`` (n x J·n)."""
        bt = maps.T
        y = self.means @ bt  # J x n: the group means' scores mapped
        out = np.zeros((self.n_models, self.n_models))
        for t in self.terms:
            cross = (t.scores_by_count.T @ bt).T @ y
            out += t.sign * (bt.T @ (t.raw @ bt) - cross - cross.T + y.T @ (t.count_products @ y))
        return out


@njit(cache=True, nogil=True)
def _keys(
    a: np.ndarray, b: np.ndarray, outcome: np.ndarray, group: np.ndarray, slots: int, m: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per battle, in one pass (numpy took ~20 temporaries of a million elements): its slot
    (group, or the last slot when not given), its (slot, pair lo < hi, outcome from lo's side as
    batch.aggregate counts it) key into the score tables, lo's and hi's columns (slot j's model
    i at j * m + i); and which (slot, pair) cells occur."""
    n = a.shape[0]
    slot = np.empty(n, dtype=np.int64)
    key = np.empty(n, dtype=np.int64)
    col_lo = np.empty(n, dtype=np.int64)
    col_hi = np.empty(n, dtype=np.int64)
    seen = np.zeros(slots * m * m, dtype=np.bool_)
    for k in range(n):
        lo, hi, o = a[k], b[k], np.int64(outcome[k])
        if lo > hi:
            lo, hi = hi, lo
            if o != TIE:
                o = 1 - o
        s = group[k] if group[k] >= 0 else slots - 1
        cell = (s * m + lo) * m + hi
        slot[k] = s
        key[k] = cell * 3 + o
        col_lo[k] = s * m + lo
        col_hi[k] = s * m + hi
        seen[cell] = True
    return slot, key, col_lo, col_hi, seen


@dataclass(frozen=True)
class _Scores:
    """Per battle: its group (slot), its pair's columns and the fixed-point score of lo at the
    group's pooled mean (int64; hi's is its negative). ``played``: models with a
    battle; ``slots`` = J, ``m`` = models."""

    slot: np.ndarray
    cols: tuple[np.ndarray, np.ndarray]  # lo's and hi's columns: group j's model i at j * m + i
    q: np.ndarray
    played: np.ndarray
    slots: int
    m: int


def _battle_scores(
    fit: GroupFit,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    group: np.ndarray,
    model: Model,
) -> _Scores:
    """Each battle's score at its group's pooled mean: one score table per group over the pairs
    it holds (already in fixed point), read through one (group, pair, outcome) key per battle."""
    m, slots = fit.pooled.population_mean.shape[0], len(fit.counts)
    slot, key, col_lo, col_hi, occurs = _keys(a, b, outcome, group, slots, m)
    seen = np.flatnonzero(occurs)
    tables = np.zeros((slots, m * m * 3))
    by_slot = occurs.reshape(slots, m * m)
    # Per group its pairs from the mark array (np.unique over the cells hashes them: slow).
    for j in np.flatnonzero(by_slot.any(axis=1)):
        pairs = np.flatnonzero(by_slot[j])
        tables[j] = batch.score_table(
            fit.pooled.group_mean(int(j)), pairs, beta=model.beta, draw_margin=model.draw_margin
        )
    q = np.rint(tables.reshape(-1) * _FIXED).astype(np.int64)[key]
    played = np.zeros(m, dtype=bool)
    played[seen % (m * m) // m] = True
    played[seen % m] = True
    return _Scores(slot, (col_lo, col_hi), q, played, slots, m)


# Above this many cells (clusters x columns) per-cluster sums are formed from sorted triplets
# rather than dense rows.
_DENSE_CELLS = 4_000_000


def _codes(cluster: np.ndarray) -> tuple[np.ndarray, int]:
    """Cluster codes as 0..C-1; codes that are already small are used as they are (empty
    clusters are zero rows), others are replaced by their rank among the sorted codes."""
    cluster = np.asarray(cluster, dtype=np.int64)
    if not cluster.size:
        return cluster, 0
    if cluster.min() >= 0 and cluster.max() < 4 * cluster.size + 1024:
        return cluster, int(cluster.max()) + 1
    uniq, codes = np.unique(cluster, return_inverse=True)
    return codes.reshape(-1), len(uniq)


@njit(cache=True, nogil=True)
def _dense_sums(
    codes: np.ndarray,
    n: int,
    slot: np.ndarray,
    cols: tuple[np.ndarray, np.ndarray],
    q: np.ndarray,
    slots: int,
    width: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Per cluster, flat: its summed scores per column (n x width) and battles per slot (n x
    slots), in int64 (exact in any order), without a temporary per battle."""
    g = np.zeros(n * width, dtype=np.int64)
    counts = np.zeros(n * slots, dtype=np.int64)
    for k in range(codes.shape[0]):
        c = codes[k]
        g[c * width + cols[0][k]] += q[k]
        g[c * width + cols[1][k]] -= q[k]
        counts[c * slots + slot[k]] += 1
    return g, counts


def _csr(flat: np.ndarray, n: int, width: int) -> sparse.csr_matrix:
    """The dense (n x width) integer sums ``flat`` as a canonical float csr matrix (sorted
    indices, no zeros)."""
    nz = np.flatnonzero(flat)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(nz // width, minlength=n), out=indptr[1:])
    data = flat[nz].astype(np.float64)
    return sparse.csr_matrix((data, nz % width, indptr), shape=(n, width))


def _triplets(
    rows: np.ndarray, n: int, width: int, cols: tuple[np.ndarray, ...], value: np.ndarray | None
) -> sparse.csr_matrix:
    """As `_dense_sums` for one matrix, for boards with too many clusters for dense rows: per
    (row, column), the sum of ``value`` (None = 1) at ``cols[0]`` minus that at ``cols[1]``."""
    v = np.ones(len(rows), dtype=np.int64) if value is None else value
    data = np.concatenate([v, -v][: len(cols)])
    out = sparse.coo_matrix(
        (data, (np.tile(rows, len(cols)), np.concatenate(cols))), shape=(n, width)
    ).tocsr()  # duplicates summed in int64: exact, whatever their order
    out.sum_duplicates()
    out.eliminate_zeros()
    return sparse.csr_matrix(out.astype(np.float64))


def _clustered(
    codes: np.ndarray, n: int, sc: _Scores
) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """(g, counts): per cluster (codes 0..n-1), its summed fixed-point scores over the slots and
    its battles per group. A participant-level cluster lies in one group, so its row holds one
    group's block only; kept sparse, the products in `_meat` skip the other J - 1 blocks."""
    width = sc.slots * sc.m
    if n * width <= _DENSE_CELLS:
        flat, counts = _dense_sums(codes, n, sc.slot, sc.cols, sc.q, sc.slots, width)
        return _csr(flat, n, width), _csr(counts, n, sc.slots)
    g = _triplets(codes, n, width, sc.cols, sc.q)
    return g, _triplets(codes, n, sc.slots, (sc.slot,), None)


def _meat(g: sparse.csr_matrix, counts: sparse.csr_matrix, sign: float) -> Meat:
    """One clustering's centred meat, factored (`Meat`), from its per-cluster sums."""
    gs = g / _FIXED  # a power of two: exact
    return Meat(
        sign,
        sparse.csr_matrix(gs.T @ gs),
        sparse.csr_matrix(gs.T @ counts),
        sparse.csr_matrix(counts.T @ counts),
    )


def _means(g: sparse.csr_matrix, counts: sparse.csr_matrix, sc: _Scores) -> sparse.csr_matrix:
    """ū_j in group j's block, from exact integer totals (the column sums of one clustering)."""
    total = np.asarray(g.sum(axis=0)).reshape(-1)  # sums of integers: exact below 2^53
    n_j = np.asarray(counts.sum(axis=0)).reshape(-1)
    per = (total / _FIXED).reshape(sc.slots, sc.m) / np.maximum(n_j, 1.0)[:, None]
    width = sc.slots * sc.m
    rows = np.repeat(np.arange(sc.slots), sc.m)
    return sparse.csr_matrix((per.reshape(-1), (rows, np.arange(width))), shape=(sc.slots, width))


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
    a, b, group = (np.asarray(x, dtype=np.int64) for x in (a, b, group))
    sc = _battle_scores(fit, a, b, np.asarray(outcome), group, model)
    first = _codes(clusters[0])
    g, counts = _clustered(*first, sc)
    terms = [_meat(g, counts, 1.0)]
    if len(clusters) == 2:
        second = _codes(clusters[1])
        # the intersection, ordered by (first, second) code as the clusters themselves are
        both = _codes(first[0] * second[1] + second[0])
        terms += [_meat(*_clustered(*second, sc), 1.0), _meat(*_clustered(*both, sc), -1.0)]
    information: list[np.ndarray | None] = []
    for j, pc in enumerate(fit.counts):
        if not pc.counts.size:
            information.append(None)
            continue
        at = fit.pooled.group_mean(j)
        lap = batch.likelihood_information(pc, at, beta=model.beta, draw_margin=model.draw_margin)
        information.append(lap[1])
    return Sandwich(sc.m, terms, _means(g, counts, sc), information, sc.played)


def _maps(pooled: Pooled, weights: np.ndarray) -> np.ndarray:
    """[B_1 ... B_J] (n x J·n) for the weights over the groups (module docstring)."""
    n = pooled.population_mean.shape[0]
    mix = np.zeros((n, n))
    for w, c in zip(weights, pooled.maps, strict=True):
        if w:
            mix += w * c
    left = mix @ pooled.population_cov
    t2 = pooled.tau**2
    return np.hstack([left @ c + (w * t2) * c for w, c in zip(weights, pooled.maps, strict=True)])


def widen(
    pooled: Pooled, sw: Sandwich, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, covariance and per-model sd factor of Σ w_g θ_g with clustered votes accounted
    for (module docstring). The factor is relative to the table's average, as the band is."""
    mean, cov = pooled.combine(weights)
    n = sw.n_models
    maps = _maps(pooled, weights)
    robust = sw.robust(maps)
    model = np.zeros((n, n))
    for j, lap in enumerate(sw.information):
        if lap is not None:
            block = maps[:, j * n : (j + 1) * n]
            model += block @ lap @ block.T
    cov, factor = batch.relative_widening(cov, robust, model, sw.played)
    return mean, cov, factor
