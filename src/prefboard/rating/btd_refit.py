"""The bootstrap's warm-started refits of the Davidson fit, without scipy's per-step overhead
(model: :mod:`prefboard.rating.btd`, fit: :mod:`prefboard.rating.btd_fit`).

A bootstrap draw is a small perturbation of the full data, so from the full-data MLE scipy's
``trust-exact`` takes full Newton steps: the Hessian is positive definite, ``lambda = 0``, the
Newton step lies inside the trust radius and is accepted. `trust_exact_newton` takes exactly
those steps, with the same LAPACK calls and the same acceptance and stopping arithmetic, and so
returns the same point, bit for bit, without scipy's wrapping, its Gershgorin bounds and matrix
norms per step, or a Hessian at a rejected point. When a step would leave that path (a failed
Cholesky factorisation, a step reaching the trust radius, a rejected step) it returns None and
the caller runs scipy from the start: no draw is worse off than before.

Most draws also give every pair at least one battle; those share the full data's active models
and pair indices, which are built once (`WarmStart`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg
from scipy.linalg import cho_solve
from scipy.linalg.lapack import dpotrf

from prefboard.rating.btd_fit import (
    _GTOL,
    _MAXITER,
    _battles,
    _fit_counts,
    _minimize,
    _Objective,
    _polish,
    active_models,
    centred_start,
    thetas_of,
)

# scipy's _minimize_trust_region defaults, used by method="trust-exact" as _fit_counts calls it
_INITIAL_RADIUS = 1.0
_ETA = 0.15
_EPS = float(np.finfo(float).eps)


def _newton_step(obj: _Objective, radius: float, jac_mag: float) -> np.ndarray | None:
    """trust-exact's step at the current point when it is the plain Newton step, else None.

    scipy starts the subproblem at ``lambda = 0`` when its lower bound ``max(0, -min(diag),
    |g| / radius - min(Gershgorin upper bound, Frobenius norm, inf-norm))`` is 0. Each of those
    three norms is at least the largest diagonal entry, so ``|g| / radius <= max(diag) / 2`` with
    a non-negative diagonal is enough (the half absorbs their rounding); ``|g|`` must also exceed
    scipy's ``n * eps * inf-norm`` (again bounded with room to spare)."""
    hess = obj.h
    diag = np.diagonal(hess)
    if not (float(diag.min()) >= 0.0 and jac_mag / radius <= 0.5 * float(diag.max())):
        return None
    if not jac_mag > 2.0 * len(diag) * _EPS * float(np.abs(hess).sum(axis=1).max()):
        return None
    # scipy factors hess + 0 * I (a copy), upper triangle, lower one zeroed, with the potrf
    # get_lapack_funcs picks for float64
    upper, info = dpotrf(hess + 0.0, lower=False, overwrite_a=True, clean=True)
    if info != 0:
        return None
    step: np.ndarray = cho_solve((upper, False), -obj.g)
    return step if float(scipy.linalg.norm(step)) <= radius else None


def trust_exact_newton(
    obj: _Objective, x0: np.ndarray, gtol: float = _GTOL, maxiter: int = _MAXITER
) -> np.ndarray | None:
    """What ``minimize(method="trust-exact", gtol=gtol, maxiter=maxiter)`` returns from ``x0``
    when every step it takes is an accepted full Newton step; None when it would not be.

    The loop is scipy's ``_minimize_trust_region`` (1.17) restricted to that case: stop when
    ``|g|`` (BLAS nrm2) is not ``>= gtol`` or after ``maxiter`` steps; a step's predicted value
    is ``f + g.p + 0.5 p.(H p)``; a non-positive predicted reduction stops at the current
    point; the ratio ``rho`` below 1/4 shrinks the radius and at most ``eta`` rejects the step.
    """
    x = np.asarray(x0, dtype=np.float64).flatten()
    obj._eval(x)
    radius = _INITIAL_RADIUS
    for _ in range(maxiter):
        jac_mag = float(scipy.linalg.norm(obj.g))
        if not jac_mag >= gtol:
            return x
        step = _newton_step(obj, radius, jac_mag)
        if step is None:
            return None
        f_now = obj.f
        predicted_reduction = f_now - (
            f_now + np.dot(obj.g, step) + 0.5 * np.dot(step, np.dot(obj.h, step))
        )
        if predicted_reduction <= 0:
            return x
        trial = x + step
        obj._eval(trial)
        rho = (f_now - obj.f) / predicted_reduction
        if rho < 0.25:
            radius *= 0.25
        if not rho > _ETA:
            return None
        x = trial
    return x


@dataclass(frozen=True)
class WarmStart:
    """The full-data fit a bootstrap draw starts from, and the pair layout the draws share.

    ``m`` models are active (met someone); ``i``/``j`` are the pairs as given (every pair met in
    the full data); ``ai``/``aj`` the same pairs as positions among the active models; ``x0``
    the start `_fit_counts` builds from ``theta``/``nu`` (the centred active thetas, then
    ``log nu``).
    """

    n_models: int
    m: int
    i: np.ndarray
    j: np.ndarray
    theta: np.ndarray
    nu: float
    active: np.ndarray
    ai: np.ndarray
    aj: np.ndarray
    x0: np.ndarray

    @classmethod
    def of(
        cls, n_models: int, i: np.ndarray, j: np.ndarray, theta: np.ndarray, nu: float
    ) -> WarmStart:
        active, index, m = active_models(n_models, i, j)
        x0 = centred_start(theta, active)
        if nu > 0 and math.isfinite(nu):
            x0 = np.append(x0, math.log(nu))
        return cls(n_models, m, i, j, theta, nu, active, index[i], index[j], x0)

    def refit(self, cells: np.ndarray) -> np.ndarray:
        """``theta`` of the fit of one draw's counts (pairs as ``i``, ``j``), the same bits as
        ``_fit_counts(n_models, i, j, cells, theta, nu)[0]``."""
        obj = self._objective(cells)
        if obj is None:
            return _fit_counts(self.n_models, self.i, self.j, cells, self.theta, self.nu)[0]
        x = trust_exact_newton(obj, self.x0)
        if x is None:
            x = _minimize(obj, self.x0)
        x, _ = _polish(obj, x)
        return thetas_of(x, self.active)

    def _objective(self, cells: np.ndarray) -> _Objective | None:
        """The draw's objective on the shared layout; None when the draw leaves a model without
        battles or has no ties while the full data had some (then the start differs).

        Pairs without battles in the draw are dropped, as `_fit_counts` drops them: keeping
        their zero terms would move later terms to other lanes of the BLAS dot products and
        change the sums' last bits. With 300 models a quarter of the draws lose a pair or two.
        """
        n = _battles(cells)
        keep = n > 0
        ai, aj = self.ai, self.aj
        if not keep.all():
            ai, aj, cells, n = ai[keep], aj[keep], cells[keep], n[keep]
            met = np.zeros(self.m, dtype=bool)
            met[ai] = True
            met[aj] = True
            if not met.all():
                return None
        obj = _Objective(self.m, ai, aj, cells, n)
        return obj if obj.with_nu == (len(self.x0) > self.m) else None
