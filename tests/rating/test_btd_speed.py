"""The cross-check's and the draw margin's shortcuts for many-model boards (issue 18): each gives
the same bits as the computation it replaces, which is written out here as the reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from prefboard.rating import batch
from prefboard.rating.batch_fit import mode_log_likelihood
from prefboard.rating.batch_logs import _pair_slopes
from prefboard.rating.batch_terms import _pair_gradients, _pair_loglik, _pair_terms, laplacian
from prefboard.rating.btd import _drawn_cells
from prefboard.rating.btd_fit import RIDGE, _Objective
from prefboard.rating.btd_fit import _pair_terms as btd_pair_terms


def _tied_pairs(seed: int, m: int = 30) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of m models with at least one tie, wins and losses 0-3 times each."""
    rng = np.random.default_rng(seed)
    i, j = np.triu_indices(m, k=1)
    counts = rng.integers(0, 4, (len(i), 3)).astype(float)
    counts[:, 2] += 1.0
    return i.astype(np.int64), j.astype(np.int64), counts


# Margins (scaled) on both sides of the narrow draw window (0.05) and up to the tails; gaps
# spread so that |x| - e and |x| + e cross -6, 0 and 6, where the shared path hands over.
@pytest.mark.parametrize("margin", [1e-7, 0.04, 0.3, 2.0, 5.9, 7.0])
@pytest.mark.parametrize("spread", [0.01, 1.0, 4.0, 12.0])
def test_pairs_with_ties_give_the_bits_of_the_outcome_by_outcome_terms(
    margin: float, spread: float
) -> None:
    i, j, counts = _tied_pairs(2)
    s = spread * np.random.default_rng(3).standard_normal(30)
    ll, g, k, _ = _pair_terms(s, i, j, counts, 1.0, margin)
    assert _pair_loglik(s, i, j, counts, 1.0, margin) == ll
    ll2, g2, k2 = _pair_gradients(s, i, j, counts, 1.0, margin)
    assert ll2 == ll
    assert np.array_equal(g2, g) and np.array_equal(k2, k)


def test_the_laplacian_sums_as_one_bincount_did() -> None:
    i, j, _ = _tied_pairs(4)
    rng = np.random.default_rng(5)
    w = rng.standard_normal(len(i)) * 10.0 ** rng.uniform(-5, 5, len(i))
    w[::5] = 0.0
    m = 30
    keys = np.concatenate([i * (m + 1), j * (m + 1), i * m + j, j * m + i])
    dense = np.bincount(keys, np.concatenate([w, w, -w, -w]), minlength=m * m).reshape(m, m)
    assert laplacian(m, i, j, w).tobytes() == dense.tobytes()


def test_the_profile_fit_is_the_laplace_fit_without_its_covariance() -> None:
    i, j, counts = _tied_pairs(6, m=12)
    pc = batch.PairCounts(12, i, j, counts)
    prior = {"prior_mean": 25.0, "prior_sigma": 25 / 3, "beta": 25 / 6, "draw_margin": 0.7}
    post = batch.fit_counts(pc, **prior, method="laplace")
    mean, loglik = mode_log_likelihood(pc, (25.0, 25 / 3), 25 / 6, 0.7)
    assert mean.tobytes() == post.mean.tobytes()
    assert loglik == post.log_likelihood


def _dense_hessian(obj: _Objective, x: np.ndarray) -> np.ndarray:
    """The objective's Hessian as it was built before: four m*m bincounts, then scaled."""
    m, i, j = obj.m, obj.i, obj.j
    h = 0.5 * (x[:m][i] - x[:m][j])
    _, p_i, p_j, p_t = btd_pair_terms(h, math.exp(x[m]))
    diff = p_i - p_j
    c_hh = -obj.n * (p_i + p_j - diff * diff) * 0.25
    bc = [np.bincount(k, c_hh, m * m) for k in (i * m + i, j * m + j, i * m + j, j * m + i)]
    hess = np.zeros((m + 1, m + 1))
    hess[:m, :m] = (bc[0] + bc[1] - bc[2] - bc[3]).reshape(m, m)
    c_hu = obj.n * diff * p_t * 0.5
    h_tu = np.bincount(i, c_hu, m) - np.bincount(j, c_hu, m)
    hess[:m, m] = h_tu
    hess[m, :m] = h_tu
    hess[m, m] = -float(obj.n @ (p_t * (1.0 - p_t)))
    out = -obj.scale * hess
    out[np.diag_indices_from(out)] += 2.0 * RIDGE * obj.scale
    out[:m, :m] += obj.kappa
    return out


def test_the_btd_hessian_is_the_dense_one_to_the_bit() -> None:
    i, j, counts = _tied_pairs(7, m=20)
    keep = np.random.default_rng(8).random(len(i)) < 0.6  # pairs that never met
    obj = _Objective(20, i[keep], j[keep], counts[keep])
    x = np.append(np.random.default_rng(9).standard_normal(20), -1.0)
    assert obj.hess(x).tobytes() == _dense_hessian(obj, x).tobytes()


def test_the_bootstrap_draws_only_the_cells_that_can_be_drawn() -> None:
    counts = np.zeros(60)
    counts[[3, 4, 17, 40, 41]] = [5.0, 1.0, 9.0, 2.0, 30.0]  # the last cell is empty
    drawn = _drawn_cells(counts)
    assert drawn.tolist() == [3, 4, 17, 40, 41, 59]
    full = np.random.default_rng(0).multinomial(47, counts / counts.sum(), size=50)
    short = np.random.default_rng(0).multinomial(47, counts[drawn] / counts.sum(), size=50)
    assert np.array_equal(full[:, drawn], short)
    assert not full[:, np.setdiff1d(np.arange(60), drawn)].any()


@pytest.mark.parametrize("margin", [0.0, 1e-7, 0.3, 7.0])
def test_the_newton_slopes_are_the_gradient_pass_without_its_logs(margin: float) -> None:
    i, j, counts = _tied_pairs(10)
    if margin == 0.0:
        counts[:, 2] = 0.0
    s = 3.0 * np.random.default_rng(11).standard_normal(30)
    _, g, k = _pair_gradients(s, i, j, counts, 1.0, margin)
    g2, k2 = _pair_slopes(s, i, j, counts, 1.0, margin)
    assert np.array_equal(g2, g) and np.array_equal(k2, k)
