"""The exact multinomial test of the per-pair fit check (rating/checks.py): for three-cell
counts, the total probability of every outcome with the same n that is no more likely than the
observed one."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.special import gammaln

from prefboard.jit import njit

__all__ = ["EXACT_MAX_N", "exact_multinomial", "exact_multinomials", "numpy_sum"]

# The exact test enumerates O(n^2) outcomes (a few ms at n = 200, 7 s at 3,000); above this
# many battles the chi-square test is used even with a small expected count.
EXACT_MAX_N = 200
# Cells (pairs x outcomes of one n) evaluated at once: bounds the memory of a chunk.
_EXACT_CELLS = 2_000_000


def exact_multinomial(observed: np.ndarray, probs: np.ndarray) -> float:
    """Exact two-sided p-value of three-cell counts: the total probability of every outcome with
    the same n that is no more likely than the observed one (relative tolerance 1e-7, as
    scipy.stats.binomtest uses for ties)."""
    return float(exact_multinomials(observed[None, :], probs[None, :])[0])


@lru_cache(maxsize=EXACT_MAX_N + 1)
def _outcomes(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every (x, y, z) with x + y + z = n and its log multinomial coefficient: the same for
    every pair with n battles, so computed once per n."""
    x, y = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    keep = x + y <= n
    x, y = x[keep], y[keep]
    z = n - x - y
    return x, y, z, gammaln(n + 1) - gammaln(x + 1) - gammaln(y + 1) - gammaln(z + 1)


def exact_multinomials(observed: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """:func:`exact_multinomial` of each row, with the pairs of one n evaluated together (a
    300-model board has ~45,000 pairs to test per dimension; one call each took most of
    the rating stage). The arithmetic per outcome is the one-pair computation's: the same
    bits."""
    out = np.empty(len(observed))
    n_of = observed.sum(axis=1).astype(np.int64)
    for n in np.unique(n_of):
        rows = np.flatnonzero(n_of == n)
        step = max(1, _EXACT_CELLS // ((int(n) + 1) * (int(n) + 2) // 2))
        for first in range(0, rows.size, step):
            chunk = rows[first : first + step]
            out[chunk] = _exact_chunk(int(n), observed[chunk], probs[chunk])
    return out


def _exact_chunk(n: int, observed: np.ndarray, probs: np.ndarray) -> np.ndarray:
    x, y, z, base = _outcomes(n)
    # A cell of probability 0 has log -inf; 0 * log 0 counts as 0 (numpy would give nan).
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.log(probs)
        o = observed.astype(np.int64)
        ref = (
            gammaln(n + 1)
            - gammaln(o + 1).sum(axis=1)
            + np.sum(np.where(o > 0, o * logp, 0.0), axis=1)
        )
    # Per row, the sum of exp over the outcomes no more likely than the observed one. The
    # log-pmf of every outcome and the choice are one compiled pass (the same additions in the
    # same order as the numpy expressions they replace: no temporary per term); exp stays
    # numpy's, and each row's kept cells are summed as `np.sum` of them would.
    kept, lengths = _kept_log_pmf(x, y, z, base, logp, ref + 1e-7)
    sums = _run_sums(np.exp(kept), lengths)
    return np.where(sums < 1.0, sums, 1.0)  # min(1.0, sum), as the per-row code wrote it


@njit(cache=True)
def _kept_log_pmf(
    x: np.ndarray,
    y: np.ndarray,
    z: np.ndarray,
    base: np.ndarray,
    logp: np.ndarray,
    cut: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per row r, the log-pmf ``base + ((0 + x lp0) + y lp1) + z lp2`` (a term is 0 where its
    count is 0) of the outcomes at most ``cut[r]``, rows one after another, and their number
    per row. Written as the numpy code computed it: ``terms`` from zeros, += each term."""
    rows, cells = logp.shape[0], x.shape[0]
    kept = np.empty(rows * cells)
    lengths = np.zeros(rows, dtype=np.int64)
    at = 0
    for r in range(rows):
        lp0, lp1, lp2 = logp[r, 0], logp[r, 1], logp[r, 2]
        for c in range(cells):
            terms = 0.0
            terms = terms + (x[c] * lp0 if x[c] > 0 else 0.0)
            terms = terms + (y[c] * lp1 if y[c] > 0 else 0.0)
            terms = terms + (z[c] * lp2 if z[c] > 0 else 0.0)
            value = base[c] + terms
            if value <= cut[r]:
                kept[at] = value
                at += 1
                lengths[r] += 1
    return kept[:at], lengths


@njit(cache=True)
def _pairwise(a: np.ndarray, lo: int, n: int) -> float:
    """numpy's pairwise summation of ``a[lo:lo + n]`` (numpy/_core/src/umath/loops_utils.h:
    a plain loop under 8 values, 8 accumulators up to 128, else halves at a multiple of 8)."""
    if n < 8:
        res: float = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    if n <= 128:
        # eight scalar accumulators (an array would be allocated at every leaf)
        r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
        r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
        i = lo + 8
        stop = lo + n - (n % 8)
        while i < stop:
            r0 += a[i]
            r1 += a[i + 1]
            r2 += a[i + 2]
            r3 += a[i + 3]
            r4 += a[i + 4]
            r5 += a[i + 5]
            r6 += a[i + 6]
            r7 += a[i + 7]
            i += 8
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < lo + n:
            res += a[i]
            i += 1
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return _pairwise(a, lo, n2) + _pairwise(a, lo + n2, n - n2)


@njit(cache=True)
def _run_sums(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``np.sum`` of each consecutive run of ``values`` (run k has ``lengths[k]`` values)."""
    out = np.empty(lengths.shape[0])
    lo = 0
    for k in range(lengths.shape[0]):
        out[k] = 0.0 + _pairwise(values, lo, lengths[k])
        lo += lengths[k]
    return out


def numpy_sum(values: np.ndarray) -> float:
    """:func:`_run_sums` of one run: what the tests compare with ``np.sum``."""
    flat = np.ascontiguousarray(values, dtype=np.float64)
    return float(_run_sums(flat, np.array([flat.size], dtype=np.int64))[0])
