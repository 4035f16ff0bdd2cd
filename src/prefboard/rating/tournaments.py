"""Online tournaments per (dimension, slice): the classic pass and its order sensitivity.
(Score, band and ranks come from rating.batch and rating.ranks; groups and the post-stratified
headline from rating.group_tables.)

A tournament is a list of battle indices in canonical order (timestamp, then battle_id). Slices
are integer codes per battle, so splitting a million battles costs array masks, not string
grouping. Each tournament is replayed once in that order and `permutations` times in seeded
random orders (the engine shuffles internally): the order-averaged mu and its spread show how
much a single TrueSkill pass depends on the order of battles. The two online band candidates
below are kept for the calibration study of that pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from prefboard.rating import trueskill as ts

Band = Callable[[np.ndarray, np.ndarray, np.ndarray, float], tuple[np.ndarray, np.ndarray]]


def band_sigma(
    mu_mean: np.ndarray, sigma: np.ndarray, spread: np.ndarray, z: float
) -> tuple[np.ndarray, np.ndarray]:
    """mu_mean ± z·sigma: the plain TrueSkill band around the order-averaged mu."""
    return mu_mean - z * sigma, mu_mean + z * sigma


def band_sigma_spread(
    mu_mean: np.ndarray, sigma: np.ndarray, spread: np.ndarray, z: float
) -> tuple[np.ndarray, np.ndarray]:
    """mu_mean ± z·sqrt(sigma² + spread²): adds the order-to-order spread of mu to sigma."""
    half = z * np.sqrt(sigma**2 + spread**2)
    return mu_mean - half, mu_mean + half


@dataclass(frozen=True)
class Spec:
    """One tournament to run: which dimension and slice, and its battles in canonical order."""

    dimension: str
    attribute: str
    value: str
    battles: np.ndarray


@dataclass
class Result:
    """Per-model arrays of one tournament (length = number of models)."""

    spec: Spec
    mu: np.ndarray
    sigma: np.ndarray
    mu_mean: np.ndarray
    mu_spread: np.ndarray
    sigma_mean: np.ndarray
    battles: np.ndarray
    wins: np.ndarray
    losses: np.ndarray
    ties: np.ndarray
    pass_rank_shift: np.ndarray


def z_score(interval: float) -> float:
    return float(norm.ppf(0.5 + interval / 2))


def run_tournaments(
    n_models: int,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    specs: list[Spec],
    passes: int,
    seed: int,
    params: ts.TrueSkillParams,
) -> list[Result]:
    """Replay every tournament of one dimension (they share `outcome`) in all orders."""
    if not specs:
        return []
    lengths = np.array([len(s.battles) for s in specs], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    flat = (
        np.concatenate([s.battles for s in specs]).astype(np.int64)
        if lengths.sum()
        else np.empty(0, np.int64)
    )
    mu, sigma = ts.replay_tournaments(n_models, a, b, outcome, offsets, flat, passes, seed, params)
    counts = _counts(n_models, a, b, outcome, offsets, flat, len(specs))
    results = []
    for t, spec in enumerate(specs):
        orders = mu[t]  # (1 + passes, n_models)
        played = counts[0][t] > 0
        # Each order shifts the whole board's level a little; only relative standings matter,
        # so the spread is measured after centring every pass on its played models' mean.
        centred = orders - (orders[:, played].mean(axis=1, keepdims=True) if played.any() else 0)
        ranks = np.argsort(np.argsort(-orders, axis=1, kind="stable"), axis=1)
        results.append(
            Result(
                spec=spec,
                mu=mu[t, 0].copy(),
                sigma=sigma[t, 0].copy(),
                mu_mean=orders.mean(axis=0),
                mu_spread=centred.std(axis=0, ddof=1) if passes else np.zeros(n_models),
                sigma_mean=sigma[t].mean(axis=0),
                battles=counts[0][t],
                wins=counts[1][t],
                losses=counts[2][t],
                ties=counts[3][t],
                pass_rank_shift=ranks.max(axis=0) - ranks.min(axis=0),
            )
        )
    return results


def _counts(
    n_models: int,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    offsets: np.ndarray,
    flat: np.ndarray,
    n_tournaments: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    # One bincount per side over (tournament, model, outcome) keys: tens of millions of
    # tournament entries make per-statistic masks the slow part otherwise.
    t_of = np.repeat(np.arange(n_tournaments, dtype=np.int64), np.diff(offsets))
    o = outcome[flat].astype(np.int64)
    size = n_tournaments * n_models * 3
    shape = (n_tournaments, n_models, 3)
    side_a = np.bincount((t_of * n_models + a[flat]) * 3 + o, minlength=size).reshape(shape)
    side_b = np.bincount((t_of * n_models + b[flat]) * 3 + o, minlength=size).reshape(shape)
    battles = side_a.sum(axis=2) + side_b.sum(axis=2)
    wins = side_a[:, :, 0] + side_b[:, :, 1]
    losses = side_a[:, :, 1] + side_b[:, :, 0]
    ties = side_a[:, :, 2] + side_b[:, :, 2]
    return battles, wins, losses, ties
