"""When to stop: battles still needed for the ``[plan]`` goal, and recruitment quotas per group.

Goals (``[plan] goal``):

* ``"top"``: the ``top_k`` pairs of adjacent ranks 1..top_k+1 are each separated by the test on
  their difference, ``(m_i - m_j) / sd(s_i - s_j) >= z``;
* ``"half_width"``: every model's band half-width (``z95 * sd``) is at most ``max_half_width``.

Repeated checking: the goal is checked after every batch, and checking a test many times
until it passes inflates its error. ``z`` is Bonferroni-corrected over the ``top_k`` pairs and
the ``looks`` planned checks: each test runs at one-sided level ``(1 - level) / (2 k looks)``,
so the chance of declaring any of them in the wrong order over the whole plan stays at most
``1 - level`` (conservative; valid for at most ``looks`` checks - re-plan after that).

Projection ("how many more battles"), by simulation from the current posterior: batches of
``batch`` battles are added in information form, the exploration share spread over all pairs
as uniform random pairs would be (in expectation), the rest split evenly over the target pairs
not yet projected to pass. After each batch the projected covariance ``C_N`` gives each
difference's future sd; the future estimates are drawn from the preposterior
``N(m, D (C - C_N) D')`` (what the means can still move by) and the goal is met in a draw when
every target pair passes. The estimate is the first batch at which at least half the draws
(the median) meet it. Participants: battles / battles per participant of the table so far.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from prefboard.matchmaking import batches
from prefboard.matchmaking import information as info
from prefboard.rating.batch_terms import laplacian

__all__ = ["Projection", "band_half_width", "project", "separation_z"]

_DRAWS = 2000


def separation_z(alpha: float, k: int, looks: int) -> float:
    """One-sided z of each pair's test: Bonferroni over ``k`` pairs and ``looks`` checks."""
    return float(ndtri(1.0 - alpha / (2.0 * max(k, 1) * max(looks, 1))))


def band_half_width(cov: np.ndarray, z: float) -> np.ndarray:
    """Half-width of each model's band relative to the average skill (the level is not
    identified by comparisons; as the site's bands)."""
    m = cov.shape[0]
    centre = np.eye(m) - 1.0 / m
    return z * np.sqrt(np.maximum(np.diag(centre @ cov @ centre), 0.0))


@dataclass(frozen=True)
class Projection:
    met_now: bool
    battles: int | None
    """More battles needed (median over the simulation); None: not within ``max_batches``."""
    passing: int
    """Target pairs (or models, for half_width) that pass now."""
    targets: int
    z: float
    horizon: int = 0
    """Battles the projection looked ahead (``max_batches * batch``)."""


def _site_precision(mean: np.ndarray, beta: float, eps: float) -> tuple[info.PairSet, np.ndarray]:
    """Precision one battle adds along e_i - e_j, per pair, at the current means."""
    pairs = info.PairSet.of(len(mean))
    m = mean[pairs.i] - mean[pairs.j]
    tiny = np.full(m.shape, 1e-8)
    v_post = info.expected_difference_variance(m, tiny, beta, eps)
    return pairs, (tiny / v_post - 1.0) / tiny


def _first_step(met: Callable[[int], bool], max_steps: int) -> int | None:
    """Smallest step in [1, max_steps] with ``met(step)``, by doubling then bisection (the
    projected precision grows with every batch, so the goal, once met, stays met)."""
    hi = 1
    while not met(hi):
        if hi >= max_steps:
            return None
        hi = min(2 * hi, max_steps)
    lo = hi // 2  # not met (or 0)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if met(mid):
            hi = mid
        else:
            lo = mid
    return hi


@dataclass(frozen=True)
class _Setup:
    """What both goals' projections start from."""

    mean: np.ndarray
    cov: np.ndarray
    pairs: info.PairSet
    lam: np.ndarray
    """Precision one battle adds along e_i - e_j, per pair."""
    spread: np.ndarray
    """Precision one batch's exploration share adds (spread over all pairs)."""
    batch: int
    explore: float
    max_batches: int

    @property
    def horizon(self) -> int:
        return self.max_batches * self.batch


def project(
    mean: np.ndarray,
    cov: np.ndarray,
    beta: float,
    eps: float,
    *,
    goal: str,
    k: int,
    level: float,
    looks: int,
    max_half_width: float | None,
    batch: int,
    explore: float,
    seed: int,
    max_batches: int = 200,
) -> Projection:
    """Battles still needed for the goal (see the module docstring). Each batch adds the same
    expected precision (exploration spread over all pairs, the rest over what is short of the
    goal *now*), so the precision after s batches is ``P0 + s * added`` and the first batch
    meeting the goal is found by bisection."""
    pairs, lam = _site_precision(mean, beta, eps)
    spread = laplacian(len(mean), pairs.i, pairs.j, lam) * (explore * batch / max(pairs.size, 1))
    setup = _Setup(mean, cov, pairs, lam, spread, batch, explore, max_batches)
    if goal == "half_width":
        return _project_half_width(setup, 1.0 - level, float(max_half_width or 0.0))
    return _project_top(setup, 1.0 - level, k, looks, seed)


def _project_half_width(setup: _Setup, alpha: float, limit: float) -> Projection:
    n = len(setup.mean)
    z95 = float(ndtri(1.0 - alpha / 2.0))
    hw = band_half_width(setup.cov, z95)
    now = int(np.sum(hw <= limit))
    if now == n:
        return Projection(True, 0, now, n, z95, setup.horizon)
    # The rest of each batch goes to the pairs of the models still too wide, in proportion
    # to how far each is from the limit.
    pairs = setup.pairs
    wide = np.maximum(hw / max(limit, 1e-12) - 1.0, 0.0)
    weight = setup.lam * (wide[pairs.i] + wide[pairs.j])
    focus = laplacian(n, pairs.i, pairs.j, weight) * (
        (1 - setup.explore) * setup.batch / weight.sum()
    )
    added = setup.spread + focus
    precision = np.linalg.inv(setup.cov)

    def narrow(step: int) -> bool:
        c_n = np.linalg.inv(precision + step * added)
        return bool(np.all(band_half_width(c_n, z95) <= limit))

    step = _first_step(narrow, setup.max_batches)
    battles = None if step is None else step * setup.batch
    return Projection(False, battles, now, n, z95, setup.horizon)


def _project_top(setup: _Setup, alpha: float, k: int, looks: int, seed: int) -> Projection:
    n = len(setup.mean)
    hi, lo = batches.adjacent_pairs(setup.mean, k)
    k = hi.size
    z = separation_z(alpha, k, looks)
    diff = np.zeros((k, n))
    diff[np.arange(k), hi] = 1.0
    diff[np.arange(k), lo] = -1.0
    m_now = diff @ setup.mean

    def sds(c: np.ndarray) -> np.ndarray:
        var = np.einsum("ij,jk,ik->i", diff, c, diff)
        return np.asarray(np.sqrt(np.maximum(var, 1e-300)), dtype=np.float64)

    passing = m_now / sds(setup.cov) >= z
    if passing.all():
        return Projection(True, 0, k, k, z, setup.horizon)
    noise = np.random.default_rng(seed).standard_normal((_DRAWS, k))
    lam_target = setup.lam[_pair_index(n, hi, lo)]
    open_ = np.flatnonzero(~passing)
    added = setup.spread.copy()
    share = (1 - setup.explore) * setup.batch / open_.size
    for t in open_:
        added += share * lam_target[t] * np.outer(diff[t], diff[t])
    precision = np.linalg.inv(setup.cov)

    def separated(step: int) -> bool:
        c_n = np.linalg.inv(precision + step * added)
        moved = diff @ (setup.cov - c_n) @ diff.T
        chol = np.linalg.cholesky(0.5 * (moved + moved.T) + 1e-12 * np.eye(k))
        future = m_now + noise @ chol.T
        return bool(np.mean(np.all(future / sds(c_n) >= z, axis=1)) >= 0.5)

    step = _first_step(separated, setup.max_batches)
    battles = None if step is None else step * setup.batch
    return Projection(False, battles, int(passing.sum()), k, z, setup.horizon)


def _pair_index(n: int, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """Index into PairSet.of(n) of the unordered pairs (hi[t], lo[t])."""
    i = np.minimum(hi, lo)
    j = np.maximum(hi, lo)
    # Row i of the upper triangle starts after sum_{r<i} (n - 1 - r) pairs.
    return np.asarray((i * (2 * n - i - 1)) // 2 + (j - i - 1), dtype=np.int64)


def participants_for(battles: int, table_battles: int, table_participants: int) -> int:
    """Participants the battles take at the table's battles per participant so far."""
    per = table_battles / table_participants if table_participants else 1.0
    return math.ceil(battles / max(per, 1e-9))
