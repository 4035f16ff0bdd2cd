"""Batch TrueSkill, part 5: clustered uncertainty (votes sharing a participant or a prompt
are not independent): cluster-robust sandwich variance and the per-model widening of the
posterior it implies (relative to the table's average, shared with the pooled tables).
Model and notation: :mod:`prefboard.rating.batch`."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from scipy.linalg import eigh

from prefboard.jit import njit
from prefboard.rating.batch_fit import Posterior
from prefboard.rating.batch_terms import (
    TIE,
    Battles,
    PairCounts,
    _integers,
    _pair_terms,
    aggregate_index,
)

# Per-cluster score sums are accumulated in fixed point (units of 2^-32): integer sums do not
# depend on the order of the battles, so the sandwich is bit-identical under any shuffle. The
# rounding (2e-10 per battle) is far below the scores' own size (~1e-2 to 1); a cluster would
# need ~1e8 battles at the largest scores (~10 per battle far in a tail) to overflow int64.
_FIXED = float(2**32)


@njit(cache=True, nogil=True, fastmath=False)
def _cluster_scores(
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    index: np.ndarray,
    weight: np.ndarray,
    cluster: np.ndarray,
    n_clusters: int,
    m: int,
    score: np.ndarray,
) -> np.ndarray:
    """Per cluster, the summed scores of its battles among ``index`` (weight: empty = 1).

    ``score[(lo * m + hi) * 3 + o]`` is d loglik / d s_lo of a battle of the pair with outcome
    o from lo's side; d / d s_hi is its negative. Unweighted, each table cell is rounded to
    fixed point once (the same integer every battle's own rounding of it gave), and the pair's
    order is taken by min/max and a select, not a branch mispredicted half the time."""
    g = np.zeros((n_clusters, m), dtype=np.int64)
    weighted = weight.shape[0] > 0
    fixed = np.empty(score.shape[0], dtype=np.int64)
    if not weighted:
        for c in range(score.shape[0]):
            fixed[c] = np.int64(round(score[c] * _FIXED))
    for k in range(index.shape[0]):
        i = index[k]
        x, y, o = np.int64(a[i]), np.int64(b[i]), np.int64(outcome[i])
        lo, hi = min(x, y), max(x, y)
        key = (lo * m + hi) * 3 + (1 - o if x > y and o != TIE else o)
        q = np.int64(round(score[key] * weight[i] * _FIXED)) if weighted else fixed[key]
        g[cluster[i], lo] += q
        g[cluster[i], hi] -= q
    return g


def _score_table(post: Posterior, pairs: np.ndarray) -> np.ndarray:
    """d loglik / d s_lo per (pair code lo * M + hi, outcome from lo's side), at the mean."""
    return score_table(post.mean, pairs, beta=post.beta, draw_margin=post.draw_margin)


def score_table(
    skills: np.ndarray, pairs: np.ndarray, *, beta: float, draw_margin: float
) -> np.ndarray:
    """d loglik / d s_lo of one battle per (pair code lo * M + hi, outcome from lo's side),
    at ``skills``: flat, indexed ``(lo * M + hi) * 3 + outcome``; d / d s_hi is its negative."""
    m = skills.shape[0]
    pi, pj = np.divmod(pairs, m)
    c = math.sqrt(2.0) * beta
    _, _, _, v = _pair_terms(skills, pi, pj, np.ones((len(pairs), 3)), c, draw_margin / c)
    table = np.zeros(m * m * 3)
    table.reshape(m * m, 3)[pairs] = v / c
    return table


def _dense(codes: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, int]:
    """Cluster codes as 0..C-1 over the battles ``index``; codes that are already small are
    used as they are (returned full-length, to be read through ``index``; any integer dtype,
    as given: the kernels compile per dtype)."""
    codes = _integers(codes)
    if index.size == 0:
        return codes, 0
    lo, hi = codes.min(), codes.max()
    if lo >= 0 and hi < 4 * index.size + 1024:
        return codes, int(hi) + 1
    # Sorted unique codes keep the cluster order independent of the battle order.
    uniq, dense = np.unique(codes[index], return_inverse=True)
    full = np.zeros(codes.shape[0], dtype=np.int64)
    full[index] = dense
    return full, len(uniq)


def _meat(
    battles: Battles,
    index: np.ndarray,
    weight: np.ndarray,
    cluster: np.ndarray,
    score: np.ndarray,
) -> np.ndarray:
    dense, n = _dense(cluster, index)
    g = _cluster_scores(
        battles.a, battles.b, battles.outcome, index, weight, dense, n, battles.n_models, score
    )
    g = g / _FIXED
    return g.T @ g


def relative_widening(
    cov: np.ndarray, robust: np.ndarray, model: np.ndarray, played: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The posterior ``cov`` with each model's sampling variance swapped for the cluster-robust
    one, relative to the table's average; returns (covariance, per-model sd factor).

    Only differences are identified: with A = I - 1u^T (u uniform over the models that
    played) and R = A cov A^T, each model's sd factor is
    f_i = sqrt(max(1, (R_ii + [A (robust - model) A^T]_ii) / R_ii)), so the shrinkage part of
    the posterior is kept and clustering widens a band, never narrows it. The result is
    F R F + (u^T cov u) 11^T: the differences' correlations kept and the level (whose variance
    comes from the prior alone) unchanged. Scaling the raw covariance instead would carry the
    level's prior variance, much larger than any band's, into the differences wherever two
    models' factors differ."""
    n = cov.shape[0]
    u = average_of(played)
    centre = np.eye(n) - np.outer(np.ones(n), u)
    return widen_by(cov, np.diag(centre @ (robust - model) @ centre.T), u)


def average_of(played: np.ndarray) -> np.ndarray:
    """u: the weights of the table's average, uniform over the models that played (all when
    none did)."""
    n = played.shape[0]
    return played / played.sum() if played.any() else np.full(n, 1.0 / max(n, 1))


def widen_by(cov: np.ndarray, extra: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`relative_widening` given ``extra`` = diag(A (robust - model) Aᵀ) and the average's
    weights ``u`` (A = I - 1uᵀ): the pooled tables compute that diagonal alone, without the
    two n x n matrices (rating/pooled_robust.py)."""
    n = cov.shape[0]
    centre = np.eye(n) - np.outer(np.ones(n), u)
    relative = centre @ cov @ centre.T
    var = np.diag(relative)
    factor = np.ones(n)
    ok = var > 0
    factor[ok] = np.sqrt(np.maximum(1.0, (var[ok] + extra[ok]) / var[ok]))
    level = float(u @ cov @ u)
    widened = relative * np.outer(factor, factor) + level
    return 0.5 * (widened + widened.T), factor


def cluster_inflation(
    post: Posterior,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    clusters: list[np.ndarray],
    weights: np.ndarray | None = None,
) -> Posterior:
    """Inflate the posterior for votes that are not independent.

    With the posterior precision ``P`` as bread and the likelihood's scores summed per cluster
    as meat, the cluster-robust covariance is ``P^-1 (sum_c g_c g_c^T) P^-1``; for two
    clusterings (participant, prompt) it is ``V_1 + V_2 - V_12`` (V_12 clustered by their
    intersection; Cameron, Gelbach & Miller 2011), clipped to be positive semi-definite. The
    model-based counterpart is ``P^-1 L P^-1`` (L the likelihood's information). Each model's
    sampling variance relative to the table's average is swapped for the robust one
    (:func:`relative_widening`, as the pooled tables do): clustering may widen a band, never
    narrow it; the differences' correlations are kept. ``clusters`` holds one code array per
    clustering (same length as the battles; one or two arrays); for a result that does not
    depend on the order of the battles the codes must not either (e.g. sorted ids, not first
    appearance).
    """
    battles = Battles.of(post.mean.shape[0], a, b, outcome)
    index = np.arange(battles.a.shape[0], dtype=np.int64)
    return cluster_inflation_index(post, battles, index, clusters, weights)


def cluster_inflation_index(
    post: Posterior,
    battles: Battles,
    index: np.ndarray,
    clusters: list[np.ndarray],
    weights: np.ndarray | None = None,
    counts: PairCounts | None = None,
) -> Posterior:
    """:func:`cluster_inflation` of the battles ``index``; ``clusters`` (and ``weights``) are
    full-length arrays over ``battles``, read through ``index``. ``counts``: the battles'
    :func:`aggregate_index`, when the caller has it (saves a pass over the battles)."""
    m = post.mean.shape[0]
    if not 1 <= len(clusters) <= 2:
        raise ValueError("clusters must hold one or two code arrays")
    # int32 lists (rating/inputs.py) are read as they are: the kernels compile per dtype.
    index = _integers(index)
    if index.size == 0:
        return post
    w = np.empty(0) if weights is None else np.asarray(weights, dtype=np.float64)
    present = aggregate_index(battles, index) if counts is None else counts
    score = _score_table(post, present.i * m + present.j)
    meat = _meat(battles, index, w, clusters[0], score)
    if len(clusters) == 2:
        q = _integers(clusters[1])
        # in int64: the product of two int32 code ranges need not fit in 32 bits
        first = _dense(clusters[0], index)[0].astype(np.int64)
        both = first * (int(q.max(initial=0)) + 1) + q
        meat = meat + _meat(battles, index, w, q, score) - _meat(battles, index, w, both, score)
    robust = post.cov @ meat @ post.cov
    if len(clusters) == 2:
        vals, vecs = eigh(0.5 * (robust + robust.T))
        robust = (vecs * np.maximum(vals, 0.0)) @ vecs.T
    model = post.cov @ post.info_precision @ post.cov
    played = np.zeros(m, dtype=bool)
    played[present.i] = True
    played[present.j] = True
    cov, factor = relative_widening(post.cov, robust, model, played)
    return replace(post, cov=cov, precision=np.linalg.inv(cov), inflation=factor)
