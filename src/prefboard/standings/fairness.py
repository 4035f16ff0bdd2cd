"""Sample adequacy and fairness, computed from standings alone.

The checks answer the usual criticisms of crowd-sourced leaderboards: are some models sampled far
more than others (and does that track rank, the "Leaderboard Illusion" concern), is every pair
compared, is each slice's comparison graph connected, how much do post-stratification weights
cost in effective sample size, and do groups agree on the ranking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import kendalltau, spearmanr

from prefboard.standings.model import POOLED, Standings, Table


@dataclass(frozen=True)
class SamplingBias:
    dimension: str
    spearman: float | None  # battles vs rank: negative = more battles, better rank
    min_battles: int
    max_battles: int
    ratio: float | None  # max / min battles


@dataclass(frozen=True)
class EffectiveSample:
    attribute: str
    participants: int
    effective: float  # Kish: n / Σ_g (P_g² / p_g)
    groups_missing: list[str]


@dataclass(frozen=True)
class GroupConsistency:
    model: str
    best: int
    worst: int
    groups: int


def sampling_bias(table: Table) -> SamplingBias:
    battles = np.array([e.battles for e in table.entries], dtype=float)
    ranks = np.array([e.rank for e in table.entries], dtype=float)
    rho = None
    if len(battles) > 2 and battles.std() > 0:
        rho = float(spearmanr(battles, ranks).statistic)
    lo, hi = (int(battles.min()), int(battles.max())) if len(battles) else (0, 0)
    return SamplingBias(table.dimension, rho, lo, hi, hi / lo if lo else None)


def effective_samples(standings: Standings) -> list[EffectiveSample]:
    """Kish's effective sample size under post-stratification weights w_g = P_g / p_g: with
    sample shares p_g and population shares P_g, n_eff = n / Σ_g P_g² / p_g."""
    out = []
    for sl in standings.slices:
        if not sl.population:
            continue
        rows = [s for s in standings.samples if s.attribute == sl.attribute and s.published]
        n = sum(s.participants for s in rows)
        shares = {s.value: s.sample_share for s in rows}
        missing = [v for v in sl.values if shares.get(v, 0) == 0]
        denom = sum(sl.population[v] ** 2 / shares[v] for v in sl.values if shares.get(v, 0) > 0)
        out.append(EffectiveSample(sl.attribute, n, n / denom if denom else 0.0, missing))
    return out


def tie_rate(table: Table) -> float | None:
    ties = sum(e.ties for e in table.entries) / 2
    return ties / table.battles if table.battles else None


def _not_groups(standings: Standings) -> set[str]:
    """Table attributes that are not groups of people: the pooled and post-stratified tables,
    and battle-level slices (a model's rank in a prompt category is no fairness question)."""
    battle = {sl.attribute for sl in standings.slices if sl.level == "battle"}
    return {POOLED, "poststratified", *battle}


def group_consistency(standings: Standings, dimension: str) -> list[GroupConsistency]:
    """Best and worst rank each model holds across the published groups of every attribute."""
    ranks: dict[str, list[int]] = {}
    for t in standings.tables:
        if t.dimension != dimension or t.slice_attribute in _not_groups(standings):
            continue
        for e in t.entries:
            if e.battles:
                ranks.setdefault(e.model, []).append(e.rank)
    return [GroupConsistency(model, min(r), max(r), len(r)) for model, r in sorted(ranks.items())]


def group_agreement(standings: Standings, dimension: str) -> list[tuple[str, str, float | None]]:
    """Kendall's tau between each published group's ranking and the headline ranking."""
    head = standings.headline(dimension)
    if head is None:
        return []
    order = {e.model: e.rank for e in head.entries}
    out = []
    for t in standings.tables:
        if t.dimension != dimension or t.slice_attribute in _not_groups(standings):
            continue
        mine = [(order[e.model], e.rank) for e in t.entries if e.battles]
        tau = None
        if len(mine) > 2:
            x, y = zip(*mine, strict=True)
            tau = float(kendalltau(x, y).statistic)
        out.append((t.slice_attribute, t.slice_value, tau))
    return out
