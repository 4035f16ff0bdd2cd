"""Partial pooling against a brute-force joint Gaussian over (s, θ_1..θ_G) built with dense
numpy: the closed forms of `prefboard.rating.pooling` must equal it exactly (to rounding)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2, norm

from prefboard.rating import pooling

M0, S0 = 25.0, 25.0 / 3


def _comparisons(rng: np.random.Generator, n: int, battles: int, absent: int = 0) -> np.ndarray:
    """A likelihood precision like a Laplace fit's: Σ w (e_a − e_b)(e_a − e_b)ᵀ, singular along
    1 and for the last `absent` models, which never play."""
    lik = np.zeros((n, n))
    players = n - absent
    for _ in range(battles):
        a, b = rng.choice(players, 2, replace=False)
        d = np.zeros(n)
        d[a], d[b] = 1.0, -1.0
        lik += rng.uniform(0.005, 0.03) * np.outer(d, d)
    return lik


def _groups(seed: int, n: int = 4, sizes: tuple[int, ...] = (40, 10, 3)) -> list:
    rng = np.random.default_rng(seed)
    out = []
    for g, size in enumerate(sizes):
        lik = _comparisons(rng, n, size, absent=1 if g == 2 else 0)
        theta = M0 + rng.normal(0, 3, n)
        out.append(pooling.Likelihood(lik, lik @ theta))
    return out


def _joint(groups: list, tau: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Dense posterior of x = (s, θ_1, ..., θ_G): prior N(m0, σ0²) on s, θ_g | s ~ N(s, τ²),
    plus each group's likelihood on its own block. Returns mean, covariance, prior precision
    and the log marginal likelihood up to a τ-free constant."""
    n, big = len(groups[0].shift), len(groups) + 1
    prior = np.zeros((n * big, n * big))
    eye = np.eye(n)
    prior[:n, :n] = eye / S0**2
    for g in range(1, big):
        blk = slice(g * n, (g + 1) * n)
        prior[:n, :n] += eye / tau**2
        prior[blk, blk] += eye / tau**2
        prior[:n, blk] -= eye / tau**2
        prior[blk, :n] -= eye / tau**2
    lik = np.zeros_like(prior)
    shift = np.zeros(n * big)
    for g, grp in enumerate(groups, start=1):
        blk = slice(g * n, (g + 1) * n)
        lik[blk, blk] = grp.precision
        shift[blk] = grp.shift
    info = prior @ np.full(n * big, M0) + shift
    precision = prior + lik
    cov = np.linalg.inv(precision)
    mean = cov @ info
    prior_cov = np.linalg.inv(prior)
    logml = -0.5 * np.linalg.slogdet(np.eye(n * big) + prior_cov @ lik)[1] + 0.5 * info @ mean
    return mean, cov, prior, logml


@pytest.mark.parametrize("tau", [0.3, 2.0, 7.0])
def test_posteriors_equal_the_dense_joint_gaussian(tau: float) -> None:
    groups = _groups(1)
    n = 4
    mean, cov, _, _ = _joint(groups, tau)
    pooled = pooling.pool(groups, M0, S0, tau)
    assert pooled.population_mean == pytest.approx(mean[:n], abs=1e-9)
    assert pooled.population_cov == pytest.approx(cov[:n, :n], abs=1e-9)
    for g in range(len(groups)):
        blk = slice((g + 1) * n, (g + 2) * n)
        assert pooled.group_mean(g) == pytest.approx(mean[blk], abs=1e-9)
        for j in range(len(groups)):
            other = slice((j + 1) * n, (j + 2) * n)
            assert pooled.cross_cov(g, j) == pytest.approx(cov[blk, other], abs=1e-9)


def test_headline_mean_and_covariance_equal_the_dense_linear_combination() -> None:
    groups = _groups(2)
    n, tau = 4, 1.5
    weights = np.array([0.5, 0.3, 0.2])
    mean, cov, _, _ = _joint(groups, tau)
    a = np.hstack([np.zeros((n, n))] + [w * np.eye(n) for w in weights])
    got_mean, got_cov = pooling.pool(groups, M0, S0, tau).combine(weights)
    assert got_mean == pytest.approx(a @ mean, abs=1e-9)
    assert got_cov == pytest.approx(a @ cov @ a.T, abs=1e-9)


def test_log_marginal_likelihood_equals_the_dense_one_up_to_a_constant() -> None:
    groups = _groups(3)
    spectra = [pooling._spectrum(g) for g in groups]
    taus = [0.2, 1.0, 4.0, 12.0]
    ours = np.array([pooling.log_marginal(spectra, t, M0, S0) for t in taus])
    dense = np.array([_joint(groups, t)[3] for t in taus])
    assert ours - ours[0] == pytest.approx(dense - dense[0], abs=1e-8)


def _per_group_log_marginal(spectra: list, tau: float) -> float:
    """log_marginal as it was written before it stacked the groups: one product per group
    (U_g diag(λ_g c_g) U_gᵀ) added to the precision, the reference for the stacked form."""
    n = len(spectra[0].values)
    t2 = tau * tau
    precision = np.eye(n) / S0**2
    eta = np.full(n, M0 / S0**2)
    total = 0.0
    for sp in spectra:
        c = 1.0 / (1.0 + t2 * sp.values)
        precision += (sp.vectors * (sp.values * c)) @ sp.vectors.T
        eta += sp.vectors @ (c * sp.projected_shift)
        total += -0.5 * np.log1p(t2 * sp.values).sum() + 0.5 * t2 * float(c @ sp.projected_shift**2)
    chol = np.linalg.cholesky(precision)
    logdet = 2.0 * np.log(np.diag(chol)).sum() + n * np.log(S0**2)
    return float(total - 0.5 * logdet + 0.5 * eta @ np.linalg.solve(precision, eta))


@pytest.mark.parametrize("tau", [1e-4 * S0, 0.3, 2.0, 10 * S0])
def test_the_stacked_log_marginal_equals_the_per_group_sum(tau: float) -> None:
    # the same quantity summed in another order: equal to rounding, over the search's range
    groups = _differing_groups(2.0)
    spectra = [pooling._spectrum(g) for g in groups]
    want = _per_group_log_marginal(spectra, tau)
    assert pooling.log_marginal(spectra, tau, M0, S0) == pytest.approx(want, rel=1e-13)
    marginal = pooling.Marginal(groups, M0, S0)
    assert marginal(float(np.log(tau))) == pytest.approx(want, rel=1e-13)


def _differing_groups(true_tau: float, n: int = 6, count: int = 12) -> list:
    """Groups whose skills differ by N(0, true_tau²) around a common skill."""
    rng = np.random.default_rng(4)
    skill = M0 + rng.normal(0, 3, n)
    groups = []
    for _ in range(count):
        lik = _comparisons(rng, n, 400)
        theta = skill + rng.normal(0, true_tau, n)
        # h = L θ + noise with covariance L: what a Laplace fit of simulated battles gives
        noise = np.linalg.cholesky(lik + 1e-9 * np.eye(n)) @ rng.normal(size=n)
        groups.append(pooling.Likelihood(lik, lik @ theta + noise))
    return groups


def test_tau_estimate_maximises_the_marginal_likelihood_and_its_interval_holds_it() -> None:
    true_tau = 2.0
    groups = _differing_groups(true_tau)
    est = pooling.fit_tau(groups, M0, S0)
    grid = np.exp(np.linspace(np.log(0.05), np.log(20), 400))
    dense = [_joint(groups, t)[3] for t in grid]
    assert est.tau == pytest.approx(grid[int(np.argmax(dense))], rel=0.03)
    assert est.lower < est.tau < est.upper
    assert est.lower < true_tau < est.upper
    assert est.groups == 12


def test_a_search_repeated_on_the_same_groups_reuses_every_value() -> None:
    groups = _differing_groups(2.0)
    fresh = pooling.fit_tau(groups, M0, S0)
    marginal = pooling.Marginal(groups, M0, S0)
    point = pooling.fit_tau(groups, M0, S0, interval=False, marginal=marginal)
    searched = marginal.evaluations
    again = pooling.fit_tau(groups, M0, S0, interval=False, marginal=marginal)
    assert again == point and marginal.evaluations == searched
    with_interval = pooling.fit_tau(groups, M0, S0, marginal=marginal)
    assert with_interval == fresh  # the same floats: exactly the same estimate and interval
    # Only the interval's root finding was new (two brentq searches, each a few dozen at most).
    assert 0 < marginal.evaluations - searched < 60


def test_the_interval_ends_are_the_whole_range_roots_to_brentqs_tolerance() -> None:
    from scipy.optimize import brentq

    groups = _differing_groups(2.0)
    marginal = pooling.Marginal(groups, M0, S0)
    est = pooling.fit_tau(groups, M0, S0, marginal=marginal)
    x_hat, lo, hi = np.log(est.tau), np.log(1e-4 * S0), np.log(10 * S0)
    cut = marginal(x_hat) - chi2.ppf(0.95, 1) / 2
    fresh = pooling.Marginal(groups, M0, S0)  # counts what the whole-range search costs

    def above(x: float) -> float:
        return fresh(x) - cut

    lower, upper = brentq(above, lo, x_hat, xtol=1e-4), brentq(above, x_hat, hi, xtol=1e-4)
    assert abs(np.log(est.lower) - lower) < 2e-4 and abs(np.log(est.upper) - upper) < 2e-4
    # the bracket from the maximisation's points: fewer evaluations than from the edges
    searched = pooling.Marginal(groups, M0, S0)
    pooling.fit_tau(groups, M0, S0, interval=False, marginal=searched)
    before = searched.evaluations
    pooling.fit_tau(groups, M0, S0, marginal=searched)
    assert searched.evaluations - before < fresh.evaluations


def test_identical_groups_give_tau_zero_and_an_interval_from_zero() -> None:
    groups = _groups(5, sizes=(30, 30))
    same = [groups[0], groups[0], groups[0]]
    est = pooling.fit_tau(same, M0, S0)
    assert est.tau == 0.0
    assert est.lower == 0.0
    assert est.upper > 0.0


def test_one_group_with_battles_cannot_estimate_tau() -> None:
    groups = [*_groups(6, sizes=(30,)), pooling.empty_likelihood(4)]
    assert pooling.fit_tau(groups, M0, S0) == pooling.TauEstimate(0.0, 0.0, 0.0, 1)


def test_tau_zero_is_the_pooled_fit() -> None:
    groups = _groups(7)
    n = 4
    pooled = pooling.pool(groups, M0, S0, 0.0)
    precision = np.eye(n) / S0**2 + sum(g.precision for g in groups)
    expected = np.linalg.solve(precision, M0 / S0**2 + sum(g.shift for g in groups))
    assert pooled.population_mean == pytest.approx(expected, abs=1e-9)
    for g in range(len(groups)):
        assert pooled.group_mean(g) == pytest.approx(expected, abs=1e-9)
        assert pooled.group_cov(g) == pytest.approx(np.linalg.inv(precision), abs=1e-9)


def test_huge_tau_gives_each_group_its_own_fit() -> None:
    # As τ grows, θ_g's prior N(m0, σ0² + τ²) loses its link to the other groups through s:
    # the pooled group posterior tends to that group's own fit with that prior.
    groups = _groups(8, sizes=(40, 25))
    n, tau = 4, 1e3
    pooled = pooling.pool(groups, M0, S0, tau)
    for g, grp in enumerate(groups):
        own_precision = np.eye(n) / (S0**2 + tau**2) + grp.precision
        own_mean = np.linalg.solve(own_precision, M0 / (S0**2 + tau**2) + grp.shift)
        centre = np.eye(n) - 1.0 / n  # contrasts: the level itself is barely identified
        assert centre @ pooled.group_mean(g) == pytest.approx(centre @ own_mean, abs=1e-3)
        own_cov = centre @ np.linalg.inv(own_precision) @ centre
        assert centre @ pooled.group_cov(g) @ centre == pytest.approx(own_cov, rel=1e-3)


def test_a_small_group_shrinks_more_than_a_big_one() -> None:
    rng = np.random.default_rng(9)
    n, tau = 5, 1.0
    shape = _comparisons(rng, n, 50)
    population = M0 + np.arange(n, dtype=float)
    deviation = np.array([2.0, -2.0, 1.0, 0.0, -1.0])
    # Both groups deviate from the population by the same amount; one has 200x the battles.
    big = pooling.Likelihood(200 * shape, 200 * shape @ (population + deviation))
    small = pooling.Likelihood(shape, shape @ (population + deviation))
    anchor = pooling.Likelihood(2000 * shape, 2000 * shape @ population)
    pooled = pooling.pool([big, small, anchor], M0, S0, tau)
    centre = np.eye(n) - 1.0 / n
    # Share of each group's own deviation from the population estimate that it keeps.
    own = centre @ (population + deviation - pooled.population_mean)
    kept = [
        np.linalg.norm(centre @ (pooled.group_mean(g) - pooled.population_mean))
        / np.linalg.norm(own)
        for g in (0, 1)
    ]
    assert kept[0] > 0.8  # the data justify the big group's deviation: it keeps most of it
    assert kept[1] < 0.5 * kept[0]


def test_a_group_without_battles_gets_the_population_with_tau_squared_more_variance() -> None:
    groups = [*_groups(10, sizes=(30, 20)), pooling.empty_likelihood(4)]
    tau = 1.7
    pooled = pooling.pool(groups, M0, S0, tau)
    assert pooled.group_mean(2) == pytest.approx(pooled.population_mean, abs=1e-12)
    expected = pooled.population_cov + tau**2 * np.eye(4)
    assert pooled.group_cov(2) == pytest.approx(expected, abs=1e-12)


def test_removing_the_prior_recovers_the_likelihood() -> None:
    groups = _groups(11, sizes=(30,))
    g = groups[0]
    precision = np.eye(4) / S0**2 + g.precision
    mean = np.linalg.solve(precision, M0 / S0**2 + g.shift)
    back = pooling.likelihood_from_posterior(mean, precision, M0, S0)
    assert back.precision == pytest.approx(g.precision, abs=1e-12)
    assert back.shift == pytest.approx(g.shift, abs=1e-9)


def test_zero_test_is_the_boundary_mixture_of_chi_squares() -> None:
    # Reference: under τ = 0 the likelihood ratio LR has 2 LR ~ ½χ²₀ + ½χ²₁ (Self & Liang
    # 1987), so P(LR >= r) = ½ P(χ²₁ >= 2r) = P(N(0, 1) >= √(2r)) (scipy's normal, not chi2).
    for r in (0.1, 0.5, 1.3528, 3.0, 8.0):
        assert pooling.zero_test(r) == pytest.approx(norm.sf(np.sqrt(2 * r)), rel=1e-12)
    assert pooling.zero_test(0.0) == 1.0
    assert pooling.zero_test(chi2.ppf(0.90, 1) / 2) == pytest.approx(0.05)


def _gaussian_groups(rng: np.random.Generator, tau: float, n: int = 6) -> list:
    """Four groups whose likelihoods are exact Gaussians around θ_g = skill + N(0, τ²)."""
    skill = M0 + rng.normal(0, 3, n)
    groups = []
    for _ in range(4):
        # 150 comparisons as `_comparisons` makes them, vectorised (this runs 1,000 times)
        a = rng.integers(0, n, 150)
        b = (a + rng.integers(1, n, 150)) % n
        w = rng.uniform(0.005, 0.03, 150)
        lik = np.zeros((n, n))
        np.add.at(lik, (a, a), w)
        np.add.at(lik, (b, b), w)
        np.add.at(lik, (a, b), -w)
        np.add.at(lik, (b, a), -w)
        noise = np.linalg.cholesky(lik + 1e-9 * np.eye(n)) @ rng.normal(size=n)
        groups.append(pooling.Likelihood(lik, lik @ (skill + rng.normal(0, tau, n)) + noise))
    return groups


def test_groups_that_do_not_differ_are_pooled_unless_the_test_rejects() -> None:
    # 300 boards with no group differences: the test of τ = 0 rejects about 5 % of them
    # (binomial sd 1.3 %), and every other board reports τ = 0, the pooled fit, although the
    # marginal likelihood's maximiser is above 0 on about half of them. (Measured with this
    # seed: 3.0 % rejected; the plain maximiser, level 0, was above 0 on 52.7 %.)
    rng = np.random.default_rng(11)
    boards = [_gaussian_groups(rng, 0.0) for _ in range(300)]
    estimates = [pooling.fit_tau(g, M0, S0, interval=False) for g in boards]
    rejected = np.array([e.p_value < 0.05 for e in estimates])
    assert 0.015 <= rejected.mean() <= 0.09
    assert all(e.tau == 0.0 for e, r in zip(estimates, rejected, strict=True) if not r)
    kept = next(g for g, r in zip(boards, rejected, strict=True) if not r)
    assert pooling.fit_tau(kept, M0, S0).lower == 0.0  # and its interval starts at 0
    # Real differences (τ = 2, per-model sd of a group's fit about 1): found every time.
    found = [pooling.fit_tau(_gaussian_groups(rng, 2.0), M0, S0) for _ in range(20)]
    assert all(e.p_value < 0.01 and e.tau > 0 for e in found)


def test_a_warm_start_finds_the_whole_range_maximiser_in_fewer_evaluations() -> None:
    # The expected maximiser is the whole-range bounded search's (scipy, xatol 1e-5): a
    # re-linearisation pass starts near it, here 0.02 away in log tau.
    groups = _differing_groups(2.0)
    cold = pooling.Marginal(groups, M0, S0)
    want = pooling.fit_tau(groups, M0, S0, interval=False, marginal=cold)
    warm = pooling.Marginal(groups, M0, S0)
    x = float(np.log(want.tau))
    got = pooling.fit_tau(groups, M0, S0, interval=False, marginal=warm, start=x + 0.02)
    assert abs(np.log(got.tau) - x) < 2 * pooling.XATOL
    assert got.p_value == pytest.approx(want.p_value, rel=1e-6)
    # certified: no better value XATOL either side of what it returns
    y = float(np.log(got.tau))
    assert warm(y) >= max(warm(y - pooling.XATOL), warm(y + pooling.XATOL))
    assert warm.evaluations < cold.evaluations


@pytest.mark.parametrize("start", ["edge", "far"])
def test_a_start_that_cannot_settle_falls_back_to_the_whole_range_search(start: str) -> None:
    # at the range's edge there is no room for its difference quotients; from 3 (log tau)
    # away Newton does not settle in its steps: both give exactly the cold search's estimate
    groups = _differing_groups(2.0)
    cold = pooling.fit_tau(groups, M0, S0)
    x = float(np.log(1e-4 * S0)) if start == "edge" else float(np.log(cold.tau)) + 3.0
    assert pooling.fit_tau(groups, M0, S0, start=x) == cold


def test_the_warm_interval_ends_are_the_whole_range_roots_to_brentqs_tolerance() -> None:
    # expected: brentq over [maximiser, edge] as in the cold test above; the probes at the
    # quadratic's predicted crossings only narrow its bracket
    from scipy.optimize import brentq

    groups = _differing_groups(2.0)
    cold = pooling.fit_tau(groups, M0, S0)
    warm = pooling.Marginal(groups, M0, S0)
    est = pooling.fit_tau(groups, M0, S0, marginal=warm, start=float(np.log(cold.tau)) + 0.01)
    x_hat, lo, hi = np.log(est.tau), np.log(1e-4 * S0), np.log(10 * S0)
    cut = warm(x_hat) - chi2.ppf(0.95, 1) / 2
    lower = brentq(lambda x: warm(x) - cut, lo, x_hat, xtol=1e-4)
    upper = brentq(lambda x: warm(x) - cut, x_hat, hi, xtol=1e-4)
    assert abs(np.log(est.lower) - lower) < 2e-4 and abs(np.log(est.upper) - upper) < 2e-4


def test_pooling_with_the_searchs_factor_gives_the_same_bits() -> None:
    # pool at the tau a search found borrows its Cholesky factor of the same matrix: the
    # expected numbers are pool's own without it
    groups = _differing_groups(2.0)
    marginal = pooling.Marginal(groups, M0, S0)
    est = pooling.fit_tau(groups, M0, S0, interval=False, marginal=marginal)
    assert marginal.factor_at(est.tau) is not None
    lent = pooling.pool(groups, M0, S0, est.tau, marginal)
    own = pooling.pool(groups, M0, S0, est.tau)
    assert np.array_equal(lent.population_mean, own.population_mean)
    assert np.array_equal(lent.population_cov, own.population_cov)
    assert marginal.factor_at(est.tau * 1.01) is None  # any other tau computes its own


def test_group_means_equal_the_pooled_posteriors_group_means() -> None:
    # expected: pool's group_mean (C_g formed, then multiplied), here from each spectrum; with
    # a group without battles, which gets the population mean
    groups = [*_differing_groups(2.0, count=4), pooling.empty_likelihood(6)]
    for tau in (1e-3, 0.7, 5.0):
        pooled = pooling.pool(groups, M0, S0, tau)
        got = pooling.group_means(groups, M0, S0, tau)
        for g, mean in enumerate(got):
            np.testing.assert_allclose(mean, pooled.group_mean(g), rtol=1e-12, atol=0)
