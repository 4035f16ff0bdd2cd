"""Bradley–Terry with Davidson ties: a maximum-likelihood cross-check of the TrueSkill ranking.

Davidson, "On extending the Bradley-Terry model to accommodate ties in paired comparison
experiments", JASA 65 (1970) 317-328. With strengths ``pi_k = exp(theta_k)`` and a tie parameter
``nu >= 0``, a battle between ``i`` and ``j`` ends::

    P(i beats j) = pi_i                   / (pi_i + pi_j + nu * sqrt(pi_i * pi_j))
    P(j beats i) = pi_j                   / (same denominator)
    P(tie)       = nu * sqrt(pi_i * pi_j) / (same denominator)

Dividing through by ``sqrt(pi_i * pi_j)`` shows the three probabilities are proportional to
``exp(h)``, ``exp(-h)`` and ``nu`` with ``h = (theta_i - theta_j) / 2``, so a pair's
log-likelihood depends on ``h`` and ``log nu`` only and is a log-sum-exp of affine functions: the
negative log-likelihood is convex in ``(theta, log nu)``. Battles are first aggregated into
per-pair counts (``i`` beat ``j``, ``j`` beat ``i``, tie), so a million battles cost one
``bincount`` and the fit itself only sees ``n_models * (n_models - 1) / 2`` pairs.

The fit minimises, with ``scipy.optimize.minimize(method="trust-exact")`` and the analytic
gradient and Hessian, ::

    -loglik + 1e-6 * (sum(theta**2) + log(nu)**2) + kappa / 2 * sum(theta)**2

The likelihood only sees differences of ``theta``; the tiny ridge makes the optimum unique and
finite even when a model never wins (or when every battle is a tie), and, being minimised over a
common shift at ``mean(theta) = 0``, centres the solution. The ``kappa`` term is zero at that
optimum and only conditions the Hessian along the unidentified direction. The ridge moves the
estimates by ``O(1e-6 / n_battles)``: negligible. With no ties at all the MLE of ``nu`` is exactly
0 (the likelihood decreases in ``nu``), so ``nu = 0`` is returned and only ``theta`` is fitted:
the plain Bradley–Terry model.

Models that appear in no battle have ``theta = nan`` (and nan bounds and ranks). ``theta`` is
only identified up to a shift within each connected component of the comparison graph; with a
disconnected graph the ridge centres every component on its own and the components' scales are
not comparable.

The reported log-likelihood is ``sum over battles of log P(observed outcome)`` (no multinomial
coefficients).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from prefboard.rating import ranks

# The fit lives in rating/btd_fit.py; this module is the stable import path.
from prefboard.rating.btd_fit import (
    A_WINS,
    B_WINS,
    TIE,
    _aggregate,
    _fit_counts,
    fit_btd,
    log_likelihood,
)
from prefboard.rating.btd_refit import WarmStart

__all__ = [
    "A_WINS",
    "B_WINS",
    "TIE",
    "BTDFit",
    "btd_from_counts",
    "btd_with_bootstrap",
    "disagreements",
    "fit_btd",
    "kendall_tau",
    "log_likelihood",
    "pair_counts",
]

# Per-pair counts ``(i, j, cells)`` of battles, the input of `btd_from_counts`.
pair_counts = _aggregate


@dataclass(frozen=True)
class BTDFit:
    """A Davidson fit with bootstrap percentile intervals and the rank ranges they imply.

    ``theta`` is centred to mean 0 over the models that have battles; ``lower``/``upper`` are the
    bootstrap percentile interval of ``theta`` at level ``interval``. ``rank`` orders models by
    ``theta`` (1 = best, ties broken by lower index); ``rank_lower`` (best rank) is 1 + the number
    of models whose ``lower`` exceeds this model's ``upper``, ``rank_upper`` (worst rank) is the
    number of ranked models minus the number whose ``upper`` is below this model's ``lower``.
    Ranks are float arrays holding whole numbers; models with no battles get nan everywhere and
    are not counted among the ranked models.
    """

    theta: np.ndarray
    nu: float
    log_likelihood: float
    converged: bool
    lower: np.ndarray
    upper: np.ndarray
    rank: np.ndarray
    rank_lower: np.ndarray
    rank_upper: np.ndarray
    interval: float = 0.95
    draws: int = 0


# ---------------------------------------------------------------------------------------------
# bootstrap and ranks


def btd_with_bootstrap(
    n_models: int,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    draws: int = 200,
    seed: int = 0,
    interval: float = 0.95,
) -> BTDFit:
    """Davidson MLE plus a nonparametric bootstrap over battles.

    Resampling the ``N`` battles with replacement is the same as drawing the aggregated
    (pair, outcome) counts from ``Multinomial(N, observed counts / N)``, which is what is done,
    with ``numpy.random.default_rng(seed)``: the result is deterministic for a seed. Each draw is
    refitted (warm-started at the full-data MLE); a model that gets no battles in a draw is left
    out of that draw's percentiles (and ranks last in it). ``lower``/``upper`` are the
    ``(1 -+ interval) / 2`` percentiles of the draws' centred ``theta``; ``rank_lower`` and
    ``rank_upper`` the marginal central rank interval over the same draws.
    """
    if not 0.0 < interval < 1.0:
        raise ValueError(f"interval must lie in (0, 1), got {interval}")
    if draws < 1:
        raise ValueError(f"draws must be positive, got {draws}")
    return btd_from_counts(n_models, *_aggregate(n_models, a, b, outcome), draws, seed, interval)


def btd_from_counts(
    n_models: int,
    i: np.ndarray,
    j: np.ndarray,
    cells: np.ndarray,
    draws: int,
    seed: int,
    interval: float,
) -> BTDFit:
    """`btd_with_bootstrap` from the per-pair counts ``(i, j, cells)`` of `pair_counts`: a few
    hundred numbers, cheap to hand to another process."""
    theta, nu, loglik, converged = _fit_counts(n_models, i, j, cells)
    lower = np.full(n_models, np.nan)
    upper = np.full(n_models, np.nan)
    ranked = ~np.isnan(theta)
    rank = np.full(n_models, np.nan)
    rank_lower = np.full(n_models, np.nan)
    rank_upper = np.full(n_models, np.nan)
    # Equal thetas are ordered by model index, as everywhere else by model key.
    rank[ranked] = ranks.rank_by_score(theta[ranked], [f"{k:012d}" for k in np.flatnonzero(ranked)])
    if int(cells.sum()):
        samples = _bootstrap(n_models, i, j, cells, theta, nu, draws, seed)
        tail = 50.0 * (1.0 - interval)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-nan columns: unplayed models
            lower = np.nanpercentile(samples, tail, axis=0)
            upper = np.nanpercentile(samples, 100.0 - tail, axis=0)
        # Rank intervals from the same bootstrap draws, as the TrueSkill ranks come from
        # posterior draws (one implementation in rating.ranks).
        lo_rank, hi_rank = ranks.rank_intervals(samples[:, ranked], interval)
        rank_lower[ranked] = lo_rank
        rank_upper[ranked] = hi_rank
    return BTDFit(
        theta=theta,
        nu=nu,
        log_likelihood=loglik,
        converged=converged,
        lower=lower,
        upper=upper,
        rank=rank,
        rank_lower=rank_lower,
        rank_upper=rank_upper,
        interval=interval,
        draws=draws,
    )


# ---------------------------------------------------------------------------------------------
# comparing rankings


def kendall_tau(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-b between two score (or rank) vectors, ignoring positions where either is nan.

    nan when fewer than two positions remain or one side is constant. Tau-b is invariant to
    reversing both orders, so ranks (1 = best) and scores (higher = better) must not be mixed.
    scipy divides by two square roots, which leaves identical orders at 1 - 1 ulp; values within
    1e-12 of +-1 are returned as exactly +-1.
    """
    # Imported here: scipy.stats takes ~1 s to import, and the cross-check worker process
    # (rating/btd_worker.py) never ranks, so it should not pay for it at start.
    from scipy.stats import kendalltau

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D of equal length, got {x.shape} and {y.shape}")
    ok = ~(np.isnan(x) | np.isnan(y))
    x, y = x[ok], y[ok]
    if len(x) < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return math.nan
    tau = float(kendalltau(x, y, variant="b").statistic)
    return math.copysign(1.0, tau) if abs(abs(tau) - 1.0) < 1e-12 else tau


def disagreements(
    ts_rank: np.ndarray,
    ts_rank_lower: np.ndarray,
    ts_rank_upper: np.ndarray,
    btd_rank: np.ndarray,
    btd_rank_lower: np.ndarray,
    btd_rank_upper: np.ndarray,
) -> np.ndarray:
    """Models on which TrueSkill and Bradley–Terry–Davidson disagree beyond their uncertainty.

    A model disagrees when its two rank ranges ``[ts_rank_lower, ts_rank_upper]`` and
    ``[btd_rank_lower, btd_rank_upper]`` (best, worst; inclusive) do not overlap:
    ``ts_rank_upper < btd_rank_lower or btd_rank_upper < ts_rank_lower``. Since each point rank
    lies in its own range, this implies that each method's rank lies outside the other's range
    (the converse does not hold: point ranks can fall outside the other range while the ranges
    still overlap, which is not counted). Models with a nan bound on either side (unranked) are
    never flagged. The point ranks are taken only to check shapes.
    """
    arrays = [
        np.asarray(v, dtype=np.float64)
        for v in (
            ts_rank,
            ts_rank_lower,
            ts_rank_upper,
            btd_rank,
            btd_rank_lower,
            btd_rank_upper,
        )
    ]
    shape = arrays[0].shape
    if any(arr.shape != shape for arr in arrays) or len(shape) != 1:
        raise ValueError("all rank arrays must be 1-D with the same length")
    _, ts_lo, ts_hi, _, btd_lo, btd_hi = arrays
    with np.errstate(invalid="ignore"):
        return (ts_hi < btd_lo) | (btd_hi < ts_lo)


def _bootstrap(
    n_models: int,
    i: np.ndarray,
    j: np.ndarray,
    cells: np.ndarray,
    theta: np.ndarray,
    nu: float,
    draws: int,
    seed: int,
) -> np.ndarray:
    """``theta`` of each of ``draws`` multinomial resamples of the counts, warm-started at the
    full-data fit: shape (draws, n_models)."""
    total = int(cells.sum())
    rng = np.random.default_rng(seed)
    flat = cells.ravel()
    drawn = _drawn_cells(flat)
    # Counts are whole numbers: their sum, so each p, is the same with the empty cells left out.
    p = flat[drawn] / flat.sum()
    samples = np.empty((draws, n_models))
    counts = np.zeros(flat.shape)
    warm = WarmStart.of(n_models, i, j, theta, nu)
    # A draw met before is not refitted: the refit is a deterministic function of the counts,
    # so its theta is the same bits. A small board draws few distinct counts (3 battles: at
    # most 10 of 200 draws differ, and each refit there runs scipy's solver, 1-3 ms); a large
    # one repeats none, and its keys (8 bytes a cell) are not kept.
    seen: dict[bytes, np.ndarray] = {}
    remember = len(drawn) <= _REMEMBERED_CELLS
    for d in range(draws):
        # One draw at a time: ``size=draws`` makes the same draws from the stream in the same
        # order, but holds all of them at once (200 x 130,000 cells, 200 MiB at 300 models).
        drawn_counts = rng.multinomial(total, p)
        counts[drawn] = drawn_counts
        key = drawn_counts.tobytes() if remember else b""
        if key not in seen:
            samples[d] = warm.refit(counts.reshape(cells.shape))
            if remember:
                seen[key] = samples[d]
        else:
            samples[d] = seen[key]
    return samples


# Drawn cells up to which `_bootstrap` remembers the draws it refitted (at most 2 KiB a key).
_REMEMBERED_CELLS = 256


def _drawn_cells(flat: np.ndarray) -> np.ndarray:
    """The cells the multinomial must see to give the draws of all of ``flat``: the non-empty
    ones and the last.

    numpy draws each cell but the last as a binomial of the remaining battles, and a binomial
    with p = 0 returns 0 without drawing a random number; the last cell takes what remains.
    Leaving out the other empty cells therefore gives the same numbers from the same stream,
    for one binomial setup fewer per empty cell and draw."""
    drawn = flat > 0
    drawn[-1] = True
    return np.flatnonzero(drawn)
