"""The golden standings: the numbers `prefboard rate` gives for a small committed board, pinned.

    python -m tests.golden --simulate   # rebuild the board's results/ (seeded; rarely needed)
    python -m tests.golden --write      # re-pin the numbers after an intended change

`tests/test_golden.py` rates the committed board and compares with the pinned numbers within
the tolerances below, so an unintended change to any number fails loudly; regenerate only on
purpose, and say why in the commit.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from prefboard import pipeline
from prefboard.standings.model import Standings

BOARD = Path(__file__).parent / "fixtures" / "golden"
GOLDEN = BOARD / "standings.golden.json"
# The simulation's seed (the rating's own seed is `rating.seed` in the board's config).
SEED = 20261129
SPEC = {"battles": 400, "ratings": 80, "participants": 60, "seed": SEED, "battle_files": 1}

# Fits converge to 1e-10 or better; 1e-6 leaves room for another BLAS or CPU, none for a change
# of method. Probabilities come from 4,000 seeded posterior draws: one draw moving across a
# boundary shifts them by 2.5e-4, so 1e-3 allows a few such flips and nothing more.
SCORE_TOLERANCE = 1e-6
PROBABILITY_TOLERANCE = 1e-3
SCORES = ("score", "sd", "lower", "upper", "mu", "sigma", "mu_mean")
PROBABILITIES = ("p_best", "p_top", "p_above_next")
EXACT = ("rank", "rank_lower", "rank_upper", "battles", "wins", "losses", "ties")


def rate_board(board: Path = BOARD) -> Standings:
    config, root = pipeline.load(board / "leaderboard.toml")
    return pipeline.rate(config, root, board / "leaderboard.toml")[1]


def pinned(standings: Standings) -> dict[str, Any]:
    """The numbers the golden file pins: every entry of every table, the tie models and the
    Likert means (what the site ranks and shows)."""
    tables = {
        f"{t.dimension}/{t.slice_attribute}/{t.slice_value}": {
            e.model: {k: getattr(e, k) for k in (*SCORES, *PROBABILITIES, *EXACT)}
            for e in t.entries
        }
        for t in standings.tables
    }
    ties = {t.dimension: t.draw_probability for t in standings.ties}
    likert = {
        f"{r.dimension}/{r.slice_attribute}/{r.slice_value}/{r.model}": r.mean
        for r in standings.likert
    }
    return {"tables": tables, "ties": ties, "likert": likert}


def simulate_board(board: Path = BOARD) -> None:
    from prefboard.tools.simulate import SimulationSpec, simulate

    config, root = pipeline.load(board / "leaderboard.toml")
    simulate(config, root / "results", SimulationSpec(**SPEC))
    # rating never reads the hidden truth; keep the fixture to what a board commits
    (root / "results" / "hidden_skills.json").unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulate", action="store_true", help="rebuild results/ (seeded)")
    parser.add_argument("--write", action="store_true", help="re-pin standings.golden.json")
    args = parser.parse_args()
    if args.simulate:
        simulate_board()
    if args.write:
        text = json.dumps(pinned(rate_board()), indent=1, sort_keys=True)
        GOLDEN.write_text(text + "\n", encoding="utf-8")
        print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    main()
