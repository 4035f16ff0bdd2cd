"""A table's entries, validated at once from columns, are the per-model Entry(...) rows the
assembly built one call at a time before (tables.py at a2b0a10): same values, same types."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from prefboard.config import Config, load_config
from prefboard.rating import ranks, tables
from prefboard.rating.board import finite_or_none
from prefboard.rating.tournaments import Result, Spec
from prefboard.standings.model import Entry

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _old_entries(
    config: Config,
    r: Result,
    mean: np.ndarray,
    cov: np.ndarray,
    inflation: np.ndarray,
    z: float,
    seed: int,
) -> list[Entry]:
    """The reference: tables._entries as written at a2b0a10, one Entry(...) per model."""
    keys = config.model_keys
    sd = np.sqrt(np.diag(tables._relative(cov, r.battles > 0)))
    lower, upper = ranks.band(mean, sd, z)
    rk = ranks.summarize(mean, cov, keys, config.rating.interval, seed)
    entries = [
        Entry(
            model=keys[i],
            mu=float(r.mu[i]),
            sigma=float(r.sigma[i]),
            mu_mean=float(r.mu_mean[i]),
            mu_spread=finite_or_none(r.mu_spread[i]),
            lower=float(lower[i]),
            upper=float(upper[i]),
            conservative=float(mean[i] - 3 * sd[i]),
            rank=int(rk.rank[i]),
            rank_lower=int(rk.rank_lower[i]),
            rank_upper=int(rk.rank_upper[i]),
            battles=int(r.battles[i]),
            wins=int(r.wins[i]),
            losses=int(r.losses[i]),
            ties=int(r.ties[i]),
            provisional=bool(r.battles[i] < config.rating.min_battles),
            p_best=float(rk.p_best[i]),
            p_top=float(rk.p_top[i]),
            score=float(mean[i]),
            sd=float(sd[i]),
            p_above_next=None if math.isnan(rk.p_above_next[i]) else float(rk.p_above_next[i]),
            inflation=float(inflation[i]),
            rank_mass=float(rk.rank_mass[i]),
        )
        for i in range(len(keys))
    ]
    return sorted(entries, key=lambda e: e.rank)


def test_entries_from_columns_equal_the_per_model_rows() -> None:
    config = load_config(FIXTURES / "tiny" / "leaderboard.toml")
    m = len(config.model_keys)
    rng = np.random.default_rng(4)
    battles = np.array([0, *rng.integers(1, 50, m - 1)])  # one model without battles
    wins = battles // 2
    result = Result(
        spec=Spec("overall", "pooled", "pooled", np.arange(5)),
        mu=rng.normal(25, 3, m),
        sigma=rng.uniform(1, 8, m),
        mu_mean=rng.normal(25, 3, m),
        mu_spread=np.full(m, np.nan),  # replayed in one order: published as none
        sigma_mean=rng.uniform(1, 8, m),
        battles=battles,
        wins=wins,
        losses=battles - wins,
        ties=np.zeros(m, dtype=np.int64),
        pass_rank_shift=np.zeros(m, dtype=np.int64),
    )
    mean = rng.normal(0, 1, m)
    root = rng.normal(0, 0.3, (m, m))
    cov = root @ root.T + 0.1 * np.eye(m)
    inflation = np.ones(m, dtype=np.int64)  # an integer array still gives floats
    args = (config, result, mean, cov, inflation, 1.96, 11)
    new, old = tables._entries(*args), _old_entries(*args)
    assert [e.model_dump_json() for e in new] == [e.model_dump_json() for e in old]
    assert all(type(e.inflation) is float and type(e.rank) is int for e in new)
    assert new[-1].p_above_next is None and new[0].mu_spread is None


def test_relative_sd_is_the_diagonal_of_the_relative_covariance() -> None:
    # Expected: sqrt(diag(tables._relative(cov, played))), the whole relative covariance that
    # _entries formed before (tables.py at 77cc958), to rounding.
    rng = np.random.default_rng(9)
    m = 300
    root = rng.normal(size=(m, m)) / m
    # A shared shift (sd ~0.5) far larger than the skills' relative sds (~0.05), as in a
    # table with many battles: the case where the diagonal formula cancels most.
    cov = root @ root.T + 0.002 * np.eye(m) + 0.25
    played = rng.random(m) < 0.9
    for mask in (played, np.zeros(m, dtype=bool)):
        want = np.sqrt(np.diag(tables._relative(cov, mask)))
        got = tables.relative_sd(cov, mask)
        assert np.allclose(got, want, rtol=1e-11, atol=0.0)
    # A lone model that played is its own average: sd 0, never nan.
    alone = np.zeros(m, dtype=bool)
    alone[4] = True
    assert tables.relative_sd(cov, alone)[4] == 0.0
