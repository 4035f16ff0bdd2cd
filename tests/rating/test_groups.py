"""Pooled group fits from real battles: the limits of the hierarchy against the batch fit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from prefboard.rating import batch, groups

MODEL = groups.Model(prior_mean=25.0, prior_sigma=25 / 3, beta=25 / 6, draw_margin=0.74)


def _battles(seed: int, n: int = 5, size: int = 1500, groups_: int = 3, shift: float = 0.0):
    """Battles from skills 25 + 2i with a group effect of `shift` · g on model 0, ties by the
    draw margin; group -1 (not given) for every tenth battle."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, n, size)
    b = (a + rng.integers(1, n, size)) % n
    group = rng.integers(0, groups_, size)
    group[::10] = -1
    skill = 25 + 2 * np.arange(n, dtype=float)
    gap = skill[a] - skill[b] + rng.normal(0, np.sqrt(2) * MODEL.beta, size)
    gap += shift * np.maximum(group, 0) * ((a == 0).astype(float) - (b == 0))
    outcome = np.where(gap > MODEL.draw_margin, 0, np.where(gap < -MODEL.draw_margin, 1, 2))
    return a, b, outcome.astype(np.int8), group


def test_tau_zero_relinearised_is_the_batch_fit_of_every_battle() -> None:
    # At τ = 0 every group shares the population skill; re-expanding each group's likelihood
    # at that skill until nothing moves is Newton's method on all battles at once, so the fixed
    # point is the Laplace fit of every battle.
    a, b, outcome, group = _battles(1)
    fit = groups.fit_groups(5, a, b, outcome, group, 3, MODEL, tau=0.0)
    whole = batch.fit(
        5,
        a,
        b,
        outcome,
        prior_mean=25.0,
        prior_sigma=25 / 3,
        beta=25 / 6,
        draw_margin=0.74,
        method="laplace",
    )
    for g in range(4):
        mean, cov = fit.group(g)
        assert mean == pytest.approx(whole.mean, abs=1e-6)
        assert cov == pytest.approx(whole.cov, abs=1e-6)


def test_battle_order_changes_nothing() -> None:
    a, b, outcome, group = _battles(2, shift=1.0)
    order = np.random.default_rng(0).permutation(len(a))
    one = groups.fit_groups(5, a, b, outcome, group, 3, MODEL)
    two = groups.fit_groups(5, a[order], b[order], outcome[order], group[order], 3, MODEL)
    assert one.estimate.tau == pytest.approx(two.estimate.tau, abs=1e-9)
    for g in range(3):
        assert one.group(g)[0] == pytest.approx(two.group(g)[0], abs=1e-9)


def test_groups_that_differ_get_a_larger_tau_than_groups_that_do_not() -> None:
    same = groups.fit_groups(5, *_battles(3, size=6000, shift=0.0), 3, MODEL)
    differ = groups.fit_groups(5, *_battles(3, size=6000, shift=3.0), 3, MODEL)
    assert differ.estimate.tau > 0.5
    assert differ.estimate.lower > same.estimate.tau


def test_counts_per_group_equal_the_batch_counts_of_each_group() -> None:
    a, b, outcome, group = _battles(4, size=800)
    slot = np.where(group >= 0, group, 3)
    split = batch.aggregate_groups(5, a, b, outcome, slot, 4)
    for g in range(4):
        own = batch.aggregate(5, a[slot == g], b[slot == g], outcome[slot == g])
        assert (split[g].i.tolist(), split[g].j.tolist()) == (own.i.tolist(), own.j.tolist())
        assert split[g].counts.tolist() == own.counts.tolist()


def test_own_fits_started_from_the_previous_groups_mode_are_the_cold_fits() -> None:
    # expected: each group's Laplace fit from the prior mean (batch.fit_counts without a
    # start); the warm start changes where Newton begins, not the mode it stops at
    a, b, outcome, group = _battles(3, shift=1.0)
    slot = np.where(group >= 0, group, 3)
    counts = batch.aggregate_groups(5, a, b, outcome, slot, 4)
    warm = groups._own_fits(counts, MODEL)
    for pc, lik in zip(counts, warm, strict=True):
        cold = batch.fit_counts(
            pc, prior_mean=25.0, prior_sigma=25 / 3, beta=25 / 6, draw_margin=0.74, method="laplace"
        )
        np.testing.assert_allclose(lik.precision, cold.info_precision, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(lik.shift, cold.info_h, rtol=1e-9, atol=1e-9)


def test_the_published_tau_is_the_whole_range_searchs_on_the_last_expansion(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # expected: pooling.fit_tau without a start on the likelihoods of the last pass (those
    # expanded at the previous pass's group means); the warm-started passes before it only
    # decide where the last one expands
    from prefboard.rating import pooling

    a, b, outcome, group = _battles(4, shift=1.5)
    seen: list[list[pooling.Likelihood]] = []
    real = pooling.fit_tau

    def spy(liks: list[pooling.Likelihood], *args: Any, **kwargs: Any) -> pooling.TauEstimate:
        seen.append(liks)
        return real(liks, *args, **kwargs)

    monkeypatch.setattr(pooling, "fit_tau", spy)
    fit = groups.fit_groups(5, a, b, outcome, group, 3, MODEL)
    assert fit.estimate == real(seen[-1], 25.0, 25 / 3)
    assert fit.passes >= 1
