"""Expected information of a battle on the batch posterior, and batches built by fantasy updates.

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
batch spreads over pairs instead of repeating one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import log_ndtr, ndtr, ndtri

__all__ = [
    "MEASURES",
    "Batch",
    "PairSet",
    "adjacent_pairs",
    "difference_moments",
    "expected_difference_variance",
    "fantasy_update",
    "goal_information",
    "mutual_information",
    "order_information",
    "outcome_probabilities",
    "pair_information",
    "plan_batch",
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


def _binary_entropy(p: np.ndarray) -> np.ndarray:
    """H(p) in nats (0 at p = 0 or 1). Logs only where the argument is positive, instead of
    clipping copies: a 300-model board's plan evaluates it on ~13 M (target, pair) cells per
    batch, and the clipped copies were most of its time (same values, bit for bit)."""
    r = 1.0 - p
    out = p * np.log(p, out=np.zeros_like(p), where=p > 0.0)
    out += r * np.log(r, out=np.zeros_like(r), where=r > 0.0)
    return np.asarray(np.negative(out, out=out), dtype=np.float64)


def goal_information(
    mean: np.ndarray,
    cov: np.ndarray,
    pairs: PairSet,
    idx: np.ndarray,
    targets: tuple[np.ndarray, np.ndarray],
    beta: float,
    eps: float,
) -> np.ndarray:
    """Expected drop (nats) of the order uncertainty of the *target* pairs from one battle of
    each pair ``idx``: ``sum_t H(P(t ordered)) - H(P'(t ordered))`` where ``P'`` uses the
    target difference's variance after the battle's fantasy update (means kept). A battle
    helps a target through the covariance even when it does not involve its models."""
    hi, lo = targets
    m_t = mean[hi] - mean[lo]
    w = cov[hi, :] - cov[lo, :]  # (targets, models): cov of each target difference with s
    v_t = np.maximum(w[:, hi].diagonal() - w[:, lo].diagonal(), 1e-300)
    i, j = pairs.i[idx], pairs.j[idx]
    m, v = mean[i] - mean[j], np.maximum(cov[i, i] + cov[j, j] - 2.0 * cov[i, j], 1e-300)
    v_post = expected_difference_variance(m, v, beta, eps)
    lam = np.maximum(v / np.maximum(v_post, 1e-300) - 1.0, 0.0) / v
    cross = w[:, i] - w[:, j]  # (targets, pairs)
    v_new = np.maximum(v_t[:, None] - cross**2 * (lam / (1.0 + lam * v))[None, :], 1e-300)
    before = _binary_entropy(ndtr(np.abs(m_t) / np.sqrt(v_t)))
    after = _binary_entropy(ndtr(np.abs(m_t)[:, None] / np.sqrt(v_new)))
    return np.asarray(np.maximum(before[:, None] - after, 0.0).sum(axis=0), dtype=np.float64)


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


_LAZY = 16


Targets = tuple[np.ndarray, np.ndarray]


def adjacent_pairs(mean: np.ndarray, k: int | None = None) -> Targets:
    """(upper, lower) model indices of the adjacent pairs of ranks 1..k+1 by mean (all
    ``n - 1`` of them when ``k`` is None): the order the goal, or the whole board, asks for."""
    order = np.argsort(-mean, kind="stable")
    stop = order.size - 1 if k is None else min(k, order.size - 1)
    return order[:stop], order[1 : stop + 1]


@dataclass
class _LazyScores:
    """Scores of the candidate pairs under a changing covariance, kept lazily (Minoux 1978):
    a fantasy update only shrinks variances, which only lowers a pair's information, so stale
    values are upper bounds and only the leading ones are recomputed until the best is
    fresh. Same picks as recomputing everything (a test checks it), much cheaper. For goal
    information the bound is approximate (a shrinking target variance can also move the
    target's own entropy), which can only change which near-tied pair is picked."""

    score: Callable[[np.ndarray], np.ndarray]
    stale: np.ndarray

    @classmethod
    def start(
        cls, score: Callable[[np.ndarray], np.ndarray], size: int, candidates: np.ndarray
    ) -> _LazyScores:
        stale = np.full(size, -np.inf)
        stale[candidates] = score(candidates)
        return cls(score, stale)

    def best(self) -> int:
        """The pair of highest information now; ties go to the lower pair index."""
        while True:
            top = np.argsort(-self.stale, kind="stable")[:_LAZY]
            top = top[np.isfinite(self.stale[top])]
            self.stale[top] = self.score(top)
            k = int(np.argmax(self.stale))
            if k in top:
                return k


@dataclass(frozen=True)
class Batch:
    """A planned batch: pair indices into ``PairSet.of(n)``, each pick's information when it
    was picked, how it was picked, and the covariance after every pick's fantasy update."""

    picks: list[int]
    infos: list[float]
    kinds: list[str]
    """"goal", "board" or "random" per pick (see :func:`plan_batch`)."""
    cov: np.ndarray

    @property
    def explored(self) -> list[bool]:
        return [k == "random" for k in self.kinds]


def _kind(u: float, explore: float, board: float, goal: bool) -> str:
    """How a pick is made from one uniform draw ``u``: random below ``explore``, then board
    order below ``explore + board``, the goal otherwise (board order when there is no goal)."""
    if u < explore:
        return "random"
    return "board" if u < explore + board or not goal else "goal"


@dataclass
class _Fantasy:
    """The posterior of a batch being planned: means fixed, covariance fantasy-updated."""

    mean: np.ndarray
    cov: np.ndarray
    beta: float
    eps: float
    measure: str

    def scorer(self, goal: Targets | None) -> Callable[[np.ndarray], np.ndarray]:
        """Information of pairs ``idx`` about ``goal``'s order (or by ``measure``), now."""
        pairs = PairSet.of(len(self.mean))

        def score(idx: np.ndarray) -> np.ndarray:
            if goal is not None:
                return goal_information(self.mean, self.cov, pairs, idx, goal, self.beta, self.eps)
            m, v = difference_moments(self.mean, self.cov, pairs, idx)
            return pair_information(m, v, self.beta, self.eps, self.measure)

        return score

    def observe(self, i: int, j: int) -> None:
        self.cov = fantasy_update(self.cov, i, j, self.mean, self.beta, self.eps)


def plan_batch(
    mean: np.ndarray,
    cov: np.ndarray,
    beta: float,
    eps: float,
    size: int,
    explore: float,
    rng: np.random.Generator,
    allowed: np.ndarray | None = None,
    measure: str = "order",
    distinct: bool = False,
    targets: Targets | None = None,
    board: float = 0.0,
) -> Batch:
    """``size`` picks, each the pair of highest information under the fantasy-updated
    covariance, or with probability ``explore`` a uniformly random pair.

    With ``targets`` (the goal's (upper, lower) model indices) a share ``board`` of the picks
    is scored by :func:`goal_information` about *every* adjacent pair of the board, the rest
    about the targets; without, by ``measure`` on each pair's own order (or skills). One
    uniform draw per pick decides its kind (:func:`_kind`). ``allowed`` masks pairs out;
    ``distinct`` plans each pair at most once (a queue for people to read)."""
    pairs = PairSet.of(len(mean))
    ok = np.ones(pairs.size, dtype=bool) if allowed is None else allowed.copy()
    candidates = np.flatnonzero(ok)
    out = Batch([], [], [], cov.copy())
    state = _Fantasy(mean, out.cov, beta, eps, measure)
    if candidates.size == 0:
        return out
    lazy = {"goal": _LazyScores.start(state.scorer(targets), pairs.size, candidates)}
    if targets is not None and board > 0:
        whole = state.scorer(adjacent_pairs(mean))
        lazy["board"] = _LazyScores.start(whole, pairs.size, candidates)
    for _ in range(min(size, candidates.size) if distinct else size):
        kind = _kind(float(rng.random()), explore, board, targets is not None)
        scores = lazy.get(kind, lazy["goal"])
        random_pick = kind == "random"
        k = int(candidates[rng.integers(0, candidates.size)]) if random_pick else scores.best()
        out.picks.append(k)
        out.infos.append(float(scores.score(np.array([k]))[0]))
        out.kinds.append(kind)
        state.observe(int(pairs.i[k]), int(pairs.j[k]))
        if distinct:
            candidates = candidates[candidates != k]
            for lazy_scores in lazy.values():
                lazy_scores.stale[k] = -np.inf
    return Batch(out.picks, out.infos, out.kinds, state.cov)
