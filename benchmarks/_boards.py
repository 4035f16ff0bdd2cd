"""Shared helpers for the benchmarks: synthetic boards of a given size, peak memory."""

from __future__ import annotations

import resource
import shutil
from pathlib import Path

from prefboard.config import Config, load_config
from prefboard.tools.simulate import SimulationSpec, simulate

REPO = Path(__file__).parent.parent
FEATURES = "# A battle-level slice"  # where the example's issue-16 sections begin


def example_board(
    dest: Path,
    battles: int,
    ratings: int = 3_000,
    participants: int = 5_000,
    models: int | None = None,
    features: bool = False,
) -> tuple[Config, Path]:
    """A copy of the example leaderboard.toml (optionally with `models` generated models) and a
    simulated results folder of the given size.

    Without `features`, the example's prompt category, style covariates and judge source (the
    sections after FEATURES in leaderboard.toml) are left out, so the benchmarks keep the
    conditions their figures were stated for: 6 battle dimensions, 4 participant attributes."""
    dest.mkdir(parents=True, exist_ok=True)
    text = (REPO / "leaderboard.toml").read_text()
    if not features:
        text = text.split(FEATURES, 1)[0]
    if models is not None:
        head = text.split("[[models]]", 1)[0]
        tail = text[text.index("# Population shares") :]
        blocks = "".join(f'[[models]]\nkey = "model-{i:03d}"\n\n' for i in range(models))
        text = head + blocks + tail
    (dest / "leaderboard.toml").write_text(text)
    config = load_config(dest / "leaderboard.toml")
    shutil.rmtree(dest / "results", ignore_errors=True)
    spec = SimulationSpec(battles=battles, ratings=ratings, participants=participants, seed=1)
    simulate(config, dest / "results", spec)
    return config, dest


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def target(what: str, value: float, limit: float, unit: str, digits: int = 1) -> str:
    """One of issue 18's targets against this run's figure, as a line to print (`digits`
    enough that a miss never prints as the limit itself)."""
    verdict = "met" if value <= limit else "NOT met"
    return f"target {what} <= {limit:,g}{unit}: {value:,.{digits}f}{unit}, {verdict}"
