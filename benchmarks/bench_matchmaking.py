"""Does choosing battles by expected information gain work? A simulation study on known skills.

Models with known true skills battle under TrueSkill's own generative (Thurstone) model; three
policies choose the pairs: "infogain" (the pair of maximal expected entropy reduction under the
current posteriors, planned in batches of 50 as `prefboard plan` would be used), "random"
(uniform pairs) and "skewed" (Zipf popularity, as on crowd-sourced arenas). The posterior is
what a build publishes: sigma from the timestamp-order pass and mu averaged over that pass and
seeded permutations. For each policy it reports the battles needed to reach Kendall tau >= 0.9
against the true ranking and to separate the top 5 (each of the five highest has a one-rank
range from non-overlapping 95% bands), the ratio infogain / random, and how often the 95% bands
cover the true skills.

The truth is static, so the matched model has tau = 0 (the default here); `--tau` sets another.

Run: .venv/bin/python benchmarks/bench_matchmaking.py [--quick] [--seeds N] [--models N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass

import numpy as np

from prefboard.matchmaking import simulate_policy
from prefboard.rating import trueskill as ts

POLICIES = ("infogain", "random", "skewed")
TARGET_RATIO = 0.6


@dataclass(frozen=True)
class Setup:
    models: int
    spacing: float
    seeds: int
    budget: int
    every: int
    batch: int
    permutations: int
    explore: float
    params: ts.TrueSkillParams


def true_skills(models: int, spacing: float, mu: float) -> np.ndarray:
    """An evenly spaced field centred on the prior mean (best first)."""
    return mu + spacing * (np.arange(models)[::-1] - (models - 1) / 2)


def first(runs: list[dict], key: str, test) -> int | None:
    for r in runs:
        if test(r[key]):
            return r["battles"]
    return None


def fmt(x: float | None) -> str:
    return "   never" if x is None else f"{x:8.0f}"


def median_or_none(xs: list[int | None]) -> float | None:
    # A run that never got there counts as worse than any budget; the median is "never" when
    # half or more of the runs never got there.
    vals = sorted(float("inf") if x is None else float(x) for x in xs)
    m = statistics.median(vals)
    return None if m == float("inf") else m


def run(setup: Setup, policies: tuple[str, ...]) -> dict[str, list[list[dict]]]:
    truth = true_skills(setup.models, setup.spacing, setup.params.mu)
    marks = list(range(0, setup.budget + 1, setup.every))
    out: dict[str, list[list[dict]]] = {p: [] for p in policies}
    for policy in policies:
        start = time.perf_counter()
        for seed in range(setup.seeds):
            out[policy].append(
                simulate_policy(
                    "infogain" if policy.startswith("infogain") else policy,
                    truth,
                    setup.budget,
                    setup.params,
                    seed,
                    marks,
                    batch=setup.batch,
                    permutations=setup.permutations,
                    explore=setup.explore if policy == "infogain+explore" else 0.0,
                )
            )
        print(f"  simulated {policy:<17} {time.perf_counter() - start:6.1f} s", flush=True)
    return out


def report(setup: Setup, results: dict[str, list[list[dict]]], sizes: list[int]) -> None:
    print()
    print(f"{'policy':<17} {'tau>=0.9 (median)':>18} {'top-5 separated':>16}  per seed")
    need: dict[str, tuple[float | None, float | None]] = {}
    for policy, runs in results.items():
        tau_n = [first(r, "kendall_tau", lambda v: v >= 0.9) for r in runs]
        sep_n = [first(r, "top_separated", bool) for r in runs]
        need[policy] = (median_or_none(tau_n), median_or_none(sep_n))
        per_seed = ", ".join(f"{fmt(a).strip()}/{fmt(b).strip()}" for a, b in zip(tau_n, sep_n))
        print(f"{policy:<17} {fmt(need[policy][0]):>18} {fmt(need[policy][1]):>16}  {per_seed}")
        wrong = [
            r[[x["battles"] for x in r].index(n)]["top_correct"]
            for r, n in zip(runs, sep_n)
            if n is not None
        ]
        if wrong and not all(wrong):
            print(f"{'':<17} warning: {wrong.count(False)} run(s) separated a WRONG top 5")
    print()
    if "infogain" in need and "random" in need:
        for label, k in (("Kendall tau >= 0.9", 0), ("top 5 separated", 1)):
            ig, rnd = need["infogain"][k], need["random"][k]
            if rnd is None and ig is None:
                print(f"{label}: neither policy got there within {setup.budget} battles.")
            elif rnd is None:
                print(f"{label}: random never got there within {setup.budget}; infogain did.")
            elif ig is None:
                print(f"{label}: INFO GAIN NEVER GOT THERE within {setup.budget}; random did.")
            else:
                ratio = ig / rnd
                verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
                print(
                    f"{label}: infogain / random = {ig:.0f} / {rnd:.0f} = {ratio:.2f} "
                    f"({verdict} the <= {TARGET_RATIO} target)"
                )
                if ratio >= 1:
                    print(f"  -> info gain does NOT beat random on {label}.")
    print()
    print(f"95% band coverage of the true skill (mean over {setup.seeds} seeds; nominal 0.95)")
    print(f"{'policy':<17}" + "".join(f"{n:>9}" for n in sizes))
    for policy, runs in results.items():
        cells = []
        for n in sizes:
            vals = [r[n // setup.every]["coverage"] for r in runs]
            cells.append(f"{np.mean(vals):9.2f}")
        print(f"{policy:<17}" + "".join(cells))
    print(f"{'mean sigma':<17}")
    for policy, runs in results.items():
        vals = [np.mean([r[n // setup.every]["mean_sigma"] for r in runs]) for n in sizes]
        print(f"  {policy:<15}" + "".join(f"{v:9.2f}" for v in vals))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, 12 models, short budget")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--models", type=int, default=None)
    parser.add_argument("--spacing", type=float, default=1.0, help="skill gap between neighbours")
    parser.add_argument("--budget", type=int, default=None)
    parser.add_argument("--tau", type=float, default=0.0)
    parser.add_argument("--draw", type=float, default=0.15, help="draw_probability")
    parser.add_argument("--permutations", type=int, default=10)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--explore", type=float, default=0.25)
    args = parser.parse_args()
    quick = args.quick
    params = ts.TrueSkillParams(tau=args.tau, draw_probability=args.draw)
    setup = Setup(
        models=args.models or (12 if quick else 25),
        spacing=args.spacing,
        seeds=args.seeds or (2 if quick else 5),
        budget=args.budget or (8_000 if quick else 40_000),
        every=100 if quick else 250,
        batch=args.batch,
        permutations=args.permutations,
        explore=args.explore,
        params=params,
    )
    print(
        f"{setup.models} models {setup.spacing} apart (beta {params.beta:.2f}), "
        f"draw_probability {params.draw_probability}, tau {params.tau:g}; "
        f"{setup.seeds} seeds; up to {setup.budget} battles, scored every {setup.every}; "
        f"infogain batches of {setup.batch}; mu averaged over {setup.permutations} permutations"
    )
    # Compile the kernels once outside the timings (numba caches them across runs).
    simulate_policy("infogain", np.array([1.0, 0.0, -1.0]), 4, params, 0, [4], batch=2)
    policies = (*POLICIES, "infogain+explore") if setup.explore > 0 else POLICIES
    start = time.perf_counter()
    results = run(setup, policies)
    sizes = [n for n in (1_000, 5_000, 10_000, 20_000, 40_000) if n <= setup.budget]
    report(setup, results, sizes)
    print(
        f"\n(infogain+explore: {setup.explore:.0%} of each batch uniform random pairs.) "
        f"Total {time.perf_counter() - start:.0f} s."
    )


if __name__ == "__main__":
    main()
