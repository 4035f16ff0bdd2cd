"""Diagnostics of a dimension beside the headline: the online pass's history and order
sensitivity, and the Bradley–Terry–Davidson cross-check."""

from __future__ import annotations

import math

import numpy as np

from prefboard.config import Config
from prefboard.rating import btd
from prefboard.rating import trueskill as ts
from prefboard.rating.board import finite_or_none
from prefboard.rating.tournaments import Result
from prefboard.standings.model import CrossCheck, CrossCheckEntry, History, OrderSensitivity, Table

HISTORY_POINTS = 300


def history_of(
    config: Config,
    dimension: str,
    idx: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    params: ts.TrueSkillParams,
) -> History:
    """The pooled table's online rating, replayed in its canonical order (`idx`: its
    battles' indices, int32 read as they are: an int64 copy was 67 MB at 10M battles), at
    most HISTORY_POINTS snapshots."""
    every = max(1, math.ceil(len(idx) / HISTORY_POINTS))
    keys = config.model_keys
    if not len(idx):
        return History(
            dimension=dimension, steps=[], mu={k: [] for k in keys}, sigma={k: [] for k in keys}
        )
    steps, mu, sigma = ts.replay_history(len(keys), a, b, outcome, idx, every, params)
    return History(
        dimension=dimension,
        steps=[int(s) for s in steps],
        mu=dict(zip(keys, rounded(mu, HISTORY_PLACES).T.tolist(), strict=True)),
        sigma=dict(zip(keys, rounded(sigma, HISTORY_PLACES).T.tolist(), strict=True)),
    )


HISTORY_PLACES = 4
# Below this size a scaled value's rounding error is under 1e-6 (2^32 * 2^-53 ~ 5e-7), so a
# value at least that far from a half rounds to the integer its exact value rounds to.
_SAFE_SCALED = 2.0**32
_HALF_GUARD = 1e-6


def rounded(values: np.ndarray, places: int) -> np.ndarray:
    """``round(float(v), places)`` of every value, the same bits, vectorised (Python's round
    per value was most of a 300-model history: 180,000 calls per dimension).

    ``round`` gives the double nearest the exactly rounded decimal; so does
    ``rint(v * 10^places) / 10^places`` whenever ``v * 10^places`` is not within rounding of
    a half (the division of two exact integers is correctly rounded). Values near a half, too
    large or not finite take Python's round itself."""
    x = np.asarray(values, dtype=np.float64)
    scale = 10.0**places
    scaled = x * scale
    out: np.ndarray = np.rint(scaled) / scale
    with np.errstate(invalid="ignore"):
        clear = (np.abs(scaled - np.floor(scaled) - 0.5) > _HALF_GUARD) & (
            np.abs(scaled) < _SAFE_SCALED
        )
    for at in zip(*np.nonzero(~clear), strict=True):
        out[at] = round(float(x[at]), places)
    return out


# Bootstrap draws of the cross-check (fitted by rating/crosschecks.py).
BTD_DRAWS = 200


def crosscheck(config: Config, table: Table, fit: btd.BTDFit) -> CrossCheck:
    """Set the Bradley–Terry–Davidson fit of the pooled battles beside TrueSkill's table."""
    keys = config.model_keys
    by_model = {e.model: e for e in table.entries}
    ts_rank = np.array(
        [by_model[k].rank if by_model[k].battles else np.nan for k in keys], dtype=float
    )
    ts_lo = np.array([by_model[k].rank_lower for k in keys], dtype=float)
    ts_hi = np.array([by_model[k].rank_upper for k in keys], dtype=float)
    flags = btd.disagreements(ts_rank, ts_lo, ts_hi, fit.rank, fit.rank_lower, fit.rank_upper)
    return CrossCheck(
        dimension=table.dimension,
        kendall_tau=finite_or_none(btd.kendall_tau(ts_rank, fit.rank)),
        nu=finite_or_none(fit.nu),
        draws=BTD_DRAWS,
        entries=[
            CrossCheckEntry(
                model=k,
                theta=finite_or_none(fit.theta[i]),
                lower=finite_or_none(fit.lower[i]),
                upper=finite_or_none(fit.upper[i]),
                rank=_int(fit.rank[i]),
                rank_lower=_int(fit.rank_lower[i]),
                rank_upper=_int(fit.rank_upper[i]),
                disagrees=bool(flags[i]),
            )
            for i, k in enumerate(keys)
        ],
    )


def _int(value: float) -> int | None:
    return None if math.isnan(value) else int(value)


def median_ratio(r: Result) -> float:
    played = r.battles > 0
    if not played.any():
        return 0.0
    return float(np.median(r.mu_spread[played] / r.sigma_mean[played]))


def sensitivity(dimension: str, pooled: Result, n_models: int) -> OrderSensitivity:
    """How much the pooled table's one-pass mu depends on the battle order."""
    return OrderSensitivity(
        dimension=dimension,
        median_spread_over_sigma=median_ratio(pooled),
        max_rank_shift=int(pooled.pass_rank_shift.max()) if n_models else 0,
        passes=1 + pooled.spec.passes,
    )
