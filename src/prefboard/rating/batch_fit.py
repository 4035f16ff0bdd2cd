"""Batch TrueSkill, part 3: the posterior (Laplace mode and curvature, refined by EP) of all
skills given every battle of a table. Model and notation: :mod:`prefboard.rating.batch`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from prefboard.rating.batch_ep import _ep
from prefboard.rating.batch_terms import (
    TIE,
    PairCounts,
    _gradient_at,
    _pair_gradients,
    _pair_loglik,
    aggregate,
    gradient_of,
)
from prefboard.rating.newton import backtrack

# Newton stops when no skill moves by more than this (skills are on TrueSkill's 0-50 scale).
_TOL = 1e-10
_MAX_NEWTON = 200
# The objective's rounding relative to its size, which the line search tolerates as an increase:
# summed over ~45k pairs (300 models) it was measured at ~2e-15 of |f| (f ~ 7e5 for a million
# battles); Armijo's asked-for decrease of a step near the mode is far below that.
_ROUNDING = 1e-13


class _Solve:
    """A covariance not yet solved for: the inverse of the matrix whose Cholesky factor
    (`cho_factor`'s) this holds, symmetrised."""

    def __init__(self, factor: tuple[np.ndarray, bool]) -> None:
        self.factor = factor

    def cov(self) -> np.ndarray:
        cov = cho_solve(self.factor, np.eye(len(self.factor[0])))
        out: np.ndarray = 0.5 * (cov + cov.T)  # exact symmetry for Cholesky of draws downstream
        return out


class _Covariance:
    """`Posterior.cov`: an array, or a `_Solve` done on the first read and kept. A Laplace
    fit's covariance is a 300 x 300 solve (~6 ms, more than the fit's factorisation) that the
    groups' own fits never read (they keep the information form alone)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = "_" + name

    def __get__(self, obj: Any, objtype: type | None = None) -> np.ndarray:
        if obj is None:
            raise AttributeError("no default")  # a required dataclass field
        value = obj.__dict__[self.slot]
        if isinstance(value, _Solve):
            value = obj.__dict__[self.slot] = value.cov()
        out: np.ndarray = value
        return out

    def __set__(self, obj: Any, value: np.ndarray | _Solve) -> None:
        obj.__dict__[self.slot] = value


@dataclass(frozen=True)
class Posterior:
    """Gaussian (Laplace) posterior of the skills.

    ``info_h`` and ``info_precision`` are the likelihood alone in information form, expanded at
    the mode: ``log p(y | s) ~ const + info_h.s - s.info_precision.s / 2``; adding the prior's
    natural parameters gives back ``precision`` and ``mean``. ``inflation`` is the per-model
    factor applied to the standard deviations for clustering (1 = none applied).
    """

    mean: np.ndarray
    precision: np.ndarray
    info_h: np.ndarray
    info_precision: np.ndarray
    log_likelihood: float
    draw_margin: float
    beta: float
    iterations: int
    inflation: np.ndarray
    # Last: a descriptor (required, though mypy reads its class attribute as a default).
    cov: _Covariance = _Covariance()

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


class _Objective:
    """Minus the log posterior. Each evaluation keeps the log-likelihood and the per-pair slopes
    and curvatures at that point: one compiled pass gives all three (`_pair_gradients`, the
    same bits as `_pair_loglik` and `_pair_slopes`), so the Newton step from an accepted point
    needs no second pass over the pairs (the line search always ends on the point it
    evaluated last)."""

    def __init__(
        self, pc: PairCounts, prior_mean: np.ndarray, prior_prec: np.ndarray, c: float, e: float
    ) -> None:
        self.pc, self.prior_mean, self.prior_prec, self.c, self.e = pc, prior_mean, prior_prec, c, e
        self.loglik = 0.0
        self._slopes = (np.zeros(0), np.zeros(0))

    def __call__(self, x: np.ndarray) -> float:
        pc = self.pc
        ll, g, k = _pair_gradients(x, pc.i, pc.j, pc.counts, self.c, self.e)
        self.loglik, self._slopes = ll, (g, k)
        d = x - self.prior_mean
        return float(-ll + 0.5 * d @ self.prior_prec @ d)

    def gradient(self) -> tuple[np.ndarray, np.ndarray]:
        """The log-likelihood's gradient and minus its Hessian at the point evaluated last."""
        return gradient_of(self.pc, *self._slopes, self.c)


@dataclass(frozen=True)
class _Mode:
    """The Newton mode ``s``, its iterations, and the log-likelihood with its gradient and minus
    Hessian there (``lap``: the Laplace curvature)."""

    s: np.ndarray
    iterations: int
    loglik: float
    grad_l: np.ndarray
    lap: np.ndarray
    # The Cholesky factor of the posterior precision (lap + prior) at s, when computed there.
    factor: tuple[np.ndarray, bool] | None = None


def _newton(
    pc: PairCounts,
    prior_mean: np.ndarray,
    prior_prec: np.ndarray,
    c: float,
    e: float,
    start: np.ndarray,
) -> _Mode:
    """Mode of the log posterior by damped Newton (Armijo backtracking); it is concave.

    Stops when the Newton step moves no skill by ``_TOL``, without taking that step: the mode
    keeps the log-likelihood and curvature computed there. Near the mode the step's predicted
    decrease falls below the rounding of the objective, where Armijo compares noise and used to
    halve a good step down to nothing (60 % of the draw margin's evaluations, and modes left
    up to 1e-5 short); the line search tolerates that rounding (``_ROUNDING``) instead."""
    s = start.copy()
    objective = _Objective(pc, prior_mean, prior_prec, c, e)
    f = objective(s)
    for it in range(1, _MAX_NEWTON + 1):
        grad_l, lap = objective.gradient()
        grad = prior_prec @ (s - prior_mean) - grad_l
        factor = cho_factor(lap + prior_prec)
        step = -cho_solve(factor, grad)
        if np.max(np.abs(step)) < _TOL:
            return _Mode(s, it, objective.loglik, grad_l, lap, factor)
        s, f, t = backtrack(objective, s, step, f, grad @ step, _ROUNDING * abs(f))
        if np.max(np.abs(t * step)) < _TOL:
            break  # the line search found no decrease: as close as the rounding allows
    return _Mode(s, it, objective.loglik, *objective.gradient())


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
    mode, _, _ = _mode(pc, prior, beta, draw_margin, start)
    return mode.s, float(mode.loglik)


def _mode(
    pc: PairCounts,
    prior: tuple[float | np.ndarray, float | np.ndarray],
    beta: float,
    draw_margin: float,
    start: np.ndarray | None,
) -> tuple[_Mode, np.ndarray, np.ndarray]:
    """The Newton mode, and the prior (mean, precision)."""
    _check_constants(beta, draw_margin, pc)
    mean0, prec0 = _prior_arrays(pc.n_models, *prior)
    c = math.sqrt(2.0) * beta
    start_at = mean0 if start is None else start
    return _newton(pc, mean0, prec0, c, draw_margin / c, start_at), mean0, prec0


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
    mode, mean0, prec0 = _mode(pc, (prior_mean, prior_sigma), beta, draw_margin, start)
    s, its, ll, lap = mode.s, mode.iterations, mode.loglik, mode.lap
    c = math.sqrt(2.0) * beta
    cov: np.ndarray | _Solve
    if method == "ep":
        s, ep_cov, info_h, lap, sweeps = _ep(pc, mean0, prec0, beta, draw_margin, s)
        its += sweeps
        ll = _pair_loglik(s, pc.i, pc.j, pc.counts, c, draw_margin / c)
        cov = 0.5 * (ep_cov + ep_cov.T)  # exact symmetry for Cholesky of draws downstream
    else:
        info_h = mode.grad_l + lap @ s
        # The mode's own factorisation of lap + prec0 (the same matrix, so the same factor),
        # solved for the covariance only when it is read.
        cov = _Solve(mode.factor or cho_factor(lap + prec0))
    precision = lap + prec0
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
