"""Calibration of the published bands, end to end: simulate a board, rate it with the product,
compare every 95 % band and rank interval with the hidden truth.

Five scenarios (conditions printed with each): a skewed sample with real group differences;
40 % ties with no draw_probability in the config; 4 votes per prompt sharing a prompt effect; no
group differences; battles chosen adaptively by `prefboard plan`. For each, coverage of the
headline's and each group's 95 % bands (12 models x seeds intervals per cell), coverage of the
rank intervals and their mean posterior mass (what their coverage should be: ranks are whole,
so the range nearest 95 % holds a little more or less), mean band width, and the root-mean-square of
error / (half-width / z), which is 1 when the bands are as wide as the errors are.
Target: 93-97 % (rank intervals 93-99 %).
The study itself is `prefboard.studies.calibration`; its docstring states the truth precisely.

Run: .venv/bin/python benchmarks/bench_calibration.py [--quick] [--seeds N] [--write [PATH]]
(20 seeds: 4.4 minutes here with other work sharing the 2 cores; --quick: 2 seeds, about
35 s). --write regenerates
src/prefboard/templates/calibration.json, which the methodology page quotes.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from prefboard.studies import calibration as cal

LOW, HIGH = 0.93, 0.97
FIGURES = Path(__file__).resolve().parent.parent / "src/prefboard/templates/calibration.json"


def print_table(cells: list[cal.Cell]) -> None:
    head = (
        f"{'table':<18} {'intervals':>9} {'coverage':>14} {'rank cov.':>9} {'mass':>6} "
        f"{'width':>6} {'err/band':>8}  in 93-97 %"
    )
    for scenario in cal.SCENARIOS:
        rows = [c for c in cells if c.scenario == scenario.key]
        if not rows:
            continue
        print(f"\n## {scenario.label}\n   {scenario.conditions}")
        print(head)
        print("-" * len(head))
        for c in sorted(rows, key=lambda c: (c.table != "headline", c.table)):
            cov = f"{100 * c.coverage:5.1f} ± {100 * c.coverage_se:3.1f}"
            ok = "yes" if LOW <= c.coverage <= HIGH else "NO"
            print(
                f"{c.table:<18} {c.intervals:>9} {cov:>14} {100 * c.rank_coverage:8.1f}% "
                f"{100 * c.rank_mass:5.1f}% {c.width:6.2f} {c.error_sd:8.2f}  {ok}"
            )


def figures(cells: list[cal.Cell], seeds: int, seconds: float) -> dict:
    """What the methodology page shows: every cell, with each scenario's conditions."""
    return {
        "source": (
            f"benchmarks/bench_calibration.py ({seeds} seeds per scenario, one fresh board each, "
            "rated by this pipeline); rerun it with --write to regenerate these figures"
        ),
        "target": [100 * LOW, 100 * HIGH],
        "seeds": seeds,
        "truth": (
            "headline: population-share-weighted mean of the group skills over the "
            "stratify_by cells; a group: its own skill; the truth of each table shifted by one "
            "constant to the mean of the estimates (only differences are identified)"
        ),
        "scenarios": [
            {
                "key": s.key,
                "label": s.label,
                "conditions": s.conditions,
                "cells": [
                    {
                        "table": c.table,
                        "intervals": c.intervals,
                        "coverage": round(100 * c.coverage, 1),
                        "coverage_se": round(100 * c.coverage_se, 1),
                        "rank_coverage": round(100 * c.rank_coverage, 1),
                        "rank_mass": round(100 * c.rank_mass, 1),
                        "width": round(c.width, 3),
                        "error_rms": round(c.error_sd, 2),
                    }
                    for c in sorted(cells, key=lambda c: (c.table != "headline", c.table))
                    if c.scenario == s.key
                ],
            }
            for s in cal.SCENARIOS
        ],
        "seconds": round(seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds: a smoke run")
    parser.add_argument("--seeds", type=int, default=None, help="boards per scenario (20)")
    parser.add_argument(
        "--scenario", action="append", default=None, help="run only these scenarios (keys)"
    )
    parser.add_argument(
        "--write",
        type=Path,
        nargs="?",
        const=FIGURES,
        default=None,
        help=f"write the methodology page's figures (default {FIGURES.name} in templates/)",
    )
    args = parser.parse_args()
    seeds = args.seeds or (2 if args.quick else 20)
    scenarios = [s for s in cal.SCENARIOS if args.scenario is None or s.key in args.scenario]
    start = time.perf_counter()
    cells = cal.study(scenarios, range(seeds), progress=lambda msg: print(msg, flush=True))
    seconds = time.perf_counter() - start
    print(f"\nCoverage % (± standard error over seeds) of nominal 95 % intervals, {seeds} seeds")
    print_table(cells)
    bands = sum(LOW <= c.coverage <= HIGH for c in cells)
    ranks = sum(0.93 <= c.rank_coverage <= 0.99 for c in cells)
    print(f"\nbands in 93-97 %: {bands} of {len(cells)} cells; rank intervals in 93-99 %: {ranks}")
    print(f"study time {seconds:.0f} s")
    if args.write is not None:
        args.write.write_text(json.dumps(figures(cells, seeds, seconds), indent=1) + "\n")
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
