"""Does choosing battles by expected information gain work? A simulation study on known skills.

Models with known true skills battle under TrueSkill's own generative (Thurstone) model and a
policy chooses the pairs: "infogain" (the pair of maximal expected entropy reduction under the
current posteriors, planned in batches of 50 as `prefboard plan` would be used), "random"
(uniform pairs), "skewed" (Zipf popularity, as on crowd-sourced arenas) and "infogain+explore"
(half of each batch infogain, half uniform random). The posterior is what a build publishes:
sigma from the timestamp-order pass, mu averaged over that pass and seeded permutations.

For each policy it prints the battles needed to reach Kendall tau >= 0.9 against the true
ranking and to separate the top 5 (each of the five highest has a one-rank range from
non-overlapping 95% bands), the ratio infogain / random (target <= 0.6), the 95% band coverage
of the true skills and the spread ("scale") of the posterior mu against the truth.

Scenarios: an even field 1 point (~0.24 beta, ~50 Elo) apart with the board's tau = 25/300 and
with tau = 0 (the truth is static, so tau = 0 is the matched model), and five leaders 2 points
apart above such a field, with tau = 0: with tau > 0 sigma levels off near 0.8, so bands never
get narrower than about +-1.6 and neighbours 1 or 2 points apart can never be separated.

Run: .venv/bin/python benchmarks/bench_matchmaking.py [--quick] [--seeds N] [--budget N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from prefboard.matchmaking import simulate_policy
from prefboard.rating import trueskill as ts

POLICIES = ("infogain", "random", "skewed")
TARGET_RATIO = 0.6
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Setup:
    label: str
    truth: np.ndarray
    seeds: int
    budget: int
    batch: int
    permutations: int
    explore: float
    params: ts.TrueSkillParams


def even_field(models: int, spacing: float, mu: float) -> np.ndarray:
    """An evenly spaced field centred on the prior mean (best first)."""
    return mu + spacing * (np.arange(models)[::-1] - (models - 1) / 2)


def leaders_field(models: int, mu: float, leaders: int = 5, gap: float = 4.0) -> np.ndarray:
    """`leaders` models `gap` apart above an even field 1 apart, centred on the prior mean."""
    rest = np.arange(models - leaders, dtype=float)[::-1]
    top = rest[0] + gap * np.arange(1, leaders + 1, dtype=float)[::-1]
    skills = np.concatenate([top, rest])
    return skills - skills.mean() + mu


def schedule(budget: int) -> list[int]:
    """Checkpoints: every 50 battles up to 2,000, every 250 up to 10,000, then every 1,000."""
    marks = {*range(0, 2_001, 50), *range(2_000, 10_001, 250), *range(10_000, budget + 1, 1_000)}
    return sorted(m for m in marks if m <= budget)


def first(runs: list[dict], key: str, test: Callable[[object], bool]) -> int | None:
    for r in runs:
        if test(r[key]):
            return r["battles"]
    return None


def at(runs: list[dict], battles: int) -> dict:
    return next(r for r in runs if r["battles"] == battles)


def fmt(x: float | None) -> str:
    return "never" if x is None else f"{x:.0f}"


def median_or_none(xs: list[int | None]) -> float | None:
    # A run that never got there counts as worse than any budget; the median is "never" when
    # half or more of the runs never got there.
    vals = sorted(float("inf") if x is None else float(x) for x in xs)
    m = statistics.median(vals)
    return None if m == float("inf") else m


def run(setup: Setup, policies: tuple[str, ...]) -> dict[str, list[list[dict]]]:
    truth = setup.truth
    marks = schedule(setup.budget)
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


def report(setup: Setup, results: dict[str, list[list[dict]]]) -> None:
    print()
    print(f"Battles needed (median over {setup.seeds} seeds; per seed: tau / top 5)")
    print(f"{'policy':<17} {'tau >= 0.9':>10} {'top 5 sep.':>10}   per seed")
    need: dict[str, tuple[float | None, float | None]] = {}
    for policy, runs in results.items():
        tau_n = [first(r, "kendall_tau", lambda v: v >= 0.9) for r in runs]
        sep_n = [first(r, "top_separated", bool) for r in runs]
        need[policy] = (median_or_none(tau_n), median_or_none(sep_n))
        per_seed = "  ".join(f"{fmt(a)}/{fmt(b)}" for a, b in zip(tau_n, sep_n, strict=True))
        print(f"{policy:<17} {fmt(need[policy][0]):>10} {fmt(need[policy][1]):>10}   {per_seed}")
        wrong = [at(r, n)["top_correct"] for r, n in zip(runs, sep_n, strict=True) if n]
        if wrong and not all(wrong):
            print(f"{'':<17} warning: {wrong.count(False)} run(s) separated a WRONG top 5")
    print()
    for label, k in (("Kendall tau >= 0.9", 0), ("top 5 separated", 1)):
        for policy in (p for p in results if p.startswith("infogain")):
            ig, rnd = need[policy][k], need["random"][k]
            if rnd is None and ig is None:
                print(f"{label}: neither {policy} nor random got there in {setup.budget} battles.")
            elif rnd is None:
                print(f"{label}: random never got there in {setup.budget} battles; {policy} did.")
            elif ig is None:
                print(f"{label}: {policy.upper()} NEVER GOT THERE in {setup.budget}; random did.")
            else:
                ratio = ig / rnd
                verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
                print(
                    f"{label}: {policy} / random = {ig:.0f} / {rnd:.0f} = {ratio:.2f} "
                    f"({verdict} the <= {TARGET_RATIO} target)"
                )
                if ratio >= 1:
                    print(f"  -> {policy} does NOT beat random on {label}.")
    sizes = sorted({n for n in (500, 2_000, 5_000, 10_000) if n < setup.budget} | {setup.budget})
    print()
    print("95% band coverage of the true skill (mean over seeds; nominal 0.95) | scale of mu")
    print(
        f"{'policy':<17}"
        + "".join(f"{n:>7}" for n in sizes)
        + " |"
        + "".join(f"{n:>7}" for n in sizes)
    )
    for policy, runs in results.items():
        cov = [np.mean([at(r, n)["coverage"] for r in runs]) for n in sizes]
        scale = [np.mean([at(r, n)["scale"] for r in runs]) for n in sizes]
        print(
            f"{policy:<17}"
            + "".join(f"{v:7.2f}" for v in cov)
            + " |"
            + "".join(f"{v:7.2f}" for v in scale)
        )
    sig = {
        p: [np.mean([at(r, n)["mean_sigma"] for r in runs]) for n in sizes]
        for p, runs in results.items()
    }
    print("mean sigma       " + "".join(f"{n:>7}" for n in sizes))
    for policy, vals in sig.items():
        print(f"  {policy:<15}" + "".join(f"{v:7.2f}" for v in vals))


def sigma_floor_note(setup: Setup, results: dict[str, list[list[dict]]]) -> None:
    """Say why the top 5 could not be separated, when that is the case."""
    gaps = np.diff(np.sort(setup.truth)[::-1][:6]) * -1
    need = float(gaps.min()) / (2 * Z95)
    reached = {p: np.mean([r[-1]["mean_sigma"] for r in runs]) for p, runs in results.items()}
    best = min(reached.values())
    if best > need:
        print(
            f"Separating neighbours {gaps.min():g} apart needs sigma < {need:.2f} on both; the "
            f"smallest mean sigma reached is {best:.2f}"
            + (
                f" (tau = {setup.params.tau:.4g} keeps adding drift, so sigma levels off)."
                if setup.params.tau > 0
                else "."
            )
        )


def describe(setup: Setup) -> None:
    p = setup.params
    t = np.sort(setup.truth)[::-1]
    print(
        f"\n=== {setup.label} ===\n{t.size} models, skills {t[0]:.1f} .. {t[-1]:.1f} (top 6: "
        f"{', '.join(f'{x:.1f}' for x in t[:6])}), beta {p.beta:.2f}, draw_probability "
        f"{p.draw_probability}, tau {p.tau:.4g}; {setup.seeds} seeds, up to {setup.budget} "
        f"battles; infogain batches of {setup.batch}; mu averaged over the timestamp pass + "
        f"{setup.permutations} permutations",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, 12 models, one scenario")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--models", type=int, default=None)
    parser.add_argument("--budget", type=int, default=None)
    parser.add_argument("--draw", type=float, default=0.15, help="draw_probability")
    parser.add_argument("--permutations", type=int, default=5)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--explore", type=float, default=0.5)
    args = parser.parse_args()
    quick = args.quick
    models = args.models or (12 if quick else 25)
    board = ts.TrueSkillParams(draw_probability=args.draw)
    static = ts.TrueSkillParams(tau=0.0, draw_probability=args.draw)
    common = dict(
        seeds=args.seeds or (2 if quick else 5),
        budget=args.budget or (4_000 if quick else 20_000),
        batch=args.batch,
        permutations=args.permutations,
        explore=args.explore,
    )
    setups = [
        Setup(
            "even field 1 apart, the board's tau = 25/300",
            even_field(models, 1.0, board.mu),
            params=board,
            **common,
        ),
        Setup(
            "even field 1 apart, tau = 0 (matched: the truth is static)",
            even_field(models, 1.0, static.mu),
            params=static,
            **common,
        ),
        Setup(
            "five leaders 2 apart over an even field 1 apart, tau = 0",
            leaders_field(models, static.mu, gap=2.0),
            params=static,
            **common,
        ),
    ]
    if quick:
        setups = setups[:1]
    # Compile the kernels once outside the timings (numba caches them across runs).
    simulate_policy("infogain", np.array([1.0, 0.0, -1.0]), 4, static, 0, [4], batch=2)
    policies = (*POLICIES, "infogain+explore") if args.explore > 0 else POLICIES
    start = time.perf_counter()
    for setup in setups:
        describe(setup)
        results = run(setup, policies)
        report(setup, results)
        sigma_floor_note(setup, results)
    print(
        f"\ninfogain+explore: {args.explore:.0%} of each batch are uniform random pairs. "
        "scale: least-squares slope of posterior mu on the true skills (1 = right spread). "
        f"Total {time.perf_counter() - start:.0f} s."
    )


if __name__ == "__main__":
    main()
