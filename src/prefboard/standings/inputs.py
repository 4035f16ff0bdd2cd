"""Parts of the result object that record what went in: benchmark scores, input files and
their hashes, rating parameters, the plan goal and the quality rules. Re-exported by
`standings.model`."""

from __future__ import annotations

from pydantic import Field

from prefboard.standings.base import Frozen


class BenchmarkScore(Frozen):
    model: str
    benchmark: str
    score: float
    source: str


class FileRecord(Frozen):
    path: str
    kind: str
    sha256: str
    bytes: int
    rows: int
    accepted: int
    excluded: int


class Provenance(Frozen):
    prefboard_version: str
    config_sha256: str
    data_through: str = Field(description="Latest accepted timestamp (UTC); the data's date.")
    # After the fields above so older standings stay readable (False when absent).
    synthetic_timestamps: bool = Field(
        False,
        description="The timestamps were made up on import (source order, one second apart): "
        "they order the battles but date nothing, so pages say the dates are not recorded.",
    )
    files: list[FileRecord]
    totals: dict[str, dict[str, int]]
    excluded: dict[str, dict[str, int]]
    prompts: int = Field(
        0,
        description="Distinct prompt ids among the accepted battles, each battle without one "
        "counting as its own prompt; 0 when no battle has a prompt id.",
    )


class Parameters(Frozen):
    mu: float
    sigma: float
    beta: float
    tau: float
    draw_probability: float | None = Field(
        description="Pinned draw probability; none when learnt per dimension (see `ties`)."
    )
    interval: float
    z: float
    permutations: int
    permuted_tables: str = Field(
        "all",
        description=(
            "Tables replayed in the `permutations` shuffled orders: `pooled` (one per "
            "dimension) or `all` (standings written before the key existed)."
        ),
    )
    seed: int
    band: str = Field(description="`posterior`: score ± z·sd from the batch posterior.")
    rank_draws: int = Field(
        4000, description="Posterior draws behind rank intervals, P(best) and P(top 3)."
    )
    min_battles: int
    stratify_by: list[str]
    min_participants: int


class PlanGoal(Frozen):
    """The `[plan]` section as the rating stage saw it: what the Next battles page plans for."""

    goal: str = "top"
    top_k: int = 5
    level: float = 0.95
    looks: int = 20
    max_half_width: float | None = None
    batch: int = 100
    explore: float = 0.5
    group_half_width: float | None = None


class QualityRules(Frozen):
    strike_limit: int = Field(
        3, description="Participants with this many strikes or more were excluded."
    )
    min_turns: int = Field(1, description="Battles with fewer turns were excluded.")
