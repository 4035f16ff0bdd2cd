"""Clustered votes carried through the pooled groups (rating/pooled_robust.py)."""

from __future__ import annotations

import numpy as np
import pytest

from prefboard.rating import groups, pooled_robust

MODEL = groups.Model(prior_mean=25.0, prior_sigma=25 / 3, beta=25 / 6, draw_margin=0.74)
N_MODELS = 6


def _battles(seed: int, prompts: int = 800, votes: int = 4, prompt_sd: float = 0.0):
    """`votes` votes per prompt on one pair, each by a different participant in a random group
    (3 groups); the prompt shifts the pair's performance gap by N(0, prompt_sd^2)."""
    rng = np.random.default_rng(seed)
    skill = 25 + 1.5 * np.arange(N_MODELS, dtype=float)
    a0 = rng.integers(0, N_MODELS, prompts)
    b0 = (a0 + rng.integers(1, N_MODELS, prompts)) % N_MODELS
    a, b = np.repeat(a0, votes), np.repeat(b0, votes)
    prompt = np.repeat(np.arange(prompts), votes)
    effect = rng.normal(0, prompt_sd, prompts)[prompt] if prompt_sd else 0.0
    gap = skill[a] - skill[b] + effect + rng.normal(0, np.sqrt(2) * MODEL.beta, len(a))
    outcome = np.where(gap > MODEL.draw_margin, 0, np.where(gap < -MODEL.draw_margin, 1, 2))
    group = rng.integers(0, 3, len(a))
    person = np.arange(len(a))  # every vote its own participant
    return a, b, outcome.astype(np.int8), group, person, prompt


def _widen(a, b, outcome, group, clusters, weights):
    fit = groups.fit_groups(N_MODELS, a, b, outcome, group, 3, MODEL)
    sw = pooled_robust.sandwich(fit, a, b, outcome, group, clusters, MODEL)
    return fit, sw, pooled_robust.widen(fit.pooled, sw, np.asarray(weights, dtype=float))


def test_votes_repeated_within_a_cluster_double_the_robust_variance() -> None:
    # Every battle cast twice: the fit is the same whether the copies share a cluster or not,
    # but a shared cluster's score sum doubles, so its meat is 4x one copy's against 2x: the
    # robust variance is exactly twice as large (centring included: the means are the same).
    a, b, outcome, group, _, _ = _battles(1, prompts=300, votes=1)
    aa, bb, oo, gg = (np.concatenate([x, x]) for x in (a, b, outcome, group))
    n = len(a)
    same = np.concatenate([np.arange(n), np.arange(n)])
    apart = np.arange(2 * n)
    fit = groups.fit_groups(N_MODELS, aa, bb, oo, gg, 3, MODEL)
    one = pooled_robust.sandwich(fit, aa, bb, oo, gg, [same], MODEL)
    two = pooled_robust.sandwich(fit, aa, bb, oo, gg, [apart], MODEL)
    maps = pooled_robust._maps(fit.pooled, np.array([0.3, 0.3, 0.4, 0.0]))
    assert one.robust(maps) == pytest.approx(2 * two.robust(maps), rel=1e-9, abs=1e-15)


def test_battle_order_changes_nothing() -> None:
    a, b, outcome, group, person, prompt = _battles(2, prompt_sd=3.0)
    order = np.random.default_rng(0).permutation(len(a))
    w = [0.2, 0.5, 0.3, 0.0]
    _, _, one = _widen(a, b, outcome, group, [person, prompt], w)
    shuffled = (x[order] for x in (a, b, outcome, group, person, prompt))
    sa, sb, so, sg, sp, sq = shuffled
    _, _, two = _widen(sa, sb, so, sg, [sp, sq], w)
    assert np.array_equal(one[2], two[2])  # the sandwich is summed in fixed point
    assert one[1] == pytest.approx(two[1], abs=1e-9)


def test_a_prompt_judged_in_several_groups_widens_each_group_band() -> None:
    # Four votes per prompt spread over three groups, the prompt moving the gap by 0.9 beta:
    # each group's estimate borrows the population skill, which all four votes inform, so the
    # group's band widens although few of a prompt's votes fall in that group.
    a, b, outcome, group, person, prompt = _battles(3, prompt_sd=0.9 * MODEL.beta)
    for g in range(3):
        one = np.eye(4)[g]
        _, _, (_, _, clustered) = _widen(a, b, outcome, group, [person, prompt], one)
        _, _, (_, _, independent) = _widen(a, b, outcome, group, [person], one)
        assert np.median(clustered) > 1.12
        assert np.median(independent) < 1.05  # each vote its own participant: nothing shared
        assert np.all(clustered >= 1.0) and np.all(independent >= 1.0)  # never narrowed


def test_widening_keeps_the_level_and_the_mean() -> None:
    a, b, outcome, group, person, prompt = _battles(4, prompt_sd=0.9 * MODEL.beta)
    w = np.array([0.3, 0.3, 0.4, 0.0])
    fit, _, (mean, cov, factor) = _widen(a, b, outcome, group, [person, prompt], w)
    plain_mean, plain_cov = fit.pooled.combine(w)
    assert mean == pytest.approx(plain_mean)
    u = np.full(N_MODELS, 1 / N_MODELS)
    # the level's variance (11.6 here, from the prior) is kept; F R F adds only a trace of it
    assert u @ cov @ u == pytest.approx(u @ plain_cov @ u, rel=1e-4)
    centre = np.eye(N_MODELS) - np.outer(np.ones(N_MODELS), u)
    sd = np.sqrt(np.diag(centre @ cov @ centre.T))
    plain_sd = np.sqrt(np.diag(centre @ plain_cov @ centre.T))
    # F R F: each relative sd is the plain one times its factor, before re-centring mixes them
    assert sd == pytest.approx(plain_sd * factor, rel=0.05)


def test_sparse_scores_for_large_boards_give_the_dense_result(monkeypatch) -> None:
    # Boards with many clusters keep per-cluster scores sparse; the numbers must not change.
    a, b, outcome, group, person, prompt = _battles(5, prompt_sd=3.0)
    w = np.array([0.2, 0.5, 0.3, 0.0])
    _, _, dense = _widen(a, b, outcome, group, [person, prompt], w)
    monkeypatch.setattr(pooled_robust, "_DENSE_CELLS", 0)
    _, _, sparse = _widen(a, b, outcome, group, [person, prompt], w)
    assert sparse[2] == pytest.approx(dense[2], rel=1e-12)
    assert sparse[1] == pytest.approx(dense[1], rel=1e-12)
