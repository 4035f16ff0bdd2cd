"""Throughput of the compiled TrueSkill engine against the reference ``trueskill`` package.

Run: ``.venv/bin/python benchmarks/bench_engine.py``. Every timed engine call is preceded by a
warm-up call on the same dtypes so that numba compilation (or cache loading) is not counted.
"""

from __future__ import annotations

import time

import numba
import numpy as np
import trueskill

from prefboard.rating.trueskill import TrueSkillParams, replay, replay_tournaments

N_MODELS = 200
PACKAGE_UPDATES = 20_000
ENGINE_UPDATES = 5_000_000
TOURNAMENT_BATTLES = 1_000_000
TOURNAMENTS = 5
PASSES = 20  # plus the canonical pass: 21 replays per tournament


def random_battles(
    n: int, n_models: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Uniformly random pairings; 45% a wins, 45% b wins, 10% draws."""
    a = rng.integers(0, n_models, n)
    b = (a + rng.integers(1, n_models, n)) % n_models
    outcome = rng.choice(np.array([0, 1, 2], dtype=np.int8), size=n, p=[0.45, 0.45, 0.10])
    return a, b, outcome


def package_rate(a: np.ndarray, b: np.ndarray, outcome: np.ndarray) -> float:
    """Updates per second of ``trueskill.rate_1vs1`` (default backend) over the battles."""
    env = trueskill.TrueSkill()
    ratings = [env.create_rating() for _ in range(N_MODELS)]
    start = time.perf_counter()
    for ia, ib, o in zip(a.tolist(), b.tolist(), outcome.tolist(), strict=True):
        if o == 1:
            ratings[ib], ratings[ia] = trueskill.rate_1vs1(ratings[ib], ratings[ia], env=env)
        else:
            ratings[ia], ratings[ib] = trueskill.rate_1vs1(
                ratings[ia], ratings[ib], drawn=o == 2, env=env
            )
    return len(a) / (time.perf_counter() - start)


def best_of(repeats: int, fn) -> float:
    """Shortest wall time of ``repeats`` calls: the least disturbed by other processes."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    rng = np.random.default_rng(20240601)
    params = TrueSkillParams()

    a, b, outcome = random_battles(ENGINE_UPDATES, N_MODELS, rng)
    package_ups = package_rate(a[:PACKAGE_UPDATES], b[:PACKAGE_UPDATES], outcome[:PACKAGE_UPDATES])

    replay(N_MODELS, a[:1000], b[:1000], outcome[:1000], params)
    engine_s = best_of(3, lambda: replay(N_MODELS, a, b, outcome, params))
    engine_ups = ENGINE_UPDATES / engine_s

    ta, tb, to = random_battles(TOURNAMENT_BATTLES, N_MODELS, rng)
    # Five overlapping tournaments of different sizes, each in canonical (index) order.
    sizes = np.linspace(0.5, 1.0, TOURNAMENTS)
    pieces = [
        np.sort(rng.permutation(TOURNAMENT_BATTLES)[: int(f * TOURNAMENT_BATTLES)]) for f in sizes
    ]
    t_battles = np.concatenate(pieces)
    t_offsets = np.concatenate([[0], np.cumsum([len(p) for p in pieces])])
    small = np.array([0, 2, 4])
    replay_tournaments(N_MODELS, ta, tb, to, small, np.arange(4), 2, 0, params)
    tour_s = best_of(
        3,
        lambda: replay_tournaments(N_MODELS, ta, tb, to, t_offsets, t_battles, PASSES, 1, params),
    )
    tour_updates = len(t_battles) * (1 + PASSES)

    print(f"package rate_1vs1 updates/s ({PACKAGE_UPDATES} updates): {package_ups:.0f}")
    print(f"engine replay updates/s ({ENGINE_UPDATES} updates, single pass): {engine_ups:.0f}")
    print(f"engine ns/update: {1e9 / engine_ups:.1f}")
    print(
        f"replay_tournaments updates/s ({TOURNAMENTS} tournaments, {len(t_battles)} battles, "
        f"{1 + PASSES} passes, {numba.get_num_threads()} threads): {tour_updates / tour_s:.0f}"
    )
    print(f"replay_tournaments wall time s: {tour_s:.2f}")
    print(f"engine/package speed ratio: {engine_ups / package_ups:.0f}x")


if __name__ == "__main__":
    main()
