"""Bradley–Terry–Davidson by maximum likelihood: aggregation, the objective and the fit
(model and references: :mod:`prefboard.rating.btd`)."""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize

from prefboard.rating.btd_kernels import (
    _denominator,
    _half_diffs,
    _hessian_block,
    _pair_derivatives,
    _pair_terms,
)

A_WINS = 0
B_WINS = 1
TIE = 2

RIDGE = 1e-6
# trust-exact runs to _GTOL on the objective / n_battles (or until f's rounding stops it);
# `_polish` then requires max |gradient| <= _ABS_GTOL on the unscaled objective, which resolves
# the ridge (its gradient is 2e-6 * theta), or _FLOOR_GTOL per battle, the rounding level of the
# count sums for very large inputs.
_GTOL = 1e-8
_MAXITER = 500
_ABS_GTOL = 1e-8
_FLOOR_GTOL = 1e-14
_POLISH_ITER = 200
_BACKTRACK = 60


# ---------------------------------------------------------------------------------------------
# aggregation


def _validate(
    n_models: int, a: np.ndarray, b: np.ndarray, outcome: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if int(n_models) != n_models or n_models < 0:
        raise ValueError(f"n_models must be a non-negative integer, got {n_models!r}")
    arrays = []
    for name, arr in (("a", a), ("b", b), ("outcome", outcome)):
        arr = np.asarray(arr)
        if arr.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"{name} must hold integers, got dtype {arr.dtype}")
        # integer arrays as given (the counting kernel takes any integer dtype): an int64
        # copy of int8 outcomes or int32 codes cost 8 bytes a battle per dimension
        arrays.append(arr if arr.dtype.kind in "iu" else arr.astype(np.int64))
    a, b, outcome = arrays
    if not len(a) == len(b) == len(outcome):
        raise ValueError(
            f"a, b and outcome must have equal lengths, got {len(a)}, {len(b)}, {len(outcome)}"
        )
    if len(a):
        lo = min(int(a.min()), int(b.min()))
        hi = max(int(a.max()), int(b.max()))
        if lo < 0 or hi >= n_models:
            raise ValueError(f"model indices must lie in [0, {n_models}), found [{lo}, {hi}]")
        if np.any(a == b):
            raise ValueError("a model cannot battle itself (a == b)")
        if int(outcome.min()) < 0 or int(outcome.max()) > 2:
            raise ValueError("outcome codes must be 0 (a wins), 1 (b wins) or 2 (tie)")
    return a, b, outcome


def _aggregate(
    n_models: int, a: np.ndarray, b: np.ndarray, outcome: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-pair counts over pairs ``i < j`` that met: ``(i, j, cells)``.

    ``cells[:, 0]`` = i beat j, ``cells[:, 1]`` = j beat i, ``cells[:, 2]`` = ties (float64).
    """
    # Imported here: the worker process (rating/btd_worker.py) fits from counts and should
    # not load the batch model's modules.
    from prefboard.rating.batch_terms import count_all

    a, b, outcome = _validate(n_models, a, b, outcome)
    # One compiled pass (numpy's masks, swaps and key took ~8 temporaries per battle); whole
    # counts, so the same numbers as the bincount it replaced.
    pc = count_all(n_models, a, b, outcome)
    return pc.i, pc.j, pc.counts


# ---------------------------------------------------------------------------------------------
# likelihood


def log_likelihood(
    n_models: int,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    theta: np.ndarray,
    nu: float,
) -> float:
    """Davidson log-likelihood ``sum log P(outcome)`` of battles, evaluated battle by battle.

    With ``nu = 0`` a tie has probability 0 and the result is ``-inf`` if any battle is a tie.
    """
    a, b, outcome = _validate(n_models, a, b, outcome)
    nu = float(nu)
    if not nu >= 0.0:
        raise ValueError(f"nu must be >= 0, got {nu}")
    theta = np.asarray(theta, dtype=np.float64)
    if theta.shape != (n_models,):
        raise ValueError(f"theta must have shape ({n_models},), got {theta.shape}")
    h = 0.5 * (theta[a] - theta[b])
    log_d = _pair_terms(h, nu)[0]
    log_nu = math.log(nu) if nu > 0 else -math.inf
    num = np.where(outcome == A_WINS, h, np.where(outcome == B_WINS, -h, log_nu))
    return float(np.sum(num - log_d))


def _battles(cells: np.ndarray) -> np.ndarray:
    """Battles per pair, ``cells.sum(axis=1)``: whole counts add exactly in any order, and
    numpy's reduction over rows of three took ~0.8 ms at 45,000 pairs, three column adds 0.05."""
    n: np.ndarray = cells[:, 0] + cells[:, 1] + cells[:, 2]
    return n


class _Objective:
    """Penalised negative log-likelihood / n_battles over active models, with memoised derivatives.

    Parameters are ``theta`` of the active models, then ``log nu`` when there are ties. ``n``
    (the per-pair battle counts, ``cells.sum(axis=1)``) may be given when the caller has it.
    The Hessian is built on first use at each point: a Newton iteration's last point, and the
    trial points of a backtracking search, only need the value and the gradient.
    """

    def __init__(
        self, m: int, i: np.ndarray, j: np.ndarray, cells: np.ndarray, n: np.ndarray | None = None
    ) -> None:
        self.m = m
        self.i = i
        self.j = j
        self.w_ij = cells[:, 0]
        self.w_ji = cells[:, 1]
        self.t = cells[:, 2]
        self.net = self.w_ij - self.w_ji  # i's wins less j's, used twice per evaluation
        self.n = _battles(cells) if n is None else n
        self.total = float(self.n.sum())
        self.ties = float(self.t.sum())
        self.with_nu = self.ties > 0
        self.scale = 1.0 / self.total
        self.kappa = 1.0 / m  # in scaled units; zero gradient at the optimum
        self._x: np.ndarray | None = None
        self._h: np.ndarray | None = None

    def _eval(self, x: np.ndarray) -> None:
        if self._x is not None and np.array_equal(x, self._x):
            return
        m = self.m
        theta = x[:m]
        u = x[m] if self.with_nu else -math.inf
        nu = math.exp(u) if self.with_nu else 0.0
        h, neg, e1 = _half_diffs(theta, self.i, self.j)
        np.exp(e1, out=e1)
        et = np.exp(neg)
        ds = _denominator(e1, et, nu)
        terms = (h, neg, e1, et, ds, np.log(ds))
        log_d, p_t, grad_theta, c_hh, h_tu, pq, diag = _pair_derivatives(
            self.i, self.j, m, self.net, self.n, terms, self.with_nu
        )
        loglik = float(np.dot(self.net, h) - np.dot(self.n, log_d))
        if self.with_nu:
            loglik += self.ties * u
        grad: np.ndarray = grad_theta
        penalty = RIDGE * float(theta @ theta)
        h_uu = 0.0
        if self.with_nu:
            g_u = self.ties - float(self.n @ p_t)
            h_uu = -float(self.n @ pq)
            grad = np.append(grad_theta, g_u)
            penalty += RIDGE * u * u
        s = self.scale
        total_theta = float(theta.sum())
        fval = s * (penalty - loglik) + 0.5 * self.kappa * total_theta**2
        fgrad: np.ndarray = s * (2.0 * RIDGE * x - grad)
        fgrad[:m] += self.kappa * total_theta
        self._x = x.copy()
        self._curvature = (c_hh, diag, h_tu, h_uu)
        self._h = None
        self.loglik = loglik
        self.f, self.g = fval, fgrad

    @property
    def h(self) -> np.ndarray:
        """The Hessian at the last evaluated point."""
        if self._h is None:
            self._h = self._hessian(*self._curvature)
        return self._h

    def _hessian(
        self, c_hh: np.ndarray, diag: np.ndarray, h_tu: np.ndarray, h_uu: float
    ) -> np.ndarray:
        """The objective's Hessian from the per-pair curvatures ``c_hh``, their sums per model
        ``diag`` (and the ``log nu`` row ``h_tu``, corner ``h_uu``).

        Each entry is the arithmetic the dense form ``-scale * H_loglik + 2 * RIDGE * scale * I
        + kappa`` (theta block) did, written only where a pair met: the same bits, without four
        ``m * m`` bincounts and their sums per evaluation (most of a bootstrap refit's time)."""
        m, s = self.m, self.scale
        ridge = 2.0 * RIDGE * s
        size = m + self.with_nu
        fhess = _hessian_block(self.i, self.j, size, c_hh, diag, s, self.kappa, ridge)
        if self.with_nu:
            fhess[:m, m] = (-s) * h_tu
            fhess[m, :m] = (-s) * h_tu
            fhess[m, m] = (-s) * h_uu + ridge
        return fhess

    def fun(self, x: np.ndarray) -> float:
        self._eval(x)
        return self.f

    def jac(self, x: np.ndarray) -> np.ndarray:
        self._eval(x)
        return self.g

    def hess(self, x: np.ndarray) -> np.ndarray:
        self._eval(x)
        return self.h


def _polish(obj: _Objective, x: np.ndarray) -> tuple[np.ndarray, bool]:
    """Newton steps with backtracking on the gradient norm, down to the absolute tolerance.

    trust-exact globalises on f and so stops once predicted decreases drown in the rounding of f.
    Along directions where only the ridge bends the objective (a model that never wins) that
    can leave theta far from the penalised optimum. The Newton direction ``-H^-1 g`` is a
    descent direction of ``|g|^2`` (its derivative is ``-2 |g|^2``), so backtracking on ``|g|``
    always makes progress and converges to the unique stationary point of this convex objective.
    """
    tol = max(_ABS_GTOL / obj.total, _FLOOR_GTOL)
    obj._eval(x)
    for _ in range(_POLISH_ITER):
        if float(np.max(np.abs(obj.g))) <= tol:
            return x, True
        g_norm = float(np.linalg.norm(obj.g))
        try:
            step = np.linalg.solve(obj.h, obj.g)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        for _ in range(_BACKTRACK):
            trial = x - t * step
            obj._eval(trial)
            if np.linalg.norm(obj.g) <= (1.0 - 1e-4 * t) * g_norm:
                x = trial
                break
            t *= 0.5
        else:
            obj._eval(x)
            break
    return x, float(np.max(np.abs(obj.g))) <= tol


def _minimize(obj: _Objective, x0: np.ndarray) -> np.ndarray:
    """scipy's trust-exact from ``x0``, to ``_GTOL`` (`_polish` finishes the job)."""
    res = minimize(
        obj.fun,
        x0,
        jac=obj.jac,
        hess=obj.hess,
        method="trust-exact",
        options={"gtol": _GTOL, "maxiter": _MAXITER},
    )
    x: np.ndarray = res.x
    return x


def active_models(
    n_models: int, i: np.ndarray, j: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """The models in some pair (a mask), each model's position among them, and their number."""
    active = np.zeros(n_models, dtype=bool)
    active[i] = True
    active[j] = True
    index = np.cumsum(active) - 1
    return active, index, int(active.sum())


def centred_start(theta0: np.ndarray, active: np.ndarray) -> np.ndarray:
    """A warm start's thetas of the active models, centred (nan as 0)."""
    start = np.nan_to_num(np.asarray(theta0, dtype=np.float64)[active])
    centred: np.ndarray = start - start.mean()
    return centred


def thetas_of(x: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Every model's theta from a solution ``x`` over the active ones (centred; nan for the
    others)."""
    m = int(active.sum())
    theta = np.full(active.shape[0], np.nan)
    theta[active] = x[:m] - x[:m].mean()
    return theta


def _fit_counts(
    n_models: int,
    i: np.ndarray,
    j: np.ndarray,
    cells: np.ndarray,
    theta0: np.ndarray | None = None,
    nu0: float | None = None,
) -> tuple[np.ndarray, float, float, bool]:
    """MLE from aggregated counts; ``theta0``/``nu0`` (full-length) warm-start the optimiser."""
    keep = _battles(cells) > 0
    i, j, cells = i[keep], j[keep], cells[keep]
    if len(i) == 0:
        return np.full(n_models, np.nan), math.nan, 0.0, True
    active, index, m = active_models(n_models, i, j)
    obj = _Objective(m, index[i], index[j], cells)
    x0 = np.zeros(m + obj.with_nu)
    if theta0 is not None:
        x0[:m] = centred_start(theta0, active)
    if obj.with_nu:
        if nu0 is not None and nu0 > 0 and math.isfinite(nu0):
            x0[m] = math.log(nu0)
        else:  # at equal strengths P(tie) = nu / (2 + nu)
            x0[m] = math.log(2.0 * (obj.ties + 0.5) / (obj.total - obj.ties + 0.5))
    x, converged = _polish(obj, _minimize(obj, x0))
    theta = thetas_of(x, active)
    nu = math.exp(x[m]) if obj.with_nu else 0.0
    # the likelihood is invariant to the centring shift, so obj.loglik is the loglik of `theta`
    return theta, nu, float(obj.loglik), converged


def fit_btd(
    n_models: int, a: np.ndarray, b: np.ndarray, outcome: np.ndarray
) -> tuple[np.ndarray, float, float, bool]:
    """Maximum-likelihood Davidson fit: ``(theta, nu, log_likelihood, converged)``.

    ``a``, ``b`` are model indices in ``[0, n_models)`` and ``outcome`` codes 0 = a wins,
    1 = b wins, 2 = tie. ``theta`` (log-strengths) is centred to mean 0 over the models that
    battled and nan for the others; ``nu`` is 0 when there are no ties and nan when there are no
    battles.
    """
    i, j, cells = _aggregate(n_models, a, b, outcome)
    return _fit_counts(n_models, i, j, cells)
