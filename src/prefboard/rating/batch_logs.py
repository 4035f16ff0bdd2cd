"""Batch TrueSkill, part 1b: the log-probabilities of the outcomes, and the compiled passes over
all pairs that the Newton fit and the draw margin's profile repeat most (the log-likelihood alone,
and with its slope and curvature). Model and notation: :mod:`prefboard.rating.batch`.

A pair that had ties needs, for its three outcomes, the same few normal tails: ``erfc`` at
``(|x| - e) / sqrt 2`` and ``(|x| + e) / sqrt 2`` and the densities there. Computed outcome by
outcome they were evaluated up to eight times per pair; the passes below compute each once and
hand the very same values to the same expressions, so every term and every sum keeps its bits.
Pairs outside the ordinary range (far tails, a narrow draw window, no ties) take the outcome
by outcome functions unchanged.
"""

from __future__ import annotations

import math

import numpy as np

from prefboard.jit import njit
from prefboard.rating.update import _NARROW, _NARROW_TILT, _mills_excess, _pdf, _vw_draw, _vw_win

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)


@njit(cache=True, fastmath=False)
def _log_cdf(u: float) -> float:
    """log Phi(u), accurate in both tails."""
    if u > 0.0:
        return math.log1p(-0.5 * math.erfc(u * _INV_SQRT2))
    if u > -6.0:
        return math.log(0.5 * math.erfc(-u * _INV_SQRT2))
    # Phi(u) = phi(u) / v with v = -u + k (inverse Mills ratio): no underflow for any finite u.
    v = _mills_excess(-u) - u
    return -0.5 * u * u - _LOG_SQRT_2PI - math.log(v)


@njit(cache=True, fastmath=False)
def _log_tie(x: float, e: float) -> float:
    """log(Phi(e - x) - Phi(-e - x)), the log-probability of a tie."""
    s = abs(x)
    u1 = s - e
    u2 = s + e
    if u1 < 6.0:
        return math.log(0.5 * (math.erfc(u1 * _INV_SQRT2) - math.erfc(u2 * _INV_SQRT2)))
    l1 = _log_cdf(-u1)
    return l1 + math.log1p(-math.exp(_log_cdf(-u2) - l1))


@njit(cache=True, nogil=True, fastmath=False)
def _tie_pair_logs(x: float, u1: float, u2: float) -> tuple[float, float, float]:
    """``(win, loss, tie)`` log-probabilities of a pair at gap ``x`` that had ties, for
    ``u1 = |x| - e``, ``u2 = |x| + e < 6`` and ``e > 0``: `_log_cdf` and `_log_tie` with their
    two ``erfc`` computed once. The stronger side's win is ``_log_cdf(u1)``, the weaker's
    ``_log_cdf(-u2)`` (``x - e`` and ``-x - e`` are ``+-u1``/``-u2`` exactly: rounding is
    symmetric in sign), which for ``u2 < 6`` is ``log(erfc(u2 / sqrt 2) / 2)``."""
    e1 = math.erfc(u1 * _INV_SQRT2)
    e2 = math.erfc(u2 * _INV_SQRT2)
    tie = math.log(0.5 * (e1 - e2))
    weak = math.log(0.5 * e2)
    strong = math.log1p(-0.5 * e1) if u1 > 0.0 else _log_cdf(u1)
    if x < 0.0:
        return weak, strong, tie
    return strong, weak, tie


@njit(cache=True, nogil=True, fastmath=False)
def _pair_loglik(
    s: np.ndarray, i: np.ndarray, j: np.ndarray, counts: np.ndarray, c: float, e: float
) -> float:
    """The log-likelihood of `_pair_terms` alone: the Newton line search needs only this, and
    skipping v, w and the outcomes a pair never had makes it several times cheaper. Each
    term is the same value as there, summed in the same order: the same bits."""
    ll = 0.0
    for p in range(i.shape[0]):
        x = (s[i[p]] - s[j[p]]) / c
        n_win, n_loss, n_tie = counts[p, 0], counts[p, 1], counts[p, 2]
        u1 = abs(x) - e
        u2 = abs(x) + e
        if n_tie > 0.0 and e > 0.0 and u2 < 6.0:
            win, loss, tie = _tie_pair_logs(x, u1, u2)
            if n_win > 0.0:
                ll += n_win * win
            if n_loss > 0.0:
                ll += n_loss * loss
            ll += n_tie * tie
            continue
        if n_win > 0.0:
            ll += n_win * _log_cdf(x - e)
        if n_loss > 0.0:
            ll += n_loss * _log_cdf(-x - e)
        if n_tie > 0.0:
            ll += n_tie * (_log_tie(x, e) if e > 0.0 else -math.inf)
    return ll


@njit(cache=True, nogil=True, fastmath=False)
def _tie_pair_terms(x: float, e: float, u1: float, u2: float, out: np.ndarray, logs: bool) -> None:
    """Rows ``(v, w, loglik)`` of win, loss and tie, as `_vw_win`, `_vw_draw`, `_log_cdf` and
    `_log_tie` give them in their ordinary branches (``e > 0``, ``-6 <= u1``, ``u2 < 6``, a
    draw window not narrow), from two densities and three ``erfc`` computed once.

    The stronger side's win has scaled margin ``u1``, the weaker's ``-u2``; ``_pdf(-u2)`` is
    ``_pdf(u2)`` to the bit (``(-0.5 * x) * x`` only changes sign twice). Without ``logs`` the
    loglik column is left at 0."""
    p1 = _pdf(u1)
    p2 = _pdf(u2)
    e1 = math.erfc(u1 * _INV_SQRT2)
    e2 = math.erfc(u2 * _INV_SQRT2)
    em1 = math.erfc(-u1 * _INV_SQRT2)
    v_strong = p1 / (0.5 * em1)
    w_strong = v_strong * (v_strong + u1)
    l_strong = l_weak = 0.0
    if logs:
        if u1 > 0.0:
            l_strong = math.log1p(-0.5 * e1)
        elif u1 > -6.0:
            l_strong = math.log(0.5 * em1)
        else:
            l_strong = _log_cdf(u1)
        l_weak = math.log(0.5 * e2)
    v_weak = p2 / (0.5 * e2)
    w_weak = v_weak * (v_weak - u2)
    d = 0.5 * (e1 - e2)
    v_tie = (p2 - p1) / d
    out[2, 1] = v_tie * v_tie + (u2 * p2 - u1 * p1) / d
    out[2, 0] = -v_tie if x < 0.0 else v_tie
    out[2, 2] = math.log(0.5 * (e1 - e2)) if logs else 0.0
    if x >= 0.0:
        out[0, 0], out[0, 1], out[0, 2] = v_strong, w_strong, l_strong
        out[1, 0], out[1, 1], out[1, 2] = v_weak, w_weak, l_weak
    else:
        out[0, 0], out[0, 1], out[0, 2] = v_weak, w_weak, l_weak
        out[1, 0], out[1, 1], out[1, 2] = v_strong, w_strong, l_strong


@njit(cache=True, nogil=True, fastmath=False)
def _ordinary_tie_pair(e: float, s: float, u1: float, u2: float) -> bool:
    """Whether `_tie_pair_terms` applies: the branches it reproduces are the ones taken."""
    narrow = e < _NARROW and s * e <= _NARROW_TILT
    return e > 0.0 and not narrow and u1 >= -6.0 and u2 < 6.0


@njit(cache=True, nogil=True, fastmath=False)
def _pair_gradients(
    s: np.ndarray, i: np.ndarray, j: np.ndarray, counts: np.ndarray, c: float, e: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """`_pair_terms` without the per-outcome v: only the outcomes a pair had are summed
    (each the same value as there, summed in the same order, so the same bits)."""
    return _pair_pass(s, i, j, counts, c, e, True)


@njit(cache=True, nogil=True, fastmath=False)
def _pair_slopes(
    s: np.ndarray, i: np.ndarray, j: np.ndarray, counts: np.ndarray, c: float, e: float
) -> tuple[np.ndarray, np.ndarray]:
    """The gradient and curvature of `_pair_gradients` without its log-likelihood: a Newton
    step needs only these (the line search computes the log-likelihood), and the logs were a
    third of the pass."""
    _, g, k = _pair_pass(s, i, j, counts, c, e, False)
    return g, k


@njit(cache=True, nogil=True, fastmath=False)
def _pair_pass(
    s: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    counts: np.ndarray,
    c: float,
    e: float,
    logs: bool,
) -> tuple[float, np.ndarray, np.ndarray]:
    n = i.shape[0]
    g = np.zeros(n)
    k = np.zeros(n)
    row = np.empty((3, 3))
    ll = 0.0
    for p in range(n):
        x = (s[i[p]] - s[j[p]]) / c
        gp = 0.0
        kp = 0.0
        n_win, n_loss, n_tie = counts[p, 0], counts[p, 1], counts[p, 2]
        u1 = abs(x) - e
        u2 = abs(x) + e
        if n_tie > 0.0 and _ordinary_tie_pair(e, abs(x), u1, u2):
            _tie_pair_terms(x, e, u1, u2, row, logs)
        else:
            _outcome_rows(x, e, n_win, n_loss, n_tie, row, logs)
        if n_win > 0.0:
            gp += n_win * row[0, 0]
            kp += n_win * row[0, 1]
            if logs:
                ll += n_win * row[0, 2]
        if n_loss > 0.0:
            gp += n_loss * -row[1, 0]
            kp += n_loss * row[1, 1]
            if logs:
                ll += n_loss * row[1, 2]
        if n_tie > 0.0:
            if e > 0.0:
                gp += n_tie * row[2, 0]
                kp += n_tie * row[2, 1]
            if logs:
                ll += n_tie * row[2, 2]
        g[p] = gp
        k[p] = kp
    return ll, g, k


@njit(cache=True, nogil=True, fastmath=False)
def _outcome_rows(
    x: float,
    e: float,
    n_win: float,
    n_loss: float,
    n_tie: float,
    out: np.ndarray,
    logs: bool,
) -> None:
    """Rows ``(v, w, loglik)`` of the outcomes the pair had, one outcome at a time (the win
    row's v as `_vw_win` gives it for the loser too: the caller negates it); the loglik
    column only with ``logs``."""
    if n_win > 0.0:
        out[0, 0], out[0, 1] = _vw_win(x, e)
        if logs:
            out[0, 2] = _log_cdf(x - e)
    if n_loss > 0.0:
        out[1, 0], out[1, 1] = _vw_win(-x, e)
        if logs:
            out[1, 2] = _log_cdf(-x - e)
    if n_tie > 0.0:
        if e > 0.0:
            out[2, 0], out[2, 1] = _vw_draw(x, e)
            if logs:
                out[2, 2] = _log_tie(x, e)
        else:
            out[2, 2] = -math.inf
