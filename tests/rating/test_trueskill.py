"""Tests for the compiled two-player TrueSkill engine.

References, in order of authority:

* the ``trueskill`` package (0.4.5) itself, run with an *accurate* backend. Its default backend
  approximates erfc with a 10-term formula good to ~1e-7, which would hide (or fake) any
  disagreement below that, so it is never used as a numerical reference here. The 'scipy'
  backend (Cephes ndtr/ndtri) is accurate to double precision and fast enough for 10k battles;
  for extreme skill gaps, where scipy's cdf underflows and the package raises, the 'mpmath'
  backend at 40 significant digits is used.
* the package's documented examples (trueskill.org and its PyPI description),
* independent high-precision evaluations of the truncated-Gaussian moments with mpmath,
* the definitions in Herbrich, Minka & Graepel (NIPS 2006) for predicted probabilities.
"""

from __future__ import annotations

import math

import mpmath
import numba
import numpy as np
import pytest
import trueskill
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from prefboard.rating import replay as kernels
from prefboard.rating.trueskill import (
    Jobs,
    TrueSkillParams,
    draw_margin,
    rate_1vs1,
    replay,
    replay_history,
    replay_jobs,
    replay_tournaments,
    v_draw,
    v_win,
    w_draw,
    w_win,
    win_probabilities,
    win_probabilities_array,
)

ATOL = 1e-9


def package_env(params: TrueSkillParams, backend: str) -> trueskill.TrueSkill:
    return trueskill.TrueSkill(
        mu=params.mu,
        sigma=params.sigma,
        beta=params.beta,
        tau=params.tau,
        draw_probability=params.draw_probability,
        backend=backend,
    )


def package_rate(
    env: trueskill.TrueSkill,
    mu_a: float,
    sigma_a: float,
    mu_b: float,
    sigma_b: float,
    outcome: int,
) -> tuple[float, float, float, float]:
    """The package's posterior, in the engine's (a, b, outcome) convention."""
    ra = env.create_rating(mu_a, sigma_a)
    rb = env.create_rating(mu_b, sigma_b)
    if outcome == 1:
        rb, ra = trueskill.rate_1vs1(rb, ra, env=env)  # the package's winner comes first
    else:
        ra, rb = trueskill.rate_1vs1(ra, rb, drawn=outcome == 2, env=env)
    return float(ra.mu), float(ra.sigma), float(rb.mu), float(rb.sigma)


def simulate_battles(
    rng: np.random.Generator,
    n_models: int,
    n_battles: int,
    params: TrueSkillParams,
    spread: float,
    upset_rate: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Battles from latent skills, so real gaps build up; some results are flipped into upsets."""
    skill = rng.normal(params.mu, spread, n_models)
    a = rng.integers(0, n_models, n_battles)
    b = (a + rng.integers(1, n_models, n_battles)) % n_models
    diff = skill[a] - skill[b] + rng.normal(0.0, math.sqrt(2.0) * params.beta, n_battles)
    eps = draw_margin(params.draw_probability, params.beta)
    outcome = np.where(np.abs(diff) <= eps, 2, np.where(diff > 0, 0, 1)).astype(np.int8)
    flip = (rng.random(n_battles) < upset_rate) & (outcome != 2)
    outcome[flip] = 1 - outcome[flip]
    return a, b, outcome


def loop_rate_1vs1(
    n_models: int,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    params: TrueSkillParams,
    order: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    mu = np.full(n_models, params.mu)
    sigma = np.full(n_models, params.sigma)
    for i in range(len(a)) if order is None else order:
        ia, ib = a[i], b[i]
        mu[ia], sigma[ia], mu[ib], sigma[ib] = rate_1vs1(
            mu[ia], sigma[ia], mu[ib], sigma[ib], int(outcome[i]), params
        )
    return mu, sigma


# ---------------------------------------------------------------------------------------------
# Agreement with the trueskill package
# ---------------------------------------------------------------------------------------------

# 10,500 sequential battles in all: several draw probabilities (including none and a small one
# that takes the narrow-window draw path), non-default constants, tau = 0 so sigmas get small,
# wide latent skill spreads so that large gaps and upsets occur.
SEQUENTIAL_CASES = [
    pytest.param(TrueSkillParams(), 40, 3500, 4 * 25 / 6, 0.03, id="defaults"),
    pytest.param(
        TrueSkillParams(mu=0.0, sigma=2.0, beta=3.0, tau=0.2, draw_probability=0.3),
        30,
        3000,
        8.0,
        0.05,
        id="many-draws",
    ),
    pytest.param(
        TrueSkillParams(tau=0.0, draw_probability=0.0), 12, 2000, 30.0, 0.02, id="no-draws-tau0"
    ),
    pytest.param(
        TrueSkillParams(mu=1000.0, sigma=300.0, beta=150.0, tau=3.0, draw_probability=0.02),
        25,
        2000,
        1000.0,
        0.05,
        id="large-scale-few-draws",
    ),
]


@pytest.mark.parametrize(
    ("params", "n_models", "n_battles", "spread", "upset_rate"), SEQUENTIAL_CASES
)
def test_sequential_replay_matches_package(
    params: TrueSkillParams, n_models: int, n_battles: int, spread: float, upset_rate: float
) -> None:
    rng = np.random.default_rng(n_battles + n_models)
    a, b, outcome = simulate_battles(rng, n_models, n_battles, params, spread, upset_rate)
    env = package_env(params, "scipy")
    mu = [params.mu] * n_models
    sigma = [params.sigma] * n_models
    worst = 0.0
    widest_upset = 0.0  # in units of the performance-difference standard deviation c
    for ia, ib, o in zip(a.tolist(), b.tolist(), outcome.tolist(), strict=True):
        # Per battle, from identical inputs: no accumulated drift can hide a wrong update.
        ours = rate_1vs1(mu[ia], sigma[ia], mu[ib], sigma[ib], o, params)
        if o != 2:
            c = math.sqrt(2 * (params.beta**2 + params.tau**2) + sigma[ia] ** 2 + sigma[ib] ** 2)
            loser_lead = (mu[ib] - mu[ia]) / c if o == 0 else (mu[ia] - mu[ib]) / c
            widest_upset = max(widest_upset, loser_lead)
        theirs = package_rate(env, mu[ia], sigma[ia], mu[ib], sigma[ib], o)
        worst = max(worst, max(abs(x - y) for x, y in zip(ours, theirs, strict=True)))
        mu[ia], sigma[ia], mu[ib], sigma[ib] = theirs
    assert worst < ATOL
    got_mu, got_sigma = replay(n_models, a, b, outcome, params)
    np.testing.assert_allclose(got_mu, mu, rtol=0, atol=ATOL)
    np.testing.assert_allclose(got_sigma, sigma, rtol=0, atol=ATOL)
    assert widest_upset > 3.0  # the sequence did reach the lower tail of the win kernel


@pytest.mark.parametrize(
    "params",
    [
        TrueSkillParams(),
        TrueSkillParams(tau=0.0, draw_probability=0.5),
        TrueSkillParams(beta=1.0, tau=0.0, draw_probability=0.01),
        TrueSkillParams(beta=10.0, draw_probability=0.2),
    ],
)
def test_random_states_match_package(params: TrueSkillParams) -> None:
    # Independent states: sigmas from 1e-4 to 20 (tiny ones matter only when tau = 0) and gaps
    # up to ~18 performance standard deviations, still inside what scipy's cdf resolves.
    rng = np.random.default_rng(int(params.beta * 100 + params.draw_probability * 1000))
    env = package_env(params, "scipy")
    scale = math.sqrt(2.0) * params.beta
    for _ in range(300):
        mu_a, mu_b = rng.uniform(-9 * scale, 9 * scale, 2) + params.mu
        sigma_a, sigma_b = 10.0 ** rng.uniform(-4, math.log10(20.0), 2)
        o = int(rng.integers(0, 3))
        ours = rate_1vs1(mu_a, sigma_a, mu_b, sigma_b, o, params)
        theirs = package_rate(env, mu_a, sigma_a, mu_b, sigma_b, o)
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=ATOL)


def test_extreme_gaps_match_mpmath_package() -> None:
    # Gaps of 100 to 3000 points with sigmas near 1: the underdog's win is 15 to 500 standard
    # deviations out. The default backend raises FloatingPointError here and scipy's cdf
    # underflows, so the reference is the mpmath backend. Its w = v * (v + x) cancels about
    # x**2 ulps: at mpmath's default 15 digits it drifts up to ~6e-10 from the exact answer
    # (measured), hence 40 digits so that the reference is exact to double precision.
    params = TrueSkillParams()
    env = package_env(params, "mpmath")
    rng = np.random.default_rng(7)
    cases = [(1253.2, 1.3, 2038.35, 1.1, o) for o in range(3)]
    for _ in range(100):
        mu_a = rng.uniform(0.0, 3000.0)
        mu_b = mu_a + rng.choice([-1.0, 1.0]) * rng.uniform(100.0, 3000.0)
        sigma_a, sigma_b = rng.uniform(0.05, 3.0, 2)
        cases += [(mu_a, sigma_a, mu_b, sigma_b, o) for o in range(3)]
    with mpmath.workdps(40):
        for case in cases:
            ours = rate_1vs1(*case, params)
            theirs = package_rate(env, *case)
            assert all(math.isfinite(x) for x in ours)
            np.testing.assert_allclose(ours, theirs, rtol=0, atol=ATOL)


def test_default_backend_fails_where_engine_does_not() -> None:
    # Documents why mpmath is the reference above; the engine's answer is checked there.
    with pytest.raises(FloatingPointError):
        trueskill.rate_1vs1(
            trueskill.Rating(1253.2, 1.3), trueskill.Rating(2038.35, 1.1), env=trueskill.TrueSkill()
        )
    mu_a, sigma_a, mu_b, sigma_b = rate_1vs1(1253.2, 1.3, 2038.35, 1.1, 0, TrueSkillParams())
    assert mu_a > 1253.2 and mu_b < 2038.35 and 0 < sigma_a < 1.3 and 0 < sigma_b < 1.1


def test_documented_examples() -> None:
    # trueskill.org front page (docs/index.rst of sublee/trueskill): "if 1P beat 2P", both
    # starting from Rating(), gives 29.396 +- 7.171 and 20.604 +- 7.171 (printed to 3 places).
    got = rate_1vs1(25.0, 25 / 3, 25.0, 25 / 3, 0, TrueSkillParams())
    np.testing.assert_allclose(got, (29.396, 7.171, 20.604, 7.171), atol=5e-4)
    env = package_env(TrueSkillParams(), "mpmath")
    np.testing.assert_allclose(
        got, package_rate(env, 25.0, 25 / 3, 25.0, 25 / 3, 0), rtol=0, atol=ATOL
    )
    # PyPI description of trueskill 0.3.1: Rating(25, 8.333) beats Rating(30, 8.333).
    got = rate_1vs1(25.0, 8.333, 30.0, 8.333, 0, TrueSkillParams())
    np.testing.assert_allclose(got, (30.768, 7.030, 24.232, 7.030), atol=5e-4)


@pytest.mark.parametrize("p", [0.0, 0.01, 0.1, 0.5, 0.9])
@pytest.mark.parametrize("beta", [25 / 6, 1.0, 150.0])
def test_draw_margin_matches_package(p: float, beta: float) -> None:
    env = trueskill.TrueSkill(beta=beta, backend="scipy")
    assert draw_margin(p, beta) == pytest.approx(
        trueskill.calc_draw_margin(p, 2, env), rel=1e-14, abs=1e-15
    )


# ---------------------------------------------------------------------------------------------
# The v / w kernels against an independent high-precision evaluation
# ---------------------------------------------------------------------------------------------


def mp_win(t: float, eps: float) -> tuple[mpmath.mpf, mpmath.mpf]:
    x = mpmath.mpf(t) - mpmath.mpf(eps)
    v = mpmath.npdf(x) / mpmath.ncdf(x)
    return v, v * (v + x)


def mp_draw(t: float, eps: float) -> tuple[mpmath.mpf, mpmath.mpf]:
    """Mean and variance corrections of N(t, 1) truncated to [-eps, eps] (Herbrich et al.)."""
    s, e = abs(mpmath.mpf(t)), mpmath.mpf(eps)
    hi, lo = e - s, -e - s
    mass = mpmath.ncdf(hi) - mpmath.ncdf(lo)
    v = (mpmath.npdf(lo) - mpmath.npdf(hi)) / mass
    w = v * v + (hi * mpmath.npdf(hi) - lo * mpmath.npdf(lo)) / mass
    return (v if t >= 0 else -v), w


def relative_error(got: float, ref: mpmath.mpf) -> float:
    ref_f = float(ref)
    if abs(ref_f) < 1e-290:  # the true value underflows; only ask for a tiny result
        return 0.0 if abs(got) < 1e-280 else 1.0
    return abs(got - ref_f) / abs(ref_f)


KERNEL_TS = [*np.linspace(-400.0, 30.0, 87), *np.linspace(-8.0, 3.0, 45), -6.0, -6.05, 6.0]


@pytest.mark.parametrize("eps", [0.0, 1e-9, 1e-4, 0.02, 0.05, 0.12, 0.7, 3.0])
def test_kernels_match_high_precision(eps: float) -> None:
    # Covers the direct, continued-fraction and quadrature branches and their boundaries.
    with mpmath.workdps(50):
        for t in KERNEL_TS:
            rv, rw = mp_win(t, eps)
            assert relative_error(v_win(t, eps), rv) < 1e-12, (t, eps)
            assert relative_error(w_win(t, eps), rw) < 1e-12, (t, eps)
            if eps > 0.0:
                rv, rw = mp_draw(t, eps)
                assert relative_error(v_draw(t, eps), rv) < 1e-12, (t, eps)
                assert relative_error(w_draw(t, eps), rw) < 1e-12, (t, eps)


def test_kernels_are_finite_and_bounded_far_out() -> None:
    for t in (-1e3, -1e5, -1e8, 1e3, 1e8):
        for eps in (0.0, 0.01, 0.5):
            assert 0.0 <= w_win(t, eps) <= 1.0
            assert math.isfinite(v_win(t, eps)) and v_win(t, eps) >= 0.0
            if eps:
                assert math.isfinite(v_draw(t, eps)) and 0.0 < w_draw(t, eps) <= 1.0


# ---------------------------------------------------------------------------------------------
# Loops: replay, tournaments, history
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def battles() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    return simulate_battles(rng, 20, 3000, TrueSkillParams(), 10.0, 0.05)


def test_replay_equals_loop_of_rate_1vs1(battles) -> None:
    a, b, outcome = battles
    params = TrueSkillParams(draw_probability=0.2)
    mu, sigma = replay(20, a.astype(np.int32), b.astype(np.int32), outcome, params)
    ref_mu, ref_sigma = loop_rate_1vs1(20, a, b, outcome, params)
    # Same compiled update, same order: bit-identical, not merely close.
    np.testing.assert_array_equal(mu, ref_mu)
    np.testing.assert_array_equal(sigma, ref_sigma)


def tournament_layout(
    n_battles: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    pieces = [np.sort(rng.choice(n_battles, size, replace=False)) for size in (1200, 0, 700, 2500)]
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in pieces])])
    return offsets, np.concatenate(pieces), pieces


def test_replay_tournaments(battles) -> None:
    a, b, outcome = battles
    n_models = 21  # model 20 never plays
    params = TrueSkillParams()
    offsets, t_battles, pieces = tournament_layout(len(a), np.random.default_rng(3))
    passes = 4
    mu, sigma = replay_tournaments(n_models, a, b, outcome, offsets, t_battles, passes, 5, params)
    assert mu.shape == sigma.shape == (4, 1 + passes, n_models)

    for t, piece in enumerate(pieces):
        ref_mu, ref_sigma = loop_rate_1vs1(n_models, a, b, outcome, params, order=piece)
        np.testing.assert_array_equal(mu[t, 0], ref_mu)
        np.testing.assert_array_equal(sigma[t, 0], ref_sigma)
        direct = replay(n_models, a[piece], b[piece], outcome[piece], params)
        np.testing.assert_array_equal(mu[t, 0], direct[0])
        if len(piece):
            for p in range(1, 1 + passes):
                assert not np.array_equal(mu[t, p], mu[t, 0])
                assert not np.array_equal(mu[t, p], mu[t, p - 1])

    # Absent models keep the prior: model 20 everywhere, everybody in the empty tournament 1.
    assert np.all(mu[:, :, 20] == params.mu) and np.all(sigma[:, :, 20] == params.sigma)
    assert np.all(mu[1] == params.mu) and np.all(sigma[1] == params.sigma)

    # Deterministic: same call, same bits; other seeds give other shuffles but the same pass 0.
    again = replay_tournaments(n_models, a, b, outcome, offsets, t_battles, passes, 5, params)
    np.testing.assert_array_equal(again[0], mu)
    np.testing.assert_array_equal(again[1], sigma)
    other = replay_tournaments(n_models, a, b, outcome, offsets, t_battles, passes, 6, params)
    np.testing.assert_array_equal(other[0][:, 0], mu[:, 0])
    assert not np.array_equal(other[0][0, 1], mu[0, 1])


def test_replay_jobs_equals_one_dimension_at_a_time(battles) -> None:
    # Two "dimensions" (outcome rows) with their own draw probabilities, seeds and numbers of
    # shuffled passes, in one balanced run: each must equal replay_tournaments on its own.
    a, b, outcome = battles
    other = np.where(outcome == 2, 0, outcome).astype(np.int8)  # a second dimension, no ties
    offsets, t_battles, pieces = tournament_layout(len(a), np.random.default_rng(8))
    p1, p2 = TrueSkillParams(draw_probability=0.2), TrueSkillParams(draw_probability=0.05)
    n_t = len(pieces)
    jobs = Jobs(
        offsets=np.concatenate([offsets, offsets[1:] + offsets[-1]]),
        battles=np.concatenate([t_battles, t_battles]),
        row=np.repeat([0, 1], n_t),
        eps=np.repeat([draw_margin(0.2, p1.beta), draw_margin(0.05, p2.beta)], n_t),
        seed=np.repeat(np.array([7, 9], dtype=np.uint64), n_t),
        stream=np.tile(np.arange(n_t), 2),
        passes=np.array([3, 0, 3, 0, 1, 1, 0, 2]),
    )
    mu, sigma = replay_jobs(20, a, b, np.stack([outcome, other]), jobs, p1)
    assert mu.shape == (2 * n_t, 4, 20)
    for row, (out, params, seed) in enumerate([(outcome, p1, 7), (other, p2, 9)]):
        ref_mu, ref_sigma = replay_tournaments(20, a, b, out, offsets, t_battles, 3, seed, params)
        for t in range(n_t):
            k = row * n_t + t
            played = 1 + jobs.passes[k]
            np.testing.assert_array_equal(mu[k, :played], ref_mu[t, :played])
            np.testing.assert_array_equal(sigma[k, :played], ref_sigma[t, :played])
            assert np.all(mu[k, played:] == params.mu)  # passes not run keep the prior


def test_replay_jobs_rejects_a_tie_without_a_margin(battles) -> None:
    a, b, outcome = battles
    jobs = Jobs(
        offsets=np.array([0, len(a)]),
        battles=np.arange(len(a)),
        row=np.array([0]),
        eps=np.array([0.0]),
        seed=np.array([1], dtype=np.uint64),
        stream=np.array([0]),
        passes=np.array([1]),
    )
    with pytest.raises(ValueError, match="a draw has probability zero"):
        replay_jobs(20, a, b, outcome[None, :], jobs, TrueSkillParams())


def test_replay_tournaments_independent_of_thread_count(battles) -> None:
    a, b, outcome = battles
    offsets, t_battles, _ = tournament_layout(len(a), np.random.default_rng(4))
    args = (20, a, b, outcome, offsets, t_battles, 6, 123, TrueSkillParams())
    parallel = replay_tournaments(*args)
    saved = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        serial = replay_tournaments(*args)
    finally:
        numba.set_num_threads(saved)
    np.testing.assert_array_equal(parallel[0], serial[0])
    np.testing.assert_array_equal(parallel[1], serial[1])


def test_shuffled_pass_is_a_seeded_permutation(battles) -> None:
    # White-box: pass p must be exactly a replay in the Fisher-Yates order drawn from the
    # splitmix64 stream of (seed, t, p), and that order must be a permutation.
    a, b, outcome = battles
    params = TrueSkillParams()
    offsets, t_battles, pieces = tournament_layout(len(a), np.random.default_rng(5))
    seed = 2**64 - 3  # wraps like any other 64-bit seed
    mu, sigma = replay_tournaments(20, a, b, outcome, offsets, t_battles, 2, seed, params)
    for t, piece in enumerate(pieces):
        for p in (1, 2):
            order = piece.copy()
            # np.uint64 again on the way back in: numba boxes uint64 results as Python ints,
            # which it would otherwise type as int64 when they happen to fit.
            kernels._fisher_yates(order, np.uint64(kernels._job_state(np.uint64(seed), t, p)))
            np.testing.assert_array_equal(np.sort(order), piece)
            ref_mu, ref_sigma = loop_rate_1vs1(20, a, b, outcome, params, order=order)
            np.testing.assert_array_equal(mu[t, p], ref_mu)
            np.testing.assert_array_equal(sigma[t, p], ref_sigma)


@pytest.mark.parametrize(("n", "every"), [(3000, 700), (2800, 700), (3000, 5000), (0, 10)])
def test_replay_history(battles, n: int, every: int) -> None:
    a, b, outcome = battles
    params = TrueSkillParams()
    order = np.random.default_rng(8).permutation(len(a))[:n]
    steps, mu, sigma = replay_history(20, a, b, outcome, order, every, params)
    expected = [*range(every, n + 1, every)]
    if not expected or expected[-1] != n:
        expected.append(n)
    np.testing.assert_array_equal(steps, expected)
    assert mu.shape == sigma.shape == (len(expected), 20)
    for h, step in enumerate(steps):
        ref = replay(20, a[order[:step]], b[order[:step]], outcome[order[:step]], params)
        np.testing.assert_array_equal(mu[h], ref[0])
        np.testing.assert_array_equal(sigma[h], ref[1])


def test_replay_history_longer_than_its_packing_chunk() -> None:
    """The history pass packs 2**16 battles at a time (replay.py: _HISTORY_CHUNK, not one copy
    of the whole list): snapshots inside, at and across chunk ends equal one replay of each
    prefix (the whole-list packing the chunks replaced), read through an int32 list."""
    rng = np.random.default_rng(9)
    n, m = 150_000, 7
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m
    outcome = rng.integers(0, 3, n).astype(np.int8)
    order = rng.permutation(n).astype(np.int32)
    params = TrueSkillParams()
    steps, mu, sigma = replay_history(m, a, b, outcome, order, 65_536, params)
    np.testing.assert_array_equal(steps, [65_536, 131_072, n])
    steps2, mu2, _ = replay_history(m, a, b, outcome, order, 70_001, params)
    np.testing.assert_array_equal(steps2, [70_001, 140_002, n])
    for step, got_mu, got_sigma in [*zip(steps, mu, sigma, strict=True), (steps2[0], mu2[0], None)]:
        ref = replay(m, a[order[:step]], b[order[:step]], outcome[order[:step]], params)
        np.testing.assert_array_equal(got_mu, ref[0])
        if got_sigma is not None:
            np.testing.assert_array_equal(got_sigma, ref[1])
    np.testing.assert_array_equal(mu2[-1], mu[-1])


# ---------------------------------------------------------------------------------------------
# Predicted probabilities
# ---------------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    mu_a=st.floats(-1e4, 1e4),
    mu_b=st.floats(-1e4, 1e4),
    sigma_a=st.floats(0.0, 100.0),
    sigma_b=st.floats(0.0, 100.0),
    beta=st.floats(0.01, 100.0),
    p=st.floats(0.0, 0.95),
)
def test_win_probabilities_sum_to_one(mu_a, mu_b, sigma_a, sigma_b, beta, p) -> None:
    params = TrueSkillParams(beta=beta, draw_probability=p)
    probs = win_probabilities(mu_a, sigma_a, mu_b, sigma_b, params)
    assert all(0.0 <= x <= 1.0 for x in probs)
    assert math.fsum(probs) == pytest.approx(1.0, abs=1e-14)
    if p == 0.0:
        assert probs[2] == 0.0


@settings(max_examples=200, deadline=None)
@given(
    mu_b=st.floats(-100.0, 100.0),
    gap=st.floats(1e-6, 50.0),
    sigma=st.floats(0.0, 20.0),
    p=st.floats(0.0, 0.9),
)
def test_higher_mu_is_favoured(mu_b, gap, sigma, p) -> None:
    params = TrueSkillParams(draw_probability=p)
    p_a, p_b, _ = win_probabilities(mu_b + gap, sigma, mu_b, sigma, params)
    # With draws possible P(a wins) itself can sit below 1/2 (the draw takes its share), so
    # the unconditional > 0.5 claim is checked without draws, the rest conditionally.
    assert p_a > p_b
    assert p_a / (p_a + p_b) > 0.5
    if p == 0.0:
        assert p_a > 0.5


def test_win_probabilities_against_definition() -> None:
    # Herbrich et al.: perf difference ~ N(mu_a - mu_b, 2 beta^2 + sigma_a^2 + sigma_b^2),
    # a draw is |difference| <= epsilon. Evaluated independently with scipy.stats.norm.
    rng = np.random.default_rng(9)
    params = TrueSkillParams(draw_probability=0.25)
    eps = draw_margin(params.draw_probability, params.beta)
    mu_a, mu_b = rng.uniform(0, 60, (2, 500))
    sigma_a, sigma_b = rng.uniform(0, 10, (2, 500))
    c = np.sqrt(2 * params.beta**2 + sigma_a**2 + sigma_b**2)
    ref_a = norm.cdf((mu_a - mu_b - eps) / c)
    ref_b = norm.cdf((mu_b - mu_a - eps) / c)
    got = win_probabilities_array(mu_a, sigma_a, mu_b, sigma_b, params)
    np.testing.assert_allclose(got[0], ref_a, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got[1], ref_b, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got[2], 1 - ref_a - ref_b, rtol=1e-10, atol=1e-15)
    for i in range(0, 500, 50):
        single = win_probabilities(mu_a[i], sigma_a[i], mu_b[i], sigma_b[i], params)
        assert single == (got[0][i], got[1][i], got[2][i])
    # Two equal players known exactly: the draw probability is the one epsilon was built from
    # (the package's calc_draw_probability is the inverse of calc_draw_margin).
    p_a, p_b, p_draw = win_probabilities(25.0, 0.0, 25.0, 0.0, params)
    assert p_draw == pytest.approx(0.25, rel=1e-13)
    assert p_a == p_b == pytest.approx(0.375, rel=1e-13)


def test_win_probabilities_array_broadcasts() -> None:
    params = TrueSkillParams()
    mu_a = np.array([[20.0], [30.0]])
    got = win_probabilities_array(mu_a, 5.0, np.array([25.0, 26.0, 27.0]), np.full(3, 5.0), params)
    assert all(x.shape == (2, 3) for x in got)
    assert got[0][1, 0] == win_probabilities(30.0, 5.0, 25.0, 5.0, params)[0]


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


def test_invalid_input_is_rejected() -> None:
    params = TrueSkillParams()
    one = np.array([0])
    with pytest.raises(ValueError, match="outcome"):
        rate_1vs1(25, 8, 25, 8, 3, params)
    with pytest.raises(ValueError, match="draw"):
        rate_1vs1(25, 8, 25, 8, 2, TrueSkillParams(draw_probability=0.0))
    with pytest.raises(ValueError, match="itself"):
        replay(2, one, one, np.array([0]), params)
    with pytest.raises(ValueError, match="indices"):
        replay(2, one, np.array([2]), np.array([0]), params)
    with pytest.raises(ValueError, match="t_offsets"):
        replay_tournaments(2, one, one + 1, np.array([0]), np.array([0, 2]), one, 1, 0, params)
    with pytest.raises(ValueError, match="every"):
        replay_history(2, one, one + 1, np.array([0]), one, 0, params)
    with pytest.raises(ValueError, match="draw_probability"):
        TrueSkillParams(draw_probability=1.0)
    with pytest.raises(ValueError, match="beta"):
        TrueSkillParams(beta=0.0)


def test_splitmix64_known_answers() -> None:
    # First outputs for state 0 of Vigna's reference splitmix64.c (prng.di.unimi.it).
    state = np.uint64(0)
    outputs = []
    for _ in range(3):
        state, bits = kernels._splitmix64(np.uint64(state))
        outputs.append(bits)
    assert outputs == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]
