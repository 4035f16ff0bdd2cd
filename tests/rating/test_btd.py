"""Tests for the Bradley–Terry–Davidson cross-check.

References:

* Davidson, "On extending the Bradley-Terry model to accommodate ties in paired comparison
  experiments", JASA 65 (1970) 317-328: the model's probabilities (re-implemented here directly
  from the paper's formula, in terms of ``pi = exp(theta)``, independently of the module's
  half-difference form), and the two-model closed-form MLE derived below.
* Zermelo (1929) / Hunter, "MM algorithms for generalized Bradley-Terry models", Ann. Statist.
  32 (2004) 384-406: the minorisation-maximisation iteration for the plain Bradley–Terry MLE,
  the reference for the tie-free case.
* Asymptotic normality of the MLE: standard errors from the observed information (numerical
  Hessian of the reference log-likelihood), the yardstick for recovery and bootstrap widths;
  Efron & Tibshirani, "An Introduction to the Bootstrap" (1993) for percentile intervals and
  their 1/sqrt(n) shrinkage.
* scipy.stats.kendalltau (tau-b) for Kendall's tau.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import kendalltau

from prefboard.rating.btd import (
    BTDFit,
    btd_with_bootstrap,
    disagreements,
    fit_btd,
    kendall_tau,
    log_likelihood,
)

# --------------------------------------------------------------------------------------------
# reference model, straight from Davidson (1970)


def davidson_probs(theta, nu, a, b):
    """(P(a wins), P(b wins), P(tie)) per battle, written exactly as in Davidson (1970)."""
    pi = np.exp(np.asarray(theta, dtype=float))
    pa, pb = pi[a], pi[b]
    tie = nu * np.sqrt(pa * pb)
    denom = pa + pb + tie
    return pa / denom, pb / denom, tie / denom


def ref_loglik(theta, nu, a, b, outcome):
    p = np.stack(davidson_probs(theta, nu, a, b))
    return float(np.sum(np.log(p[outcome, np.arange(len(a))])))


def simulate(theta, nu, n_battles, seed):
    rng = np.random.default_rng(seed)
    n = len(theta)
    a = rng.integers(0, n, n_battles)
    b = (a + rng.integers(1, n, n_battles)) % n
    pa, pb, _ = davidson_probs(theta, nu, a, b)
    u = rng.random(n_battles)
    outcome = np.where(u < pa, 0, np.where(u < pa + pb, 1, 2))
    return a, b, outcome


def battles_from_counts(wins, losses, ties):
    """Two models; model 0 wins, loses and ties, alternating seats (a = 0 / a = 1)."""
    rel = np.repeat([0, 1, 2], [wins, losses, ties])  # relative to model 0: win, loss, tie
    seat = np.arange(len(rel)) % 2  # 1: model 0 sits as b
    a, b = seat, 1 - seat
    outcome = np.where((seat == 1) & (rel != 2), 1 - rel, rel)
    return a, b, outcome


def numeric_hessian(f, x, eps=1e-4):
    x = np.asarray(x, dtype=float)
    k = len(x)
    hess = np.empty((k, k))
    for r in range(k):
        for c in range(r, k):
            e_r = np.zeros(k)
            e_c = np.zeros(k)
            e_r[r] = eps
            e_c[c] = eps
            val = (f(x + e_r + e_c) - f(x + e_r - e_c) - f(x - e_r + e_c) + f(x - e_r - e_c)) / (
                4 * eps * eps
            )
            hess[r, c] = hess[c, r] = val
    return hess


def observed_se(theta, nu, a, b, outcome):
    """Asymptotic SEs of centred theta and of nu from the observed information.

    theta is only identified up to a shift, so the information is taken in coordinates of the
    centred subspace: theta = theta_hat + C @ phi with C an orthonormal basis orthogonal to
    (1, ..., 1); then cov(theta) = C cov(phi) C'. Parameters: phi, log nu.
    """
    n = len(theta)
    basis = np.linalg.svd(np.eye(n) - 1.0 / n)[0][:, : n - 1]

    def f(y):
        return ref_loglik(theta + basis @ y[: n - 1], math.exp(y[n - 1]), a, b, outcome)

    cov = np.linalg.inv(-numeric_hessian(f, np.append(np.zeros(n - 1), math.log(nu))))
    se_theta = np.sqrt(np.diag(basis @ cov[: n - 1, : n - 1] @ basis.T))
    return se_theta, nu * math.sqrt(cov[n - 1, n - 1])


def numeric_gradient(f, x, eps=1e-5):
    x = np.asarray(x, dtype=float)
    g = np.empty_like(x)
    for k in range(len(x)):
        e = np.zeros_like(x)
        e[k] = eps
        g[k] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


def bradley_terry_mm(n, a, b, outcome, iters=100_000, tol=1e-14):
    """Plain Bradley–Terry MLE by Zermelo's / Hunter's (2004) MM iteration; centred log pi."""
    winner = np.where(outcome == 0, a, b)
    wins = np.bincount(winner, minlength=n).astype(float)
    games = np.zeros((n, n))
    np.add.at(games, (a, b), 1.0)
    games += games.T
    pi = np.ones(n)
    for _ in range(iters):
        new = wins / (games / (pi[:, None] + pi[None, :])).sum(axis=1)
        new /= np.exp(np.mean(np.log(new)))
        if np.max(np.abs(np.log(new) - np.log(pi))) < tol:
            pi = new
            break
        pi = new
    theta = np.log(pi)
    return theta - theta.mean()


TRUE_THETA = np.linspace(-1.0, 1.0, 6)
TRUE_NU = 0.5


@pytest.fixture(scope="module")
def sim50k():
    a, b, o = simulate(TRUE_THETA, TRUE_NU, 50_000, seed=0)
    return a, b, o, fit_btd(6, a, b, o)


# --------------------------------------------------------------------------------------------
# maximum likelihood


def test_recovers_known_strengths(sim50k):
    """Reference: data simulated from Davidson's model; the MLE is consistent and asymptotically
    normal, so it lies within a few observed-information SEs of the truth."""
    a, b, o, (theta, nu, _, converged) = sim50k
    assert converged
    assert theta.mean() == pytest.approx(0.0, abs=1e-12)
    truth = TRUE_THETA - TRUE_THETA.mean()
    assert np.max(np.abs(theta - truth)) < 0.05
    assert abs(nu - TRUE_NU) < 0.05
    se_theta, se_nu = observed_se(theta, nu, a, b, o)
    assert np.all(np.abs(theta - truth) < 4 * se_theta)
    assert abs(nu - TRUE_NU) < 4 * se_nu


def test_mle_beats_truth_and_gradient_vanishes(sim50k):
    """Reference: definition of the MLE, with Davidson's likelihood written independently here;
    the score (finite differences of that likelihood) is zero at an interior maximum."""
    a, b, o, (theta, nu, loglik, _) = sim50k
    assert loglik == pytest.approx(ref_loglik(theta, nu, a, b, o), rel=1e-12)
    assert loglik == pytest.approx(log_likelihood(6, a, b, o, theta, nu), rel=1e-12)
    assert loglik >= ref_loglik(TRUE_THETA, TRUE_NU, a, b, o)

    def f(x):
        return ref_loglik(x[:6], math.exp(x[6]), a, b, o)

    grad_hat = numeric_gradient(f, np.append(theta, math.log(nu)))
    grad_true = numeric_gradient(f, np.append(TRUE_THETA, math.log(TRUE_NU)))
    assert np.max(np.abs(grad_hat)) < 1e-3  # the loglik is ~ -5e4; sampling noise ~ sqrt(n)
    assert np.max(np.abs(grad_true)) > 1.0


@pytest.mark.parametrize(("w", "losses", "t"), [(30, 12, 9), (5, 5, 1), (7, 40, 20), (1, 2, 3)])
def test_two_models_closed_form(w, losses, t):
    """Reference: Davidson (1970). With two models, dividing the three probabilities by
    sqrt(pi_a pi_b) gives P(a) : P(b) : P(tie) = r : 1/r : nu with r = sqrt(pi_a / pi_b). The
    model is then saturated (two free parameters, two free multinomial cells), so the MLE
    reproduces the observed proportions w : l : t, i.e. r**2 = w / l and nu / sqrt(r * (1/r)) =
    t / sqrt(w * l):  theta_a - theta_b = log(w / l),  nu = t / sqrt(w * l).
    The 1e-6 ridge moves this by ~1e-6 * |theta_a - theta_b| / (n * Var) (~1.4e-6 for 1, 2, 3)."""
    a, b, o = battles_from_counts(w, losses, t)
    theta, nu, loglik, converged = fit_btd(2, a, b, o)
    assert converged
    assert theta[0] - theta[1] == pytest.approx(math.log(w / losses), abs=1e-5)
    assert theta[0] == pytest.approx(-theta[1], abs=1e-12)
    assert nu == pytest.approx(t / math.sqrt(w * losses), abs=1e-5)
    n = w + losses + t
    expected = w * math.log(w / n) + losses * math.log(losses / n) + t * math.log(t / n)
    assert loglik == pytest.approx(expected, abs=1e-9)


def test_two_models_closed_form_large_counts_is_tight():
    """Same closed form (Davidson 1970); at 1000x the counts the ridge bias is ~1e-10."""
    w, losses, t = 30_000, 12_000, 9_000
    counts = np.array([w, losses, t])
    a = np.zeros(counts.sum(), dtype=np.int64)
    b = np.ones_like(a)
    o = np.repeat([0, 1, 2], counts)
    theta, nu, _, converged = fit_btd(2, a, b, o)
    assert converged
    assert theta[0] - theta[1] == pytest.approx(math.log(w / losses), abs=1e-8)
    assert nu == pytest.approx(t / math.sqrt(w * losses), abs=1e-8)


def test_without_ties_is_plain_bradley_terry():
    """Reference: Zermelo/Hunter MM for Bradley–Terry. With no ties the Davidson likelihood
    decreases in nu, so its MLE is nu = 0 and theta is the Bradley–Terry MLE."""
    theta_true = np.array([0.3, -0.8, 0.0, 1.1, -0.6])
    a, b, o = simulate(theta_true, 0.0, 20_000, seed=3)
    assert not np.any(o == 2)
    theta, nu, loglik, converged = fit_btd(5, a, b, o)
    assert converged
    assert nu == 0.0
    reference = bradley_terry_mm(5, a, b, o)
    np.testing.assert_allclose(theta, reference, atol=1e-7)
    assert loglik == pytest.approx(ref_loglik(reference, 0.0, a, b, o), rel=1e-12)


def test_a_single_tie_gives_tiny_nu_and_bradley_terry_strengths():
    """Reference: Zermelo/Hunter MM; one tie in 20k battles drives nu -> 0, theta -> BT."""
    theta_true = np.array([0.3, -0.8, 0.0, 1.1, -0.6])
    a, b, o = simulate(theta_true, 0.0, 20_000, seed=3)
    o = o.copy()
    o[0] = 2
    theta, nu, _, converged = fit_btd(5, a, b, o)
    assert converged
    assert 0.0 < nu < 1e-3
    np.testing.assert_allclose(theta, bradley_terry_mm(5, a[1:], b[1:], o[1:]), atol=5e-3)


def test_model_that_never_wins_stays_finite():
    """Reference: without regularisation the MLE of a model that loses every battle is -inf
    (Hunter 2004, assumption 1 fails); the ridge keeps it finite and far below the others."""
    a, b, o = simulate(np.array([0.5, 0.0, -0.5]), 0.3, 3_000, seed=5)
    loser = (a == 3) | (b == 3)
    extra_a = np.array([3] * 50 + [0] * 50 + [1] * 40)
    extra_b = np.array([0] * 50 + [3] * 50 + [2] * 40)
    extra_o = np.array([1] * 50 + [0] * 50 + [1] * 40)
    a = np.concatenate([a[~loser], extra_a])
    b = np.concatenate([b[~loser], extra_b])
    o = np.concatenate([o[~loser], extra_o])
    theta, nu, loglik, converged = fit_btd(4, a, b, o)
    assert converged
    assert np.all(np.isfinite(theta)) and math.isfinite(nu) and math.isfinite(loglik)
    assert theta[3] < theta[:3].min() - 5.0
    fit = btd_with_bootstrap(4, a, b, o, draws=50, seed=1)
    assert np.all(np.isfinite(fit.lower)) and np.all(np.isfinite(fit.upper))
    assert fit.rank[3] == 4


def test_model_that_never_loses_and_no_ties_stays_finite():
    """Reference: as above, mirrored (MLE would be +inf); no ties so nu = 0 exactly."""
    a = np.array([0, 0, 1, 2, 1, 2, 2])
    b = np.array([1, 2, 0, 0, 2, 1, 1])
    o = np.array([0, 0, 1, 1, 0, 1, 0])  # model 0 wins all four of its battles
    theta, nu, _, converged = fit_btd(3, a, b, o)
    assert converged and nu == 0.0
    assert np.all(np.isfinite(theta))
    assert theta[0] > theta[1:].max() + 5.0


def test_all_ties_stays_finite():
    """Reference: with only ties the MLE is theta equal and nu = +inf; the ridge keeps it finite."""
    a = np.array([0, 1, 2, 0])
    b = np.array([1, 2, 0, 2])
    o = np.full(4, 2)
    theta, nu, _, converged = fit_btd(3, a, b, o)
    assert converged
    np.testing.assert_allclose(theta, 0.0, atol=1e-9)
    assert math.isfinite(nu) and nu > 1e3


def test_unplayed_models_are_nan_and_others_unaffected(sim50k):
    """Reference: the likelihood does not involve models without battles."""
    a, b, o, (theta, nu, loglik, _) = sim50k
    mapping = np.array([0, 2, 3, 5, 6, 7])  # models 1, 4, 8 never play
    theta9, nu9, loglik9, converged = fit_btd(9, mapping[a], mapping[b], o)
    assert converged
    assert np.all(np.isnan(theta9[[1, 4, 8]]))
    np.testing.assert_allclose(theta9[mapping], theta, atol=1e-9)
    assert nu9 == pytest.approx(nu, rel=1e-9)
    assert loglik9 == pytest.approx(loglik, rel=1e-12)
    fit = btd_with_bootstrap(9, mapping[a], mapping[b], o, draws=20)
    for arr in (fit.lower, fit.upper, fit.rank, fit.rank_lower, fit.rank_upper):
        assert np.all(np.isnan(arr[[1, 4, 8]]))
        assert not np.any(np.isnan(arr[mapping]))
    assert sorted(fit.rank[mapping]) == [1, 2, 3, 4, 5, 6]


def test_no_battles():
    theta, nu, loglik, converged = fit_btd(
        3, np.array([], int), np.array([], int), np.array([], int)
    )
    assert np.all(np.isnan(theta)) and math.isnan(nu) and loglik == 0.0 and converged


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(1, 3), st.integers(0, 2)), min_size=1, max_size=40
    )
)
def test_seating_and_order_do_not_matter(rows):
    """Reference: the Davidson model is symmetric — 'a beats b' is 'b loses to a' — and the
    likelihood is a product over battles, so swapping seats (flipping the outcome code) and
    reversing the battle order leave the fit unchanged; the fit always converges."""
    a = np.array([r[0] for r in rows])
    b = (a + np.array([r[1] for r in rows])) % 4
    o = np.array([r[2] for r in rows])
    theta, nu, loglik, converged = fit_btd(4, a, b, o)
    assert converged
    flipped = np.where(o == 2, 2, 1 - o)
    theta2, nu2, loglik2, _ = fit_btd(4, b[::-1], a[::-1], flipped[::-1])
    np.testing.assert_allclose(theta2, theta, atol=1e-6, equal_nan=True)
    assert nu2 == pytest.approx(nu, rel=1e-6, abs=1e-12)
    assert loglik2 == pytest.approx(loglik, rel=1e-9, abs=1e-9)
    assert loglik == pytest.approx(log_likelihood(4, a, b, o, np.nan_to_num(theta), nu), abs=1e-9)


@pytest.mark.parametrize(
    ("a", "b", "o", "match"),
    [
        ([0, 1], [1], [0, 0], "equal lengths"),
        ([0], [0], [0], "itself"),
        ([0], [3], [0], "indices"),
        ([0], [1], [3], "outcome codes"),
        ([0.0], [1.0], [0], "integers"),
    ],
)
def test_rejects_bad_input(a, b, o, match):
    with pytest.raises(ValueError, match=match):
        fit_btd(3, np.array(a), np.array(b), np.array(o))


# --------------------------------------------------------------------------------------------
# bootstrap


def test_bootstrap_intervals_contain_estimate_and_are_deterministic(sim50k):
    """Reference: percentile bootstrap (Efron & Tibshirani 1993); the multinomial resampling of
    counts is drawn from a seeded Generator, so a seed fixes the result."""
    a, b, o, (theta, nu, loglik, _) = sim50k
    fit = btd_with_bootstrap(6, a, b, o, draws=100, seed=7)
    assert isinstance(fit, BTDFit)
    np.testing.assert_allclose(fit.theta, theta, atol=1e-12)
    assert fit.nu == pytest.approx(nu) and fit.log_likelihood == pytest.approx(loglik)
    assert fit.converged
    assert np.all(fit.lower <= fit.theta) and np.all(fit.theta <= fit.upper)
    assert np.all(fit.lower < fit.upper)
    again = btd_with_bootstrap(6, a, b, o, draws=100, seed=7)
    np.testing.assert_array_equal(again.lower, fit.lower)
    np.testing.assert_array_equal(again.upper, fit.upper)
    other = btd_with_bootstrap(6, a, b, o, draws=100, seed=8)
    assert not np.array_equal(other.lower, fit.lower)
    np.testing.assert_array_equal(fit.rank, [6, 5, 4, 3, 2, 1])


def test_bootstrap_width_matches_observed_information(sim50k):
    """Reference: for a regular MLE the bootstrap distribution approximates the asymptotic
    normal one, so the 95% percentile half-width is ~1.96 observed-information SEs."""
    a, b, o, (theta, nu, _, _) = sim50k
    fit = btd_with_bootstrap(6, a, b, o, draws=400, seed=2)
    se_theta, _ = observed_se(theta, nu, a, b, o)
    half = (fit.upper - fit.lower) / 2
    np.testing.assert_allclose(half / (1.959964 * se_theta), 1.0, atol=0.25)


def test_bootstrap_narrows_with_more_data():
    """Reference: SE ∝ 1/sqrt(n) (Efron & Tibshirani 1993): 10x the battles, ~sqrt(10) narrower."""
    small = simulate(TRUE_THETA, TRUE_NU, 4_000, seed=11)
    large = simulate(TRUE_THETA, TRUE_NU, 40_000, seed=12)
    w_small = btd_with_bootstrap(6, *small, draws=200, seed=0)
    w_large = btd_with_bootstrap(6, *large, draws=200, seed=0)
    ratio = np.mean(w_small.upper - w_small.lower) / np.mean(w_large.upper - w_large.lower)
    assert 2.4 < ratio < 4.2


def test_bootstrap_rejects_bad_arguments(sim50k):
    a, b, o, _ = sim50k
    with pytest.raises(ValueError, match="interval"):
        btd_with_bootstrap(6, a, b, o, interval=1.0)
    with pytest.raises(ValueError, match="draws"):
        btd_with_bootstrap(6, a, b, o, draws=0)


def test_bootstrap_rank_intervals_come_from_the_draws():
    """Rank intervals are the shortest ranges holding 95 % of each model's bootstrap ranks
    (rating.ranks.rank_intervals): a dominant model is always first, two near-equal models
    share ranks 2-3, and the result matches ranking the draws by hand."""
    a = np.array([0] * 200 + [1] * 200 + [0] * 200)
    b = np.array([1] * 200 + [2] * 200 + [2] * 200)
    o = np.array([0] * 190 + [1] * 10 + [0] * 100 + [1] * 100 + [0] * 190 + [1] * 10)
    fit = btd_with_bootstrap(3, a, b, o, draws=300, seed=2)
    assert fit.rank.tolist() == [1, 2, 3] or fit.rank.tolist() == [1, 3, 2]
    assert (fit.rank_lower[0], fit.rank_upper[0]) == (1, 1)
    assert (fit.rank_lower[1], fit.rank_upper[1]) == (2, 3)
    assert (fit.rank_lower[2], fit.rank_upper[2]) == (2, 3)


# --------------------------------------------------------------------------------------------
# comparing rankings


def test_kendall_tau():
    """Reference: scipy.stats.kendalltau (tau-b) on the non-nan positions."""
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert kendall_tau(x, x) == 1.0
    assert kendall_tau(x, -x) == -1.0
    y = np.array([2.0, 1.0, 3.0, np.nan, 5.0])
    z = np.array([1.0, 1.0, 2.0, 9.0, np.nan])
    expected = kendalltau([2.0, 1.0, 3.0], [1.0, 1.0, 2.0], variant="b").statistic
    assert kendall_tau(y, z) == pytest.approx(expected)
    assert math.isnan(kendall_tau(np.array([1.0, np.nan]), np.array([np.nan, 2.0])))
    assert math.isnan(kendall_tau(np.ones(3), x[:3]))
    with pytest.raises(ValueError):
        kendall_tau(x, x[:3])


def test_disagreements_constructed_case():
    """Reference: the documented definition — the inclusive rank ranges do not overlap."""
    ts_rank = np.array([1, 2, 3, 4, 5, np.nan])
    ts_lo = np.array([1, 1, 3, 4, 4, np.nan])
    ts_hi = np.array([2, 2, 3, 4, 5, np.nan])
    btd_rank = np.array([1, 3, 2, 1, 4, 2])
    btd_lo = np.array([1, 3, 2, 1, 4, 1])
    btd_hi = np.array([1, 4, 3, 2, 5, 3])
    flags = disagreements(ts_rank, ts_lo, ts_hi, btd_rank, btd_lo, btd_hi)
    # 0 nested; 1 disjoint (2 < 3); 2 touching at 3 overlaps; 3 disjoint; 4 overlaps; 5 unranked
    np.testing.assert_array_equal(flags, [False, True, False, True, False, False])
    assert flags.dtype == bool
    with pytest.raises(ValueError):
        disagreements(ts_rank, ts_lo, ts_hi, btd_rank[:3], btd_lo, btd_hi)
