"""The Laplace posterior's covariance, solved on first read (rating/batch_fit.py)."""

from __future__ import annotations

import dataclasses
import math
import pickle

import numpy as np
import pytest
from scipy.linalg import cho_factor, cho_solve

from prefboard.rating import batch
from prefboard.rating import trueskill as ts

MU, SIGMA, BETA = 25.0, 25.0 / 3, 25.0 / 6


def _counts(seed: int, m: int = 12, n: int = 3000) -> tuple[batch.PairCounts, float]:
    rng = np.random.default_rng(seed)
    skill = rng.normal(MU, SIGMA, m)
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m
    d = skill[a] - skill[b] + rng.normal(0, math.sqrt(2) * BETA, n)
    eps = ts.draw_margin(0.2, BETA)
    o = np.where(d > eps, 0, np.where(d < -eps, 1, 2)).astype(np.int8)
    return batch.aggregate(m, a, b, o), eps


def _laplace(pc: batch.PairCounts, eps: float) -> batch.Posterior:
    return batch.fit_counts(
        pc, prior_mean=MU, prior_sigma=SIGMA, beta=BETA, draw_margin=eps, method="laplace"
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_laplace_cov_is_the_old_eager_solve_to_the_bit(seed: int) -> None:
    # Expected: the formula fit_counts applied eagerly before the covariance was deferred
    # (batch_fit.py at 1a92afd): cho_solve(cho_factor(lap + prior precision), I), symmetrised.
    pc, eps = _counts(seed)
    post = _laplace(pc, eps)
    cov = cho_solve(cho_factor(post.info_precision + np.eye(12) / SIGMA**2), np.eye(12))
    want = 0.5 * (cov + cov.T)
    assert post.cov.tobytes() == want.tobytes()
    assert post.cov is post.cov  # solved once, then kept
    assert post.sd.tobytes() == np.sqrt(np.diag(want)).tobytes()


def test_posterior_stays_frozen_replaceable_and_picklable() -> None:
    pc, eps = _counts(3)
    post = _laplace(pc, eps)
    with pytest.raises(dataclasses.FrozenInstanceError):
        post.cov = np.eye(12)  # type: ignore[misc]  # the assignment must fail
    again = pickle.loads(pickle.dumps(post))  # before the solve: the factor travels
    assert again.cov.tobytes() == post.cov.tobytes()
    widened = dataclasses.replace(post, cov=4.0 * post.cov)
    assert widened.cov.tobytes() == (4.0 * post.cov).tobytes()
    assert dataclasses.replace(post, iterations=0).cov.tobytes() == post.cov.tobytes()
    ep = batch.fit_counts(pc, prior_mean=MU, prior_sigma=SIGMA, beta=BETA, draw_margin=eps)
    assert np.array_equal(ep.cov, ep.cov.T)
