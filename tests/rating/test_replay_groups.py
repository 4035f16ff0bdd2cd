"""Passes of one tournament played together (rating/replay.py: run_jobs, _play_group).

The reference for every (tournament, pass) is the definition of the replay, written here
without the kernels' play loop: the tournament's battles in canonical order (pass 0) or in the
Fisher-Yates order of the splitmix64 stream of (seed, stream, pass), each battle one call of
the compiled update ``update._rate`` from Python. Grouping, packing width and thread count
must not change a bit of any pass.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from prefboard.rating import replay as kernels
from prefboard.rating.trueskill import TrueSkillParams, draw_margin
from prefboard.rating.update import _rate

PARAMS = TrueSkillParams(draw_probability=0.2)
EPS = draw_margin(0.2, PARAMS.beta)
TWO_BETA_SQ = 2.0 * PARAMS.beta**2
TAU_SQ = PARAMS.tau**2
SEED = 2**64 - 5


def board(n_models: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Battles among five models, the highest of them ``n_models - 1``, so the packing's top
    model bits are used; a tenth of them ties (outcome 2 fills the packing's top bits)."""
    ids = np.array([0, 1, 2, n_models - 2, n_models - 1])
    n = 1_500
    i = rng.integers(0, 5, n)
    j = (i + rng.integers(1, 5, n)) % 5
    outcome = rng.choice(3, n, p=[0.45, 0.45, 0.1]).astype(np.int8)
    return ids[i], ids[j], outcome[None, :]


def jobs_of(rng: np.random.Generator) -> kernels.Jobs:
    pieces = [np.sort(rng.choice(1_500, size, replace=False)) for size in (600, 300, 0, 450)]
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in pieces])]).astype(np.int64)
    return kernels.Jobs(
        offsets=offsets,
        battles=np.concatenate(pieces).astype(np.int64),
        row=np.zeros(4, dtype=np.int64),
        eps=np.full(4, EPS),
        seed=np.full(4, SEED, dtype=np.uint64),
        stream=np.array([0, 1, 2, 5], dtype=np.int64),
        passes=np.array([6, 0, 2, 3], dtype=np.int64),
    )


def reference(n_models: int, battles: tuple[np.ndarray, ...], jobs: kernels.Jobs) -> np.ndarray:
    """mu and sigma stacked: shape (2, T, 1 + max passes, n_models), one pass at a time."""
    a, b, outcomes = battles
    width = 1 + int(jobs.passes.max())
    out = np.empty((2, jobs.passes.size, width, n_models))
    out[0], out[1] = PARAMS.mu, PARAMS.sigma
    for t in range(jobs.passes.size):
        piece = jobs.battles[jobs.offsets[t] : jobs.offsets[t + 1]]
        for p in range(1 + jobs.passes[t]):
            order = piece.copy()
            if p > 0:
                state = kernels._job_state(np.uint64(SEED), int(jobs.stream[t]), p)
                # np.uint64 again: numba boxes a uint64 result as a Python int
                kernels._fisher_yates(order, np.uint64(state))
            mu, sigma = out[0, t, p], out[1, t, p]
            for i in order:
                ia, ib = a[i], b[i]
                mu[ia], sigma[ia], mu[ib], sigma[ib] = _rate(
                    mu[ia], sigma[ia], mu[ib], sigma[ib], int(outcomes[0, i]), TWO_BETA_SQ,
                    TAU_SQ, EPS,
                )  # fmt: skip
    return out


def grouped(
    n_models: int, battles: tuple[np.ndarray, ...], jobs: kernels.Jobs, k: int
) -> np.ndarray:
    a, b, outcomes = battles
    mu, sigma = kernels.run_jobs(
        n_models, a, b, outcomes, jobs, PARAMS.mu, PARAMS.sigma, TWO_BETA_SQ, TAU_SQ, together=k
    )
    return np.stack([mu, sigma])


# uint16 packing up to 128 models, int32 up to 2**13, int64 beyond: each width at its edges.
@pytest.mark.parametrize(
    "n_models",
    [
        kernels.MAX_MODELS_SMALL,
        kernels.MAX_MODELS_SMALL + 1,
        kernels.MAX_MODELS_NARROW,
        kernels.MAX_MODELS_NARROW + 1,
    ],
)
def test_every_grouping_gives_every_pass_its_own_bits(n_models: int) -> None:
    rng = np.random.default_rng(n_models)
    battles = board(n_models, rng)
    jobs = jobs_of(rng)
    expected = reference(n_models, battles, jobs)
    for k in (1, 2, 3, 4, 7, 20):
        np.testing.assert_array_equal(grouped(n_models, battles, jobs, k), expected)
    # The shuffled passes did play, each its own order.
    assert not np.array_equal(expected[0, 0, 1], expected[0, 0, 2])


def test_grouping_is_independent_of_the_thread_count() -> None:
    rng = np.random.default_rng(1)
    battles = board(40, rng)
    jobs = jobs_of(rng)
    parallel = grouped(40, battles, jobs, 3)
    saved = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        serial = grouped(40, battles, jobs, 3)
    finally:
        numba.set_num_threads(saved)
    np.testing.assert_array_equal(parallel, serial)


def test_schedule_plays_every_pass_once_in_near_equal_groups_longest_first() -> None:
    jobs = jobs_of(np.random.default_rng(2))  # tournaments of 600, 300, 0, 450 battles
    group_t, first, count = jobs.schedule(4)
    played = sorted(
        (t, p) for t, f, c in zip(group_t, first, count, strict=True) for p in range(f, f + c)
    )
    assert played == [(t, p) for t in range(4) for p in range(1 + jobs.passes[t])]
    # 7 passes -> 4 + 3 (not 4 + 4 + ...), 4 passes -> one group of 4, longest work first.
    assert list(zip(group_t.tolist(), first.tolist(), count.tolist(), strict=True)) == [
        (0, 3, 4),
        (0, 0, 3),
        (3, 0, 4),
        (1, 0, 1),
        (2, 0, 3),
    ]
    assert jobs.schedule(1)[2].tolist() == [1] * 15


def test_tally_counts_each_seat_of_each_outcome() -> None:
    """tournaments._tally indexes its columns by the outcome (no branch): per tournament and
    model, battles, wins, losses and ties must equal counts written out per outcome here."""
    from prefboard.rating.tournaments import _tally

    rng = np.random.default_rng(4)
    a, b, outcomes = board(9, rng)
    jobs = jobs_of(rng)
    got = _tally(9, a, b, outcomes, jobs.row, jobs.offsets, jobs.battles)
    for t in range(jobs.passes.size):
        idx = jobs.battles[jobs.offsets[t] : jobs.offsets[t + 1]]
        x, y, o = a[idx], b[idx], outcomes[0, idx]
        count = lambda who: np.bincount(who, minlength=9)  # noqa: E731
        np.testing.assert_array_equal(got[t, :, 0], count(x) + count(y))
        np.testing.assert_array_equal(got[t, :, 1], count(x[o == 0]) + count(y[o == 1]))
        np.testing.assert_array_equal(got[t, :, 2], count(x[o == 1]) + count(y[o == 0]))
        np.testing.assert_array_equal(got[t, :, 3], count(x[o == 2]) + count(y[o == 2]))
    assert got[:, :, 1:].sum() == 2 * jobs.offsets[-1]  # every battle scored for both seats
