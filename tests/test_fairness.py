"""Fairness and sample-adequacy figures on a board whose answers are known by construction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from prefboard.rating.rate import _components
from prefboard.standings import fairness

from .rating.test_tournaments import make_board, rate, skewed_battles


@pytest.fixture
def standings(tmp_path: Path):
    return rate(make_board(tmp_path, skewed_battles()[:1200]))


def test_effective_sample_size_matches_kish(standings) -> None:
    (ess,) = fairness.effective_samples(standings)
    shares = {s.value: s.sample_share for s in standings.samples}
    n = sum(s.participants for s in standings.samples)
    # Kish (1965): n_eff = n / Σ P_g² / p_g with population shares P = 0.5 / 0.5
    expected = n / (0.25 / shares["young"] + 0.25 / shares["old"])
    assert ess.effective == pytest.approx(expected)
    assert ess.effective < n  # skewed sample: weighting costs information


def test_tie_rate_and_sampling_bias(standings) -> None:
    pooled = standings.table("overall")
    ties = sum(e.ties for e in pooled.entries) / 2
    assert fairness.tie_rate(pooled) == pytest.approx(ties / pooled.battles)
    bias = fairness.sampling_bias(pooled)
    # x and y play in every one of the 1,200 rows' x-y battles; z only in the others
    assert bias.max_battles > bias.min_battles
    assert bias.spearman is not None and -1 <= bias.spearman <= 1


def test_group_consistency_covers_published_groups(standings) -> None:
    rows = {c.model: c for c in fairness.group_consistency(standings, "overall")}
    assert rows["z"].worst == 3 and rows["z"].groups == 2  # weakest in both age groups
    taus = dict(((a, v), t) for a, v, t in fairness.group_agreement(standings, "overall"))
    assert set(taus) == {("age", "young"), ("age", "old")}


def test_components_of_the_comparison_graph() -> None:
    # w-x and y-z battles only: two islands that no ranking can order against each other
    a, b = np.array([0, 2, 0]), np.array([1, 3, 1])
    assert _components(4, a, b, np.arange(3)) == 2
    assert _components(4, np.array([0, 1, 2]), np.array([1, 2, 3]), np.arange(3)) == 1
    assert _components(4, a, b, np.array([], dtype=np.int64)) == 0
