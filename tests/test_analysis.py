"""P(best) and P(top k) by Monte Carlo from the posteriors."""

from __future__ import annotations

import math

import pytest

from prefboard.analysis import p_best
from prefboard.standings import Entry, Table


def make_table(models: list[tuple[str, float, float]]) -> Table:
    entries = [
        Entry(
            model=m,
            mu=mu,
            sigma=sigma,
            mu_mean=mu,
            mu_spread=0.0,
            lower=mu - 2 * sigma,
            upper=mu + 2 * sigma,
            conservative=mu - 3 * sigma,
            rank=i + 1,
            rank_lower=1,
            rank_upper=len(models),
            battles=10,
            wins=5,
            losses=5,
            ties=0,
            provisional=False,
        )
        for i, (m, mu, sigma) in enumerate(models)
    ]
    return Table(
        dimension="overall",
        slice_attribute="all",
        slice_value="all",
        battles=20,
        participants=5,
        entries=entries,
    )


FIELD = make_table([("a", 30.0, 1.0), ("b", 29.0, 1.5), ("c", 25.0, 2.0), ("d", 24.0, 4.0)])


def test_rank_one_probabilities_sum_to_one_and_top_k_dominates() -> None:
    got = p_best(FIELD, draws=20000, seed=1, k=2)
    assert list(got) == ["a", "b", "c", "d"]
    assert math.fsum(best for best, _ in got.values()) == pytest.approx(1.0, abs=1e-12)
    assert math.fsum(top for _, top in got.values()) == pytest.approx(2.0, abs=1e-12)
    for best, top in got.values():
        assert 0.0 <= best <= top <= 1.0
    assert got["a"][0] > got["b"][0] > got["c"][0]


def test_matches_closed_form_for_two_models() -> None:
    # P(a > b) = Phi((mu_a - mu_b) / sqrt(sa^2 + sb^2)) = Phi(1 / sqrt(1 + 2.25)).
    two = make_table([("a", 30.0, 1.0), ("b", 29.0, 1.5)])
    want = 0.5 * math.erfc(-(1 / math.sqrt(3.25)) / math.sqrt(2))
    got = p_best(two, draws=40000, seed=0)
    assert got["a"][0] == pytest.approx(want, abs=0.01)
    assert got["a"][1] == got["b"][1] == 1.0  # k = 3 is capped at 2 models


def test_dominant_model_gets_all_the_mass() -> None:
    table = make_table([("x", 60.0, 0.5), ("y", 25.0, 2.0), ("z", 24.0, 2.0)])
    got = p_best(table, draws=5000, seed=0, k=1)
    assert got["x"] == (1.0, 1.0)
    assert got["y"][0] == got["z"][0] == 0.0


def test_deterministic_for_a_seed() -> None:
    assert p_best(FIELD, seed=7) == p_best(FIELD, seed=7)
    assert p_best(FIELD, seed=7) != p_best(FIELD, seed=8)


def test_chunking_does_not_change_the_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    import prefboard.analysis as analysis

    whole = p_best(FIELD, draws=3001, seed=4)
    monkeypatch.setattr(analysis, "_CHUNK_VALUES", 4 * 250)  # 250 draws per chunk
    assert p_best(FIELD, draws=3001, seed=4) == whole


def test_edge_cases() -> None:
    assert p_best(make_table([]), draws=10) == {}
    assert p_best(make_table([("solo", 25.0, 8.0)]), draws=10) == {"solo": (1.0, 1.0)}
    with pytest.raises(ValueError, match="draws must be >= 1"):
        p_best(FIELD, draws=0)
    with pytest.raises(ValueError, match="k must be >= 1"):
        p_best(FIELD, k=0)
