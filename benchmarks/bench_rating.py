"""The whole rating stage on 1,000,000 battle rows: 6 dimensions, 4 slice attributes,
1 timestamp-order pass + 20 permutations per tournament, plus the `trueskill` package's
speed on a 20,000-update sample measured in the same run.

Run: .venv/bin/python benchmarks/bench_rating.py [--rows N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import trueskill

sys.path.insert(0, str(Path(__file__).parent))

from _boards import example_board, peak_rss_mib

from prefboard.ingest.validate import ingest
from prefboard.rating import batch
from prefboard.rating import trueskill as engine
from prefboard.rating.rate import params_of, rate

REFERENCE_UPDATES = 20_000


def package_updates_per_second(n: int) -> float:
    rng = np.random.default_rng(0)
    env = trueskill.TrueSkill(draw_probability=0.15)
    players = [env.create_rating() for _ in range(30)]
    pairs = rng.integers(0, 30, size=(n, 2))
    outcomes = rng.integers(0, 3, size=n)
    start = time.perf_counter()
    for (i, j), o in zip(pairs, outcomes, strict=True):
        if i == j:
            j = (i + 1) % 30
        a, b = (players[i], players[j]) if o != 1 else (players[j], players[i])
        a, b = trueskill.rate_1vs1(a, b, drawn=o == 2, env=env)
        players[i], players[j] = (a, b) if o != 1 else (b, a)
    return n / (time.perf_counter() - start)


def warm_up(params: engine.TrueSkillParams) -> None:
    a, b = np.array([0, 1]), np.array([1, 0])
    o = np.array([0, 2], dtype=np.int8)
    engine.replay_tournaments(2, a, b, o, np.array([0, 2]), np.array([0, 1]), 1, 0, params)
    engine.replay_history(2, a, b, o, np.array([0, 1]), 1, params)
    post = batch.fit(2, a, b, o, prior_mean=25.0, prior_sigma=8.0, beta=4.0, draw_margin=1.0)
    batch.cluster_inflation(post, a, b, o, [np.array([0, 1])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config, root = example_board(Path(tmp), args.rows)
        params = params_of(config)
        warm_up(params)  # numba compiles once per machine (cache=True); not part of the stage
        start = time.perf_counter()
        data = ingest(config, root)
        ingest_s = time.perf_counter() - start
        start = time.perf_counter()
        standings = rate(config, data)
        rate_s = time.perf_counter() - start
        passes = 1 + config.rating.permutations
        updates = sum(t.battles for t in standings.tables if t.slice_attribute != "poststratified")
        engine_rate = updates * passes / rate_s
        package = package_updates_per_second(REFERENCE_UPDATES)
        print(f"battle rows: {data.ledger.totals()['battles']['rows']}")
        print(f"accepted battles: {len(data.battles)}")
        print(
            f"tournaments: {sum(t.slice_attribute != 'poststratified' for t in standings.tables)}"
        )
        print(f"tournament updates per pass: {updates:,}")
        print(f"passes per tournament: {passes}")
        print(f"ingest seconds: {ingest_s:.2f}")
        print(f"rating stage seconds: {rate_s:.2f}")
        print(f"ingest + rating seconds: {ingest_s + rate_s:.2f}")
        print(f"battle-updates/s (rating stage, all passes): {engine_rate:,.0f}")
        print(f"trueskill package updates/s ({REFERENCE_UPDATES:,} sample): {package:,.0f}")
        print(f"throughput ratio stage/package: {engine_rate / package:,.0f}x")
        print(f"peak RSS MiB: {peak_rss_mib():.0f}")


if __name__ == "__main__":
    main()
