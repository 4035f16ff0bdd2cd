"""Post-stratification cells: the joint cells of `rating.stratify_by` and their target shares.

The target population is one vector of cell shares used for every model, so every model's
headline describes the same population. Shares come from the config's joint shares when it
gives them; otherwise from raking (iterative proportional fitting, Deming & Stephan 1940) of the
sample's joint participant counts to the slices' marginal shares, which keeps the sample's
association between attributes and matches every marginal. Half a participant is added to every
cell first, so a cell nobody in the sample belongs to is not declared impossible by accident (and
IPF can always reach the marginals); a value with marginal share 0 still gets 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np

from prefboard.config import Config

SEED_COUNT = 0.5
RAKE_TOLERANCE = 1e-12
RAKE_MAX_SWEEPS = 10_000


@dataclass(frozen=True)
class Cells:
    """The joint cells, in the product order of the strata's declared values."""

    attributes: list[str]
    names: list[str]
    shares: np.ndarray
    method: str  # "joint shares", "raked to marginal shares" or "population shares"


def cell_names(config: Config) -> list[str]:
    return [" × ".join(combo) for combo in product(*[s.values for s in config.strata])]


def cell_of(config: Config, codes: dict[str, np.ndarray]) -> np.ndarray:
    """The cell index of each row given its per-attribute value codes (-1 if any is unknown)."""
    strata = config.strata
    cell = np.zeros(len(next(iter(codes.values()))), dtype=np.int64)
    known = np.ones_like(cell, dtype=bool)
    for s in strata:
        c = codes[s.attribute]
        known &= c >= 0
        cell = cell * len(s.values) + np.maximum(c, 0)
    return np.where(known, cell, -1)


def target_cells(config: Config, participant_codes: dict[str, np.ndarray]) -> Cells:
    """Target population share of every cell; `participant_codes` are per active participant."""
    strata = config.strata
    if not strata:
        return Cells([], [], np.empty(0), "none")
    attributes = [s.attribute for s in strata]
    names = cell_names(config)
    shape = tuple(len(s.values) for s in strata)
    if config.rating.joint_population:
        shares = np.zeros(shape)
        for row in config.rating.joint_population:
            at = tuple(s.values.index(row.cell[s.attribute]) for s in strata)
            shares[at] = row.share
        return Cells(attributes, names, shares.ravel(), "joint shares")
    marginals = [np.array([s.population[v] for v in s.values]) for s in strata]
    if len(strata) == 1:
        return Cells(attributes, names, marginals[0], "population shares")
    cell = cell_of(config, participant_codes)
    counts = np.bincount(cell[cell >= 0], minlength=len(names)).astype(float)
    raked = rake(counts.reshape(shape) + SEED_COUNT, marginals)
    return Cells(attributes, names, raked.ravel(), "raked to marginal shares")


def population_of(config: Config, attribute: str) -> dict[str, float]:
    """A slice's population shares: as configured, else the marginal of the joint shares (so the
    sample-vs-population views work when only `rating.joint_population` is given)."""
    sl = next(s for s in config.slices if s.attribute == attribute)
    joint = config.rating.joint_population
    if sl.population or not joint or attribute not in config.rating.stratify_by:
        return dict(sl.population)
    out = dict.fromkeys(sl.values, 0.0)
    for row in joint:
        out[row.cell[attribute]] += row.share
    return out


def rake(seed: np.ndarray, marginals: list[np.ndarray]) -> np.ndarray:
    """Iterative proportional fitting of a positive table to the given marginal shares.

    Each sweep rescales the table along one axis at a time to match that axis's marginal; it
    converges for a positive seed and marginals that each sum to 1.
    """
    table = seed / seed.sum()
    for _ in range(RAKE_MAX_SWEEPS):
        for axis, target in enumerate(marginals):
            other = tuple(i for i in range(table.ndim) if i != axis)
            current = table.sum(axis=other)
            scale = np.divide(target, current, out=np.zeros_like(target), where=current > 0)
            shape = [1] * table.ndim
            shape[axis] = len(target)
            table = table * scale.reshape(shape)
        error = max(
            np.abs(table.sum(axis=tuple(j for j in range(table.ndim) if j != i)) - m).max()
            for i, m in enumerate(marginals)
        )
        if error < RAKE_TOLERANCE:
            break
    return np.asarray(table, dtype=np.float64)
