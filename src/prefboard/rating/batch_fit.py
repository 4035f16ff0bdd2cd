"""Batch TrueSkill, part 3: the posterior (Laplace mode and curvature, refined by EP) of all
skills given every battle of a table. Model and notation: :mod:`prefboard.rating.batch`."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from prefboard.rating.batch_ep import _ep
from prefboard.rating.batch_terms import (
    TIE,
    PairCounts,
    _gradient_at,
    _pair_loglik,
    aggregate,
)
from prefboard.rating.newton import backtrack

# Newton stops when no skill moves by more than this (skills are on TrueSkill's 0-50 scale).
_TOL = 1e-10
_MAX_NEWTON = 200


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
) -> tuple[np.ndarray, int, float]:
    """Mode of the log posterior by damped Newton (Armijo backtracking); it is concave.

    Returns the mode, the iterations and the log-likelihood at the mode: the line search
    always stops on the last point it evaluated, so that is the last log-likelihood computed."""
    s = start.copy()
    last = [0.0]

    def objective(x: np.ndarray) -> float:
        d = x - prior_mean
        last[0] = _pair_loglik(x, pc.i, pc.j, pc.counts, c, e)
        return float(-last[0] + 0.5 * d @ prior_prec @ d)

    f = objective(s)
    for it in range(1, _MAX_NEWTON + 1):
        grad_l, lap = _gradient_at(pc, s, c, e)
        grad = prior_prec @ (s - prior_mean) - grad_l
        step = -cho_solve(cho_factor(lap + prior_prec), grad)
        slope = grad @ step
        s, f, t = backtrack(objective, s, step, f, slope)
        if np.max(np.abs(t * step)) < _TOL:
            return s, it, last[0]
    return s, _MAX_NEWTON, last[0]


def mode_log_likelihood(
    pc: PairCounts,
    prior: tuple[float | np.ndarray, float | np.ndarray],
    beta: float,
    draw_margin: float,
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """The posterior mode and the log-likelihood there: ``fit_counts(..., method="laplace")``'s
    ``mean`` and ``log_likelihood`` (the same bits) without its covariance, for the draw
    margin's profile, which fits ~50 times per dimension and needs nothing else. ``prior`` is
    ``(prior_mean, prior_sigma)``."""
    s, _, ll, _, _ = _mode(pc, prior, beta, draw_margin, start)
    return s, float(ll)


def _mode(
    pc: PairCounts,
    prior: tuple[float | np.ndarray, float | np.ndarray],
    beta: float,
    draw_margin: float,
    start: np.ndarray | None,
) -> tuple[np.ndarray, int, float, np.ndarray, np.ndarray]:
    """The Newton mode, its iterations and log-likelihood, and the prior (mean, precision)."""
    _check_constants(beta, draw_margin, pc)
    mean0, prec0 = _prior_arrays(pc.n_models, *prior)
    c = math.sqrt(2.0) * beta
    s, its, ll = _newton(pc, mean0, prec0, c, draw_margin / c, mean0 if start is None else start)
    return s, its, ll, mean0, prec0


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
    if method not in ("ep", "laplace"):
        raise ValueError(f"method must be 'ep' or 'laplace', got {method!r}")
    m = pc.n_models
    s, its, ll, mean0, prec0 = _mode(pc, (prior_mean, prior_sigma), beta, draw_margin, start)
    c = math.sqrt(2.0) * beta
    e = draw_margin / c
    if method == "ep":
        s, cov, info_h, lap, sweeps = _ep(pc, mean0, prec0, beta, draw_margin, s)
        its += sweeps
        ll = _pair_loglik(s, pc.i, pc.j, pc.counts, c, e)
    else:
        grad_l, lap = _gradient_at(pc, s, c, e)
        info_h = grad_l + lap @ s
        cov = cho_solve(cho_factor(lap + prec0), np.eye(m))
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
    grad, lap = _gradient_at(pc, np.asarray(at, dtype=np.float64), c, draw_margin / c)
    return grad + lap @ at, lap
