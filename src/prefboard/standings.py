"""The one result object everything downstream reads: pydantic models, JSON, JSON Schema, CSV.

Charts, pages, diff and matchmaking read a `Standings`, never the CSVs: what the site shows is
exactly what `standings.json` says, and a reader can check it against the published file.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from prefboard.escape import printable
from prefboard.io.files import ensure_folder, write_atomic

# 2: batch posterior (score, sd, posterior ranks, P(above next)), learnt ties, clustering.
SCHEMA_VERSION = 2
POOLED = "all"
POSTSTRATIFIED = "poststratified"


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelInfo(Frozen):
    key: str
    name: str
    organization: str = ""
    license: str = ""
    release_date: str = ""
    url: str = ""


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


class Entry(Frozen):
    """One model in one table. `score`, `sd`, the band, ranks and probabilities come from the
    batch posterior of the table; `mu`, `sigma`, `mu_mean`, `mu_spread` from the classic online
    pass, kept as diagnostics."""

    model: str
    mu: float = Field(description="mu after the timestamp-order pass (what `trueskill` gives).")
    sigma: float = Field(description="sigma after the timestamp-order pass.")
    mu_mean: float = Field(description="mu averaged over the timestamp order and permutations.")
    mu_spread: float = Field(description="Standard deviation of mu across battle orders.")
    lower: float = Field(description="score - z * sd: lower end of the band the site shows.")
    upper: float = Field(description="score + z * sd.")
    conservative: float = Field(description="score - 3 sd, TrueSkill's cautious score.")
    rank: int = Field(description="Rank by score (1 = best; equal scores by model key).")
    rank_lower: int = Field(
        description=(
            "Best end of the marginal rank interval: the central `interval` range of the "
            "model's rank over posterior draws (each model's own interval, not simultaneous)."
        )
    )
    rank_upper: int = Field(description="Worst end of the marginal rank interval.")
    battles: int
    wins: int
    losses: int
    ties: int
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


class TieModel(Frozen):
    """The draw margin of one dimension: pinned by the config or learnt from its battles."""

    dimension: str
    source: str = Field(description="`learnt` (maximum likelihood) or `pinned` (config).")
    draw_probability: float = Field(
        description="Draw probability used (ties between equally skilled models)."
    )
    draw_margin: float = Field(description="The same as a draw margin eps on the skill scale.")
    mle: float | None = Field(description="Maximum-likelihood draw probability of the data.")
    lower: float | None = Field(description="Likelihood-ratio 95 % interval of the MLE.")
    upper: float | None
    tie_share: float = Field(description="Share of ties among the pooled battles.")
    at_bound: bool = Field(
        False, description="The MLE sits on the searched range's edge (e.g. no ties)."
    )


class Pair(Frozen):
    dimension: str
    model_a: str
    model_b: str
    battles: int
    wins_a: int
    wins_b: int
    ties: int
    p_a: float = Field(
        description="Predicted P(model_a preferred) from the pooled batch posterior."
    )
    p_b: float
    p_tie: float
    expected_a: float | None = Field(
        None, description="Fit check: wins_a the fitted model predicts (posterior mean scores)."
    )
    expected_b: float | None = None
    expected_tie: float | None = None
    fit_p: float | None = Field(None, description="Fit check p-value (FitCheck.test).")
    fit_p_adjusted: float | None = Field(
        None, description="fit_p adjusted over the dimension's pairs (FitCheck.adjustment)."
    )
    misfit: bool = Field(False, description="fit_p_adjusted below FitCheck.alpha.")


class PositionBias(Frozen):
    """Does the first-shown model (model_a) win more than its skill says?"""

    decided: int = Field(description="Battles won by either side (ties left out).")
    wins_a: int
    share_a: float | None = Field(description="Share of decided battles model_a won.")
    share_p: float = Field(description="Exact two-sided binomial test of share_a = 1/2.")
    h: float = Field(description="First-shown advantage on the skill scale (maximum likelihood).")
    h_se: float = Field(description="Standard error of h (expected information).")
    p_value: float = Field(description="Wald test of h = 0.")
    enough: bool = Field(description="Enough decided battles to report h (checks module).")
    flagged: bool = Field(description="enough and p_value below FitCheck.alpha.")


class FitCheck(Frozen):
    """Goodness of fit of the pooled model per pair, and position bias, in one dimension."""

    dimension: str
    test: str
    adjustment: str
    alpha: float
    pairs_tested: int
    misfits: list[str] = Field(description="Flagged pairs as 'model_a vs model_b'.")
    position: PositionBias


class History(Frozen):
    dimension: str
    steps: list[int]
    mu: dict[str, list[float]]
    sigma: dict[str, list[float]]


class LikertRow(Frozen):
    dimension: str
    slice_attribute: str
    slice_value: str
    model: str
    n: int
    mean: float | None
    sd: float | None
    ci_lower: float | None
    ci_upper: float | None
    counts: list[int]


class AgreementRow(Frozen):
    dimension: str
    alpha_ordinal: float | None
    alpha_interval: float | None
    units: int
    raters: int
    pairable_values: int
    unit: str
    rater: str


class SampleShare(Frozen):
    attribute: str
    value: str
    participants: int
    battles: int
    sample_share: float
    population_share: float | None
    published: bool


class OrderSensitivity(Frozen):
    dimension: str
    median_spread_over_sigma: float
    max_rank_shift: int = Field(description="Largest rank change of a model between orders.")
    passes: int


class CrossCheckEntry(Frozen):
    model: str
    theta: float | None = Field(description="Bradley–Terry–Davidson log-strength (centred).")
    lower: float | None
    upper: float | None
    rank: int | None
    rank_lower: int | None
    rank_upper: int | None
    disagrees: bool = Field(description="TrueSkill and BTD rank ranges do not overlap.")


class CrossCheck(Frozen):
    """TrueSkill's pooled ranking beside a Bradley–Terry–Davidson fit of the same battles."""

    dimension: str
    kendall_tau: float | None
    nu: float | None = Field(description="Davidson tie parameter.")
    draws: int
    entries: list[CrossCheckEntry]


class PoolingInfo(Frozen):
    """How much the groups of one attribute (or the post-stratification cells) differ."""

    dimension: str
    grouping: str = Field(
        description="A slice attribute, or the stratify_by attributes joined by '+' (cells)."
    )
    tau: float = Field(description="Empirical-Bayes sd of a group's deviation per model.")
    tau_lower: float = Field(description="Profile-likelihood interval of tau (rating.interval).")
    tau_upper: float
    groups: int = Field(description="Groups with battles (those who did not say count as one).")
    cells: int = Field(0, description="Cells with a nonzero population share (cells only).")
    empty_cells: list[str] = Field(
        default_factory=list,
        description="Cells with a population share but no battles: pooled estimate, wider band.",
    )
    target: str = Field("", description="Where the cells' population shares come from.")


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
    files: list[FileRecord]
    totals: dict[str, dict[str, int]]
    excluded: dict[str, dict[str, int]]


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
    pairs: list[Pair]
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


STANDINGS_COLUMNS = [
    "dimension",
    "slice_attribute",
    "slice_value",
    "model",
    "mu",
    "sigma",
    "mu_mean",
    "mu_spread",
    "lower",
    "upper",
    "conservative",
    "rank",
    "rank_lower",
    "rank_upper",
    "battles",
    "wins",
    "losses",
    "ties",
    # appended in schema 2: the batch posterior
    "score",
    "sd",
    "p_best",
    "p_top",
    "p_above_next",
    "inflation",
]
RATINGS_COLUMNS = [
    "dimension",
    "slice_attribute",
    "slice_value",
    "model",
    "n",
    "mean",
    "sd",
    "ci_lower",
    "ci_upper",
    "counts",
]


def to_json(standings: Standings) -> str:
    return json.dumps(standings.model_dump(mode="json"), indent=1, sort_keys=False) + "\n"


def schema_json() -> str:
    return json.dumps(Standings.model_json_schema(), indent=1, sort_keys=True) + "\n"


def read_standings(path: Path) -> Standings:
    if path.is_dir():
        path = path / "standings.json"
    return Standings.model_validate_json(path.read_text(encoding="utf-8"))


def safe_cell(value: object) -> str:
    """Neutralise spreadsheet formulas: a cell starting with = + - @ or a control character is
    prefixed with an apostrophe (OWASP CSV injection advice); then `escape.printable`. Numbers
    are left alone."""
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    text = str(value)
    if text and text[0] in "=+-@\t\r\n":
        text = "'" + text
    # csv.writer with "\n" line endings leaves a lone "\r" unquoted, which a spreadsheet reads
    # as a row break that can start a new, formula-bearing row: no line breaks inside cells, and
    # no bidi control reordering what a reader sees (escape.printable).
    return printable(text)


def _csv(rows: list[list[object]], header: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buf.getvalue()


def standings_csv(standings: Standings) -> str:
    rows: list[list[object]] = []
    for t in standings.tables:
        for e in t.entries:
            rows.append(
                [t.dimension, t.slice_attribute, t.slice_value, e.model]
                + ["" if (v := getattr(e, c)) is None else v for c in STANDINGS_COLUMNS[4:]]
            )
    return _csv(rows, STANDINGS_COLUMNS)


def ratings_csv(standings: Standings) -> str:
    rows: list[list[object]] = []
    for r in standings.likert:
        values = [r.n, r.mean, r.sd, r.ci_lower, r.ci_upper]
        rows.append(
            [r.dimension, r.slice_attribute, r.slice_value, r.model]
            + ["" if v is None else v for v in values]
            + [";".join(str(c) for c in r.counts)]
        )
    return _csv(rows, RATINGS_COLUMNS)


def write_standings(standings: Standings, out: Path) -> list[Path]:
    """Write standings.json, its schema, standings.csv and ratings.csv into `out`."""
    ensure_folder(out)
    files = {
        "standings.json": to_json(standings),
        "standings.schema.json": schema_json(),
        "standings.csv": standings_csv(standings),
        "ratings.csv": ratings_csv(standings),
    }
    paths = []
    for name, text in files.items():
        path = out / name
        write_atomic(path, text)
        paths.append(path)
    return paths
