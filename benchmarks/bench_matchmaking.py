"""Planning on the batch posterior vs random pairs: battles to separate the five leaders.

Boards (best first, TrueSkill scale, beta = 25/6, draw probability 0.10): 30 models with five
clear leaders 4 points apart above a crowded middle 0.5 apart (the best of the middle 4 below
the fifth leader), and the same with 12 models. Battles in batches of 100; after each batch the
batch posterior (Laplace) is refitted and the goal checked: the five adjacent top pairs each
pass the one-sided test on their difference, Bonferroni-corrected over the five pairs and every
batch of the budget (`prefboard.studies.planning`). "plan" = `prefboard plan`'s batch planner:
a share of uniform random pairs (`--explore`), a share aimed at the order of the whole board
(`--board`: information about every adjacent pair) and the rest aimed at the goal (information
about the five top pairs), all with fantasy updates; "random" = uniform pairs; both in the same
run with the same seeds. Worlds: "matched" (the model's Thurstone outcomes) and "misspecified"
(logistic outcomes of the same variance, 20 % of votes careless: a or b at random).

Printed per board and world: median battles to the goal for each arm (runs that never reach it
count as the budget: that understates random's battles, so the ratio is conservative), the
ratio plan / random with a paired bootstrap 95 % interval over seeds, coverage of the true
skills and of true adjacent differences by the 95 % bands at the stop and averaged over the
run, wrong separations, and Kendall tau at equal battles: each plan run at its stop against the
random run of the same seed after as many battles (mean paired difference, bootstrap interval).

`--speed [DIR]` times `prefboard plan --standings` on a rated 100-model, 6-dimension board
(kept in DIR for the next run).

Run: python benchmarks/bench_matchmaking.py [--quick] [--seeds N] [--explore E] [--board B]
     [--write [PATH]] [--speed]
(40 seeds, both worlds, as shipped: 25 minutes on a loaded machine; 12-model intervals of
the tau difference are about ±0.017 at 40 seeds, ±0.024 at 20.) --write regenerates
src/prefboard/templates/planning.json, which the Next battles page and `plan --help` quote.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import tempfile
import time
from pathlib import Path

from prefboard.matchmaking.queue import BOARD_SHARE, DEFAULT_EXPLORE
from prefboard.studies import planning as study

BOARDS = {"30 models": (30, 40_000), "12 models": (12, 10_000)}
WORLDS = {
    "matched": study.World(),
    "misspecified": study.World(logistic=True, careless=0.2),
}
FIGURES = Path(__file__).resolve().parent.parent / "src/prefboard/templates/planning.json"
CONDITIONS = (
    "{seeds} seeded simulated studies per arm, batches of 100 battles, random pairs run with "
    "the same seeds; five leaders 4 points apart (TrueSkill beta 25/6) above a crowded middle "
    "0.5 apart; the goal is the five adjacent top pairs separated, each test "
    "Bonferroni-corrected over the pairs and every batch of the budget; plan gives "
    "{explore:.0%} of each batch to random pairs and {board:.0%} to the order of the whole "
    "board. Kendall tau is compared at equal battles (plan at its stop, random of the same "
    "seed after as many battles)."
)


def _line(c: study.Comparison) -> str:
    censored = f" ({c.random_censored} random runs not within {c.budget:,})"
    return (
        f"  battles plan {c.plan_battles:,.0f} / random {c.random_battles:,.0f}"
        f"{censored if c.random_censored else ''}; "
        f"ratio {c.ratio:.2f} (95 % CI {c.ratio_lower:.2f}-{c.ratio_upper:.2f})\n"
        f"  coverage skills {c.coverage_skills:.2f} (run {c.run_coverage_skills:.2f}), "
        f"adjacent diffs {c.coverage_diffs:.2f} (run {c.run_coverage_diffs:.2f}); "
        f"random {c.random_coverage_skills:.2f} / {c.random_coverage_diffs:.2f}; "
        f"wrong separations {c.wrong}\n"
        f"  tau at equal battles: plan {c.tau_plan:.3f}, random {c.tau_random:.3f}, "
        f"difference {c.tau_difference:+.3f} (95 % CI {c.tau_lower:+.3f} to "
        f"{c.tau_upper:+.3f}, {c.tau_seeds} seeds)"
    )


def compare(
    label: str, world_name: str, seeds: int, explore: float, board_share: float
) -> study.Comparison:
    models, budget = BOARDS[label]
    board, world = study.leaders_board(models), WORLDS[world_name]
    arms = {
        name: [
            study.run(
                board, world, name, s, budget=budget, explore=explore, board_share=board_share
            )
            for s in range(seeds)
        ]
        for name in ("random", "plan")
    }
    return study.compare((label, world_name), arms["plan"], arms["random"], budget)


def figures(rows: list[study.Comparison], seeds: int, explore: float, board: float) -> dict:
    """What the Next battles page and `plan --help` quote, conditions included."""

    def clean(row: study.Comparison) -> dict:
        # NaN has no JSON form: "not measured" is stored as null.
        return {
            k: None if isinstance(v, float) and math.isnan(v) else v
            for k, v in dataclasses.asdict(row).items()
        }

    return {
        "source": (
            f"benchmarks/bench_matchmaking.py ({seeds} seeds per arm); rerun it with --write "
            "to regenerate these figures"
        ),
        "conditions": CONDITIONS.format(seeds=seeds, explore=explore, board=board),
        "seeds": seeds,
        "explore": explore,
        "board": board,
        "rows": [clean(r) for r in rows],
    }


def speed(folder: Path) -> None:
    """`prefboard plan --standings` on a rated 100-model, 6-dimension board (rated into
    ``folder`` first unless it holds one already). Wall time and this process's CPU time:
    on a shared machine the CPU time is what the command costs."""
    import sys

    from click.testing import CliRunner

    from prefboard import pipeline
    from prefboard.cli import cli
    from prefboard.standings.model import read_standings, write_standings

    sys.path.insert(0, str(Path(__file__).parent))
    from _boards import example_board

    out = folder / "out"
    if not (out / "standings.json").is_file():
        _, root = example_board(folder / "big", 200_000, models=100)
        config, _ = pipeline.load(root / "leaderboard.toml")
        write_standings(pipeline.rate(config, root, root / "leaderboard.toml")[1], out)
    standings = read_standings(out)
    dims = sum(bool(d.battles) for d in standings.dimensions)
    # One untimed run compiles what numba caches, as any earlier command would have.
    CliRunner().invoke(cli, ["plan", "--standings", str(out), "-n", "1"])
    start, cpu = time.perf_counter(), time.process_time()
    result = CliRunner().invoke(cli, ["plan", "--standings", str(out)])
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert result.exit_code == 0, result.output
    print(
        f"plan on {len(standings.models)} models x {dims} dimensions: "
        f"{seconds:.1f} s wall, {cpu:.1f} s CPU"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 seeds, matched world only.")
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--explore", type=float, default=DEFAULT_EXPLORE)
    parser.add_argument("--board", type=float, default=BOARD_SHARE)
    parser.add_argument("--write", type=Path, nargs="?", const=FIGURES, default=None)
    parser.add_argument(
        "--speed",
        type=Path,
        nargs="?",
        const=Path(tempfile.gettempdir()) / "prefboard-plan-speed",
        default=None,
        help="Only time plan on 100 models (the rated board is kept in this folder).",
    )
    args = parser.parse_args()
    if args.speed is not None:
        speed(args.speed)
        return
    seeds = 4 if args.quick else args.seeds
    worlds = ["matched"] if args.quick else list(WORLDS)
    rows = []
    for world in worlds:
        for label in BOARDS:
            start = time.perf_counter()
            rows.append(compare(label, world, seeds, args.explore, args.board))
            print(f"{label}, {world} world, {seeds} seeds, batches of 100:")
            print(_line(rows[-1]))
            print(f"  ({time.perf_counter() - start:.0f} s)", flush=True)
    if args.write is not None:
        text = json.dumps(figures(rows, seeds, args.explore, args.board), indent=1)
        args.write.write_text(text + "\n")
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
