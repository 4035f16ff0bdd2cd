"""Batch TrueSkill, part 4: the draw margin learnt from the battles by maximum profile
likelihood, with a likelihood-ratio interval. Model and notation: :mod:`prefboard.rating.batch`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from prefboard.rating.batch_fit import mode_log_likelihood
from prefboard.rating.batch_terms import PairCounts
from prefboard.rating.trueskill import draw_margin

# Draw probabilities searched when learning eps: ties rarer than 1 in 10^6 or commoner than
# 99.9 % between equals are indistinguishable from the bounds for any realistic board.
P_MIN, P_MAX = 1e-6, 0.999
_CHI2_95 = 3.841458820694124  # chi-square(1) 95 % quantile, for the likelihood-ratio interval


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


class _Profile:
    """Profile log-likelihood at log eps = ``u``: skills at their MAP for that eps, each fit
    warm-started from the modes already found (`_start`). Each ``u`` is fitted once: the search
    ends on a point it evaluated, which the cut and then each interval's bracket ask for again,
    as brentq asks for the bound `_interval_end` has just tried (4 of ~50 fits per dimension)."""

    def __init__(
        self,
        pc: PairCounts,
        prior_mean: float | np.ndarray,
        prior_sigma: float | np.ndarray,
        beta: float,
    ) -> None:
        self.pc, self.prior_mean, self.prior_sigma, self.beta = pc, prior_mean, prior_sigma, beta
        self.fits: dict[float, tuple[np.ndarray, float]] = {}  # u -> (mode, log-likelihood)

    def __call__(self, u: float) -> float:
        if u not in self.fits:
            prior = (self.prior_mean, self.prior_sigma)
            start = self._start(u)
            self.fits[u] = mode_log_likelihood(self.pc, prior, self.beta, math.exp(u), start)
        return self.fits[u][1]

    def _start(self, u: float) -> np.ndarray | None:
        """The mode at ``u`` predicted from the two fitted margins nearest to it: the mode
        moves smoothly with log eps, so the line through them lands within the square of their
        spacing, while the search closes in (a Newton step or two saved per fit). Beyond one
        spacing outside them (the bounds, from the maximum) the nearest mode alone is used."""
        near = sorted(self.fits, key=lambda v: (abs(v - u), v))[:2]
        if not near:
            return None
        if len(near) == 1 or abs(u - near[0]) > abs(near[1] - near[0]):
            return self.fits[near[0]][0]
        (u0, u1), m0, m1 = near, self.fits[near[0]][0], self.fits[near[1]][0]
        line: np.ndarray = m0 + (u - u0) / (u1 - u0) * (m1 - m0)
        return line


def _interval_end(profile: _Profile, u_hat: float, bound: float, cut: float) -> float:
    """Where the profile falls to ``cut`` between the maximum and ``bound`` (or the bound)."""
    if profile(bound) >= cut:
        return bound
    lo, hi = min(u_hat, bound), max(u_hat, bound)
    return float(brentq(lambda u: profile(u) - cut, lo, hi, xtol=1e-4))


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
    u_min = math.log(draw_margin(P_MIN, beta))
    u_max = math.log(draw_margin(P_MAX, beta))
    profile = _Profile(pc, prior_mean, prior_sigma, beta)
    # log eps is the natural scale: the profile is smooth in it from 1e-6 to near 1 ties.
    res = minimize_scalar(
        lambda u: -profile(u),
        bounds=(u_min, u_max),
        method="bounded",
        # 1e-4 in log eps is a 0.01 % relative error in eps: far inside its interval.
        options={"xatol": 1e-4},
    )
    u_hat = float(res.x)
    cut = profile(u_hat) - 0.5 * _CHI2_95
    u_lo = _interval_end(profile, u_hat, u_min, cut)
    u_hi = _interval_end(profile, u_hat, u_max, cut)
    eps, lower, upper = math.exp(u_hat), math.exp(u_lo), math.exp(u_hi)
    # Within 1 % of eps of an end (bounded Brent stops ~xatol short of a boundary maximum).
    at_bound = min(u_hat - u_min, u_max - u_hat) < 0.01
    return DrawMarginFit(
        draw_margin=eps,
        lower=lower,
        upper=upper,
        draw_probability=draw_probability_of(eps, beta),
        probability_lower=draw_probability_of(lower, beta),
        probability_upper=draw_probability_of(upper, beta),
        at_bound=bool(at_bound),
    )
