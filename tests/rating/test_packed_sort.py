"""Rank counts by the sort of integers carrying the model index (rating/packed_sort.py).

The expected counts are the definition, computed directly: one stable ``np.argsort`` per row
of the keys, tallied by hand (the order `ranks._add_key_counts` has always given)."""

from __future__ import annotations

import numpy as np
import pytest

from prefboard.rating import ranks
from prefboard.rating.packed_sort import add_packed_counts


def _stable_counts(keys: np.ndarray) -> np.ndarray:
    m = keys.shape[1]
    want = np.zeros((m, m), dtype=np.int64)
    for row in np.argsort(keys, axis=1, kind="stable"):
        want[row, np.arange(m)] += 1
    return want


@pytest.mark.parametrize("m", [1, 2, 3, 12, 300, 513])
def test_packed_counts_are_the_stable_sorts_counts(m: int) -> None:
    rng = np.random.default_rng(m)
    # scales from tiny to huge, negative and positive keys, as posterior draws on any board
    keys = rng.standard_normal((400, m)) * 10.0 ** rng.uniform(-8, 8, m) + rng.normal(0, 5, m)
    counts = np.zeros((m, m), dtype=np.int64)
    assert add_packed_counts(keys, counts)
    assert np.array_equal(counts, _stable_counts(keys))
    # counts add up over blocks, as summarize's blocks of draws do
    assert add_packed_counts(keys, counts)
    assert np.array_equal(counts, 2 * _stable_counts(keys))


def _declined(keys: np.ndarray) -> None:
    counts = np.zeros((keys.shape[1],) * 2, dtype=np.int64)
    assert not add_packed_counts(keys, counts)
    assert not counts.any()  # nothing half-counted: the index sort counts the whole block
    ranks._add_key_counts(keys, counts)
    assert np.array_equal(counts, _stable_counts(keys))


def test_blocks_it_cannot_order_exactly_are_declined_and_counted_by_the_index_sort() -> None:
    rng = np.random.default_rng(7)
    keys = rng.standard_normal((50, 20))
    # two keys one unit in the last place apart: their low bits hold the index, so they are
    # not told apart here; the stable sort puts the smaller first
    near = keys.copy()
    near[10, [7, 3]] = 1.0, np.nextafter(1.0, 2.0)  # 1.0's low bits are zeros: same high bits
    _declined(near)
    equal = keys.copy()
    equal[5, 2] = equal[5, 9]  # a tie: the stable sort orders it by model index
    _declined(equal)
    for zero in (0.0, -0.0):  # +0 and -0 are equal keys with different bits
        z = keys.copy()
        z[0, [1, 4]] = [zero, -zero]
        _declined(z)
    nan = keys.copy()
    nan[2, 6] = np.nan
    _declined(nan)
    twice_inf = keys.copy()
    twice_inf[8, [0, 5]] = np.inf  # models absent from a draw rank last, in index order
    _declined(twice_inf)


def test_one_infinity_and_denormals_are_ordered_exactly() -> None:
    rng = np.random.default_rng(11)
    keys = rng.standard_normal((60, 9))
    keys[3, 2], keys[4, 0] = np.inf, -np.inf
    keys[7, :3] = [5e-324, -5e-324, 1e-310]
    counts = np.zeros((9, 9), dtype=np.int64)
    assert add_packed_counts(keys, counts)
    assert np.array_equal(counts, _stable_counts(keys))


def test_no_rows_or_no_models_are_left_to_the_index_sort() -> None:
    assert not add_packed_counts(np.empty((0, 4)), np.zeros((4, 4), dtype=np.int64))
    assert not add_packed_counts(np.empty((3, 0)), np.zeros((0, 0), dtype=np.int64))
