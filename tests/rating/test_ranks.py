"""Ranks from the posterior: bands, marginal rank intervals, P(best)/P(top 3), P(A above B)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from prefboard.rating import ranks

KEYS = ["a", "b", "c", "d"]


def test_probabilities_come_from_the_same_draws() -> None:
    mean = np.array([30.0, 29.0, 25.0, 10.0])
    cov = np.diag([1.0, 1.0, 4.0, 1.0])
    s = ranks.summarize(mean, cov, KEYS, 0.95, seed=1)
    assert s.p_best.sum() == pytest.approx(1.0, abs=1e-12)
    assert s.p_top.sum() == pytest.approx(3.0, abs=1e-12)
    assert np.all(s.p_top >= s.p_best)
    assert list(s.rank) == [1, 2, 3, 4]
    assert np.all((s.rank_lower <= s.rank) & (s.rank <= s.rank_upper))
    # d is 15 sd below everyone: always last, so its interval is the single rank 4.
    assert (s.rank_lower[3], s.rank_upper[3]) == (4, 4)
    assert s.p_top[3] == 0.0
    # P(a best) is about P(a > b) = Phi(1 / sqrt(2)) = 0.76 (c rarely wins): 4,000 draws.
    assert s.p_best[0] == pytest.approx(norm.cdf(1 / math.sqrt(2)), abs=0.03)


def test_seeded_and_deterministic() -> None:
    mean = np.array([1.0, 0.5, 0.0, -0.5])
    cov = np.eye(4)
    one = ranks.summarize(mean, cov, KEYS, 0.95, seed=ranks.rank_seed(3, "help", "all"))
    two = ranks.summarize(mean, cov, KEYS, 0.95, seed=ranks.rank_seed(3, "help", "all"))
    assert np.array_equal(one.p_best, two.p_best)
    assert np.array_equal(one.rank_lower, two.rank_lower)
    assert ranks.rank_seed(3, "help", "all") != ranks.rank_seed(3, "help", "country")


def test_correlated_errors_separate_overlapping_bands() -> None:
    # Two models whose errors share a common level: each band is +-1.96 wide, so they overlap
    # heavily, yet their difference has sd 0.1 and a gap of 0.5 is 5 sd: a is above b.
    mean = np.array([10.5, 10.0])
    rho = 1 - 0.005
    cov = np.array([[1.0, rho], [rho, 1.0]])
    lower, upper = ranks.band(mean, np.sqrt(np.diag(cov)), 1.96)
    assert lower[0] < upper[1]  # bands overlap
    p = ranks.p_above(mean, cov, np.array([0]), np.array([1]))[0]
    assert p == pytest.approx(norm.cdf(0.5 / 0.1))
    s = ranks.summarize(mean, cov, ["a", "b"], 0.95, seed=0)
    assert s.p_above_next[0] == pytest.approx(p)
    assert math.isnan(s.p_above_next[1])
    assert (s.rank_lower[0], s.rank_upper[0]) == (1, 1)


def test_equal_scores_rank_by_key_and_identical_posteriors_are_a_coin_flip() -> None:
    assert list(ranks.rank_by_score(np.array([1.0, 1.0, 2.0]), ["z", "y", "x"])) == [3, 2, 1]
    cov = np.ones((2, 2))
    assert ranks.p_above(np.zeros(2), cov, np.array([0]), np.array([1]))[0] == 0.5


def test_rank_interval_is_the_shortest_range_with_the_mass() -> None:
    # Model b's rank over 1,000 draws: 1 in 10, 2 in 960, 3 in 30. Equal tails of 2.5 % give
    # 2-3 (the 1 % below and 3 % above are not both cut); rank 2 alone holds 96 % >= 95 %.
    draws = np.zeros((1000, 3))
    draws[:, 0] = 10.0
    draws[:, 1] = 5.0
    draws[:10, 1] = 20.0
    draws[960 + 10 :, 1] = -5.0
    lower, upper = ranks.rank_intervals(draws, 0.95)
    assert (lower[1], upper[1]) == (2, 2)
    assert (lower[0], upper[0]) == (1, 1)  # a: rank 1 in 99 % of the draws
    assert (lower[2], upper[2]) == (3, 3)  # c: rank 3 in 97 % (equal tails: 2-3)


def test_published_interval_is_the_range_whose_mass_is_nearest_the_level() -> None:
    # Rank counts per model, worked by hand (level 95 %):
    # a: rank 2 in 930 of 1,000, rank 3 in 65: rank 2 alone holds 93 % (2 points short), 2-3
    #    holds 99.5 % (4.5 over): the nearer is 2 alone, although it holds less than 95 %.
    # b: rank 2 in 900, rank 3 in 90: 2 alone 90 % (5 short), 2-3 99 % (4 over): 2-3.
    # c: rank 1 in 10, 2 in 20, 3 in 960, 4 in 10: 3 alone 96 % >= 95 %: nothing narrower.
    counts = np.array(
        [
            [5, 930, 65, 0],
            [0, 900, 90, 10],
            [10, 20, 960, 10],
        ]
    )
    lower, upper = ranks.nearest_intervals(counts, 0.95)
    assert list(zip(lower, upper, strict=True)) == [(2, 2), (2, 3), (3, 3)]
    # Equally near (exact binary fractions, level 1/2): the wider. Counts 3, 2, 3 of 8: the
    # best single rank holds 3/8 (1/8 short), the best pair 5/8 (1/8 over).
    lower, upper = ranks.nearest_intervals(np.array([[3, 2, 3]]), 0.5)
    assert (lower[0], upper[0]) == (1, 2)


def test_rank_mass_is_the_share_of_draws_in_the_interval() -> None:
    mean = np.array([3.0, 2.6, 2.5, 1.0, 0.0])
    cov = 0.2 * np.eye(5) + 0.05
    s = ranks.summarize(mean, cov, list("abcde"), 0.95, seed=4)
    # d's rank 4 holds 93.5 % of the draws and 3-4 more than 99 %: the nearer is 4 alone.
    assert (s.rank_lower[3], s.rank_upper[3]) == (4, 4)
    assert s.rank_mass[3] == pytest.approx(0.935, abs=0.01)
    assert np.all((s.rank_lower <= s.rank) & (s.rank <= s.rank_upper))
    # the same seeded draws, ranked by hand
    chol = np.linalg.cholesky(cov)
    rng = np.random.default_rng(4)
    skill = mean + rng.standard_normal((ranks.DRAWS, 5)) @ chol.T
    rank = 1 + np.argsort(np.argsort(-skill, axis=1), axis=1)
    inside = (rank >= s.rank_lower) & (rank <= s.rank_upper)
    assert s.rank_mass == pytest.approx(inside.mean(axis=0), abs=1e-12)


def test_rank_counts_keep_the_stable_order_for_equal_skills() -> None:
    # Draws with a copied model and models absent from a draw (-inf) tie: their ranks follow
    # the input order, as a stable sort gives, whichever sort finds the order.
    rng = np.random.default_rng(3)
    for m in (3, 40):
        skill = rng.standard_normal((500, m))
        want = np.zeros((m, m), dtype=np.int64)
        for row in np.argsort(-skill, axis=1, kind="stable"):
            want[row, np.arange(m)] += 1
        assert (ranks._rank_counts(skill) == want).all()
        skill[:, 1] = skill[:, 0]
        skill[4, [0, 2]] = -np.inf
        want[:] = 0
        for row in np.argsort(-skill, axis=1, kind="stable"):
            want[row, np.arange(m)] += 1
        assert (ranks._rank_counts(skill) == want).all()


def test_rank_counts_of_nans_and_no_models_are_the_stable_sorts() -> None:
    # A nan sorts last and the unstable sort may order nans any way: the block is re-sorted
    # stably. Expected counts: one stable argsort per row, tallied by hand.
    rng = np.random.default_rng(5)
    skill = rng.standard_normal((200, 7))
    skill[3, [1, 4]] = np.nan
    skill[9, :] = np.nan
    want = np.zeros((7, 7), dtype=np.int64)
    for row in np.argsort(-skill, axis=1, kind="stable"):
        want[row, np.arange(7)] += 1
    assert (ranks._rank_counts(skill) == want).all()
    assert ranks._rank_counts(np.empty((10, 0))).shape == (0, 0)


def _intervals_by_row(counts: np.ndarray, interval: float) -> tuple[np.ndarray, np.ndarray]:
    """The nearest intervals as the per-row Python loop computed them before the compiled
    loop over all rows (ranks.py at a2b0a10): the reference the compiled one must equal."""
    m = counts.shape[0]
    lower, upper = np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64)
    for i in range(m):
        row = counts[i].astype(np.float64)
        first, last = ranks._shortest_row(row, interval * row.sum() - 1e-9)
        lower[i], upper[i] = first + 1, last + 1
        width = last - first + 1
        if width < 2:
            continue
        total = row.sum()
        wide = row[first : last + 1].sum() / total
        start, narrow = ranks._best_window(row, width - 1)
        if interval - narrow / total < wide - interval:
            lower[i], upper[i] = start + 1, start + width - 1
    return lower, upper


def test_compiled_rank_intervals_equal_the_per_row_loop() -> None:
    rng = np.random.default_rng(8)
    for m, interval in [(1, 0.95), (5, 0.5), (60, 0.95), (300, 0.9)]:
        mean = np.sort(rng.normal(0, 2, m))
        skill = mean + rng.standard_normal((4000, m))
        counts = ranks._rank_counts(skill)
        counts[0] = 0
        counts[0, -1] = 4000  # a certain rank
        lower, upper = ranks.nearest_intervals(counts, interval)
        want = _intervals_by_row(counts, interval)
        assert lower.tolist() == want[0].tolist() and upper.tolist() == want[1].tolist()


def test_scores_equal_up_to_rounding_are_one_tie_ordered_by_key() -> None:
    # A symmetric board (a and b each beat c once and tie each other) gives a and b one score,
    # computed along two paths: 27.437878999419812 and 27.43787899941982 came out of the
    # post-stratified headline of tests/fixtures/tiny. Either last bit must give the same ranks.
    low, high = 27.437878999419812, 27.43787899941982
    for a, b in ((low, high), (high, low)):
        assert list(ranks.rank_by_score(np.array([a, b, 20.1]), ["aurora", "delta", "c"])) == [
            1,
            2,
            3,
        ]
    # a real difference, however small on the scale of a band, still orders the models
    assert list(ranks.rank_by_score(np.array([25.0, 25.0 + 1e-6]), ["a", "b"])) == [2, 1]
    # a run of near-equal scores is one tie even when its ends are further apart than one step
    chain = np.array([10.0, 10.0 + 8e-9, 10.0 + 16e-9, 9.0])
    assert list(ranks.rank_by_score(chain, ["d", "c", "b", "a"])) == [3, 2, 1, 4]


def _assert_summary_of_fresh_blocks(
    mean: np.ndarray, cov: np.ndarray, keys: list[str], seed: int, blocks: tuple[int, ...]
) -> None:
    """`summarize` publishes what the reference loop gives: from the same seed, a fresh
    `mean + z @ chol.T` per block (a general matrix product), each block tallied by
    `_add_rank_counts`; P(best), P(top 3) and the rank intervals compared exactly."""
    m, total = len(keys), sum(blocks)
    got = ranks.summarize(mean, cov, keys, 0.95, seed=seed, draws=total)
    chol = ranks._cholesky(cov)
    draws = np.random.default_rng(seed)
    counts = np.zeros((m, m), dtype=np.int64)
    for size in blocks:
        ranks._add_rank_counts(mean + draws.standard_normal((size, m)) @ chol.T, counts)
    assert got.p_best.tolist() == (counts[:, 0] / total).tolist()
    assert got.p_top.tolist() == (counts[:, :3].sum(axis=1) / total).tolist()
    lower, upper = ranks.nearest_intervals(counts, 0.95)
    assert (np.minimum(lower, got.rank) == got.rank_lower).all()
    assert (np.maximum(upper, got.rank) == got.rank_upper).all()


def test_summary_draws_in_reused_buffers_are_the_old_fresh_blocks() -> None:
    # Expected: the loop summarize ran before its draws were made in reused buffers
    # (ranks.py at 1a92afd): a fresh `mean + z @ chol.T` per block of 1000, then tallied.
    # 2,500 draws end on a part block; the counts must agree exactly.
    rng = np.random.default_rng(11)
    m = 50
    mean = np.sort(rng.normal(25.0, 1.0, m))
    root = rng.normal(size=(m, m)) / m
    cov = root @ root.T + 0.05 * np.eye(m)
    keys = [f"m{i:02d}" for i in range(m)]
    _assert_summary_of_fresh_blocks(mean, cov, keys, seed=5, blocks=(1000, 1000, 500))


def test_triangular_draws_give_the_general_products_rank_counts() -> None:
    # Expected: the draws summarize made before the triangular product (ranks.py at 77cc958),
    # `mean + z @ chol.T` by a general matrix product, tallied the same way. The two products
    # round differently (~1e-15 of the skills), so the check is the published integers: a
    # 300-model posterior shaped like a table's (a common shift, correlated skills).
    rng = np.random.default_rng(17)
    m = 300
    mean = np.sort(rng.normal(25.0, 2.0, m))
    root = rng.normal(size=(m, m)) / m
    cov = root @ root.T + 0.01 * np.eye(m) + 0.2  # + 0.2: the shift shared by every skill
    keys = [f"m{i:03d}" for i in range(m)]
    _assert_summary_of_fresh_blocks(mean, cov, keys, seed=8, blocks=(1000, 500))


def test_triangular_product_is_written_over_the_draws() -> None:
    rng = np.random.default_rng(3)
    chol = np.linalg.cholesky(np.cov(rng.normal(size=(7, 40))) + np.eye(7))
    z = rng.normal(size=(5, 7))
    want = z @ chol.T
    ranks._times_factor(z, chol)
    assert np.allclose(z, want, rtol=1e-14, atol=1e-14)
    # A strided view (BLAS gets a copy): the result still lands in it.
    wide = rng.normal(size=(5, 14))
    view = wide[:, ::2]
    want = view @ chol.T
    ranks._times_factor(view, chol)
    assert np.allclose(wide[:, ::2], want, rtol=1e-14, atol=1e-14)
