"""Bands, ranks and "who is ahead" from a Gaussian posterior: each statistic written once.

Everything comes from one posterior ``N(mean, cov)`` over the skills:

- band: ``score +- z * sd`` per model (marginal, at the configured interval);
- rank: by score, ties broken by model key;
- rank interval: the range of whole ranks whose share of the model's rank draws is closest to
  ``interval`` (seeded posterior draws, MVN via Cholesky): the shortest range holding at least
  ``interval``, or the range one rank narrower (its largest-mass window) when that one's mass
  is closer (equally close: the wider). Among windows of one width the one with the most mass,
  then the higher ranks. It is *marginal*: each model's interval holds its own rank with about
  the stated probability, not all ranks at once. Why not "at least ``interval``": ranks are
  whole, so the shortest range with >= 95 % held 98.1-99.0 % of the draws on the calibration
  boards and covered the true rank 97-99 % of the time; the range nearest the level is the
  discrete analogue of a mid-p interval, and its coverage averages near nominal (figures:
  ``bench_calibration.py``). Its own mass is published beside it (``rank_mass``);
- P(best), P(top k): shares of the same draws;
- P(A above B) = Phi((m_A - m_B) / sqrt(C_AA + C_BB - 2 C_AB)): a test on the difference
  using the covariance, never on band overlap (two bands can overlap while the difference is
  clear, because the models' errors are correlated).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg.blas import dtrmm
from scipy.special import ndtr

from prefboard.jit import njit
from prefboard.rating.packed_sort import add_packed_counts

__all__ = [
    "DRAWS",
    "RankSummary",
    "band",
    "nearest_intervals",
    "p_above",
    "rank_by_score",
    "rank_intervals",
    "rank_seed",
    "summarize",
]

DRAWS = 4000
TOP_K = 3
# Draws are made in blocks of this many rows so memory stays bounded for large boards; the
# generator's stream is the same in blocks as at once, so the numbers do not depend on it.
_BLOCK = 1000


def rank_seed(seed: int, *parts: str) -> int:
    """A seed for one table, stable across runs and Python versions (hash() is salted)."""
    digest = hashlib.sha256(":".join([str(seed), *parts]).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def band(score: np.ndarray, sd: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """``score -+ z * sd``."""
    return score - z * sd, score + z * sd


# Scores this close (relative, on the 0-50 scale) are one number computed two ways: models tied
# in the data (a symmetric board) get scores that differ only by rounding, whose sign a change
# of summation order flips. Real differences between models are orders of magnitude larger.
SAME_SCORE = 1e-9


def rank_by_score(score: np.ndarray, keys: list[str]) -> np.ndarray:
    """1 = highest score; scores equal up to rounding (`SAME_SCORE`) are ordered by model key,
    so the ranks are deterministic and do not hang on the last bits of a tie."""
    n = len(score)
    by_score = sorted(range(n), key=lambda i: (-score[i], keys[i]))
    # Each run of consecutive scores within the tolerance of the one before is one tie.
    run = [0] * n
    for pos in range(1, n):
        hi, lo = float(score[by_score[pos - 1]]), float(score[by_score[pos]])
        near = hi - lo <= SAME_SCORE * max(1.0, abs(hi), abs(lo))
        run[pos] = run[pos - 1] if near else pos
    order = [by_score[pos] for pos in sorted(range(n), key=lambda p: (run[p], keys[by_score[p]]))]
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(1, n + 1)
    return rank


def p_above(mean: np.ndarray, cov: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """P(skill_i > skill_j) under the posterior, for index arrays i, j."""
    var = cov[i, i] + cov[j, j] - 2.0 * cov[i, j]
    sd = np.sqrt(np.maximum(var, 0.0))
    diff = mean[i] - mean[j]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = ndtr(diff / sd)
    # A zero-variance difference (identical posteriors) is a coin flip, not nan.
    return np.where(sd > 0, out, np.where(diff > 0, 1.0, np.where(diff < 0, 0.0, 0.5)))


def _cholesky(cov: np.ndarray) -> np.ndarray:
    # Covariances here are positive definite (the prior is proper), but rounding can leave a
    # tiny negative eigenvalue after inflation; a jitter of 1e-12 of the scale absorbs it.
    sym = 0.5 * (cov + cov.T)
    try:
        return np.linalg.cholesky(sym)
    except np.linalg.LinAlgError:
        jitter = 1e-12 * max(float(np.trace(sym)) / max(len(sym), 1), 1e-300)
        return np.linalg.cholesky(sym + jitter * np.eye(len(sym)))


def _times_factor(z: np.ndarray, chol: np.ndarray) -> None:
    """``z @ chol.T`` written over ``z`` (C-ordered draws x models), ``chol`` lower triangular:
    as ``chol @ z.T`` on the Fortran view, BLAS's triangular product, half a general product's
    multiply-adds (2.1 ms instead of 4.0 per 1,000 draws at 300 models). It rounds as
    `z @ chol.T` does to ~1e-15 of the skills: only the order of two draws closer than that
    could differ, and the rank counts of every table on the example and 300-model boards are
    the same integers."""
    out = dtrmm(1.0, chol.T, z.T, side=0, lower=0, trans_a=1, overwrite_b=1)
    if not np.shares_memory(out, z):  # BLAS was handed a copy (z not C-contiguous)
        z[...] = out.T


def _rank_counts(skill: np.ndarray) -> np.ndarray:
    """counts[i, r] = rows of ``skill`` (draws x models) in which model i has rank r + 1."""
    m = skill.shape[1]
    counts = np.zeros((m, m), dtype=np.int64)
    _add_rank_counts(skill, counts)
    return counts


def _add_rank_counts(skill: np.ndarray, counts: np.ndarray) -> None:
    """Adds :func:`_rank_counts` of ``skill`` to ``counts``. The order of each draw is
    ``np.argsort(-skill, axis=1, kind="stable")`` (equal skills by model index): rows without
    equal keys have one sorted order, which the 3x faster unstable sort finds too; a block
    with an equal pair (a model whose skill is a copy of another's, infinities for models
    absent from a draw) or a nan is sorted again stably. The tally is compiled: the sorted
    keys, their check and a bincount over (model, rank) codes were as slow as the sort."""
    _add_key_counts(-skill, counts)


def _add_key_counts(keys: np.ndarray, counts: np.ndarray) -> None:
    """:func:`_add_rank_counts` of the skills ``-keys`` (rank 1 = the smallest key): by one
    sort of integers carrying the model index (rating/packed_sort.py, the same counts at about
    half the time), or, for a block it declines (a nan, a zero, two keys within a few thousand
    units in the last place), by the index sort."""
    if add_packed_counts(keys, counts):
        return
    order = np.argsort(keys, axis=1)
    if not _count_orders(keys, order, counts, True):
        _count_orders(keys, np.argsort(keys, axis=1, kind="stable"), counts, False)


@njit(cache=True)
def _count_orders(keys: np.ndarray, order: np.ndarray, counts: np.ndarray, check: bool) -> bool:
    """counts[order[d, r], r] += 1 for every draw d and rank r; with ``check``, counts nothing
    and returns False when a row's sorted keys hold an equal pair or a nan (their order is
    then the sort's choice, not the stable one)."""
    n, m = order.shape
    if check and m > 0:
        for d in range(n):
            prev = keys[d, order[d, 0]]
            if prev != prev:
                return False
            for r in range(1, m):
                cur = keys[d, order[d, r]]
                if cur == prev or cur != cur:
                    return False
                prev = cur
    for d in range(n):
        for r in range(m):
            counts[order[d, r], r] += 1
    return True


@njit(cache=True)
def _best_window(row: np.ndarray, width: int) -> tuple[int, float]:
    """0-based first rank and mass of the window of ``width`` ranks with the most mass (ties:
    the earliest, i.e. higher, ranks)."""
    best, first = -1.0, 0
    window = 0.0
    for end in range(row.shape[0]):
        window += row[end]
        if end >= width:
            window -= row[end - width]
        if end >= width - 1 and window > best:
            best, first = window, end - width + 1
    return first, best


@njit(cache=True)
def _shortest_row(row: np.ndarray, need: float) -> tuple[int, int]:
    """0-based (first, last) of the shortest window of ``row`` with sum >= need; ties: the
    most mass, then the earliest (higher) ranks. Two pointers, then the best window of that
    width."""
    m = row.shape[0]
    width = m
    total = 0.0
    start = 0
    for end in range(m):
        total += row[end]
        while start < end and total - row[start] >= need:
            total -= row[start]
            start += 1
        if total >= need and end - start + 1 < width:
            width = end - start + 1
    first, _ = _best_window(row, width)
    return first, first + width - 1


def _shortest(counts: np.ndarray, interval: float) -> tuple[np.ndarray, np.ndarray]:
    """Shortest range of ranks holding >= ``interval`` of each row of counts (1-based)."""
    return _intervals(counts, _need(counts, interval), interval, False)


def _need(counts: np.ndarray, interval: float) -> np.ndarray:
    """Per row, the draws a range must hold; the slack absorbs rounding: 0.95 * 4000 draws
    must accept exactly 3800. (Counts are whole, so every sum of them is exact in floats.)"""
    need: np.ndarray = interval * counts.sum(axis=1).astype(np.float64) - 1e-9
    return need


def nearest_intervals(counts: np.ndarray, interval: float) -> tuple[np.ndarray, np.ndarray]:
    """Per row of counts, the range of ranks whose mass is closest to ``interval`` (1-based):
    the shortest with >= ``interval`` or the best window one rank narrower, whichever is
    closer (equally close: the wider). Mass grows with the width, so these two are the only
    candidates."""
    return _intervals(counts, _need(counts, interval), interval, True)


@njit(cache=True)
def _intervals(
    counts: np.ndarray, need: np.ndarray, interval: float, nearest: bool
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_shortest` (or, with ``nearest``, :func:`nearest_intervals`) of every row in one
    compiled loop (a Python loop over the rows was a fifth of a 300-model table's summary)."""
    m = counts.shape[0]
    lower = np.empty(m, dtype=np.int64)
    upper = np.empty(m, dtype=np.int64)
    for i in range(m):
        row = counts[i].astype(np.float64)
        first, last = _shortest_row(row, need[i])
        width = last - first + 1
        if nearest and width >= 2:
            total = row.sum()
            wide = row[first : last + 1].sum() / total
            narrow_first, narrow = _best_window(row, width - 1)
            if interval - narrow / total < wide - interval:
                first, last = narrow_first, narrow_first + width - 2
        lower[i], upper[i] = first + 1, last + 1
    return lower, upper


def rank_intervals(samples: np.ndarray, interval: float) -> tuple[np.ndarray, np.ndarray]:
    """Marginal rank intervals from any draws of the skills (draws x models), e.g. a bootstrap.
    A nan (model absent from a draw) ranks last in that draw."""
    skill = np.where(np.isnan(samples), -np.inf, samples)
    return _shortest(_rank_counts(skill), interval)


@dataclass(frozen=True)
class RankSummary:
    """Per model (in input order): rank, marginal rank interval and the share of draws in it,
    P(best), P(top k), and P(above the next model in rank order) (nan for the last)."""

    rank: np.ndarray
    rank_lower: np.ndarray
    rank_upper: np.ndarray
    rank_mass: np.ndarray
    p_best: np.ndarray
    p_top: np.ndarray
    p_above_next: np.ndarray


def summarize(
    mean: np.ndarray,
    cov: np.ndarray,
    keys: list[str],
    interval: float,
    seed: int,
    draws: int = DRAWS,
    k: int = TOP_K,
) -> RankSummary:
    """Ranks, rank intervals and P(best)/P(top k) from the same seeded posterior draws."""
    m = len(keys)
    rank = rank_by_score(mean, keys)
    if m == 0:
        empty = np.empty(0)
        return RankSummary(rank, rank, rank, empty, empty, empty, empty)
    chol = _cholesky(cov)
    rng = np.random.default_rng(seed)
    counts = np.zeros((m, m), dtype=np.int64)
    # One buffer reused by every block, the product, the sum and the sign flip made in place
    # (a tenth of the summary was allocating and filling fresh blocks of draws).
    normal = np.empty((min(_BLOCK, draws), m))
    done = 0
    while done < draws:
        size = min(_BLOCK, draws - done)
        block = normal[:size]
        rng.standard_normal(out=block)
        _times_factor(block, chol)
        block += mean
        np.negative(block, out=block)
        _add_key_counts(block, counts)
        done += size
    lower, upper = nearest_intervals(counts, interval)
    # The published rank always lies in its interval (a skewed rank distribution could leave
    # it just outside the shortest range): widen to it rather than show "3, interval 4-6".
    lower, upper = np.minimum(lower, rank), np.maximum(upper, rank)
    cum = np.concatenate([np.zeros((m, 1)), np.cumsum(counts, axis=1)], axis=1)
    mass = (cum[np.arange(m), upper] - cum[np.arange(m), lower - 1]) / draws
    kk = min(k, m)
    by_rank = np.argsort(rank)
    above = np.full(m, math.nan)
    if m > 1:
        above[by_rank[:-1]] = p_above(mean, cov, by_rank[:-1], by_rank[1:])
    return RankSummary(
        rank=rank,
        rank_lower=lower,
        rank_upper=upper,
        rank_mass=mass,
        p_best=counts[:, 0] / draws,
        p_top=counts[:, :kk].sum(axis=1) / draws,
        p_above_next=above,
    )
