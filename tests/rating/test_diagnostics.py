"""The online history's rounding (rating/diagnostics.py)."""

from __future__ import annotations

import math

import numpy as np

from prefboard.rating.diagnostics import rounded


def _bits(values: list[float]) -> bytes:
    return np.array(values, dtype=np.float64).tobytes()


def test_rounded_is_pythons_round_to_the_bit() -> None:
    # The expected values are Python's own round(v, 4), which the history published before
    # the vectorised rounding; halves and near-halves (0.00005, 1.23445, k/10^4 + 5e-5) are
    # where a scaled rint could pick the other integer, so they are here on purpose.
    rng = np.random.default_rng(7)
    values = np.concatenate(
        [
            rng.normal(25.0, 8.0, 200_000),
            rng.uniform(-1e-3, 1e-3, 20_000),
            np.arange(0, 20_000) / 1e4 + 0.00005,
            [0.00005, -0.00005, 1.23445, 2.5e-5, 0.0, -0.0, -1e-9, 5e15, -1e300, 1e-320],
        ]
    )
    expected = [round(v, 4) for v in values.tolist()]
    assert _bits(rounded(values, 4).tolist()) == _bits(expected)


def test_rounded_keeps_shape_and_non_finite_values() -> None:
    grid = np.array([[1.23456, math.nan], [math.inf, -math.inf]])
    out = rounded(grid, 4)
    assert out.shape == (2, 2)
    assert out[0, 0] == 1.2346 and math.isnan(out[0, 1])
    assert out[1].tolist() == [math.inf, -math.inf]
