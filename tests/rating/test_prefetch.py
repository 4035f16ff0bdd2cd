"""The shuffle's partners fetched ahead (rating/prefetch, replay._fisher_yates): the cache hint
must change no value, and the shuffle must be the plain Fisher-Yates over the splitmix64 stream
it always was (every shuffled replay, and its bits, depends on it)."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from prefboard.rating import replay
from prefboard.rating.prefetch import prefetch


def plain_fisher_yates(buf: np.ndarray, state: np.uint64) -> None:
    """The textbook loop in Python, as replay._fisher_yates was written before the lookahead:
    for i = n - 1 down to 1, swap i with the next splitmix64 output modulo i + 1."""
    for i in range(buf.shape[0] - 1, 0, -1):
        state, bits = replay._splitmix64(np.uint64(state))
        j = int(np.uint64(bits) % np.uint64(i + 1))
        buf[i], buf[j] = buf[j], buf[i]


@pytest.mark.parametrize("dtype", [np.uint16, np.int32, np.int64])
@pytest.mark.parametrize("size", [0, 1, 2, 3, 63, 64, 65, 66, 127, 128, 129, 1000])
def test_the_shuffle_is_the_plain_fisher_yates(dtype: type, size: int) -> None:
    base = np.random.default_rng(size).integers(0, 2**15, size).astype(dtype)
    for seed in (0, 12345, 2**64 - 3):
        state = np.uint64(replay._job_state(np.uint64(seed), 3, 1))
        ours, ref = base.copy(), base.copy()
        replay._fisher_yates(ours, state)
        plain_fisher_yates(ref, state)
        np.testing.assert_array_equal(ours, ref)
        np.testing.assert_array_equal(np.sort(ours), np.sort(base))


@njit(cache=False)
def _sum_with_hints(values: np.ndarray, order: np.ndarray) -> float:
    total = 0.0
    for k in range(order.shape[0]):
        if k + 8 < order.shape[0]:
            prefetch(values, order[k + 8])
        total += values[order[k]]
    return total


def test_the_hint_changes_no_value() -> None:
    values = np.random.default_rng(1).normal(size=50_000)
    order = np.random.default_rng(2).permutation(values.size)
    before = values.copy()
    assert _sum_with_hints(values, order) == sum(values[order].tolist())
    np.testing.assert_array_equal(values, before)
