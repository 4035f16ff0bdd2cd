"""The Davidson likelihood's per-pair arithmetic, compiled (model: :mod:`prefboard.rating.btd`).

An evaluation of the fit's objective was a dozen numpy array expressions (each a pass over the
pairs and a temporary) around three transcendental passes. These kernels do the plain
arithmetic in a few compiled passes; ``exp`` and ``log`` stay numpy's (its SIMD routines do not
round like libm's, which numba would call), so every value is the same operations on the same
inputs as before: the same bits (no fused multiply-adds without fastmath).
"""

from __future__ import annotations

import numpy as np

from prefboard.jit import njit


@njit(cache=True, nogil=True, fastmath=False)
def _half_diffs(
    theta: np.ndarray, i: np.ndarray, j: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``h = (theta_i - theta_j) / 2`` per pair, ``-|h|`` and ``-2 |h|`` (the exponents)."""
    size = i.shape[0]
    h = np.empty(size)
    neg = np.empty(size)
    neg2 = np.empty(size)
    for p in range(size):
        h[p] = 0.5 * (theta[i[p]] - theta[j[p]])
        ah = abs(h[p])
        neg[p] = -ah
        neg2[p] = -2.0 * ah
    return h, neg, neg2


@njit(cache=True, nogil=True, fastmath=False)
def _denominator(e1: np.ndarray, et: np.ndarray, nu: float) -> np.ndarray:
    """``ds = 1 + exp(-2|h|) + nu exp(-|h|)`` (``D exp(-|h|)``); scales ``et`` by ``nu`` in
    place."""
    ds = np.empty(e1.shape[0])
    for p in range(e1.shape[0]):
        et[p] = nu * et[p]
        ds[p] = 1.0 + e1[p] + et[p]
    return ds


@njit(cache=True, nogil=True, fastmath=False, inline="always")
def _probabilities_at(h: float, e1: float, et: float, ds: float) -> tuple[float, float, float]:
    """One pair's ``P(i wins)``, ``P(j wins)``, ``P(tie)``."""
    strong = 1.0 / ds
    weak = e1 / ds
    pos = h >= 0  # selects rather than branches: the loops stay vectorisable
    return (strong if pos else weak), (weak if pos else strong), et / ds


@njit(cache=True, nogil=True, fastmath=False)
def _probabilities(
    h: np.ndarray, neg: np.ndarray, e1: np.ndarray, et: np.ndarray, ds: np.ndarray, lg: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``log D`` and the three outcome probabilities per pair (``lg = log(ds)``)."""
    size = h.shape[0]
    log_d = np.empty(size)
    p_i = np.empty(size)
    p_j = np.empty(size)
    p_t = np.empty(size)
    for p in range(size):
        log_d[p] = -neg[p] + lg[p]
        p_i[p], p_j[p], p_t[p] = _probabilities_at(h[p], e1[p], et[p], ds[p])
    return log_d, p_i, p_j, p_t


def _pair_terms(h: np.ndarray, nu: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """log D and the three outcome probabilities for half-differences ``h``, overflow-free."""
    h = np.ascontiguousarray(h, dtype=np.float64)
    neg = -np.abs(h)
    e1 = np.exp(2.0 * neg)
    et = np.exp(neg)
    ds = _denominator(e1, et, nu)
    return _probabilities(h, neg, e1, et, ds, np.log(ds))


@njit(cache=True, nogil=True, fastmath=False)
def _pair_derivatives(
    i: np.ndarray,
    j: np.ndarray,
    m: int,
    net: np.ndarray,
    n: np.ndarray,
    terms: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    with_nu: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per evaluation, from ``terms = (h, -|h|, exp(-2|h|), nu exp(-|h|), ds, log ds)``, in one
    pass: log D, ``p_t``, the loglik's theta gradient, the per-pair curvature ``c_hh``, the
    ``(theta, log nu)`` column, ``p_t (1 - p_t)`` and the Hessian's diagonal sums of ``c_hh``.

    Every per-model sum adds its pairs in array order, where the model is ``i``, then where it
    is ``j`` (as the ``np.bincount`` calls it replaced did), so the same bits; the six sums
    share one loop because each bin's additions form a chain of dependent adds, and six chains
    overlap where six loops would each wait on theirs.
    """
    h, neg, e1, et, ds, lg = terms
    size = i.shape[0]
    log_d = np.empty(size)
    p_t = np.empty(size)
    c_hh = np.empty(size)
    pq = np.empty(size)
    # the gradient, log-nu column and diagonal sums, where the model is i and where it is j
    g_i, g_j, u_i, u_j, d_i, d_j = (
        np.zeros(m),
        np.zeros(m),
        np.zeros(m),
        np.zeros(m),
        np.zeros(m),
        np.zeros(m),
    )
    for p in range(size):
        log_d[p] = -neg[p] + lg[p]
        p_i, p_j, tie = _probabilities_at(h[p], e1[p], et[p], ds[p])
        p_t[p] = tie
        diff = p_i - p_j
        g_h = net[p] - n[p] * diff
        c = -n[p] * (p_i + p_j - diff * diff) * 0.25  # d2L/dtheta_i^2 per pair
        c_hh[p] = c
        a, b = i[p], j[p]
        g_i[a] += g_h
        g_j[b] += g_h
        d_i[a] += c
        d_j[b] += c
        if with_nu:
            c_hu = n[p] * diff * tie * 0.5  # d2L/(dtheta_i du) per pair
            u_i[a] += c_hu
            u_j[b] += c_hu
            pq[p] = tie * (1.0 - tie)
    h_tu = u_i - u_j if with_nu else np.empty(0)
    return log_d, p_t, 0.5 * (g_i - g_j), c_hh, h_tu, pq, d_i + d_j


@njit(cache=True, nogil=True, fastmath=False)
def _hessian_block(
    i: np.ndarray,
    j: np.ndarray,
    size: int,
    c_hh: np.ndarray,
    diag: np.ndarray,
    s: float,
    kappa: float,
    ridge: float,
) -> np.ndarray:
    """The ``(size, size)`` Hessian with its theta block filled from the per-pair curvatures
    ``c_hh`` and their sums ``diag`` per model (the ``log nu`` row and column are left for the
    caller).

    The same arithmetic, in the same order, as the numpy form it replaced: ``kappa`` where two
    models never met (``(-s) * 0 + kappa``), ``(-s) * (0 - c_hh) + kappa`` where they did, and
    ``((-s) * diag + ridge) + kappa`` on the diagonal."""
    m = diag.shape[0]
    fhess = np.empty((size, size))
    fhess[:m, :m] = kappa
    for p in range(i.shape[0]):
        off = (-s) * (0.0 - c_hh[p]) + kappa
        fhess[i[p], j[p]] = off
        fhess[j[p], i[p]] = off
    for k in range(m):
        fhess[k, k] = ((-s) * diag[k] + ridge) + kappa
    return fhess
