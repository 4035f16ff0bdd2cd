"""Batch TrueSkill: the posterior of TrueSkill's static model given all battles of a table at once.

Model (Herbrich, Minka & Graepel 2006, with static skills as in TrueSkill Through Time,
Dangauthier et al. 2007): skill ``s_i ~ N(mu0_i, sigma0_i^2)`` independently; in a battle the
performance difference is ``d = s_a - s_b + N(0, 2 beta^2)``; the outcome is "a" if
``d > eps``, "b" if ``d < -eps`` and a tie if ``|d| <= eps`` (``eps`` is the draw margin,
``trueskill.draw_margin(p, beta)`` for a draw probability ``p``). With ``c = sqrt(2) beta`` and
``x = (s_a - s_b) / c`` the likelihood of one battle is ``Phi(x - eps/c)``, ``Phi(-x - eps/c)``
or ``Phi(eps/c - x) - Phi(-eps/c - x)``: log-concave in the skills, so the posterior has one mode.

Fit: Laplace approximation, refined by expectation propagation (the default). Battles are
first aggregated into counts per (unordered pair, outcome), so a step costs O(pairs) for the
likelihood terms plus O(M^3) for a Cholesky solve, whatever the number of battles. Newton with
backtracking on the log posterior finds the mode; the Laplace covariance is the inverse Hessian
there. EP then replaces each (pair, outcome)'s Laplace message by the moment-matched one, with
the full covariance kept (no factorisation between skills), in damped parallel sweeps to
convergence. The result does not depend on the order of the battles at all (counts are
order-free; weighted counts are summed in a sorted order), unlike the one-pass online update in
:mod:`prefboard.rating.trueskill`. The v/w functions of that module are reused: they are the
first and (minus) second derivatives of the log-likelihood of one battle in ``x``, and the EP
moment corrections, computed stably far into the tails.

Laplace vs expectation propagation: EP (what ``trueskillthroughtime`` runs) matches the
posterior's first two moments per factor; Laplace matches its mode and curvature. With few
battles, or a model that loses nearly every battle, the truncated likelihoods make the posterior
skewed and the mode sits up to ~1 sd from the mean (one battle: 24 % of the gap); EP gets the
moments (exact for one battle). With many battles both converge to the same Gaussian.

Public API (stable; other modules build on it):

- :class:`PairCounts`, :func:`aggregate` - battles -> (pair, outcome) counts.
- :class:`Posterior` - ``mean (M,)``, ``cov (M, M)``, ``precision (M, M)``, the likelihood
  in information form (``info_h``, ``info_precision``; EP's summed sites, or Laplace's expansion
  at the mode), ``log_likelihood``, ``draw_margin``, ``inflation``.
- :func:`fit` (from battle arrays) and :func:`fit_counts` (from counts), keyword-only prior and
  model constants; outcome coding 0 = a wins, 1 = b wins, 2 = tie, as everywhere in prefboard.
- :func:`likelihood_information` - the likelihood alone as ``(h, L)`` with
  ``log p(y | s) ~ const + h.s - s.L.s / 2`` (valid when ``L`` is singular, as it always is:
  the likelihood cannot see the overall level of the skills).
- :func:`learn_draw_margin` - ``eps`` by maximum profile likelihood with a likelihood-ratio
  interval, also as draw probabilities.
- :func:`cluster_inflation` - cluster-robust (sandwich) variance by participant and/or prompt and
  the per-model inflation of the posterior it implies.
- :class:`Battles`, :func:`aggregate_index`, :func:`cluster_inflation_index` - the same for
  tables that are subsets of one validated set of battle arrays (no per-table copies).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from statistics import NormalDist

import numpy as np
from numba import njit
from scipy.linalg import cho_factor, cho_solve, eigh
from scipy.optimize import brentq, minimize_scalar

from prefboard.rating.trueskill import (
    _mills_excess,
    _vw_draw,
    _vw_win,
    check_battle_arrays,
    draw_margin,
)

__all__ = [
    "Battles",
    "DrawMarginFit",
    "PairCounts",
    "Posterior",
    "aggregate",
    "aggregate_index",
    "cluster_inflation",
    "cluster_inflation_index",
    "draw_probability_of",
    "fit",
    "fit_counts",
    "learn_draw_margin",
    "likelihood_information",
    "score_table",
]

A_WINS, B_WINS, TIE = 0, 1, 2
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
# Newton stops when no skill moves by more than this (skills are on TrueSkill's 0-50 scale).
_TOL = 1e-10
_MAX_NEWTON = 200
# Draw probabilities searched when learning eps: ties rarer than 1 in 10^6 or commoner than
# 99.9 % between equals are indistinguishable from the bounds for any realistic board.
P_MIN, P_MAX = 1e-6, 0.999
_CHI2_95 = 3.841458820694124  # chi-square(1) 95 % quantile, for the likelihood-ratio interval


# --------------------------------------------------------------------------------------------
# Counts
# --------------------------------------------------------------------------------------------


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
    key = (lo * n_models + hi) * 3 + o
    size = n_models * n_models * 3
    if weights is None:
        flat = np.bincount(key, minlength=size).astype(np.float64)
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


@njit(cache=True, fastmath=False)
def _count_kernel(
    a: np.ndarray, b: np.ndarray, outcome: np.ndarray, index: np.ndarray, m: int
) -> np.ndarray:
    # One pass, no gathered copies; counts are whole numbers, so the sums are order-free.
    out = np.zeros(m * m * 3)
    for k in range(index.shape[0]):
        i = index[k]
        x = a[i]
        y = b[i]
        o = outcome[i]
        if x < y:
            out[(x * m + y) * 3 + o] += 1.0
        else:
            out[(y * m + x) * 3 + (o if o == TIE else 1 - o)] += 1.0
    return out


def aggregate_index(battles: Battles, index: np.ndarray) -> PairCounts:
    """:func:`aggregate` of the battles ``index`` (unweighted)."""
    index = np.ascontiguousarray(index, dtype=np.int64)
    if index.size and (index.min() < 0 or index.max() >= battles.a.shape[0]):
        raise ValueError("index must select battles of the arrays")
    m = battles.n_models
    flat = _count_kernel(battles.a, battles.b, battles.outcome, index, m)
    return _pair_counts(m, flat)


def _pair_counts(m: int, flat: np.ndarray) -> PairCounts:
    per_pair = flat.reshape(m * m, 3)
    seen = np.flatnonzero(per_pair.sum(axis=1) > 0)
    i, j = np.divmod(seen, m)
    return PairCounts(m, i.astype(np.int64), j.astype(np.int64), per_pair[seen].copy())


def _check_battles(
    n_models: int, a: np.ndarray, b: np.ndarray, outcome: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return check_battle_arrays(n_models, a, b, outcome)


# --------------------------------------------------------------------------------------------
# Per-pair likelihood terms (compiled)
# --------------------------------------------------------------------------------------------


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


def _likelihood_at(
    pc: PairCounts, s: np.ndarray, c: float, e: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """Log-likelihood, its gradient (M,) and minus its Hessian (M, M) in the skills."""
    m = pc.n_models
    ll, g, k, _ = _pair_terms(s, pc.i, pc.j, pc.counts, c, e)
    grad = (np.bincount(pc.i, g, minlength=m) - np.bincount(pc.j, g, minlength=m)) / c
    lap = np.zeros((m, m))
    kk = k / (c * c)
    np.add.at(lap, (pc.i, pc.i), kk)
    np.add.at(lap, (pc.j, pc.j), kk)
    np.add.at(lap, (pc.i, pc.j), -kk)
    np.add.at(lap, (pc.j, pc.i), -kk)
    return ll, grad, lap


# --------------------------------------------------------------------------------------------
# Expectation propagation refinement
# --------------------------------------------------------------------------------------------

# Damping of the parallel EP updates and the stopping rule (largest change of any mean or sd).
_EP_DAMPING = 0.5
_EP_TOL = 1e-9
_EP_MAX_SWEEPS = 500


@njit(cache=True, fastmath=False)
def _ep_sites(
    mean: np.ndarray,
    cov: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    counts: np.ndarray,
    tau: np.ndarray,
    nu: np.ndarray,
    two_beta_sq: float,
    eps: float,
    damping: float,
) -> None:
    """One parallel EP sweep over the (pair, outcome) sites, in place.

    A site is one battle's Gaussian message on d = s_i - s_j (natural parameters tau, nu); the
    n identical battles of a (pair, outcome) share it, so the posterior holds n copies and the
    cavity removes one (the symmetric fixed point of EP over all n battles).
    """
    for p in range(i.shape[0]):
        m_d = mean[i[p]] - mean[j[p]]
        v_d = cov[i[p], i[p]] + cov[j[p], j[p]] - 2.0 * cov[i[p], j[p]]
        for o in range(3):
            if counts[p, o] <= 0.0:
                continue
            tau_c = 1.0 / v_d - tau[p, o]
            if tau_c <= 0.0:
                continue  # no proper cavity (rounding at tiny variances): keep the old site
            nu_c = m_d / v_d - nu[p, o]
            m_c = nu_c / tau_c
            v_c = 1.0 / tau_c
            cc = math.sqrt(two_beta_sq + v_c)
            t = m_c / cc
            e = eps / cc
            if o == 0:
                v, w = _vw_win(t, e)
            elif o == 1:
                v, w = _vw_win(-t, e)
                v = -v
            else:
                v, w = _vw_draw(t, e)
            m_new = m_c + v_c / cc * v
            var_new = v_c * (1.0 - v_c / (cc * cc) * w)
            tau_new = max(1.0 / var_new - tau_c, 0.0)
            nu_new = m_new / var_new - nu_c
            tau[p, o] = (1.0 - damping) * tau[p, o] + damping * tau_new
            nu[p, o] = (1.0 - damping) * nu[p, o] + damping * nu_new


@njit(cache=True, fastmath=False)
def _site_information(
    i: np.ndarray, j: np.ndarray, counts: np.ndarray, tau: np.ndarray, nu: np.ndarray, m: int
) -> tuple[np.ndarray, np.ndarray]:
    """The sites summed into the likelihood's information form (h, L) over the skills."""
    h = np.zeros(m)
    lap = np.zeros((m, m))
    for p in range(i.shape[0]):
        t = 0.0
        n = 0.0
        for o in range(3):
            t += counts[p, o] * tau[p, o]
            n += counts[p, o] * nu[p, o]
        h[i[p]] += n
        h[j[p]] -= n
        lap[i[p], i[p]] += t
        lap[j[p], j[p]] += t
        lap[i[p], j[p]] -= t
        lap[j[p], i[p]] -= t
    return h, lap


@njit(cache=True, fastmath=False)
def _ep_loop(
    i: np.ndarray,
    j: np.ndarray,
    counts: np.ndarray,
    tau: np.ndarray,
    nu: np.ndarray,
    prior_h: np.ndarray,
    prior_prec: np.ndarray,
    start: np.ndarray,
    two_beta_sq: float,
    eps: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    # The whole loop is compiled: a sweep costs microseconds, so per-sweep Python overhead
    # would dominate the fit of a table.
    m = start.shape[0]
    mean = start.copy()
    sd = np.zeros(m)
    for sweep in range(1, _EP_MAX_SWEEPS + 1):
        h, lap = _site_information(i, j, counts, tau, nu, m)
        cov = np.linalg.inv(lap + prior_prec)
        new_mean = cov @ (h + prior_h)
        change = 0.0
        for k in range(m):
            new_sd = math.sqrt(cov[k, k])
            change = max(change, abs(new_mean[k] - mean[k]), abs(new_sd - sd[k]))
            sd[k] = new_sd
        mean = new_mean
        if change < _EP_TOL:
            return mean, cov, h, lap, sweep
        _ep_sites(mean, cov, i, j, counts, tau, nu, two_beta_sq, eps, _EP_DAMPING)
    return mean, cov, h, lap, _EP_MAX_SWEEPS


def _ep(
    pc: PairCounts,
    prior_mean: np.ndarray,
    prior_prec: np.ndarray,
    beta: float,
    eps: float,
    mode: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """EP from Laplace sites at the mode; returns mean, cov, h, L and the sweeps used."""
    c = math.sqrt(2.0) * beta
    x = (mode[pc.i] - mode[pc.j]) / c
    tau = np.zeros(pc.counts.shape)
    nu = np.zeros(pc.counts.shape)
    row = np.empty((3, 3))
    for p in range(len(pc.i)):
        _outcome_terms(x[p], eps / c, row)
        # A Laplace site matches the log-likelihood's slope and curvature at the mode.
        tau[p] = row[:, 1] / c**2
        nu[p] = tau[p] * (x[p] * c) + row[:, 0] / c
    return _ep_loop(
        pc.i,
        pc.j,
        np.ascontiguousarray(pc.counts),
        tau,
        nu,
        prior_prec @ prior_mean,
        np.ascontiguousarray(prior_prec),
        mode,
        2 * beta**2,
        eps,
    )


# --------------------------------------------------------------------------------------------
# The fit
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Posterior:
    """Gaussian (Laplace) posterior of the skills.

    ``info_h`` and ``info_precision`` are the likelihood alone in information form, expanded at
    the mode: ``log p(y | s) ~ const + info_h.s - s.info_precision.s / 2``; adding the prior's
    natural parameters gives back ``precision`` and ``mean``. ``inflation`` is the per-model
    factor applied to the standard deviations for clustering (1 = none applied).
    """

    mean: np.ndarray
    cov: np.ndarray
    precision: np.ndarray
    info_h: np.ndarray
    info_precision: np.ndarray
    log_likelihood: float
    draw_margin: float
    beta: float
    iterations: int
    inflation: np.ndarray

    @property
    def sd(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))


def _prior_arrays(
    m: int, prior_mean: float | np.ndarray, prior_sigma: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    mean = np.broadcast_to(np.asarray(prior_mean, dtype=np.float64), (m,)).copy()
    sigma = np.broadcast_to(np.asarray(prior_sigma, dtype=np.float64), (m,)).copy()
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(sigma)) and np.all(sigma > 0)):
        raise ValueError("prior_mean must be finite and prior_sigma positive and finite")
    return mean, np.diag(1.0 / sigma**2)


def _check_constants(beta: float, eps: float, pc: PairCounts) -> None:
    if not (beta > 0 and math.isfinite(beta)):
        raise ValueError(f"beta must be positive and finite, got {beta!r}")
    if not (eps >= 0 and math.isfinite(eps)):
        raise ValueError(f"draw_margin must be non-negative and finite, got {eps!r}")
    if eps == 0 and pc.counts.shape[0] and pc.counts[:, TIE].sum() > 0:
        raise ValueError("a tie has probability zero when draw_margin == 0")


def _newton(
    pc: PairCounts,
    prior_mean: np.ndarray,
    prior_prec: np.ndarray,
    c: float,
    e: float,
    start: np.ndarray,
) -> tuple[np.ndarray, int]:
    """Mode of the log posterior by damped Newton (Armijo backtracking); it is concave."""
    s = start.copy()

    def objective(x: np.ndarray) -> float:
        d = x - prior_mean
        return -_pair_terms(x, pc.i, pc.j, pc.counts, c, e)[0] + 0.5 * d @ prior_prec @ d

    f = objective(s)
    for it in range(1, _MAX_NEWTON + 1):
        _, grad_l, lap = _likelihood_at(pc, s, c, e)
        grad = prior_prec @ (s - prior_mean) - grad_l
        step = -cho_solve(cho_factor(lap + prior_prec), grad)
        slope = grad @ step
        t = 1.0
        while True:
            trial = s + t * step
            f_trial = objective(trial)
            if f_trial <= f + 1e-4 * t * slope or t < 1e-12:
                break
            t *= 0.5
        s, f = trial, f_trial
        if np.max(np.abs(t * step)) < _TOL:
            return s, it
    return s, _MAX_NEWTON


def fit_counts(
    pc: PairCounts,
    *,
    prior_mean: float | np.ndarray,
    prior_sigma: float | np.ndarray,
    beta: float,
    draw_margin: float,
    start: np.ndarray | None = None,
    method: str = "ep",
) -> Posterior:
    """The posterior from aggregated counts (see :func:`fit`); ``method`` is "laplace" (mode
    and curvature) or "ep" (Laplace, then expectation propagation to convergence)."""
    _check_constants(beta, draw_margin, pc)
    if method not in ("ep", "laplace"):
        raise ValueError(f"method must be 'ep' or 'laplace', got {method!r}")
    m = pc.n_models
    mean0, prec0 = _prior_arrays(m, prior_mean, prior_sigma)
    c = math.sqrt(2.0) * beta
    e = draw_margin / c
    s, its = _newton(pc, mean0, prec0, c, e, mean0 if start is None else start)
    if method == "ep":
        s, cov, info_h, lap, sweeps = _ep(pc, mean0, prec0, beta, draw_margin, s)
        its += sweeps
    else:
        _, grad_l, lap = _likelihood_at(pc, s, c, e)
        info_h = grad_l + lap @ s
        cov = cho_solve(cho_factor(lap + prec0), np.eye(m))
    ll = _pair_terms(s, pc.i, pc.j, pc.counts, c, e)[0]
    precision = lap + prec0
    cov = 0.5 * (cov + cov.T)  # exact symmetry for Cholesky of draws downstream
    return Posterior(
        mean=s,
        cov=cov,
        precision=precision,
        info_h=info_h,
        info_precision=lap,
        log_likelihood=float(ll),
        draw_margin=float(draw_margin),
        beta=float(beta),
        iterations=its,
        inflation=np.ones(m),
    )


def fit(
    n_models: int,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    *,
    prior_mean: float | np.ndarray,
    prior_sigma: float | np.ndarray,
    beta: float,
    draw_margin: float,
    weights: np.ndarray | None = None,
    method: str = "ep",
) -> Posterior:
    """Posterior of all skills given every battle at once (order-free, deterministic).

    ``a``, ``b``: model codes in ``[0, n_models)``; ``outcome``: 0 = a wins, 1 = b wins,
    2 = tie; ``weights``: optional non-negative weight per battle (a battle of weight 2 counts as
    two). Models without battles keep their prior. ``method``: see :func:`fit_counts`.
    """
    pc = aggregate(n_models, a, b, outcome, weights)
    return fit_counts(
        pc,
        prior_mean=prior_mean,
        prior_sigma=prior_sigma,
        beta=beta,
        draw_margin=draw_margin,
        method=method,
    )


def likelihood_information(
    pc: PairCounts, at: np.ndarray, *, beta: float, draw_margin: float
) -> tuple[np.ndarray, np.ndarray]:
    """The likelihood as a Gaussian in information form, expanded at the skills ``at``:
    ``h = grad + L at`` and ``L = -Hessian`` of the log-likelihood. ``L`` is singular (every row
    sums to 0), so no mean is formed; add a prior's ``(Lambda0 mu0, Lambda0)`` to get one."""
    _check_constants(beta, draw_margin, pc)
    c = math.sqrt(2.0) * beta
    _, grad, lap = _likelihood_at(pc, np.asarray(at, dtype=np.float64), c, draw_margin / c)
    return grad + lap @ at, lap


# --------------------------------------------------------------------------------------------
# Ties learnt from the data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DrawMarginFit:
    """Draw margin by maximum profile likelihood, with a likelihood-ratio 95 % interval.

    ``*_probability`` are the same numbers as TrueSkill draw probabilities (the chance of a tie
    between equally skilled models). ``at_bound`` is True when the maximum lies on the edge of
    the searched range (e.g. no ties at all: the data only say "rare").
    """

    draw_margin: float
    lower: float
    upper: float
    draw_probability: float
    probability_lower: float
    probability_upper: float
    at_bound: bool


def draw_probability_of(eps: float, beta: float) -> float:
    """Inverse of :func:`prefboard.rating.trueskill.draw_margin`."""
    return 2.0 * NormalDist().cdf(eps / (math.sqrt(2.0) * beta)) - 1.0


def learn_draw_margin(
    pc: PairCounts,
    *,
    prior_mean: float | np.ndarray,
    prior_sigma: float | np.ndarray,
    beta: float,
) -> DrawMarginFit:
    """Maximise ``log p(y | s_hat(eps), eps)`` over eps, skills at their MAP for each eps.

    Searched on the draw-probability scale in ``[P_MIN, P_MAX]`` (bounded Brent); the interval
    holds the eps whose profile log-likelihood is within chi2(1, 0.95) / 2 of the maximum.
    """
    lo_eps, hi_eps = draw_margin(P_MIN, beta), draw_margin(P_MAX, beta)
    warm: dict[str, np.ndarray] = {}

    def profile(eps: float) -> float:
        post = fit_counts(
            pc,
            prior_mean=prior_mean,
            prior_sigma=prior_sigma,
            beta=beta,
            draw_margin=eps,
            start=warm.get("s"),
            method="laplace",
        )
        warm["s"] = post.mean
        return post.log_likelihood

    # log eps is the natural scale: the profile is smooth in it from 1e-6 to near 1 ties.
    res = minimize_scalar(
        lambda u: -profile(math.exp(u)),
        bounds=(math.log(lo_eps), math.log(hi_eps)),
        method="bounded",
        # 1e-4 in log eps is a 0.01 % relative error in eps: far inside its interval.
        options={"xatol": 1e-4},
    )
    u_hat = float(res.x)
    best = profile(math.exp(u_hat))
    cut = best - 0.5 * _CHI2_95

    def side(bound: float) -> float:
        if profile(math.exp(bound)) >= cut:
            return bound
        return brentq(
            lambda u: profile(math.exp(u)) - cut, min(u_hat, bound), max(u_hat, bound), xtol=1e-4
        )

    u_lo = side(math.log(lo_eps))
    u_hi = side(math.log(hi_eps))
    eps, lower, upper = math.exp(u_hat), math.exp(u_lo), math.exp(u_hi)
    # Within 1 % of eps of an end (bounded Brent stops ~xatol short of a boundary maximum).
    at_bound = min(u_hat - math.log(lo_eps), math.log(hi_eps) - u_hat) < 0.01
    return DrawMarginFit(
        draw_margin=eps,
        lower=lower,
        upper=upper,
        draw_probability=draw_probability_of(eps, beta),
        probability_lower=draw_probability_of(lower, beta),
        probability_upper=draw_probability_of(upper, beta),
        at_bound=bool(at_bound),
    )


# --------------------------------------------------------------------------------------------
# Clustered uncertainty
# --------------------------------------------------------------------------------------------


# Per-cluster score sums are accumulated in fixed point (units of 2^-32): integer sums do not
# depend on the order of the battles, so the sandwich is bit-identical under any shuffle. The
# rounding (2e-10 per battle) is far below the scores' own size (~1e-2 to 1); a cluster would
# need ~1e8 battles at the largest scores (~10 per battle far in a tail) to overflow int64.
_FIXED = float(2**32)


@njit(cache=True, fastmath=False)
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
    o from lo's side; d / d s_hi is its negative."""
    g = np.zeros((n_clusters, m), dtype=np.int64)
    weighted = weight.shape[0] > 0
    for k in range(index.shape[0]):
        i = index[k]
        x = a[i]
        y = b[i]
        o = outcome[i]
        if x < y:
            lo, hi, oo = x, y, o
        else:
            lo, hi, oo = y, x, (o if o == TIE else 1 - o)
        v = score[(lo * m + hi) * 3 + oo]
        if weighted:
            v *= weight[i]
        q = np.int64(round(v * _FIXED))
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
    used as they are (returned full-length, to be read through ``index``)."""
    codes = np.asarray(codes, dtype=np.int64)
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
    model-based counterpart is ``P^-1 L P^-1`` (L the likelihood's information). Each model's sd
    is multiplied by ``sqrt(max(1, robust var / model var))``: clustering may widen a band,
    never narrow it. Correlations are kept. ``clusters`` holds one code array per clustering
    (same length as the battles; one or two arrays); for a result that does not depend on the
    order of the battles the codes must not either (e.g. sorted ids, not first appearance).
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
) -> Posterior:
    """:func:`cluster_inflation` of the battles ``index``; ``clusters`` (and ``weights``) are
    full-length arrays over ``battles``, read through ``index``."""
    m = post.mean.shape[0]
    if not 1 <= len(clusters) <= 2:
        raise ValueError("clusters must hold one or two code arrays")
    index = np.ascontiguousarray(index, dtype=np.int64)
    if index.size == 0:
        return post
    w = np.empty(0) if weights is None else np.asarray(weights, dtype=np.float64)
    present = aggregate_index(battles, index)
    score = _score_table(post, present.i * m + present.j)
    meat = _meat(battles, index, w, clusters[0], score)
    if len(clusters) == 2:
        p = np.asarray(clusters[0], dtype=np.int64)
        q = np.asarray(clusters[1], dtype=np.int64)
        both = _dense(p, index)[0] * (int(q.max(initial=0)) + 1) + q
        meat = meat + _meat(battles, index, w, q, score) - _meat(battles, index, w, both, score)
    robust = post.cov @ meat @ post.cov
    if len(clusters) == 2:
        vals, vecs = eigh(0.5 * (robust + robust.T))
        robust = (vecs * np.maximum(vals, 0.0)) @ vecs.T
    model = post.cov @ post.info_precision @ post.cov
    ratio = np.ones(m)
    mv = np.diag(model)
    ok = mv > 0
    ratio[ok] = np.diag(robust)[ok] / mv[ok]
    factor = np.sqrt(np.maximum(1.0, ratio))
    cov = post.cov * np.outer(factor, factor)
    return replace(post, cov=cov, precision=np.linalg.inv(cov), inflation=factor)
