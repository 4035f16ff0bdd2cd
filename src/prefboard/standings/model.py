"""The one result object everything downstream reads: `Standings` and its tables.

Charts, pages, diff and matchmaking read a `Standings`, never the CSVs: what the site shows is
exactly what `standings.json` says, and a reader can check it against the published file.
The parts live beside it (`diagnostics`, `inputs`) and its files in `standings.files`; this
module re-exports them all, so `from prefboard.standings.model import ...` finds every part.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from prefboard.standings.analysis_rows import (
    Analysis,
    BenchmarkAgreement,
    BenchmarkRank,
    Concordance,
    EffectiveSampleRow,
    GroupAgreement,
    GroupSpread,
    SamplingBiasRow,
)
from prefboard.standings.base import Frozen
from prefboard.standings.diagnostics import (
    AgreementRow,
    CrossCheck,
    CrossCheckEntry,
    FitCheck,
    History,
    LikertRow,
    OrderSensitivity,
    Pair,
    PoolingInfo,
    PositionBias,
    SampleShare,
    TieModel,
)
from prefboard.standings.disclosure import Status
from prefboard.standings.inputs import (
    BenchmarkScore,
    FileRecord,
    Parameters,
    PlanGoal,
    Provenance,
    QualityRules,
)
from prefboard.standings.judges import Agreement, HumanReference, JudgeBoard
from prefboard.standings.plan import (
    GoalProjection,
    GroupNeed,
    Plan,
    PlannedBattle,
    RecruitmentQuota,
)
from prefboard.standings.style import StyleControl

if TYPE_CHECKING:
    # standings.files imports Standings from here: its names are re-exported lazily (below).
    # fmt: off
    from prefboard.standings.files import RATINGS_COLUMNS as RATINGS_COLUMNS
    from prefboard.standings.files import READABLE_SCHEMAS as READABLE_SCHEMAS
    from prefboard.standings.files import STANDINGS_COLUMNS as STANDINGS_COLUMNS
    from prefboard.standings.files import ratings_csv as ratings_csv
    from prefboard.standings.files import read_standings as read_standings
    from prefboard.standings.files import safe_cell as safe_cell
    from prefboard.standings.files import schema_json as schema_json
    from prefboard.standings.files import standings_column_meanings as standings_column_meanings
    from prefboard.standings.files import standings_csv as standings_csv
    from prefboard.standings.files import to_json as to_json
    from prefboard.standings.files import write_standings as write_standings
    # fmt: on

# 2: batch posterior (score, sd, posterior ranks, P(above next)), learnt ties, clustering.
# 3: `analysis` (fairness, benchmark and Likert agreement) and `quality`, so that every
#    number on the site is in standings.json.
# 4: `plan` (next battles, the `[plan]` goal's projection, recruitment quotas, groups in need),
#    computed once by the plan stage instead of by the Next battles page.
# 5: battle-level slices, verdict sources (judges, agreement), style control, model variants
#    and the disclosure, learnt rank rule and rho interval (all optional additions).
SCHEMA_VERSION = 5
POOLED = "all"
POSTSTRATIFIED = "poststratified"


class ModelInfo(Frozen):
    key: str
    name: str
    organization: str = ""
    license: str = ""
    release_date: str = ""
    url: str = ""
    family: str = Field("", description="`[[models]] family`: the model this is a variant of.")
    status: Status = Field(
        "public", description="public, private (never made public) or retired; see `disclosure`."
    )
    battles: int = Field(0, description="Accepted battles the model took part in (any dimension).")
    prompts: int = Field(
        0, description="Distinct prompts among them (a battle without a prompt id counts as one)."
    )


class DimensionInfo(Frozen):
    key: str
    label: str
    description: str = ""
    battles: bool
    likert: bool
    scale_min: int
    scale_max: int


class SliceInfo(Frozen):
    attribute: str
    label: str
    values: list[str]
    population: dict[str, float]
    published: list[str] = Field(description="Values shown on the site (privacy threshold met).")
    level: Literal["participant", "battle"] = Field(
        "participant",
        description="participant: who voted (a demographic); battle: what the battle was about.",
    )
    blank_battles: int = Field(
        0, description="Battle slice: accepted battles with no value (in no value's table)."
    )


class Entry(Frozen):
    """One model in one table. `score`, `sd`, the band, ranks and probabilities come from the
    batch posterior of the table; `mu`, `sigma`, `mu_mean`, `mu_spread` from the classic online
    pass, kept as diagnostics."""

    model: str
    mu: float = Field(description="mu after the timestamp-order pass (what `trueskill` gives).")
    sigma: float = Field(description="sigma after the timestamp-order pass.")
    mu_mean: float = Field(
        description=(
            "mu averaged over the timestamp order and the permutations (= `mu` in a table "
            "replayed in timestamp order only; see `parameters.permuted_tables`)."
        )
    )
    mu_spread: float | None = Field(
        description=(
            "Standard deviation of mu across battle orders; none where the table was replayed "
            "in timestamp order only (`parameters.permuted_tables`)."
        )
    )
    lower: float = Field(description="score - z * sd: lower end of the band the site shows.")
    upper: float = Field(description="score + z * sd.")
    conservative: float = Field(description="score - 3 sd, TrueSkill's cautious score.")
    rank: int = Field(description="Rank by score (1 = best; equal scores by model key).")
    rank_lower: int = Field(
        description=(
            "Best end of the marginal rank interval: the range of whole ranks whose share of "
            "the model's rank over posterior draws is nearest `interval` (each model's own "
            "interval, not simultaneous); its share is `rank_mass`."
        )
    )
    rank_upper: int = Field(description="Worst end of the marginal rank interval.")
    battles: int = Field(description="Battles of this model in the table.")
    wins: int = Field(description="Battles it won.")
    losses: int = Field(description="Battles it lost.")
    ties: int = Field(description="Battles it tied.")
    provisional: bool = Field(description="Fewer battles than rating.min_battles.")
    p_best: float | None = Field(
        None, description="P(rank 1), from the same posterior draws as the rank interval."
    )
    p_top: float | None = Field(None, description="P(rank <= 3), same draws as p_best.")
    score: float = Field(
        0.0, description="Posterior mean skill from the batch fit: what the site ranks by."
    )
    sd: float = Field(
        0.0,
        description=(
            "Posterior standard deviation of the skill relative to the average skill of the "
            "models with battles in the table (comparisons cannot fix the board's overall "
            "level), inflated for clustered votes (see the table's `clustering`)."
        ),
    )
    p_above_next: float | None = Field(
        None,
        description=(
            "P(this model's skill > the next-ranked model's), from the posterior difference "
            "(uses the covariance); none for the last."
        ),
    )
    inflation: float = Field(
        1.0, description="Factor applied to sd for clustering (1 = the votes looked independent)."
    )
    rank_mass: float | None = Field(
        None,
        description=(
            "Posterior probability that the rank lies in [rank_lower, rank_upper]: the whole-"
            "rank share nearest the configured interval, so a little above or below it."
        ),
    )


class Table(Frozen):
    """A ranking: one dimension within one slice (or pooled, or post-stratified)."""

    dimension: str
    slice_attribute: str
    slice_value: str
    battles: int
    participants: int
    entries: list[Entry]
    weights: dict[str, float] = Field(
        default_factory=dict, description="Post-stratification: population weight per group."
    )
    notes: list[str] = Field(default_factory=list)
    clustering: str = Field(
        "",
        description=(
            "Clusters of the cluster-robust (sandwich) variance: `participant`, or "
            "`participant+prompt` when battles carry prompt_id."
        ),
    )
    inflation_median: float = Field(
        1.0, description="Median over models of the sd inflation for clustering."
    )
    components: int = Field(
        1,
        description=(
            "Connected components of the comparison graph among models with battles; above 1, "
            "some models were never compared, even indirectly, and their relative order is "
            "not identified."
        ),
    )
    pooled: bool = Field(
        False,
        description=(
            "Partial pooling: the group's numbers come from a model where group skill = "
            "population skill + a deviation whose spread (tau in `pooling`) is estimated from "
            "the data, so small groups shrink toward the population by as much as the data "
            "justify. Headline tables combine such groups."
        ),
    )


for _part in (JudgeBoard, HumanReference):  # their Table is defined above (no import cycle)
    _part.model_rebuild(_types_namespace={"Table": Table})


class Standings(Frozen):
    schema_version: int = SCHEMA_VERSION
    title: str
    description: str
    synthetic: bool
    version: str
    provenance: Provenance
    parameters: Parameters
    models: list[ModelInfo]
    dimensions: list[DimensionInfo]
    slices: list[SliceInfo]
    tables: list[Table]
    pairs: list[Pair] = Field(
        description="Per battle dimension, every pair of models that met in the pooled battles "
        "(a pair never compared is not listed: its prediction follows from the scores)."
    )
    history: list[History]
    likert: list[LikertRow]
    agreement: list[AgreementRow]
    samples: list[SampleShare]
    order_sensitivity: list[OrderSensitivity]
    crosscheck: list[CrossCheck] = Field(default_factory=list)
    ties: list[TieModel] = Field(default_factory=list)
    benchmarks: list[BenchmarkScore] = Field(default_factory=list)
    fit_checks: list[FitCheck] = Field(default_factory=list)
    pooling: list[PoolingInfo] = Field(default_factory=list)
    plan_goal: PlanGoal = Field(
        default_factory=PlanGoal, description="The `[plan]` goal the Next battles page uses."
    )
    # Defaults keep standings of schema 2 readable as the previous version of a diff.
    quality: QualityRules = Field(
        default_factory=QualityRules, description="Quality rules applied by ingest."
    )
    analysis: Analysis = Field(
        default_factory=Analysis, description="Computed by the analysis stage after rating."
    )
    plan: Plan = Field(
        default_factory=Plan, description="Next battles, the goal's status and quotas."
    )
    style: list[StyleControl] = Field(
        default_factory=list, description="Style control per battle dimension ([[covariates]])."
    )
    # Automated judges ([[sources]] kind = "judge"): apart from `tables`, never in a ranking.
    judges: list[JudgeBoard] = Field(default_factory=list)
    human_reference: list[HumanReference] = Field(default_factory=list)
    judge_agreement: list[Agreement] = Field(default_factory=list)

    def table(self, dimension: str, attribute: str = POOLED, value: str = POOLED) -> Table | None:
        for t in self.tables:
            if (t.dimension, t.slice_attribute, t.slice_value) == (dimension, attribute, value):
                return t
        return None

    def headline(self, dimension: str) -> Table | None:
        """The post-stratified table when there is one, else the pooled one."""
        for t in self.tables:
            if t.dimension == dimension and t.slice_attribute == POSTSTRATIFIED:
                return t
        return self.table(dimension)


# fmt: off
_FILES = frozenset({
    "RATINGS_COLUMNS", "READABLE_SCHEMAS", "STANDINGS_COLUMNS", "ratings_csv", "read_standings",
    "safe_cell", "schema_json", "standings_column_meanings", "standings_csv", "to_json",
    "write_standings",
})
# Re-exported: the parts of the result object, and (lazily) its file functions.
__all__ = [
    "AgreementRow", "BenchmarkScore", "CrossCheck", "CrossCheckEntry", "FileRecord", "FitCheck",
    "Frozen", "History", "LikertRow", "OrderSensitivity", "Pair", "Parameters", "PlanGoal",
    "GoalProjection", "GroupNeed", "Plan", "PlannedBattle", "RecruitmentQuota",
    "PoolingInfo", "PositionBias", "Provenance", "QualityRules", "SampleShare", "TieModel",
    "Analysis", "BenchmarkAgreement", "BenchmarkRank", "Concordance", "EffectiveSampleRow",
    "GroupAgreement", "GroupSpread", "SamplingBiasRow",
    *_FILES,
]
# fmt: on


def __getattr__(name: str) -> object:
    """The file functions, from `standings.files` (which imports this module, hence lazily)."""
    if name in _FILES:
        from prefboard.standings import files

        return getattr(files, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
