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
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import ndtr, owens_t

from prefboard.rating import batch

__all__ = ["PromptNoise", "bivariate_cdf", "pair_probabilities", "prompt_noise"]

# rho above this would mean votes on a prompt nearly always agree: beyond what a batch fit with
# beta / sqrt(1 - rho) can honestly rescale (a 4.5x wider noise); the search stops there.
RHO_MAX = 0.95


@dataclass(frozen=True)
class PromptNoise:
    """The shared share of noise and the beta the dimension's batch fits use."""

    rho: float
    beta: float  # configured beta / sqrt(1 - rho)
    vote_pairs: int  # pairs of votes on one prompt that informed rho


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


def _vote_pairs(battles: batch.Battles, idx: np.ndarray, prompt: np.ndarray) -> np.ndarray:
    """(model pair code, 6) counts of unordered vote pairs on one prompt and model pair, in
    the order of `pair_probabilities` (outcomes from the lower-numbered model's side)."""
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
    return np.stack([np.bincount(code, per_group[:, k], m * m) for k in range(6)], axis=1)


def prompt_noise(
    battles: batch.Battles,
    idx: np.ndarray,
    prompt: np.ndarray | None,
    *,
    prior_mean: float,
    prior_sigma: float,
    beta: float,
    draw_margin: float,
) -> PromptNoise:
    """rho by maximum pairwise likelihood over the battles ``idx`` (``prompt``: a code per
    battle over ``battles``, or None when the data name no prompt)."""
    counts = None if prompt is None or not len(idx) else _vote_pairs(battles, idx, prompt)
    if counts is None or not counts.sum():
        return PromptNoise(0.0, beta, 0)
    used = np.flatnonzero(counts.sum(axis=1) > 0)
    post = batch.fit_counts(
        batch.aggregate_index(battles, idx),
        prior_mean=prior_mean,
        prior_sigma=prior_sigma,
        beta=beta,
        draw_margin=draw_margin,
        method="laplace",
    )
    c = math.sqrt(2.0) * beta
    lo, hi = np.divmod(used, battles.n_models)
    x = (post.mean[lo] - post.mean[hi]) / c
    n = counts[used].astype(np.float64)

    def minus_loglik(rho: float) -> float:
        p = pair_probabilities(x, draw_margin / c, rho)
        return -float(np.sum(n * np.log(np.maximum(p, 1e-300)), where=n > 0))

    best = minimize_scalar(minus_loglik, bounds=(0.0, RHO_MAX), method="bounded")
    rho = float(best.x)
    if minus_loglik(0.0) <= best.fun:  # the bounded search stops just inside its edge
        rho = 0.0
    return PromptNoise(rho, beta / math.sqrt(1.0 - rho), int(n.sum()))
