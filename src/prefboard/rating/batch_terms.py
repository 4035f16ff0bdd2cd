"""Batch TrueSkill, part 1: battles aggregated per (pair, outcome), and the compiled per-pair
likelihood terms (log-likelihood, its slope and curvature in the scaled gap) that the Newton fit,
EP and the cluster-robust variance share. Model and notation: :mod:`prefboard.rating.batch`."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from prefboard.jit import njit
from prefboard.rating.batch_logs import _log_cdf as _log_cdf  # stable import path
from prefboard.rating.batch_logs import _log_tie as _log_tie  # stable import path
from prefboard.rating.batch_logs import _pair_gradients as _pair_gradients  # stable import path
from prefboard.rating.batch_logs import _pair_loglik as _pair_loglik  # stable import path
from prefboard.rating.batch_logs import _pair_slopes
from prefboard.rating.trueskill import check_battle_arrays
from prefboard.rating.update import _vw_draw, _vw_win

A_WINS, B_WINS, TIE = 0, 1, 2


@dataclass(frozen=True)
class PairCounts:
    """Battles aggregated per unordered pair ``(i < j)``: ``counts[p] = (i won, j won, tie)``."""

    n_models: int
    i: np.ndarray
    j: np.ndarray
    counts: np.ndarray

    @property
    def total(self) -> float:
        return float(self.counts.sum())


def aggregate(
    n_models: int,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    weights: np.ndarray | None = None,
) -> PairCounts:
    """Counts per (pair, outcome). Unweighted counts are integers (exact); weighted ones are
    summed after sorting by (pair, outcome, weight), so any battle order gives the same bits."""
    a, b, outcome = _check_battles(n_models, a, b, outcome)
    lo = np.minimum(a, b)
    hi = np.maximum(a, b)
    # Re-express the outcome from the low model's side: 0 = lo won, 1 = hi won, 2 = tie.
    flipped = (a != lo) & (outcome != TIE)
    o = np.where(flipped, 1 - outcome, outcome).astype(np.int64)
    key = (lo.astype(np.int64) * n_models + hi) * 3 + o  # narrow codes (model_dtype) widened
    size = n_models * n_models * 3
    if weights is None:
        flat: np.ndarray = np.bincount(key, minlength=size).astype(np.float64)
    else:
        w = np.ascontiguousarray(weights, dtype=np.float64)
        if w.shape != a.shape or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError("weights must be finite, non-negative and one per battle")
        order = np.lexsort((w, key))
        flat = np.bincount(key[order], weights=w[order], minlength=size)
    return _pair_counts(n_models, flat)


@dataclass(frozen=True)
class Battles:
    """Battle arrays validated once (int64 ``a``, ``b``; int8 ``outcome``), for fitting many
    tables that are subsets of them (:func:`aggregate_index`, :func:`cluster_inflation_index`)
    without copying or re-checking the arrays per table."""

    n_models: int
    a: np.ndarray
    b: np.ndarray
    outcome: np.ndarray

    @classmethod
    def of(cls, n_models: int, a: np.ndarray, b: np.ndarray, outcome: np.ndarray) -> Battles:
        return cls(n_models, *_check_battles(n_models, a, b, outcome))


@njit(cache=True, nogil=True, fastmath=False)
def _count_kernel(
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    index: np.ndarray,
    slot: np.ndarray,
    n_slots: int,
    m: int,
    every: bool = False,
) -> np.ndarray:
    """Counts per (slot, pair, outcome) of the battles ``index`` (``every``: of all battles,
    ``index`` unread: no arange of a million positions); ``slot[i]`` is battle i's group (an
    empty ``slot``: one group). One pass, no gathered copies; counts are whole numbers, so the
    sums are order-free. Any integer dtypes (int32 or int64 codes). Counted in int64 without
    a branch on the pair's order (min/max and a select): the same whole numbers, ~3x faster
    than float adds behind a mispredicted branch (a float add waits on the previous one to
    the same cell, and a board of few models repeats cells constantly)."""
    out = np.zeros(n_slots * m * m * 3, dtype=np.int64)
    slotted = slot.shape[0] > 0
    for k in range(a.shape[0] if every else index.shape[0]):
        i = k if every else index[k]
        base = np.int64(slot[i]) * m * m if slotted else 0
        x = np.int64(a[i])
        y = np.int64(b[i])
        o = np.int64(outcome[i])
        o = 1 - o if x > y and o != TIE else o
        out[(base + min(x, y) * m + max(x, y)) * 3 + o] += 1
    return out.astype(np.float64)


def count_all(
    n_models: int,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    index: np.ndarray | None = None,
) -> PairCounts:
    """:func:`aggregate` (unweighted) of battles already checked, of any integer dtypes, or of
    the battles ``index`` of them read in place (no gathered copies): one compiled pass
    (rating/btd_fit.py's counts come from here too)."""
    none = np.empty(0, dtype=np.int64)
    if index is None:
        return _pair_counts(n_models, _count_kernel(a, b, outcome, none, none, 1, n_models, True))
    index = _integers(index)
    if index.size and (index.min() < 0 or index.max() >= a.shape[0]):
        raise ValueError("index must select battles of the arrays")
    return _pair_counts(n_models, _count_kernel(a, b, outcome, index, none, 1, n_models))


def aggregate_groups(
    n_models: int,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    slot: np.ndarray,
    n_slots: int,
) -> list[PairCounts]:
    """:func:`aggregate` of each group's battles (``slot`` per battle in 0..n_slots-1), from
    one pass over all of them: no sort and no per-group copies of a million battles."""
    a, b, outcome = _check_battles(n_models, a, b, outcome)
    slot = _integers(slot)
    if slot.shape != a.shape or (slot.size and (slot.min() < 0 or slot.max() >= n_slots)):
        raise ValueError(f"slot must give each battle a group in [0, {n_slots})")
    none = np.empty(0, dtype=np.int64)
    flat = _count_kernel(a, b, outcome, none, slot, n_slots, n_models, True)
    size = n_models * n_models * 3
    return [_pair_counts(n_models, flat[g * size : (g + 1) * size]) for g in range(n_slots)]


def aggregate_index(battles: Battles, index: np.ndarray) -> PairCounts:
    """:func:`aggregate` of the battles ``index`` (unweighted)."""
    return count_all(battles.n_models, battles.a, battles.b, battles.outcome, index)


def _integers(codes: np.ndarray) -> np.ndarray:
    """``codes`` as a contiguous integer array: as given when it is one (the kernels compile
    per dtype; an int32 array copied to int64 per table cost a pass and 8 bytes a battle)."""
    codes = np.ascontiguousarray(codes)
    return codes if codes.dtype.kind in "iu" else codes.astype(np.int64)


def _pair_counts(m: int, flat: np.ndarray) -> PairCounts:
    per_pair = flat.reshape(m * m, 3)
    seen = np.flatnonzero(per_pair.sum(axis=1) > 0)
    i, j = np.divmod(seen, m)
    return PairCounts(m, i.astype(np.int64), j.astype(np.int64), per_pair[seen].copy())


def _check_battles(
    n_models: int, a: np.ndarray, b: np.ndarray, outcome: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return check_battle_arrays(n_models, a, b, outcome)


@njit(cache=True, fastmath=False)
def _outcome_terms(x: float, e: float, out: np.ndarray) -> None:
    """Row (v, w, loglik) for each outcome of one pair at scaled gap ``x``: v is d loglik / dx
    and w is -d^2 loglik / dx^2 (in (0, 1), so the likelihood is log-concave)."""
    v, w = _vw_win(x, e)
    out[0, 0] = v
    out[0, 1] = w
    out[0, 2] = _log_cdf(x - e)
    v, w = _vw_win(-x, e)
    out[1, 0] = -v
    out[1, 1] = w
    out[1, 2] = _log_cdf(-x - e)
    if e > 0.0:
        v, w = _vw_draw(x, e)
        out[2, 0] = v
        out[2, 1] = w
        out[2, 2] = _log_tie(x, e)
    else:
        out[2, 0] = 0.0
        out[2, 1] = 0.0
        out[2, 2] = -math.inf


@njit(cache=True, fastmath=False)
def _pair_terms(
    s: np.ndarray, i: np.ndarray, j: np.ndarray, counts: np.ndarray, c: float, e: float
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Log-likelihood, and per pair the gradient and curvature in x; per-outcome v as well."""
    n = i.shape[0]
    g = np.empty(n)
    k = np.empty(n)
    v_out = np.empty((n, 3))
    row = np.empty((3, 3))
    ll = 0.0
    for p in range(n):
        x = (s[i[p]] - s[j[p]]) / c
        _outcome_terms(x, e, row)
        gp = 0.0
        kp = 0.0
        for o in range(3):
            n_o = counts[p, o]
            v_out[p, o] = row[o, 0]
            if n_o > 0.0:
                gp += n_o * row[o, 0]
                kp += n_o * row[o, 1]
                ll += n_o * row[o, 2]
        g[p] = gp
        k[p] = kp
    return ll, g, k, v_out


def _gradient_at(
    pc: PairCounts, s: np.ndarray, c: float, e: float
) -> tuple[np.ndarray, np.ndarray]:
    """The log-likelihood's gradient (M,) and minus its Hessian (M, M) in the skills."""
    g, k = _pair_slopes(s, pc.i, pc.j, pc.counts, c, e)
    return gradient_of(pc, g, k, c)


def gradient_of(
    pc: PairCounts, g: np.ndarray, k: np.ndarray, c: float
) -> tuple[np.ndarray, np.ndarray]:
    """`_gradient_at` from the per-pair slopes ``g`` and curvatures ``k`` in the scaled gap
    (`_pair_slopes`, or `_pair_gradients` when the log-likelihood is wanted too)."""
    m = pc.n_models
    grad = (np.bincount(pc.i, g, minlength=m) - np.bincount(pc.j, g, minlength=m)) / c
    return grad, laplacian(m, pc.i, pc.j, k / (c * c))


def laplacian(m: int, i: np.ndarray, j: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """The (m, m) graph Laplacian with weight ``weight[p]`` on each edge ``i[p] - j[p]``.

    Each entry adds its terms in the order one weighted bincount over the keys (diagonal by
    ``i``, then by ``j``, then both off-diagonals) did, so the sums are the same bits; the
    compiled loop skips that bincount's four concatenated copies (it was a tenth of the draw
    margin's profile fits on a 300-model board)."""
    w = np.ascontiguousarray(weight, dtype=np.float64)
    ii = np.ascontiguousarray(i, dtype=np.int64)
    jj = np.ascontiguousarray(j, dtype=np.int64)
    return _laplacian_kernel(m, ii, jj, w).reshape(m, m)


@njit(cache=True, nogil=True, fastmath=False)
def _laplacian_kernel(m: int, i: np.ndarray, j: np.ndarray, w: np.ndarray) -> np.ndarray:
    out = np.zeros(m * m)
    for p in range(i.shape[0]):
        out[i[p] * (m + 1)] += w[p]
    for p in range(i.shape[0]):
        out[j[p] * (m + 1)] += w[p]
    for p in range(i.shape[0]):
        out[i[p] * m + j[p]] += -w[p]
    for p in range(i.shape[0]):
        out[j[p] * m + i[p]] += -w[p]
    return out
