"""The Bradley–Terry–Davidson bootstrap's shortcuts (issue 18, 300 models): the warm-started
refits without scipy's trust-exact wrapping, the shared pair layout, the compiled pair terms and
one multinomial draw at a time. Each must give the same bits as what it replaced; the reference
is either that computation written out here or numbers printed by the code before the change
(77cc958)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from prefboard.rating import btd
from prefboard.rating.btd_fit import RIDGE, _fit_counts, _minimize, _Objective, _pair_terms
from prefboard.rating.btd_refit import WarmStart, trust_exact_newton


def _sparse_counts() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """12 models, 0-2 battles per outcome and pair, so that bootstrap draws drop pairs; model
    11 lost its only battle, so some draws leave it out."""
    rng = np.random.default_rng(11)
    i, j = np.triu_indices(12, k=1)
    cells = rng.integers(0, 3, (len(i), 3)).astype(float)
    cells[cells.sum(axis=1) == 0, 0] = 1.0
    keep = (j < 11) | (i == 0)
    i, j, cells = i[keep], j[keep], cells[keep]
    cells[j == 11] = [1.0, 0.0, 0.0]
    return i.astype(np.int64), j.astype(np.int64), cells


def _dense_counts(seed: int, m: int = 25) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of m models with 20-60 battles per outcome: draws keep every pair."""
    rng = np.random.default_rng(seed)
    i, j = np.triu_indices(m, k=1)
    strength = np.linspace(-1.0, 1.0, m)
    cells = rng.integers(20, 60, (len(i), 3)).astype(float)
    cells[:, 0] *= np.exp(strength[i] - strength[j])
    return i.astype(np.int64), j.astype(np.int64), np.round(cells)


def _draw(cells: np.ndarray, seed: int) -> np.ndarray:
    flat = cells.ravel()
    return (
        np.random.default_rng(seed)
        .multinomial(int(flat.sum()), flat / flat.sum())
        .reshape(cells.shape)
        .astype(float)
    )


def test_the_bootstrap_gives_the_numbers_it_gave_before() -> None:
    # printed by btd.btd_from_counts at 77cc958 (scipy trust-exact for every draw); the draws
    # take every path: Newton steps, scipy from the start, and the general fit
    i, j, cells = _sparse_counts()
    fit = btd.btd_from_counts(12, i, j, cells, 40, 5, 0.95)
    # to 1e-12: the last bits follow the machine's BLAS and SIMD paths (an AMD EPYC differed
    # from the machine that printed them by one unit in the last place)
    assert fit.lower.tolist() == pytest.approx([
        -0.7359777254025859, -0.37170249638665503, -0.4040211692950654, -1.6548463823633632,
        -0.14907302473029044, -0.9353164357905739, -0.13955234671410743, -0.99435580239962,
        -0.9393812023364326, -0.6924074835485169, -0.37950378517724875, -18.375485990259417,
    ], rel=1e-12)  # fmt: skip
    assert fit.upper.tolist() == pytest.approx([
        2.2141816205008866, 1.9244903846918182, 2.939662570309657, 1.824495659597453,
        3.317274945476564, 1.7206035627889298, 3.2768542580129645, 1.5929437735852312,
        1.892432084182375, 1.91727388058739, 2.5729916003794027, -16.842721447800457,
    ], rel=1e-12)  # fmt: skip
    assert fit.rank_lower.tolist() == [2, 1, 1, 3, 1, 4, 1, 5, 4, 3, 1, 12]
    assert fit.rank_upper.tolist() == [10, 10, 8, 11, 6, 11, 8, 11, 11, 11, 9, 12]


def test_newton_steps_land_where_scipys_trust_exact_does_to_the_bit() -> None:
    i, j, cells = _dense_counts(1)
    theta, nu, _, _ = _fit_counts(25, i, j, cells)
    warm = WarmStart.of(25, i, j, theta, nu)
    drawn = _draw(cells, 2)
    ours = trust_exact_newton(_Objective(25, i, j, drawn), warm.x0)
    assert ours is not None
    assert ours.tobytes() == _minimize(_Objective(25, i, j, drawn), warm.x0).tobytes()


def test_newton_steps_give_up_where_trust_exact_would_leave_the_newton_path() -> None:
    # from all-equal strengths the first Newton step is longer than the trust radius (1)
    i, j, cells = _dense_counts(3)
    cells[:, 0] *= 50.0
    assert trust_exact_newton(_Objective(25, i, j, cells), np.zeros(26)) is None


@pytest.mark.parametrize(
    "case", ["every pair", "pairs dropped", "model dropped", "no ties drawn", "no ties at all"]
)
def test_a_refit_is_the_general_fit_to_the_bit(case: str) -> None:
    i, j, cells = _dense_counts(4)
    if case == "no ties at all":
        cells[:, 2] = 0.0
    theta, nu, _, _ = _fit_counts(25, i, j, cells)
    drawn = _draw(cells, 5)
    if case == "pairs dropped":
        drawn[[3, 40, 41]] = 0.0
    elif case == "model dropped":
        drawn[(i == 7) | (j == 7)] = 0.0
    elif case == "no ties drawn":
        drawn[:, 2] = 0.0
    refit = WarmStart.of(25, i, j, theta, nu).refit(drawn)
    assert refit.tobytes() == _fit_counts(25, i, j, drawn, theta, nu)[0].tobytes()
    assert np.isnan(refit[7]) == (case == "model dropped")


def _pair_terms_numpy(h: np.ndarray, nu: float) -> tuple[np.ndarray, ...]:
    """btd_fit._pair_terms at 77cc958, verbatim."""
    ah = np.abs(h)
    e1 = np.exp(-2.0 * ah)
    et = nu * np.exp(-ah)
    ds = 1.0 + e1 + et
    log_d = ah + np.log(ds)
    strong = 1.0 / ds
    weak = e1 / ds
    pos = h >= 0
    return log_d, np.where(pos, strong, weak), np.where(pos, weak, strong), et / ds


@pytest.mark.parametrize("nu", [0.0, 1e-9, 0.4, 3.0])
def test_the_compiled_pair_terms_are_the_numpy_ones(nu: float) -> None:
    h = np.random.default_rng(6).standard_normal(1001) * 10.0 ** np.linspace(-8, 2.5, 1001)
    h[::7] *= -1.0
    h[[0, 1]] = [0.0, -0.0]
    for ours, numpy in zip(_pair_terms(h, nu), _pair_terms_numpy(h, nu), strict=True):
        assert ours.tobytes() == numpy.tobytes()


def test_the_objective_value_and_gradient_are_the_numpy_ones() -> None:
    # _Objective._eval at 77cc958 with its numba pass written as numpy (np.bincount adds each
    # bin's values in array order, as that pass did)
    i, j, cells = _dense_counts(7)
    obj = _Objective(25, i, j, cells)
    x = np.append(np.random.default_rng(8).standard_normal(25), -0.7)
    obj._eval(x)
    theta, u = x[:25], x[25]
    h = 0.5 * (theta[i] - theta[j])
    log_d, p_i, p_j, p_t = _pair_terms_numpy(h, math.exp(u))
    net, n = cells[:, 0] - cells[:, 1], cells.sum(axis=1)
    loglik = float(np.dot(net, h) - np.dot(n, log_d)) + float(cells[:, 2].sum()) * u
    g_h = net - n * (p_i - p_j)
    grad = 0.5 * (np.bincount(i, g_h, 25) - np.bincount(j, g_h, 25))
    grad = np.append(grad, float(cells[:, 2].sum()) - float(n @ p_t))
    penalty = RIDGE * float(theta @ theta) + RIDGE * u * u
    s, total = 1.0 / float(n.sum()), float(theta.sum())
    assert obj.loglik == loglik
    assert obj.f == s * (penalty - loglik) + 0.5 * (1.0 / 25) * total**2
    fgrad = s * (2.0 * RIDGE * x - grad)
    fgrad[:25] += (1.0 / 25) * total
    assert obj.g.tobytes() == fgrad.tobytes()


def test_one_multinomial_draw_at_a_time_is_the_same_as_all_at_once() -> None:
    p = np.random.default_rng(9).random(500)
    p /= p.sum()
    at_once = np.random.default_rng(10).multinomial(20_000, p, size=30)
    rng = np.random.default_rng(10)
    assert np.array_equal(at_once, np.stack([rng.multinomial(20_000, p) for _ in range(30)]))


def _bootstrap_refitting_every_draw(
    n: int, i: np.ndarray, j: np.ndarray, cells: np.ndarray, draws: int, seed: int
) -> np.ndarray:
    """`btd._bootstrap` as it was before it remembered repeated draws: every draw refitted."""
    theta, nu, _, _ = _fit_counts(n, i, j, cells)
    rng = np.random.default_rng(seed)
    flat = cells.ravel()
    drawn = btd._drawn_cells(flat)
    p = flat[drawn] / flat.sum()
    warm = WarmStart.of(n, i, j, theta, nu)
    out = np.empty((draws, n))
    for d in range(draws):
        counts = np.zeros(flat.shape)
        counts[drawn] = rng.multinomial(int(flat.sum()), p)
        out[d] = warm.refit(counts.reshape(cells.shape))
    return out


@pytest.mark.parametrize("board", ["three battles", "sparse", "dense, over the remembered cells"])
def test_a_repeated_draw_takes_the_theta_of_its_first_refit(board: str) -> None:
    # A board of three battles (the tests' tiny board) draws the same counts again and again;
    # each draw's theta must be the bits a refit of it gives, whichever draw came first.
    if board == "three battles":
        i, j = np.array([0, 0]), np.array([1, 2])
        cells, n = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 1.0]]), 3
    elif board == "sparse":
        (i, j, cells), n = _sparse_counts(), 12
    else:
        (i, j, cells), n = _dense_counts(6, m=14), 14
        assert 3 * len(i) > btd._REMEMBERED_CELLS  # nothing remembered, every draw refitted
    theta, nu, _, _ = _fit_counts(n, i, j, cells)
    samples = btd._bootstrap(n, i, j, cells, theta, nu, 60, 9)
    reference = _bootstrap_refitting_every_draw(n, i, j, cells, 60, 9)
    assert samples.tobytes() == reference.tobytes()
    distinct = len({row.tobytes() for row in samples})  # (np.unique tells NaN rows apart)
    assert distinct <= 10 if board == "three battles" else distinct == 60
