"""Per-slice and post-stratified posteriors of one dimension, from pooled group fits.

Each slice attribute is pooled on its own (its values are the groups, τ estimated for it); the
headline pools the joint cells of `rating.stratify_by` (the attribute's own fit when there is one)
and combines them with one target population for every model (`strata.target_cells`). Rate turns
each posterior into a table with the same builder as the pooled table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from prefboard.config import Config
from prefboard.rating import groups, pooled_robust, strata
from prefboard.standings.model import PoolingInfo

# Empty cells named in a warning before "and N more".
NAMED_CELLS = 10


@dataclass(frozen=True)
class GroupPosterior:
    """One group's pooled posterior (its battles are its tournament's: rating/inputs.py)."""

    attribute: str
    value: str
    mean: np.ndarray
    cov: np.ndarray  # widened for clustered votes (rating/pooled_robust.py)
    inflation: np.ndarray  # per-model sd factor that widening applied, relative to the average


@dataclass(frozen=True)
class Headline:
    mean: np.ndarray
    cov: np.ndarray
    inflation: np.ndarray
    weights: dict[str, float]
    notes: list[str]
    info: PoolingInfo


@dataclass(frozen=True)
class Battles:
    """The asked battles of one dimension."""

    n_models: int
    a: np.ndarray
    b: np.ndarray
    outcome: np.ndarray
    index: np.ndarray  # positions of these battles in the full battle table, ascending
    # cluster codes over the full battle table (participant, then prompt when given)
    clusters: tuple[np.ndarray, ...] = ()

    def take(self, full: np.ndarray) -> np.ndarray:
        """A full-length per-battle array at these battles (:func:`subset`)."""
        return subset(full, self.index)


def subset(full: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``full[index]`` for an ascending ``index``. When every battle is selected (the index is
    then 0..n-1) that is the array itself, not a copy of it: at 10M battles ~70 MB per int64
    array per dimension fitted. Callers only read it."""
    return full if index.size == full.size else full[index]


@dataclass(frozen=True)
class Fitted:
    """One pooled fit and its clustered scores."""

    fit: groups.GroupFit
    sandwich: pooled_robust.Sandwich


def slice_posteriors(
    config: Config,
    dimension: str,
    battles: Battles,
    codes: dict[str, np.ndarray],
    published: dict[str, set[str]],
    model: groups.Model,
) -> tuple[list[GroupPosterior], list[PoolingInfo], dict[str, Fitted]]:
    """Pooled posteriors of every published slice value (and of the stratify_by slices)."""
    out: list[GroupPosterior] = []
    info: list[PoolingInfo] = []
    fits: dict[str, Fitted] = {}
    for s in config.slices:
        shown = [i for i, v in enumerate(s.values) if v in published[s.attribute]]
        if not shown and s not in config.strata:
            continue
        # The slice's narrow codes as they are: the pooled fit's counts and its sandwich read
        # any integer dtype (an int64 copy cost 8 bytes a battle, 70 MB at 10M battles).
        code = battles.take(codes[s.attribute])
        fitted = _fit(battles, code, len(s.values), model, config.rating.interval)
        fits[s.attribute] = fitted
        info.append(_info(dimension, s.attribute, fitted.fit))
        for i in shown:
            one = np.zeros(len(s.values) + 1)
            one[i] = 1.0
            mean, cov, inflation = pooled_robust.widen(fitted.fit.pooled, fitted.sandwich, one)
            out.append(GroupPosterior(s.attribute, s.values[i], mean, cov, inflation))
    return out, info, fits


def headline(
    config: Config,
    dimension: str,
    battles: Battles,
    codes: dict[str, np.ndarray],
    cells: strata.Cells,
    fits: dict[str, Fitted],
    model: groups.Model,
) -> Headline:
    """Σ w_g θ_g over the joint cells, with its full covariance (pooling.Pooled.combine)."""
    grouping = "+".join(cells.attributes)
    if len(cells.attributes) == 1:
        fitted = fits[cells.attributes[0]]
        code = battles.take(codes[cells.attributes[0]])
    else:
        code = battles.take(strata.cell_of(config, codes))
        fitted = _fit(battles, code, len(cells.names), model, config.rating.interval)
    fit = fitted.fit
    # The last group holds battles of participants who did not give an attribute: weight 0.
    weights = np.append(cells.shares, 0.0)
    mean, cov, inflation = pooled_robust.widen(fit.pooled, fitted.sandwich, weights)
    # marked, not counted: a bincount copies the codes to intp (70 MB at 10M battles)
    played = np.zeros(len(cells.names), dtype=bool)
    played[code[code >= 0]] = True
    empty = [cells.names[i] for i in np.flatnonzero((cells.shares > 0) & ~played)]
    notes = [_empty_note(empty, fit.estimate.tau)] if empty else []
    info = _info(dimension, grouping, fit).model_copy(
        update={
            "cells": int((cells.shares > 0).sum()),
            "empty_cells": empty,
            "target": cells.method,
        }
    )
    names = dict(zip(cells.names, map(float, cells.shares), strict=True))
    return Headline(mean, cov, inflation, names, notes, info)


def _fit(
    battles: Battles, code: np.ndarray, n_groups: int, model: groups.Model, level: float
) -> Fitted:
    fit = groups.fit_groups(
        battles.n_models, battles.a, battles.b, battles.outcome, code, n_groups, model, level
    )
    # Without cluster codes (a caller that has none) every battle is its own cluster.
    clusters = [battles.take(c) for c in battles.clusters] or [np.arange(len(battles.a))]
    sw = pooled_robust.sandwich(fit, battles.a, battles.b, battles.outcome, code, clusters, model)
    return Fitted(fit, sw)


def _info(dimension: str, grouping: str, fit: groups.GroupFit) -> PoolingInfo:
    e = fit.estimate
    return PoolingInfo(
        dimension=dimension,
        grouping=grouping,
        tau=e.tau,
        tau_lower=e.lower,
        tau_upper=e.upper,
        groups=e.groups,
        tau_p_value=e.p_value,
    )


def _empty_note(empty: list[str], tau: float) -> str:
    named = ", ".join(empty[:NAMED_CELLS])
    if len(empty) > NAMED_CELLS:
        named += f" and {len(empty) - NAMED_CELLS} more"
    return (
        f"No battles in {len(empty)} population cell(s) with a nonzero share: {named}. They "
        f"count with the population estimate and tau = {tau:.2f} more uncertainty per model."
    )
