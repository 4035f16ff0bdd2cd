"""Expected information of a battle on the batch posterior, and the fantasy update.

The batch posterior of a table is ``s ~ N(mean, cov)`` (`rating.batch`). A battle between i
and j sees only the difference ``delta = s_i - s_j ~ N(m, v)`` with ``m = mean_i - mean_j`` and
``v = cov_ii + cov_jj - 2 cov_ij`` (the covariance matters: two models compared through common
opponents have correlated errors, so ``v`` is smaller than ``var_i + var_j``). The outcome is
TrueSkill's: ``d = delta + N(0, c^2)``, ``c^2 = 2 beta^2``; "a" if ``d > eps``, "b" if
``d < -eps``, a tie otherwise.

Score of a pair: the mutual information between the outcome and the skills,
``I = H(outcome) - E_delta[H(outcome | delta)]`` (Lindley 1956; the "BALD" form of Houlsby et
al. 2011), in nats. It is large when the posterior cannot predict the outcome *and* knowing the
skills could; it is near zero for a pair whose order is already settled. The expectation over
``delta`` uses Gauss-Hermite quadrature (exact enough at 24 nodes for these smooth integrands).

Fantasy update (for a batch planned before any of its outcomes is known): after planning
(i, j) the posterior is updated as if the battle had been observed, with its outcome averaged
out. The means stay (the outcome is unknown); the covariance gets a rank-one update along
``u = e_i - e_j`` whose size makes ``u' cov u`` equal to the *expected* posterior variance of the
difference after one battle (assumed-density filtering, the moment match TrueSkill uses).
The next pick then sees that pair, and every pair correlated with it, as better known, so a
batch spreads over pairs instead of repeating one (`matchmaking.batches`). The information
about a goal's target pairs is in `matchmaking.goal`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import log_ndtr, ndtr, ndtri

__all__ = [
    "MEASURES",
    "PairSet",
    "difference_moments",
    "expected_difference_variance",
    "fantasy_update",
    "mutual_information",
    "order_information",
    "outcome_probabilities",
    "pair_information",
]

_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(24)
_WEIGHTS = _WEIGHTS / math.sqrt(2.0 * math.pi)
_TINY = 1e-300
_LEGENDRE_T, _LEGENDRE_W = np.polynomial.legendre.leggauss(16)
MEASURES = ("order", "skills")


@dataclass(frozen=True)
class PairSet:
    """All unordered pairs (i < j) of ``n`` models, as index arrays."""

    i: np.ndarray
    j: np.ndarray

    @classmethod
    def of(cls, n: int) -> PairSet:
        i, j = np.triu_indices(n, k=1)
        return cls(i.astype(np.int64), j.astype(np.int64))

    @property
    def size(self) -> int:
        return int(self.i.size)


def difference_moments(
    mean: np.ndarray, cov: np.ndarray, pairs: PairSet, idx: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(m, v)`` of ``s_i - s_j`` for every pair (or the pairs ``idx``)."""
    i, j = (pairs.i, pairs.j) if idx is None else (pairs.i[idx], pairs.j[idx])
    v = cov[i, i] + cov[j, j] - 2.0 * cov[i, j]
    return mean[i] - mean[j], np.maximum(v, 0.0)


def _conditional(delta: np.ndarray, c: float, eps: float) -> tuple[np.ndarray, ...]:
    p_a = ndtr((delta - eps) / c)
    p_b = ndtr((-delta - eps) / c)
    return p_a, p_b, np.clip(1.0 - p_a - p_b, 0.0, 1.0)


def _entropy(*probs: np.ndarray) -> np.ndarray:
    out = np.zeros_like(probs[0])
    for p in probs:
        out -= np.where(p > 0, p * np.log(np.maximum(p, _TINY)), 0.0)
    return out


def outcome_probabilities(
    m: np.ndarray, v: np.ndarray, beta: float, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predicted ``(P(a), P(b), P(tie))`` of the next battle of pairs with difference moments
    ``(m, v)``: the conditional probabilities averaged over the posterior of the difference."""
    s = np.sqrt(2.0 * beta * beta + v)
    p_a = ndtr((m - eps) / s)
    p_b = ndtr((-m - eps) / s)
    return p_a, p_b, np.clip(1.0 - p_a - p_b, 0.0, 1.0)


def mutual_information(m: np.ndarray, v: np.ndarray, beta: float, eps: float) -> np.ndarray:
    """Mutual information (nats) between one battle's outcome and the skills, per pair."""
    c = math.sqrt(2.0) * beta
    marginal = _entropy(*outcome_probabilities(m, v, beta, eps))
    delta = m[:, None] + np.sqrt(v)[:, None] * _NODES[None, :]
    conditional = _entropy(*_conditional(delta, c, eps)) @ _WEIGHTS
    # Quadrature can leave a tiny negative number where the two entropies agree.
    return np.maximum(marginal - conditional, 0.0)


def _side_average(
    m: np.ndarray, sd: np.ndarray, lo: np.ndarray, hi: np.ndarray, c: float, eps: float
) -> tuple[np.ndarray, ...]:
    """Outcome probabilities averaged over delta ~ N(m, sd^2) restricted to the quantile range
    [lo, hi] of its distribution (Gauss-Legendre in the quantile, so the integrand is smooth)."""
    u = lo[:, None] + (hi - lo)[:, None] * (_LEGENDRE_T[None, :] + 1.0) / 2.0
    delta = m[:, None] + sd[:, None] * ndtri(np.clip(u, 1e-300, 1.0 - 1e-16))
    return tuple(p @ (_LEGENDRE_W / 2.0) for p in _conditional(delta, c, eps))


def order_information(m: np.ndarray, v: np.ndarray, beta: float, eps: float) -> np.ndarray:
    """Mutual information (nats) between one battle's outcome and the pair's *order*
    (the sign of the skill difference): zero once the order is settled, largest for a close
    pair whose order is unknown. ``I = H(o) - q H(o | i ahead) - (1 - q) H(o | j ahead)``."""
    c = math.sqrt(2.0) * beta
    sd = np.sqrt(np.maximum(v, 1e-300))
    q = ndtr(m / sd)
    ahead = _side_average(m, sd, 1.0 - q, np.ones_like(q), c, eps)
    behind = _side_average(m, sd, np.zeros_like(q), 1.0 - q, c, eps)
    marginal = _entropy(*outcome_probabilities(m, v, beta, eps))
    out = marginal - q * _entropy(*ahead) - (1.0 - q) * _entropy(*behind)
    return np.asarray(np.maximum(out, 0.0), dtype=np.float64)


def pair_information(
    m: np.ndarray, v: np.ndarray, beta: float, eps: float, measure: str
) -> np.ndarray:
    """``measure="order"``: :func:`order_information`; ``"skills"``: :func:`mutual_information`."""
    if measure == "order":
        return order_information(m, v, beta, eps)
    if measure == "skills":
        return mutual_information(m, v, beta, eps)
    raise ValueError(f"measure must be one of {', '.join(MEASURES)}; got {measure!r}")


def _mills(t: np.ndarray) -> np.ndarray:
    """phi(t) / Phi(t), stable far into the lower tail."""
    return np.asarray(np.exp(-0.5 * t * t - 0.5 * math.log(2.0 * math.pi) - log_ndtr(t)))


def expected_difference_variance(
    m: np.ndarray, v: np.ndarray, beta: float, eps: float
) -> np.ndarray:
    """Expected posterior variance of the difference after one battle (ADF moment match).

    For outcome o the observed performance difference ``d ~ N(m, s^2)``, ``s^2 = c^2 + v``, is
    truncated to o's region; the difference's variance shrinks by ``(v^2 / s^2)(1 - f_o)`` where
    ``f_o`` is the truncated normal's variance factor. Averaged with the outcome probabilities.
    """
    s2 = 2.0 * beta * beta + v
    s = np.sqrt(s2)
    ta = (m - eps) / s
    tb = (-m - eps) / s
    la, lb = _mills(ta), _mills(tb)
    fa = 1.0 - la * (la + ta)
    fb = 1.0 - lb * (lb + tb)
    lo, hi = (-eps - m) / s, (eps - m) / s
    z = np.maximum(ndtr(hi) - ndtr(lo), _TINY)
    phi_lo = np.exp(-0.5 * lo * lo) / math.sqrt(2.0 * math.pi)
    phi_hi = np.exp(-0.5 * hi * hi) / math.sqrt(2.0 * math.pi)
    shift = (phi_lo - phi_hi) / z
    ft = 1.0 + (lo * phi_lo - hi * phi_hi) / z - shift * shift
    p_a, p_b, p_t = outcome_probabilities(m, v, beta, eps)
    f = p_a * fa + p_b * fb + p_t * np.clip(ft, 0.0, 1.0)
    return np.asarray(v - (v * v / s2) * (1.0 - np.clip(f, 0.0, 1.0)), dtype=np.float64)


def fantasy_update(
    cov: np.ndarray, i: int, j: int, mean: np.ndarray, beta: float, eps: float
) -> np.ndarray:
    """The covariance after an unobserved battle of (i, j): rank-one along ``e_i - e_j``."""
    m = np.array([mean[i] - mean[j]])
    v = float(cov[i, i] + cov[j, j] - 2.0 * cov[i, j])
    if v <= 0.0:
        return cov
    v_post = float(expected_difference_variance(m, np.array([v]), beta, eps)[0])
    v_post = min(max(v_post, 1e-12 * v), v)
    # Site precision lam along u with u'C'u = v / (1 + lam v) = v_post.
    lam = (v / v_post - 1.0) / v
    cu = cov[:, i] - cov[:, j]
    return cov - (lam / (1.0 + lam * v)) * np.outer(cu, cu)
