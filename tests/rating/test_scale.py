"""Work removed for boards of many models (issue 18): each shortcut must give the same bits
as the computation it replaces, and the rating stage runs BLAS on one thread."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from prefboard import pipeline
from prefboard.rating import batch, ties
from prefboard.rating.batch_terms import _pair_gradients, _pair_loglik, _pair_terms
from prefboard.rating.threads import one_blas_thread


def _pairs(seed: int, m: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of m models, each outcome counted 0-4 times (about half of them never)."""
    rng = np.random.default_rng(seed)
    i, j = np.triu_indices(m, k=1)
    counts = rng.integers(0, 5, (len(i), 3)) * (rng.random((len(i), 3)) < 0.5)
    return i.astype(np.int64), j.astype(np.int64), counts.astype(float), rng.normal(25, 3, m)


@pytest.mark.parametrize("margin", [1e-7, 0.3, 2.0])
@pytest.mark.parametrize("spread", [1.0, 20.0])  # 20: gaps far in the tails
def test_the_newton_kernels_give_the_same_bits_as_the_full_pair_terms(
    margin: float, spread: float
) -> None:
    i, j, counts, skill = _pairs(1)
    s = 25 + spread * (skill - 25)
    ll, g, k, _ = _pair_terms(s, i, j, counts, 4.0, margin)
    assert _pair_loglik(s, i, j, counts, 4.0, margin) == ll
    ll2, g2, k2 = _pair_gradients(s, i, j, counts, 4.0, margin)
    assert ll2 == ll
    assert np.array_equal(g2, g) and np.array_equal(k2, k)


def _battles(seed: int, m: int = 12, n: int = 3000) -> batch.Battles:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m
    return batch.Battles.of(m, a, b, rng.integers(0, 3, n))


def test_the_draw_margin_is_learnt_once_per_distinct_set_of_battles(
    monkeypatch: pytest.MonkeyPatch, tiny: Path
) -> None:
    """Validation's pinned-ties warning and the rating stage learn the same margin: once."""
    config, _ = pipeline.load(tiny / "leaderboard.toml")
    calls = []
    learn = batch.learn_draw_margin

    def counted(*args: object, **kwargs: object) -> batch.DrawMarginFit:
        calls.append(1)
        return learn(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(batch, "learn_draw_margin", counted)
    monkeypatch.setattr(ties, "_LEARNT", {})
    first = _battles(2)
    everything = np.arange(3000)
    once = ties.tie_model(config, "overall", first, everything)
    again = ties.tie_model(config, "overall", first, everything)
    assert again == once and len(calls) == 1
    other = ties.tie_model(config, "overall", _battles(3), everything)
    assert len(calls) == 2 and other.mle != once.mle
    fewer = ties.tie_model(config, "overall", first, everything[:2000])
    assert len(calls) == 3 and fewer.mle != once.mle


def _blas_threads() -> list[int]:
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


def test_blas_runs_on_one_thread_inside_the_block_and_as_before_after() -> None:
    before = _blas_threads()
    assert before, "numpy's BLAS is visible to threadpoolctl"
    with one_blas_thread():
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before
