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
from numba import njit
from scipy.linalg import cho_factor, cho_solve

from prefboard.rating.batch_terms import _outcome_terms
from prefboard.rating.newton import backtrack

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
def _battle_terms(
    x: np.ndarray, outcome: np.ndarray, e: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """Log-likelihood, and per battle d loglik / dx and -d^2 loglik / dx^2 at scaled gaps x."""
    n = x.shape[0]
    v = np.empty(n)
    w = np.empty(n)
    row = np.empty((3, 3))
    ll = 0.0
    for k in range(n):
        _outcome_terms(x[k], e, row)
        o = outcome[k]
        v[k] = row[o, 0]
        w[k] = row[o, 1]
        ll += row[o, 2]
    return ll, v, w


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

    def gap(self, theta: np.ndarray) -> np.ndarray:
        s, g = theta[: self.m], theta[self.m :]
        out: np.ndarray = (s[self.a] - s[self.b] + self.z @ g) / self.c
        return out

    def objective(self, theta: np.ndarray) -> float:
        """Minus the log posterior (up to a constant)."""
        ll = _battle_terms(self.gap(theta), self.outcome, self.e)[0]
        d = theta[: self.m] - self.prior_mean
        return float(-ll + 0.5 * d @ (self.prior_prec * d))

    def derivatives(self, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Log-likelihood, its gradient and minus its Hessian in theta."""
        m, c = self.m, self.c
        ll, v, w = _battle_terms(self.gap(theta), self.outcome, self.e)
        k = self.z.shape[1]
        grad = np.empty(m + k)
        grad[:m] = (np.bincount(self.a, v, m) - np.bincount(self.b, v, m)) / c
        grad[m:] = self.z.T @ v / c
        hess = np.zeros((m + k, m + k))
        # Skill block: a weighted graph Laplacian, summed per ordered pair in one bincount.
        pair = np.bincount(self.a * m + self.b, w, m * m).reshape(m, m)
        pair = pair + pair.T
        hess[:m, :m] = (np.diag(pair.sum(axis=1)) - pair) / c**2
        wz = w[:, None] * self.z
        for j in range(k):
            col = np.bincount(self.a, wz[:, j], m) - np.bincount(self.b, wz[:, j], m)
            hess[:m, m + j] = hess[m + j, :m] = col / c**2
        hess[m:, m:] = self.z.T @ wz / c**2
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
        slope = grad @ step
        # Near the mode the expected decrease falls below the rounding of a sum over many
        # battles: a step within that rounding is accepted, or Newton would stop short.
        theta, f, t = backtrack(prob.objective, theta, step, f, slope, 1e-13 * abs(f))
        if np.max(np.abs(t * step)) < _TOL:
            return theta, it
    return theta, _MAX_NEWTON
