"""Band calibration study: the scoring on known answers, the simulator, and a small study."""

from __future__ import annotations

import numpy as np
import pytest

from prefboard.rating import trueskill as ts
from prefboard.studies import online_bands as cal


def test_coverage_known_answer_after_offset_alignment() -> None:
    # mu_mean sits 10 above the true skills on average: the true skills are shifted by +10.
    true = np.array([0.0, 1.0, 2.0, 3.0])
    mu_mean = np.array([10.0, 11.0, 12.0, 15.0])  # mean 12, true mean 1.5 -> shift 10.5
    aligned = true + 10.5  # 10.5, 11.5, 12.5, 13.5
    lower = np.array([10.0, 11.6, 12.0, 13.5])  # covers, misses (11.5 < 11.6), covers, edge
    upper = np.array([11.0, 12.0, 12.4, 14.0])  # ..., ..., misses (12.5 > 12.4), covers
    assert aligned.tolist() == [10.5, 11.5, 12.5, 13.5]
    assert cal.coverage(true, lower, upper, mu_mean) == 0.5
    # Without the shift every band would miss; a pure offset never costs coverage.
    assert cal.coverage(true + 100.0, lower, upper, mu_mean) == 0.5


def test_coverage_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError):
        cal.coverage(np.zeros(3), np.zeros(2), np.ones(3), np.zeros(3))


def test_simulate_battles_deterministic_and_valid() -> None:
    skill = np.linspace(20.0, 30.0, 7)
    eps = ts.draw_margin(0.1, 25 / 6)
    first = cal.simulate_battles(skill, 5_000, 25 / 6, eps, seed=3)
    again = cal.simulate_battles(skill, 5_000, 25 / 6, eps, seed=3)
    other = cal.simulate_battles(skill, 5_000, 25 / 6, eps, seed=4)
    for x, y in zip(first, again, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(first[0], other[0])
    a, b, outcome = first
    assert a.min() >= 0 and max(a.max(), b.max()) < 7 and not np.any(a == b)
    assert set(np.unique(outcome)) <= {ts.A_WINS, ts.B_WINS, ts.DRAW}
    # The stronger side wins more often.
    stronger_a = skill[a] > skill[b]
    decided = outcome != ts.DRAW
    assert np.mean(outcome[decided & stronger_a] == ts.A_WINS) > 0.6


def test_tie_share_matches_margin_for_equal_skills() -> None:
    beta = 25 / 6
    for p in (0.1, 0.3):
        _, _, outcome = cal.simulate_battles(
            np.full(5, 25.0), 100_000, beta, ts.draw_margin(p, beta), seed=1
        )
        # Binomial sd at n = 1e5 is <= 0.0015; allow ~5 sd.
        assert abs(np.mean(outcome == ts.DRAW) - p) < 0.008


def test_bands_share_the_tournaments_signature() -> None:
    mu = np.array([24.0, 26.0])
    sigma = np.array([1.0, 2.0])
    spread = np.array([0.5, 0.3])
    for name, band in cal.CANDIDATES.items():
        lower, upper = band(mu, sigma, spread, 1.96)
        assert lower.shape == upper.shape == (2,), name
        assert np.all(lower < mu) and np.all(mu < upper), name
    lower, upper = cal.CANDIDATES["sigma"](mu, sigma, spread, 2.0)
    np.testing.assert_allclose(upper - mu, [2.0, 4.0])
    lower, upper = cal.make_spread_scaled(0.5)(mu, sigma, spread, 2.0)
    np.testing.assert_allclose(upper - mu, 2.0 * np.sqrt(spread**2 + 0.25 * sigma**2))


def test_small_study_recommended_band_covers() -> None:
    name, tau = cal.RECOMMENDED
    rows = cal.study(
        [8], [3_000], [0, 1], taus=[tau], bands={name: cal.CANDIDATES[name]}, permutations=5
    )
    assert len(rows) == 1
    row = rows[0]
    assert row["intervals"] == 16 and row["battles"] == 3_000
    assert 0.75 <= row["coverage"] <= 1.0
    # The error of the order-averaged mu is of the size of sigma, not 5x off either way.
    assert 0.2 < row["rmse"] / row["sigma"] < 2.0


def test_default_tau_band_stays_wide_with_more_battles() -> None:
    # The finding behind RECOMMENDED: with tau > 0 sigma bottoms out near 0.8 (band ~3.1 wide)
    # however many battles there are, while with tau = 0 it keeps shrinking.
    rows = cal.study(
        [8],
        [20_000],
        [0],
        taus=[cal.DEFAULT_TAU, 0.0],
        bands={"sigma": cal.band_sigma},
        permutations=2,
    )
    width = {r["tau"]: r["width"] for r in rows}
    assert width[cal.DEFAULT_TAU] > 2.5
    assert width[0.0] < 0.6 * width[cal.DEFAULT_TAU]
