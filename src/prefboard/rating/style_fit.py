"""The joint fit of skills and style coefficients: TrueSkill's probit likelihood with the
covariate differences beside the skill gap, by Newton on the log posterior (Laplace).

Model (per battle, notation of :mod:`prefboard.rating.batch`): the performance difference is
``d = (s_a - s_b) + sum_k gamma_k z_k + N(0, 2 beta^2)`` where ``z_k`` is covariate k's
(transformed, scaled) difference between the two answers; "a" wins when ``d > eps``, "b" when
``d < -eps``, a tie otherwise. With ``c = sqrt(2) beta`` and ``x = (s_a - s_b + gamma.z) / c``
the likelihood of a battle is the one of :func:`prefboard.rating.batch_terms._outcome_terms`
at ``x``: log-concave in (s, gamma) jointly, since x is linear in them, so the posterior has
one mode. Prior: the skills' TrueSkill prior; gamma flat (no shrinkage toward "no effect").
The draw margin ``eps`` is held at the value learnt for the dimension without covariates.

Covariates vary per battle, so battles cannot be aggregated per pair as the plain batch fit
does: each Newton step costs O(battles x covariates) (one compiled pass) plus O((M+K)^3).
The covariance returned is the inverse Hessian at the mode (the Laplace approximation); no
cluster inflation is applied to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from prefboard.jit import njit
from prefboard.rating.batch_terms import A_WINS, TIE, _log_cdf, _log_tie
from prefboard.rating.newton import backtrack
from prefboard.rating.update import _vw_draw, _vw_win

_TOL = 1e-9  # Newton stops when no parameter moves by more than this (skill units)
_MAX_NEWTON = 100


@dataclass(frozen=True)
class StyleFit:
    """Mode and Laplace covariance of ``theta = (skills (M), gamma (K))``."""

    mean: np.ndarray
    cov: np.ndarray
    log_likelihood: float
    iterations: int
    n_models: int

    @property
    def skills(self) -> np.ndarray:
        return self.mean[: self.n_models]

    @property
    def skill_cov(self) -> np.ndarray:
        return self.cov[: self.n_models, : self.n_models]

    @property
    def gamma(self) -> np.ndarray:
        return self.mean[self.n_models :]

    @property
    def gamma_sd(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov)[self.n_models :])


@njit(cache=True, fastmath=False)
def _terms(x: float, o: int, e: float) -> tuple[float, float, float]:
    """(loglik, d loglik / dx, -d^2 loglik / dx^2) of one battle with outcome ``o`` at scaled
    gap ``x``: the row of `batch_terms._outcome_terms` for that outcome only (a third of the
    work, which matters per battle)."""
    if o == TIE:
        v, w = _vw_draw(x, e)
        return _log_tie(x, e), v, w
    # "b won" is "a won" seen from b's side: x -> -x, and the slope changes sign.
    y = x if o == A_WINS else -x
    v, w = _vw_win(y, e)
    return _log_cdf(y - e), (v if o == A_WINS else -v), w


@njit(cache=True, fastmath=False)
def _accumulate(
    theta: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    z: np.ndarray,
    c: float,
    e: float,
    derivatives: bool,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Log-likelihood, its gradient and minus its Hessian in theta = (skills, gamma), in one
    pass over the battles (the upper cross block only; the caller mirrors it)."""
    k = z.shape[1]
    m = theta.shape[0] - k
    grad = np.zeros(m + k)
    hess = np.zeros((m + k, m + k))
    ll = 0.0
    for i in range(a.shape[0]):
        p, q = a[i], b[i]
        x = theta[p] - theta[q]
        for j in range(k):
            x += theta[m + j] * z[i, j]
        x /= c
        if not derivatives:
            y = x if outcome[i] != 1 else -x
            ll += _log_tie(x, e) if outcome[i] == TIE else _log_cdf(y - e)
            continue
        lli, v, w = _terms(x, outcome[i], e)
        ll += lli
        v /= c
        w /= c * c
        grad[p] += v
        grad[q] -= v
        hess[p, p] += w
        hess[q, q] += w
        hess[p, q] -= w
        hess[q, p] -= w
        for j in range(k):
            zj = z[i, j]
            grad[m + j] += v * zj
            hess[p, m + j] += w * zj
            hess[q, m + j] -= w * zj
            for jj in range(k):
                hess[m + j, m + jj] += w * zj * z[i, jj]
    return ll, grad, hess


class _Problem:
    """The battles, covariates and constants of one fit: log posterior, gradient, Hessian."""

    def __init__(
        self,
        m: int,
        a: np.ndarray,
        b: np.ndarray,
        outcome: np.ndarray,
        z: np.ndarray,
        prior: tuple[np.ndarray, np.ndarray],
        c: float,
        e: float,
    ) -> None:
        self.m, self.a, self.b, self.outcome, self.z = m, a, b, outcome, z
        self.prior_mean, self.prior_prec = prior
        self.c, self.e = c, e

    def objective(self, theta: np.ndarray) -> float:
        """Minus the log posterior (up to a constant)."""
        ll = _accumulate(theta, self.a, self.b, self.outcome, self.z, self.c, self.e, False)[0]
        d = theta[: self.m] - self.prior_mean
        return float(-ll + 0.5 * d @ (self.prior_prec * d))

    def derivatives(self, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Log-likelihood, its gradient and minus its Hessian in theta."""
        m = self.m
        ll, grad, hess = _accumulate(
            theta, self.a, self.b, self.outcome, self.z, self.c, self.e, True
        )
        hess[m:, :m] = hess[:m, m:].T
        return ll, grad, hess


def fit_style(
    n_models: int,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    z: np.ndarray,
    *,
    prior_mean: float,
    prior_sigma: float,
    beta: float,
    draw_margin: float,
) -> StyleFit:
    """Joint mode and Laplace covariance of skills and style coefficients (module docstring).

    ``z``: (battles, K) covariate differences, side a minus side b, already transformed and
    scaled; K = 0 gives the plain batch model's Laplace fit on the same battles. Outcome
    coding as everywhere: 0 = a wins, 1 = b wins, 2 = tie.
    """
    if not (beta > 0 and draw_margin >= 0 and math.isfinite(beta + draw_margin)):
        raise ValueError("beta must be positive and draw_margin non-negative, both finite")
    z = np.ascontiguousarray(z, dtype=np.float64).reshape(len(a), -1)
    if not np.all(np.isfinite(z)):
        raise ValueError("covariate differences must be finite")
    m, k = n_models, z.shape[1]
    prior = (np.full(m, float(prior_mean)), np.full(m, 1.0 / prior_sigma**2))
    c = math.sqrt(2.0) * beta
    prob = _Problem(
        m,
        np.ascontiguousarray(a, dtype=np.int64),
        np.ascontiguousarray(b, dtype=np.int64),
        np.ascontiguousarray(outcome, dtype=np.int64),
        z,
        prior,
        c,
        draw_margin / c,
    )
    theta, its = _newton(prob, np.concatenate([prior[0], np.zeros(k)]))
    ll, _, hess = prob.derivatives(theta)
    precision = hess + np.diag(np.concatenate([prior[1], np.zeros(k)]))
    cov = cho_solve(cho_factor(precision), np.eye(m + k))
    return StyleFit(theta, 0.5 * (cov + cov.T), float(ll), its, m)


def _newton(prob: _Problem, theta: np.ndarray) -> tuple[np.ndarray, int]:
    """Damped Newton (Armijo backtracking) on the convex minus log posterior."""
    m = prob.m
    prior_prec = np.concatenate([prob.prior_prec, np.zeros(theta.size - m)])
    f = prob.objective(theta)
    for it in range(1, _MAX_NEWTON + 1):
        _, grad_l, hess = prob.derivatives(theta)
        grad = -grad_l
        grad[:m] += prob.prior_prec * (theta[:m] - prob.prior_mean)
        # A covariate that never differs gives a zero row; the tiny ridge keeps the solve
        # defined without moving any identified parameter.
        step = -cho_solve(cho_factor(hess + np.diag(prior_prec + 1e-12)), grad)
        slope = float(grad @ step)
        # Near the mode the expected decrease falls below the rounding of a sum over many
        # battles: a step within that rounding is accepted, or Newton would stop short.
        theta, f, t = backtrack(prob.objective, theta, step, f, slope, 1e-13 * abs(f))
        if np.max(np.abs(t * step)) < _TOL:
            return theta, it
    return theta, _MAX_NEWTON
