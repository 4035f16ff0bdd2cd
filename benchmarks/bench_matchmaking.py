"""Planning on the batch posterior vs random pairs: battles to separate the five leaders.

Boards (best first, TrueSkill scale, beta = 25/6, draw probability 0.10): 30 models with five
clear leaders 4 points apart above a crowded middle 0.5 apart (the best of the middle 4 below
the fifth leader), and the same with 12 models. Battles in batches of 100; after each batch the
batch posterior (Laplace) is refitted and the goal checked: the five adjacent top pairs each
pass the one-sided test on their difference, Bonferroni-corrected over the five pairs and every
batch of the budget (`prefboard.studies.planning`). "plan" = `prefboard plan`'s batch planner
aimed at that goal (goal information with fantasy updates) with a share of random pairs;
"random" = uniform pairs; both in the same run with the same seeds. Worlds: "matched" (the
model's Thurstone outcomes) and "misspecified" (logistic outcomes of the same variance, 20 %
of votes careless: a or b at random).

Printed per board and world: median battles to the goal for each arm (runs that never reach it
count as the budget: that understates random's battles, so the ratio is conservative), the
ratio plan / random with a paired bootstrap 95 % interval over seeds, coverage of the true
skills and of true adjacent differences by the 95 % bands at the stop and averaged over the
run, wrong separations, and Kendall tau at the stop.

Run: python benchmarks/bench_matchmaking.py [--quick] [--seeds N] [--explore E ...]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from prefboard.studies import planning as study

BOARDS = {"30 models": (30, 40_000), "12 models": (12, 10_000)}
WORLDS = {
    "matched": study.World(),
    "misspecified": study.World(logistic=True, careless=0.2),
}


def _arm(
    board: study.Board, world: study.World, policy: str, seeds: int, budget: int, explore: float
) -> list[study.RunResult]:
    return [
        study.run(board, world, policy, s, budget=budget, explore=explore) for s in range(seeds)
    ]


def _battles(results: list[study.RunResult], budget: int) -> np.ndarray:
    return np.array([r.separated_at or budget for r in results], dtype=float)


def _line(name: str, results: list[study.RunResult], budget: int) -> str:
    b = _battles(results, budget)
    censored = sum(r.separated_at is None for r in results)
    mean = lambda f: float(np.mean([f(r) for r in results]))  # noqa: E731
    return (
        f"  {name:<14} median {np.median(b):>7,.0f} battles"
        f"{f' ({censored} not within {budget:,})' if censored else ''}; "
        f"coverage skills {mean(lambda r: r.coverage_skills):.2f} "
        f"(run {mean(lambda r: r.mean_coverage_skills):.2f}), "
        f"adjacent diffs {mean(lambda r: r.coverage_diffs):.2f} "
        f"(run {mean(lambda r: r.mean_coverage_diffs):.2f}); "
        f"wrong separations {sum(r.wrong for r in results)}; "
        f"tau {mean(lambda r: r.tau):.3f}"
    )


def _tau_pair(planned: list[study.RunResult], rand: list[study.RunResult]) -> str:
    """Mean Kendall tau of each arm after the battles at which plan stopped (same seed)."""
    mine, theirs = [], []
    for p, r in zip(planned, rand, strict=True):
        look = (p.separated_at or 0) // 100 - 1
        if p.separated_at is None or look >= len(r.taus):
            continue
        mine.append(p.taus[look])
        theirs.append(r.taus[look])
    if not mine:
        return "n/a"
    return f"{np.mean(mine):.3f}, random {np.mean(theirs):.3f} ({len(mine)} seeds)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 seeds, matched world only.")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--explore", type=float, nargs="+", default=[0.5])
    args = parser.parse_args()
    seeds = 4 if args.quick else args.seeds
    worlds = {"matched": WORLDS["matched"]} if args.quick else WORLDS
    for label, (models, budget) in BOARDS.items():
        board = study.leaders_board(models)
        for wname, world in worlds.items():
            start = time.perf_counter()
            rand = _arm(board, world, "random", seeds, budget, 0.0)
            print(f"{label}, {wname} world, {seeds} seeds, batches of 100:")
            print(_line("random", rand, budget))
            for e in args.explore:
                planned = _arm(board, world, "plan", seeds, budget, e)
                ratio, lo, hi = study.bootstrap_ratio(
                    _battles(planned, budget), _battles(rand, budget)
                )
                print(_line(f"plan explore={e:g}", planned, budget))
                print(f"  tau at plan's stop: plan {_tau_pair(planned, rand)}")
                print(f"  ratio plan/random {ratio:.2f} (95 % CI {lo:.2f}-{hi:.2f})")
            print(f"  ({time.perf_counter() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
