"""The online (single-pass TrueSkill) expected gain of a battle, kept for comparison.

``expected_gain`` scores a pair by the expected entropy drop of TrueSkill's one-pass update.
The study that replays policies with it against known skills
(`prefboard.studies.online_planning`) found greedy gain needed about random's number of
battles and left the bands over-confident (4-23 % coverage), because the filter keeps no
correlations between models. `prefboard plan` scores pairs on the batch posterior instead
(:mod:`.information`, :mod:`.queue`).
"""

from __future__ import annotations

import math

import numpy as np

from prefboard.jit import njit
from prefboard.rating import trueskill as ts

# `_rate` is the compiled body of `rate_1vs1` (the public wrapper only validates and looks up
# constants); calling it from the vectorised kernel keeps the hypothetical updates bit-identical
# to `rate_1vs1` without reimplementing any TrueSkill formula here.
from prefboard.rating.trueskill import _rate
from prefboard.standings.model import Standings

__all__ = [
    "CERTAIN",
    "expected_gain",
    "expected_gain_array",
    "outcome_probabilities",
    "params_from",
]

#: A pair whose likelier decisive outcome has at least this probability is "nearly certain".
CERTAIN = 0.95

_MEASURES = ("entropy", "variance")


# --------------------------------------------------------------------------------------------
# Expected gain
# --------------------------------------------------------------------------------------------


def params_from(standings: Standings, dimension: str | None = None) -> ts.TrueSkillParams:
    """The TrueSkill constants the standings were computed with. When ties were learnt per
    dimension, the draw probability is that of ``dimension`` (default: the first one)."""
    p = standings.parameters
    draw = p.draw_probability
    if draw is None:
        learnt = [t for t in standings.ties if dimension in (None, t.dimension)]
        draw = learnt[0].draw_probability if learnt else 0.10
    return ts.TrueSkillParams(mu=p.mu, sigma=p.sigma, beta=p.beta, tau=p.tau, draw_probability=draw)


def measure_code(measure: str) -> int:
    if measure not in _MEASURES:
        raise ValueError(f"measure must be one of {', '.join(_MEASURES)}; got {measure!r}")
    return _MEASURES.index(measure)


def outcome_probabilities(
    mu_a: np.ndarray | float,
    sigma_a: np.ndarray | float,
    mu_b: np.ndarray | float,
    sigma_b: np.ndarray | float,
    params: ts.TrueSkillParams,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predicted ``(P(a), P(b), P(tie))`` of the *next* battle, element-wise.

    The next battle is rated after the engine's dynamics step (variance ``sigma^2 + tau^2``), so
    the prediction uses the same drifted sigmas as the update it is averaged over: the three
    weights are then exactly the marginal likelihoods of the outcomes under the prior that
    `rate_1vs1` conditions. (This differs from `Pair.p_a` in the standings, which uses the
    sigmas as they are, by O(tau^2 / beta^2), i.e. ~1e-4 with the defaults.)
    """
    tau_sq = params.tau * params.tau
    sa = np.sqrt(np.asarray(sigma_a, dtype=np.float64) ** 2 + tau_sq)
    sb = np.sqrt(np.asarray(sigma_b, dtype=np.float64) ** 2 + tau_sq)
    mu_a, mu_b = (np.asarray(x, dtype=np.float64) for x in (mu_a, mu_b))
    return ts.win_probabilities_array(mu_a, sa, mu_b, sb, params)


def expected_gain(
    mu_a: float,
    sigma_a: float,
    mu_b: float,
    sigma_b: float,
    params: ts.TrueSkillParams,
    measure: str = "entropy",
) -> float:
    """Expected reduction of the two models' posterior uncertainty from one more battle.

    ``measure="entropy"`` (the default) is the expected drop of the pair's Gaussian differential
    entropy, ``sum(log sigma)`` up to a constant, in nats::

        gain = sum over o in {a, b, tie} of P(o) * [log s_a - log s'_a(o) + log s_b - log s'_b(o)]

    where ``s = sqrt(sigma^2 + tau^2)`` is the sigma the engine starts the battle from and
    ``s'(o)`` what `rate_1vs1` leaves after outcome ``o``. Entropy rather than variance because
    (1) the expected entropy drop of the posterior is the mutual information between the
    outcome and the skills (Lindley 1956), the textbook "expected information gain", here in
    TrueSkill's Gaussian approximation; (2) it is invariant to the skill scale (beta, units),
    so the numbers mean the same on any board; and (3) it values halving a small sigma as much
    as halving a large one, which is what ranking the top needs, while a variance drop is
    dominated by whichever models are still at the prior. ``measure="variance"`` (sum of
    ``s^2 - s'^2``) is available for comparison.

    The gain is measured from ``s``, not from ``sigma``: the tau drift is added whether or not a
    battle brings information, so it is not something the battle can reduce. Since the engine's
    variance factor ``1 - s^2 w / c^2`` lies in (0, 1], the gain is never negative.
    """
    code = measure_code(measure)
    p = outcome_probabilities(mu_a, sigma_a, mu_b, sigma_b, params)
    tau_sq = params.tau * params.tau
    sa = math.sqrt(sigma_a * sigma_a + tau_sq)
    sb = math.sqrt(sigma_b * sigma_b + tau_sq)
    gain = 0.0
    for outcome in (ts.A_WINS, ts.B_WINS, ts.DRAW):
        prob = float(p[outcome])
        if prob <= 0.0:
            continue  # includes draws when draw_probability == 0
        _, sa_post, _, sb_post = ts.rate_1vs1(mu_a, sigma_a, mu_b, sigma_b, outcome, params)
        if code == 0:
            gain += prob * (math.log(sa / sa_post) + math.log(sb / sb_post))
        else:
            gain += prob * ((sa * sa - sa_post * sa_post) + (sb * sb - sb_post * sb_post))
    return gain


@njit(cache=True, fastmath=False)
def _gain_kernel(
    mu_a: np.ndarray,
    sigma_a: np.ndarray,
    mu_b: np.ndarray,
    sigma_b: np.ndarray,
    probs: np.ndarray,
    two_beta_sq: float,
    tau_sq: float,
    eps: float,
    measure: int,
    out: np.ndarray,
) -> None:
    for i in range(mu_a.shape[0]):
        sa = math.sqrt(sigma_a[i] * sigma_a[i] + tau_sq)
        sb = math.sqrt(sigma_b[i] * sigma_b[i] + tau_sq)
        gain = 0.0
        for o in range(3):
            prob = probs[o, i]
            if prob <= 0.0:
                continue
            _, sa_post, _, sb_post = _rate(
                mu_a[i], sigma_a[i], mu_b[i], sigma_b[i], o, two_beta_sq, tau_sq, eps
            )
            if measure == 0:
                gain += prob * (math.log(sa / sa_post) + math.log(sb / sb_post))
            else:
                gain += prob * ((sa * sa - sa_post * sa_post) + (sb * sb - sb_post * sb_post))
        out[i] = gain


def expected_gain_array(
    mu_a: np.ndarray,
    sigma_a: np.ndarray,
    mu_b: np.ndarray,
    sigma_b: np.ndarray,
    params: ts.TrueSkillParams,
    measure: str = "entropy",
) -> np.ndarray:
    """Element-wise :func:`expected_gain` over broadcastable arrays (compiled; same numbers)."""
    code = measure_code(measure)
    arrays = np.broadcast_arrays(
        *(np.asarray(x, dtype=np.float64) for x in (mu_a, sigma_a, mu_b, sigma_b))
    )
    shape = arrays[0].shape
    ma, sa, mb, sb = (np.ascontiguousarray(x).ravel() for x in arrays)
    probs = np.stack(outcome_probabilities(ma, sa, mb, sb, params))
    out = np.empty(ma.size)
    eps = ts.draw_margin(params.draw_probability, params.beta)
    two_beta_sq = 2.0 * params.beta * params.beta
    _gain_kernel(ma, sa, mb, sb, probs, two_beta_sq, params.tau * params.tau, eps, code, out)
    return out.reshape(shape)
