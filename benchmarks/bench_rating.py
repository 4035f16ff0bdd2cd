"""The whole rating stage on 1,000,000 battle rows: 6 dimensions, 4 slice attributes, the
batch posterior of every table (the headline) and the online pass of every tournament in
timestamp order, plus 20 shuffled orders of the tables `rating.permuted_tables` names (default
the pooled ones; `--permuted-tables all` measures every group table too). Prints wall and CPU
seconds and peak memory in one run, the budget (issue 14: about 15 s and 1.5 GiB) and the
previous session's figure, and the `trueskill` package's speed on a 20,000-update sample.

Run: .venv/bin/python benchmarks/bench_rating.py [--rows N] [--permuted-tables pooled|all]
"""

from __future__ import annotations

import argparse
import resource
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
from prefboard.rating.tournaments import Run, Spec, run_tournaments
from prefboard.standings.model import POOLED, POSTSTRATIFIED, Standings

REFERENCE_UPDATES = 20_000
BUDGET_S, BUDGET_MIB = 15.0, 1536
# Before the cross-checks moved to a worker process (same session, README): main thread only.
PREVIOUS = "rating stage 17.1-18.2 s after 3.5-3.8 s of ingest, CPU = wall (one core), 885 MiB"


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


def _children() -> float:
    """CPU seconds of the finished child processes (the cross-check worker). Not its peak
    memory: Linux counts a child's RSS at fork, i.e. this process's, before the exec."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def warm_up(params: engine.TrueSkillParams) -> None:
    a, b = np.array([0, 1]), np.array([1, 0])
    o = np.array([0, 2], dtype=np.int8)
    engine.replay_tournaments(2, a, b, o, np.array([0, 2]), np.array([0, 1]), 1, 0, params)
    run = Run(o, [Spec("d", "pooled", "pooled", np.array([0, 1]), 1)], 0, params)
    run_tournaments(2, a, b, [run])
    engine.replay_history(2, a, b, o, np.array([0, 1]), 1, params)
    post = batch.fit(2, a, b, o, prior_mean=25.0, prior_sigma=8.0, beta=4.0, draw_margin=1.0)
    batch.cluster_inflation(post, a, b, o, [np.array([0, 1])])


def online_updates(standings: Standings) -> tuple[int, int]:
    """(updates of one pass over every tournament, updates of all passes actually replayed)."""
    p = standings.parameters
    tables = [t for t in standings.tables if t.slice_attribute != POSTSTRATIFIED]
    one = sum(t.battles for t in tables)
    permuted = sum(
        t.battles for t in tables if p.permuted_tables == "all" or t.slice_attribute == POOLED
    )
    return one, one + p.permutations * permuted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--permuted-tables", choices=["pooled", "all"], default="pooled")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config, root = example_board(Path(tmp), args.rows)
        rating = config.rating.model_copy(update={"permuted_tables": args.permuted_tables})
        config = config.model_copy(update={"rating": rating})
        params = params_of(config)
        warm_up(params)  # numba compiles once per machine (cache=True); not part of the stage
        start = time.perf_counter()
        data = ingest(config, root)
        ingest_s = time.perf_counter() - start
        start, cpu, child = time.perf_counter(), time.process_time(), _children()
        standings = rate(config, data)
        rate_s, rate_cpu = time.perf_counter() - start, time.process_time() - cpu
        child_cpu = _children() - child
        one_pass, updates = online_updates(standings)
        package = package_updates_per_second(REFERENCE_UPDATES)
        print(f"battle rows: {data.ledger.totals()['battles']['rows']}")
        print(f"accepted battles: {len(data.battles)}")
        print(f"tournaments: {sum(t.slice_attribute != POSTSTRATIFIED for t in standings.tables)}")
        print(f"permuted tables: {args.permuted_tables} ({config.rating.permutations} orders)")
        print(f"online updates, one pass of every tournament: {one_pass:,}")
        print(f"online updates, all passes replayed: {updates:,}")
        print(f"ingest seconds: {ingest_s:.2f}")
        print(
            f"rating stage seconds: {rate_s:.2f} (CPU {rate_cpu:.2f} over all threads"
            f" + {child_cpu:.2f} in the cross-check worker process)"
        )
        print(f"ingest + rating seconds: {ingest_s + rate_s:.2f}")
        print(f"peak RSS MiB: {peak_rss_mib():.0f} (simulating the board included)")
        print(f"budget (prefboard rate = ingest + rating): ~{BUDGET_S:.0f} s, {BUDGET_MIB} MiB")
        print(f"previous: {PREVIOUS}")
        print(f"online updates/s (rating stage): {updates / rate_s:,.0f}")
        print(f"trueskill package updates/s ({REFERENCE_UPDATES:,} sample): {package:,.0f}")


if __name__ == "__main__":
    main()
