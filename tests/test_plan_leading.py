"""`batches._leading` picks the lazy scorer's leading pairs exactly as the full stable sort
did (``np.argsort(-stale, kind="stable")[:k]``, the code it replaced: the expected values
below are that expression's)."""

from __future__ import annotations

import numpy as np
import pytest

from prefboard.matchmaking import batches


def _full(values: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-values, kind="stable")[:k]


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 40, 44_850])
def test_leading_is_the_full_stable_sorts_prefix(size: int) -> None:
    rng = np.random.default_rng(size)
    for trial in range(30):
        # Few distinct values, so ties straddle the k-th place; -inf for pairs not candidates,
        # +inf, and zeros of both signs.
        values = rng.choice([0.0, -0.0, 1e-3, 0.5, 2.0, np.inf, -np.inf], size)
        if trial % 2:
            values = values + rng.normal(0.0, 1.0, size) * (rng.random(size) < 0.5)
        got = batches._leading(values, 16)
        assert got.tolist() == _full(values, 16).tolist()


def test_leading_with_nan_falls_back_to_the_full_sort() -> None:
    values = np.array([0.3, np.nan, 0.3, 1.0] * 10)
    assert batches._leading(values, 16).tolist() == _full(values, 16).tolist()
