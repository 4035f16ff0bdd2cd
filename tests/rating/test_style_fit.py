"""The joint fit of skills and style coefficients (rating/style_fit.py).

Expected numbers come from (1) the truth of seeded simulations drawn from the fit's own model
(Thurstone battles with ties, covariate effects known), (2) an independent fit of the same
log posterior written here with scipy's log_ndtr and minimised by scipy.optimize, with the
Hessian by finite differences, and (3) the plain batch model's Laplace fit (rating/batch.py),
which the fit must equal when there are no covariates.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import log_ndtr, ndtr

from prefboard.rating import batch
from prefboard.rating.style import preferred_share
from prefboard.rating.style_fit import fit_style

MU, SIGMA, BETA = 25.0, 25 / 3, 25 / 6
C = math.sqrt(2.0) * BETA


def simulate(
    seed: int, m: int, n: int, gamma: list[float], eps: float = 1.0
) -> tuple[np.ndarray, ...]:
    """Battles from the fit's own model: skills N(25, 3^2), covariate differences N(0, 1)."""
    rng = np.random.default_rng(seed)
    skill = rng.normal(MU, 3.0, m)
    a = rng.integers(0, m, n)
    b = rng.integers(0, m - 1, n)
    b += b >= a
    z = rng.standard_normal((n, len(gamma)))
    d = skill[a] - skill[b] + z @ np.asarray(gamma) + rng.normal(0.0, C, n)
    outcome = np.where(d > eps, 0, np.where(d < -eps, 1, 2))
    return a, b, outcome, z, skill


def fit(a: np.ndarray, b: np.ndarray, outcome: np.ndarray, z: np.ndarray, m: int, eps: float):
    return fit_style(
        m, a, b, outcome, z, prior_mean=MU, prior_sigma=SIGMA, beta=BETA, draw_margin=eps
    )


def test_recovers_a_known_style_effect_within_its_interval() -> None:
    # One seeded draw; benchmarks/bench_style.py measures the interval's coverage over seeds.
    gamma = [1.2, -0.6]
    a, b, outcome, z, _ = simulate(seed=100, m=6, n=8_000, gamma=gamma)
    f = fit(a, b, outcome, z, 6, 1.0)
    for true, est, sd in zip(gamma, f.gamma, f.gamma_sd, strict=True):
        assert abs(est - true) < 1.96 * sd, (true, est, sd)
    # 8,000 battles pin each coefficient to well under a tenth of a skill point.
    assert np.all(f.gamma_sd < 0.1)


def test_no_effect_is_not_flagged() -> None:
    a, b, outcome, z, _ = simulate(seed=12, m=6, n=8_000, gamma=[0.0, 0.0])
    f = fit(a, b, outcome, z, 6, 1.0)
    lower, upper = f.gamma - 1.96 * f.gamma_sd, f.gamma + 1.96 * f.gamma_sd
    assert np.all(lower < 0) and np.all(upper > 0), (lower, upper)


def test_controlled_skills_recover_the_truth_where_raw_ones_are_biased() -> None:
    # The last model writes the longest answers: its raw skill absorbs the style effect.
    rng = np.random.default_rng(5)
    m, n = 5, 12_000
    skill = np.array([26.0, 25.0, 25.0, 24.0, 23.0])
    a = rng.integers(0, m, n)
    b = rng.integers(0, m - 1, n)
    b += b >= a
    level = np.array([0.0, 0.0, 0.0, 0.0, 1.5])
    z = (level[a] - level[b] + rng.standard_normal(n))[:, None]
    d = skill[a] - skill[b] + 2.0 * z[:, 0] + rng.normal(0.0, C, n)
    outcome = np.where(d > 1.0, 0, np.where(d < -1.0, 1, 2))
    raw = fit(a, b, outcome, z[:, :0], m, 1.0)
    ctl = fit(a, b, outcome, z, m, 1.0)
    gap = skill[4] - skill[0]
    assert raw.skills[4] - raw.skills[0] > gap + 1.5  # raw: about +3 points too high
    assert abs(ctl.skills[4] - ctl.skills[0] - gap) < 0.5


def test_without_covariates_it_is_the_batch_laplace_fit() -> None:
    a, b, outcome, _, _ = simulate(seed=3, m=5, n=2_000, gamma=[])
    f = fit(a, b, outcome, np.zeros((len(a), 0)), 5, 1.0)
    post = batch.fit(
        5, a, b, outcome, prior_mean=MU, prior_sigma=SIGMA, beta=BETA, draw_margin=1.0,
        method="laplace",
    )  # fmt: skip
    assert f.skills == pytest.approx(post.mean, abs=1e-8)
    assert f.skill_cov == pytest.approx(post.cov, abs=1e-8)


def _independent_log_posterior(theta: np.ndarray, a, b, outcome, z, m: int, eps: float) -> float:
    """The same model written from scratch with scipy: probit win/loss, tie between."""
    x = (theta[a] - theta[b] + z @ theta[m:]) / C
    e = eps / C
    win, loss = log_ndtr(x - e), log_ndtr(-x - e)
    tie = np.log(ndtr(e - x) - ndtr(-e - x))
    ll = np.where(outcome == 0, win, np.where(outcome == 1, loss, tie)).sum()
    return float(ll - 0.5 * np.sum((theta[:m] - MU) ** 2) / SIGMA**2)


def test_matches_an_independent_scipy_fit_of_the_same_likelihood() -> None:
    m = 4
    a, b, outcome, z, _ = simulate(seed=21, m=m, n=300, gamma=[0.8, 0.3])
    args = (a, b, outcome, z, m, 1.0)
    res = minimize(
        lambda t: -_independent_log_posterior(t, *args),
        np.concatenate([np.full(m, MU), np.zeros(2)]),
        method="BFGS",
        options={"gtol": 1e-9},
    )
    ours = fit(a, b, outcome, z, m, 1.0)
    assert ours.mean == pytest.approx(res.x, abs=1e-4)
    # Covariance: the inverse of minus the Hessian, by central differences at the mode.
    h = 1e-4
    k = res.x.size
    hess = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(k)[i] * h, np.eye(k)[j] * h
            f = lambda t: _independent_log_posterior(t, *args)  # noqa: E731
            hess[i, j] = (f(res.x + ei + ej) - f(res.x + ei - ej) - f(res.x - ei + ej)
                          + f(res.x - ei - ej)) / (4 * h * h)  # fmt: skip
    cov = np.linalg.inv(-hess)
    assert np.sqrt(np.diag(ours.cov)) == pytest.approx(np.sqrt(np.diag(cov)), rel=1e-3)


def test_battle_order_changes_nothing() -> None:
    a, b, outcome, z, _ = simulate(seed=8, m=5, n=1_500, gamma=[0.5])
    order = np.random.default_rng(0).permutation(len(a))
    one = fit(a, b, outcome, z, 5, 1.0)
    two = fit(a[order], b[order], outcome[order], z[order], 5, 1.0)
    assert one.mean == pytest.approx(two.mean, abs=1e-9)
    assert one.cov == pytest.approx(two.cov, abs=1e-9)


def test_swapping_sides_flips_nothing() -> None:
    # The same battles written with a and b exchanged (outcome and covariates with them).
    a, b, outcome, z, _ = simulate(seed=9, m=4, n=1_000, gamma=[0.7])
    flipped = np.where(outcome == 2, 2, 1 - outcome)
    one = fit(a, b, outcome, z, 4, 1.0)
    two = fit(b, a, flipped, -z, 4, 1.0)
    assert one.mean == pytest.approx(two.mean, abs=1e-9)


def test_preferred_share_counts_a_tie_half() -> None:
    assert preferred_share(0.0, BETA, 1.0) == pytest.approx(0.5)
    for g in (0.3, 2.0, 7.5):
        assert preferred_share(g, BETA, 1.0) + preferred_share(-g, BETA, 1.0) == pytest.approx(1)
    # Without ties it is the probit win probability.
    assert preferred_share(2.0, BETA, 0.0) == pytest.approx(float(ndtr(2.0 / C)))
