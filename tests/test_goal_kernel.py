"""The compiled goal information (matchmaking/goal_kernel.py) gives the numpy formula's bits.

The reference below is the numpy code of matchmaking/goal.py as it was before the kernels
(main at 04cd79c), kept here verbatim in substance: every expected number in this file comes
from it, and every comparison is of the raw bytes (so -0.0 and NaN payloads count too).
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from scipy.special import ndtr

from prefboard.matchmaking import goal, goal_kernel
from prefboard.matchmaking import information as info

BETA, EPS = 25.0 / 6.0, 0.3


def _old_binary_entropy(p: np.ndarray) -> np.ndarray:
    r = 1.0 - p
    out = p * np.log(p, out=np.zeros_like(p), where=p > 0.0)
    out += r * np.log(r, out=np.zeros_like(r), where=r > 0.0)
    return np.asarray(np.negative(out, out=out), dtype=np.float64)


def _old_drops(g: goal._Goal, i: np.ndarray, j: np.ndarray, shrink: np.ndarray) -> np.ndarray:
    cross = g.w[:, i] - g.w[:, j]
    v_new = np.maximum(g.v[:, None] - cross**2 * shrink[None, :], 1e-300)
    after = _old_binary_entropy(ndtr(np.abs(g.m)[:, None] / np.sqrt(v_new)))
    return np.asarray(np.maximum(g.before[:, None] - after, 0.0), dtype=np.float64)


def _old_goal_information(
    mean: np.ndarray, cov: np.ndarray, pairs: info.PairSet, idx: np.ndarray, targets: tuple
) -> np.ndarray:
    g = goal._Goal.of(mean, cov, targets)
    i, j, shrink = goal._shrinkage(mean, cov, pairs, idx, BETA, EPS)
    out = np.empty(len(idx))
    for c in goal._chunks(len(idx), len(g.m)):
        out[c] = _old_drops(g, i[c], j[c], shrink[c]).sum(axis=0)
    return out


def _board(n: int, seed: int, spread: float, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """A random board: means ``spread`` apart on average, a dense covariance of size ``scale``
    (a few near-duplicate models, so some targets are almost settled by one battle)."""
    rng = np.random.default_rng(seed)
    mean = np.sort(rng.normal(0.0, spread, n))[::-1].copy()
    a = rng.normal(0.0, 1.0, (n, max(2, n // 3)))
    cov = scale * (a @ a.T / a.shape[1] + np.diag(rng.uniform(1e-6, 1.0, n)))
    return mean, cov


def _same_bits(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype == np.float64 and a.shape == b.shape
    assert a.tobytes() == b.tobytes(), np.flatnonzero(a.view(np.uint64) != b.view(np.uint64))


@pytest.mark.parametrize(
    ("n", "spread", "scale"),
    [
        (2, 1.0, 1.0),
        (3, 5.0, 4.0),
        (9, 0.01, 30.0),
        (40, 3.0, 2.0),
        (40, 400.0, 1e-4),
        (130, 2.0, 8.0),
    ],
)
def test_goal_information_matches_the_numpy_formula(n: int, spread: float, scale: float) -> None:
    mean, cov = _board(n, n, spread, scale)
    pairs = info.PairSet.of(n)
    top = min(n - 1, 25)
    targets = (np.arange(top), np.arange(1, top + 1))
    for idx in (np.arange(pairs.size), np.array([pairs.size - 1]), np.arange(min(2, pairs.size))):
        new = goal.goal_information(mean, cov, pairs, idx, targets, BETA, EPS)
        _same_bits(new, _old_goal_information(mean, cov, pairs, idx, targets))


def test_small_blocks_and_a_last_block_merged(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many column blocks (one of 3 columns at the end: a lone last column is merged)."""
    monkeypatch.setattr(goal, "_BLOCK_CELLS", 40)
    mean, cov = _board(12, 7, 2.0, 3.0)
    pairs = info.PairSet.of(12)  # 66 pairs, 11 targets: blocks of 3 columns
    targets = (np.arange(11), np.arange(1, 12))
    for idx in (np.arange(pairs.size), np.arange(pairs.size - 1)):
        new = goal.goal_information(mean, cov, pairs, idx, targets, BETA, EPS)
        _same_bits(new, _old_goal_information(mean, cov, pairs, idx, targets))


def test_target_gains_match_the_numpy_formula() -> None:
    mean, cov = _board(30, 3, 4.0, 2.0)
    pairs = info.PairSet.of(30)
    targets = (np.arange(29), np.arange(1, 30))
    g = goal._Goal.of(mean, cov, targets)
    for k in (0, 17, pairs.size - 1):
        new = goal.target_gains(mean, cov, pairs, k, targets, BETA, EPS)
        i, j, shrink = goal._shrinkage(mean, cov, pairs, np.array([k]), BETA, EPS)
        _same_bits(new, _old_drops(g, i, j, shrink)[:, 0])


def test_extreme_cells_floor_saturation_and_unmoved_targets() -> None:
    """Hand-made cells: v_new at the 1e-300 floor (shrink far too large), probabilities of
    exactly 1 (|m| huge: r = 0, the masked log), m = 0 (p = 1/2), tiny and huge variances,
    cells the battle does not move (cross = 0 or below v's last bit: the skipped ndtr), and
    a NaN mean (NaN must come out where numpy gave NaN)."""
    m = np.array([0.0, 1e-300, 1e-8, 0.3, -2.0, 40.0, -1e6, 7.0, np.nan, 3.0])
    v = np.array([1.0, 1e-300, 1e-20, 2.0, 0.5, 1.0, 1e-3, 1e300, 1.0, 1e-300])
    rng = np.random.default_rng(5)
    w = rng.normal(0.0, 1.0, (m.size, 6)) * np.array([1.0, 1e-12, 1e3, 0.0, 1e-200, 1.0])
    w[:, 3] = w[:, 0]  # pair (0, 3): cross is exactly 0
    i = np.array([0, 0, 1, 2, 4, 5, 1, 2])
    j = np.array([3, 1, 2, 4, 5, 0, 3, 5])
    shrink = np.array([0.5, 1e300, 0.1, 1e-30, 2.0, 0.0, 1e-3, 0.9])
    g = goal._Goal(m, np.maximum(v, 1e-300), w, _old_binary_entropy(ndtr(np.abs(m) / np.sqrt(v))))
    old = _old_drops(g, i, j, shrink)
    _same_bits(g.drops(i, j, shrink), old)
    sums = np.empty(i.size)
    g.drop_sums(i, j, shrink, sums)
    _same_bits(sums, old.sum(axis=0))
    assert np.isnan(sums).all()  # the NaN target's row reaches every column, as in numpy
    rows = np.arange(m.size) != 8
    finite = goal._Goal(m[rows], g.v[rows], w[rows], g.before[rows])
    finite.drop_sums(i, j, shrink, sums)
    _same_bits(sums, _old_drops(finite, i, j, shrink).sum(axis=0))
    assert (sums[[0, 5]] == 0.0).all() and (sums[[1, 4]] > 0.0).all()


def test_no_targets_give_zero_information() -> None:
    mean, cov = _board(5, 1, 1.0, 1.0)
    pairs = info.PairSet.of(5)
    empty = (np.array([], dtype=np.int64), np.array([], dtype=np.int64))
    new = goal.goal_information(mean, cov, pairs, np.arange(pairs.size), empty, BETA, EPS)
    _same_bits(new, _old_goal_information(mean, cov, pairs, np.arange(pairs.size), empty))


@njit(cache=False)
def _compiled_ndtr(x: np.ndarray, out: np.ndarray) -> None:
    for k in range(x.size):
        out[k] = goal_kernel._ndtr(x[k], 0)


def test_the_kernels_ndtr_is_scipys_bit_for_bit() -> None:
    """The address the kernels call gives scipy.special.ndtr's bits: the body (|x| < 1/sqrt 2,
    erf), both tails (erfc, then 1 - y), underflow to 0 and saturation to 1, and specials."""
    rng = np.random.default_rng(11)
    x = np.concatenate(
        [
            rng.normal(0.0, 1.0, 400_000),
            rng.uniform(-40.0, 40.0, 400_000),
            rng.uniform(8.0, 9.0, 100_000),  # where 1 - y rounds to 1
            -np.exp(rng.uniform(0.0, 6.5, 100_000)),  # far left tail, down to underflow
            [0.0, -0.0, 5e-324, 1e-300, -1e-300, 1e308, -1e308, np.inf, -np.inf],
        ]
    )
    out = np.empty_like(x)
    _compiled_ndtr(x, out)
    _same_bits(out, ndtr(x))
    assert np.isnan(_compiled_ndtr_one(np.nan))


def _compiled_ndtr_one(x: float) -> float:
    out = np.empty(1)
    _compiled_ndtr(np.array([x]), out)
    return float(out[0])
