"""Prompt effects: how much of a battle's noise every vote on one prompt shares.

Model: a vote's performance gap is ``s_a - s_b + p + e``, with ``p ~ N(0, sp^2)`` shared by
every vote on the prompt (an answer that suits a prompt suits it for every judge) and
``e ~ N(0, 2 beta^2)`` its own. One vote alone is then TrueSkill's model with noise
``2 beta^2 + sp^2``: fitted with the configured beta, every skill gap comes out shrunk by
``sqrt(1 - rho)``, ``rho = sp^2 / (2 beta^2 + sp^2)`` (measured on the calibration board with
``sp = 0.6 beta``: slope 0.94 of estimates on truth, and 95 % bands covering 87-91 %). A
sandwich widens bands for the correlation but cannot undo that bias; knowing ``rho`` can: the
batch fits of the dimension use ``beta / sqrt(1 - rho)``, which leaves every vote's predicted
probabilities as they were and puts the skills back on the scale of beta.

``rho`` is the correlation of two votes' standardised gaps on one prompt, estimated by maximum
pairwise (composite) likelihood over every pair of votes on one prompt and model pair, given
the per-vote fit's standardised gaps ``x`` and draw margin ``e`` (these do not depend on rho):
``P(o1, o2) = P(z1 in I(o1), z2 in I(o2))`` for ``z ~ N(x, [[1, rho], [rho, 1]])``, ``I`` the
outcome's interval (win: z > e, loss: z < -e, tie: between). Bivariate normal probabilities use
Owen's T (Owen 1956): Phi2(h, k; r) = (Phi(h) + Phi(k))/2 - T(h, a_h) - T(k, a_k) - d.
Without a `prompt_id` column, or no prompt judged twice, rho = 0 and nothing changes.

Interval: pairs of votes that share a vote (4 votes on a prompt make 6 pairs) are not
independent, so the pairwise likelihood is too sharp and its plain likelihood-ratio interval too
narrow. With H = -d^2/drho^2 of the pairwise log likelihood and J = sum over prompts of the
square of the prompt's summed score d/drho (its Godambe information is H^2 / J), the statistic
(H / J) * 2 (l(rho_hat) - l(rho)) is asymptotically chi^2_1 (Chandler & Bate 2007's curvature
adjustment, for one parameter): the interval is where it stays below chi^2_1(level), cut at 0
and RHO_MAX. The standardised gaps come from the per-vote fit of the same votes and are taken
as known, which leaves rho a little low on boards with few prompts per model pair: measured
with 6 models and 600 prompts of 4 votes (rho = 1/3), estimates averaged 0.319 and the 95 %
interval held the truth on 35 of 40 boards (tests/rating/test_prompts.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq, minimize_scalar
from scipy.special import ndtr, owens_t

from prefboard.rating import batch

__all__ = [
    "PromptNoise",
    "VotePairs",
    "bivariate_cdf",
    "composite_interval",
    "pair_probabilities",
    "prompt_noise",
]

# rho above this would mean votes on a prompt nearly always agree: beyond what a batch fit with
# beta / sqrt(1 - rho) can honestly rescale (a 4.5x wider noise); the search stops there.
RHO_MAX = 0.95
# Step of the numerical derivatives in rho: the log likelihood is smooth and rho is a share,
# so 1e-4 is far below any change that matters and far above rounding.
_STEP = 1e-4


@dataclass(frozen=True)
class PromptNoise:
    """The shared share of noise and the beta the dimension's batch fits use."""

    rho: float
    beta: float  # configured beta / sqrt(1 - rho)
    vote_pairs: int  # pairs of votes on one prompt that informed rho
    lower: float = 0.0  # the level interval of rho (module docstring)
    upper: float = 0.0


def bivariate_cdf(h: np.ndarray, k: np.ndarray, rho: float) -> np.ndarray:
    """P(X <= h, Y <= k) for standard normals with correlation ``rho`` (|rho| < 1)."""
    h = np.where(np.abs(h) < 1e-12, 1e-12, h)  # Owen's formula divides by h and k
    k = np.where(np.abs(k) < 1e-12, 1e-12, k)
    root = math.sqrt(1.0 - rho * rho)
    out = 0.5 * (ndtr(h) + ndtr(k))
    out -= owens_t(h, (k - rho * h) / (h * root)) + owens_t(k, (h - rho * k) / (k * root))
    out -= np.where(h * k < 0, 0.5, 0.0)
    return np.clip(out, 0.0, 1.0)


def pair_probabilities(x: np.ndarray, e: float, rho: float) -> np.ndarray:
    """Per standardised gap x: P of (lo wins, lo wins), (loses, loses), (tie, tie),
    (wins, loses), (wins, tie), (loses, tie) for two votes on one prompt (ordered pairs)."""
    t1, t2 = -e - x, e - x  # gap noise below t1: lo loses; above t2: lo wins
    ff = bivariate_cdf(t1, t1, rho)
    fg = bivariate_cdf(t1, t2, rho)
    gg = bivariate_cdf(t2, t2, rho)
    ww = bivariate_cdf(-t2, -t2, rho)
    lose, not_win = ndtr(t1), ndtr(t2)
    return np.stack(
        [ww, ff, gg - 2 * fg + ff, lose - fg, not_win - gg - lose + fg, fg - ff], axis=1
    )


@dataclass(frozen=True)
class VotePairs:
    """Unordered pairs of votes on one prompt and model pair, counted in the order of
    `pair_probabilities` (outcomes from the lower-numbered model's side)."""

    by_pair: np.ndarray  # (model pair code, 6), summed over prompts
    pair: np.ndarray  # per (prompt, model pair) group: its model pair code
    prompt: np.ndarray  # per group: its prompt code
    counts: np.ndarray  # (group, 6)
    votes: np.ndarray  # (group, 3): the group's votes won, lost, tied by the lower model


def _vote_pairs(battles: batch.Battles, idx: np.ndarray, prompt: np.ndarray) -> VotePairs:
    """The vote pairs of the battles ``idx`` per (prompt, model pair) and per model pair."""
    m = battles.n_models
    a, b, o = battles.a[idx], battles.b[idx], battles.outcome[idx].astype(np.int64)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    o = np.where((a != lo) & (o != batch.TIE), 1 - o, o)  # 0 lo wins, 1 lo loses, 2 tie
    pair = lo.astype(np.int64) * m + hi
    groups, inverse = np.unique(prompt[idx].astype(np.int64) * m * m + pair, return_inverse=True)
    c = np.bincount(inverse.reshape(-1) * 3 + o, minlength=3 * len(groups)).reshape(-1, 3)
    per_group = np.stack(
        [
            c[:, 0] * (c[:, 0] - 1) // 2,
            c[:, 1] * (c[:, 1] - 1) // 2,
            c[:, 2] * (c[:, 2] - 1) // 2,
            c[:, 0] * c[:, 1],
            c[:, 0] * c[:, 2],
            c[:, 1] * c[:, 2],
        ],
        axis=1,
    )
    code = groups % (m * m)
    by_pair = np.stack([np.bincount(code, per_group[:, k], m * m) for k in range(6)], axis=1)
    return VotePairs(by_pair, code, groups // (m * m), per_group, c)


def _minus_loglik(x: np.ndarray, n: np.ndarray, e: float) -> Callable[[float], float]:
    """rho -> minus the pairwise log likelihood of vote-pair counts ``n`` at gaps ``x``."""

    def f(rho: float) -> float:
        p = pair_probabilities(x, e, rho)
        return -float(np.sum(n * np.log(np.maximum(p, 1e-300)), where=n > 0))

    return f


def _patterns(pairs: VotePairs, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A group's score depends only on its model pair and its votes won/lost/tied, so each
    distinct (pair, votes) is scored once (hundreds of patterns, not one per prompt): returns
    each kept group's pattern number and one group (position in ``keep``) per pattern."""
    votes = pairs.votes[keep].astype(np.int64)
    base = int(votes.max(initial=0)) + 1
    if int(pairs.by_pair.shape[0]) * base**3 >= 2**62:  # the integer key would overflow
        return np.arange(keep.size), np.arange(keep.size)
    key = ((pairs.pair[keep] * base + votes[:, 0]) * base + votes[:, 1]) * base + votes[:, 2]
    _, first, which = np.unique(key, return_index=True, return_inverse=True)
    return which.reshape(-1), first


def composite_interval(
    gap: np.ndarray,
    pairs: VotePairs,
    e: float,
    rho: float,
    level: float,
) -> tuple[float, float]:
    """The curvature-adjusted likelihood-ratio interval of ``rho`` (module docstring), given
    the standardised ``gap`` per model pair code and the vote pairs; scores are summed per
    prompt (the clusters)."""
    used = np.flatnonzero(pairs.by_pair.sum(axis=1) > 0)
    f = _minus_loglik(gap[used], pairs.by_pair[used].astype(np.float64), e)
    best = f(rho)
    h = _STEP
    curvature = (f(rho + h) - 2 * best + f(rho - h)) / (h * h)
    keep = np.flatnonzero(pairs.counts.sum(axis=1) > 0)  # prompts judged once add nothing
    which, first = _patterns(pairs, keep)
    x, n = gap[pairs.pair[keep][first]], pairs.counts[keep][first].astype(np.float64)
    log_hi = np.log(np.maximum(pair_probabilities(x, e, rho + h), 1e-300))
    log_lo = np.log(np.maximum(pair_probabilities(x, e, rho - h), 1e-300))
    scores = np.sum(n * (log_hi - log_lo), axis=1, where=n > 0) / (2 * h)
    # groups come sorted by prompt (`_vote_pairs`), so clusters are runs of equal codes
    prompt = pairs.prompt[keep]
    cluster = np.concatenate([[0], np.cumsum(prompt[1:] != prompt[:-1])])
    per_prompt = np.bincount(cluster, scores[which])
    spread = float(per_prompt @ per_prompt)
    scale = spread / curvature if curvature > 0 and spread > 0 else 1.0
    # Imported where called: scipy.stats takes ~1.5 s to import, which every process importing
    # this module (the tie model's, `prefboard validate`'s) paid, whether it got here or not.
    from scipy.stats import chi2

    cut = best + scale * chi2.ppf(level, 1) / 2

    def above(r: float) -> float:
        return f(r) - cut

    lower = 0.0 if above(0.0) <= 0 else float(brentq(above, 0.0, rho, xtol=1e-6))
    upper = RHO_MAX if above(RHO_MAX) <= 0 else float(brentq(above, rho, RHO_MAX, xtol=1e-6))
    return lower, upper


def prompt_noise(
    battles: batch.Battles,
    idx: np.ndarray,
    prompt: np.ndarray | None,
    *,
    prior_mean: float,
    prior_sigma: float,
    beta: float,
    draw_margin: float,
    level: float = 0.95,
) -> PromptNoise:
    """rho by maximum pairwise likelihood over the battles ``idx`` (``prompt``: a code per
    battle over ``battles``, or None when the data name no prompt), with its ``level``
    interval."""
    pairs = None if prompt is None or not len(idx) else _vote_pairs(battles, idx, prompt)
    if pairs is None or not pairs.by_pair.sum():
        return PromptNoise(0.0, beta, 0)
    post = batch.fit_counts(
        batch.aggregate_index(battles, idx),
        prior_mean=prior_mean,
        prior_sigma=prior_sigma,
        beta=beta,
        draw_margin=draw_margin,
        method="laplace",
    )
    c = math.sqrt(2.0) * beta
    lo, hi = np.divmod(np.arange(battles.n_models**2), battles.n_models)
    gap = (post.mean[lo] - post.mean[hi]) / c  # per model pair code lo * M + hi
    used = np.flatnonzero(pairs.by_pair.sum(axis=1) > 0)
    n = pairs.by_pair[used].astype(np.float64)
    minus_loglik = _minus_loglik(gap[used], n, draw_margin / c)
    best = minimize_scalar(minus_loglik, bounds=(0.0, RHO_MAX), method="bounded")
    rho = float(best.x)
    if minus_loglik(0.0) <= best.fun:  # the bounded search stops just inside its edge
        rho = 0.0
    lower, upper = composite_interval(gap, pairs, draw_margin / c, rho, level)
    return PromptNoise(rho, beta / math.sqrt(1.0 - rho), int(n.sum()), lower, upper)
