"""The compiled battle counts (rating/batch_terms.py `count_all`, `_count_kernel`) against the
numpy formulas they replaced in batch.aggregate_groups/aggregate_index, btd_fit._aggregate and
checks.pair_fits/position_bias: whole counts, so the same numbers bit for bit, for int32 as
well as int64 codes (callers may narrow them)."""

from __future__ import annotations

import numpy as np
import pytest

from prefboard.rating import batch, batch_terms, btd, checks

M = 9


def _battles(dtype: type, n: int = 4000, seed: int = 3):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, M, n)
    b = (a + rng.integers(1, M, n)) % M
    outcome = rng.integers(0, 3, n).astype(np.int8)
    return a.astype(dtype), b.astype(dtype), outcome


def _old_pair_counts(a, b, outcome):
    """btd_fit._aggregate before its compiled pass (1a92afd), verbatim."""
    a, b, outcome = (np.asarray(x, dtype=np.int64) for x in (a, b, outcome))
    swap = a > b
    i, j = np.where(swap, b, a), np.where(swap, a, b)
    code = np.where(swap & (outcome != 2), 1 - outcome, outcome)
    counts = np.bincount((i * M + j) * 3 + code, minlength=M * M * 3).reshape(M * M, 3)
    pair = np.flatnonzero(counts.sum(axis=1))
    return pair // M, pair % M, counts[pair].astype(np.float64)


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_counts_equal_the_numpy_formula(dtype: type) -> None:
    a, b, outcome = _battles(dtype)
    want = _old_pair_counts(a, b, outcome)
    pc = batch_terms.count_all(M, a, b, outcome)
    for got, ref in zip((pc.i, pc.j, pc.counts), want, strict=True):
        assert got.dtype == ref.dtype and np.array_equal(got, ref)
    for got, ref in zip(btd.pair_counts(M, a, b, outcome), want, strict=True):
        assert got.dtype == ref.dtype and np.array_equal(got, ref)
    # the batch aggregation (weights None) is the same table
    agg = batch.aggregate(M, a.astype(np.int64), b.astype(np.int64), outcome)
    assert np.array_equal(agg.counts, pc.counts) and np.array_equal(agg.i, pc.i)


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_group_and_index_counts_equal_aggregate_of_each_subset(dtype: type) -> None:
    a, b, outcome = _battles(dtype, seed=5)
    slot = np.random.default_rng(6).integers(0, 4, len(a))
    per_group = batch.aggregate_groups(M, a, b, outcome, slot.astype(dtype), 4)
    battles = batch.Battles.of(M, a, b, outcome)
    for g in range(4):
        idx = np.flatnonzero(slot == g)
        ref = batch.aggregate(M, a[idx], b[idx], outcome[idx])
        for got in (per_group[g], batch.aggregate_index(battles, idx.astype(dtype))):
            assert np.array_equal(got.i, ref.i) and np.array_equal(got.j, ref.j)
            assert got.counts.tobytes() == ref.counts.tobytes()


def test_pair_fit_and_position_counts_equal_the_masked_bincounts() -> None:
    # The references are checks.pair_fits' and _fit_position's masked bincounts at 1a92afd.
    a, b, outcome = _battles(np.int64, seed=8)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    lo_won = ((outcome == 0) & (a == lo)) | ((outcome == 1) & (b == lo))
    hi_won = ((outcome == 0) & (a == hi)) | ((outcome == 1) & (b == hi))
    code = lo * M + hi
    counts = np.stack(
        [np.bincount(code[w], minlength=M * M) for w in (lo_won, hi_won, outcome == 2)], axis=1
    )
    met = np.flatnonzero(counts.sum(axis=1) > 0)
    fits = checks.pair_fits(M, a, b, outcome, np.linspace(20, 30, M), 25 / 6, 0.5)
    assert fits.observed.dtype == counts.dtype and np.array_equal(fits.observed, counts[met])
    assert np.array_equal(fits.i * M + fits.j, met)
    cell = a * M + b
    ordered = np.stack([np.bincount(cell[outcome == k], minlength=M * M) for k in range(3)], 1)
    assert np.array_equal(checks._ordered_counts(M, a, b, outcome), ordered)
    pos = checks.position_bias(M, a, b, outcome, 25 / 6, 0.5, 25 / 3)
    assert (pos.decided, pos.wins_a) == (int(np.sum(outcome != 2)), int(np.sum(outcome == 0)))


def test_no_battles_leave_the_position_untested() -> None:
    none = np.zeros(0, dtype=np.int64)
    pos = checks.position_bias(M, none, none, none.astype(np.int8), 25 / 6, 0.5, 25 / 3)
    assert (pos.decided, pos.h, pos.h_se, pos.enough) == (0, 0.0, float("inf"), False)


@pytest.mark.parametrize("weighted", [False, True])
def test_cluster_score_sums_equal_the_per_battle_rounding(weighted: bool) -> None:
    # Reference: batch_cluster._cluster_scores at 1a92afd rounded each battle's (weighted)
    # score to fixed point (half to even) and added it at lo, subtracted it at hi.
    from prefboard.rating import batch_cluster

    a, b, outcome = _battles(np.int32, seed=11)
    rng = np.random.default_rng(12)
    score = rng.normal(0, 0.3, M * M * 3)
    index = np.sort(rng.choice(len(a), 3000, replace=False))
    cluster = rng.integers(0, 40, len(a))
    weight = rng.random(len(a)) if weighted else np.empty(0)
    got = batch_cluster._cluster_scores(a, b, outcome, index, weight, cluster, 40, M, score)
    lo, hi = np.minimum(a, b)[index], np.maximum(a, b)[index]
    o = outcome[index].astype(np.int64)
    o = np.where((a[index] > b[index]) & (o != 2), 1 - o, o)
    v = score[(lo * M + hi) * 3 + o] * (weight[index] if weighted else 1.0)
    q = np.rint(v * batch_cluster._FIXED).astype(np.int64)
    want = np.zeros((40, M), dtype=np.int64)
    np.add.at(want, (cluster[index], lo), q)
    np.add.at(want, (cluster[index], hi), -q)
    assert np.array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.int64, np.int16])
def test_counts_through_an_index_equal_the_counts_of_the_gathered_battles(dtype: type) -> None:
    # count_all(..., index): what the fit checks, the cross-checks and aggregate_index read
    a, b, outcome = _battles(dtype)
    idx = np.flatnonzero(np.arange(a.size) % 4 != 2).astype(np.int32)
    want = _old_pair_counts(a[idx], b[idx], outcome[idx])
    pc = batch_terms.count_all(M, a, b, outcome, idx)
    for got, ref in zip((pc.i, pc.j, pc.counts), want, strict=True):
        assert got.dtype == ref.dtype and np.array_equal(got, ref)
    for bad in ([-1], [a.size]):
        with pytest.raises(ValueError, match="index must select battles"):
            batch_terms.count_all(M, a, b, outcome, np.array(bad))
