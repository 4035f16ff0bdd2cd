"""The one result object everything downstream reads: pydantic models, JSON, JSON Schema, CSV.

Charts, pages, diff and matchmaking read a `Standings`, never the CSVs: what the site shows is
exactly what `standings.json` says, and a reader can check it against the published file.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from prefboard.errors import StandingsError
from prefboard.io.files import ensure_folder, write_atomic
from prefboard.render.escape import capped, printable

# 2: batch posterior (score, sd, posterior ranks, P(above next)), learnt ties, clustering.
# 3: `analysis` (fairness, benchmark and Likert agreement) and `quality`, so that every
#    number on the site is in standings.json.
# 4: `plan` (next battles, the `[plan]` goal's projection, recruitment quotas, groups in need),
#    computed once by the plan stage instead of by the Next battles page.
SCHEMA_VERSION = 4
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


class QualityRules(Frozen):
    strike_limit: int = Field(
        3, description="Participants with this many strikes or more were excluded."
    )
    min_turns: int = Field(1, description="Battles with fewer turns were excluded.")


class SamplingBiasRow(Frozen):
    dimension: str
    spearman: float | None = Field(
        description="Spearman correlation of battles and headline rank (negative: models with "
        "more battles rank better); none when every model has as many battles."
    )
    min_battles: int
    max_battles: int
    ratio: float | None = Field(description="Most battles / fewest; none when a model has 0.")
    tie_rate: float | None = Field(description="Share of the pooled table's battles tied.")


class EffectiveSampleRow(Frozen):
    attribute: str
    participants: int
    effective: float = Field(
        description="Kish's effective sample size under the post-stratification weights."
    )
    groups_missing: list[str] = Field(description="Values with a population share, no sample.")


class GroupSpread(Frozen):
    model: str
    best: int = Field(description="Best rank the model holds in any published group.")
    worst: int = Field(description="Worst rank the model holds in any published group.")
    groups: int


class GroupAgreement(Frozen):
    attribute: str
    value: str
    tau: float | None = Field(
        description="Kendall's tau between the group's ranking and the headline (3+ models)."
    )


class BenchmarkAgreement(Frozen):
    benchmark: str
    dimension: str
    tau: float | None = Field(
        description="Kendall's tau between benchmark score and human headline rank over the "
        "models both rank (3+ models, else none)."
    )


class BenchmarkRank(Frozen):
    benchmark: str
    model: str
    benchmark_rank: int = Field(description="Rank by benchmark score among rated models.")
    human_rank: int = Field(description="Rank among the same models by the main headline.")


class Concordance(Frozen):
    dimension: str
    model: str
    likert_rank: int
    likert_lower: int
    likert_upper: int
    battle_rank: int
    battle_lower: int
    battle_upper: int


class Analysis(Frozen):
    """What the analysis stage computes from the rated tables (`prefboard.standings.analyze`)."""

    main_dimension: str = Field("", description="The first battle dimension: fairness page's.")
    sampling_bias: list[SamplingBiasRow] = Field(
        default_factory=list, description="Per battle dimension, on its headline table."
    )
    effective_samples: list[EffectiveSampleRow] = Field(default_factory=list)
    group_spread: list[GroupSpread] = Field(
        default_factory=list, description="Main dimension: rank range of each model over groups."
    )
    group_agreement: list[GroupAgreement] = Field(
        default_factory=list, description="Main dimension: each group against the headline."
    )
    benchmark_agreement: list[BenchmarkAgreement] = Field(default_factory=list)
    benchmark_ranks: list[BenchmarkRank] = Field(
        default_factory=list, description="Main dimension: benchmark vs human rank per model."
    )
    concordance: list[Concordance] = Field(
        default_factory=list,
        description="Models whose Likert and battle ranks disagree beyond both rank intervals.",
    )


class PlannedBattle(Frozen):
    """One pair worth a battle, in one dimension and slice (`prefboard plan`'s queue)."""

    dimension: str
    slice_attribute: str
    slice_value: str
    model_a: str
    model_b: str
    gain: float = Field(
        description="Mutual information (nats) between the battle's outcome and the order the "
        "plan aims at, given the battles planned before it in the queue (fantasy updates)."
    )
    p_a: float
    p_b: float
    p_tie: float
    battles: int = Field(
        description="Battles the pair already has in this dimension (pooled table); 0 when "
        "unknown (slices)."
    )
    reason: str
    rank_a: int = 0
    rank_b: int = 0
    p_above: float = Field(0.5, description="P(model_a's skill > model_b's) under the posterior.")
    explored: bool = Field(
        False, description="A random pair (the exploration share), not the most informative."
    )


class GoalProjection(Frozen):
    """The `[plan]` goal on one dimension's pooled table: met now, or battles still needed."""

    dimension: str
    met_now: bool
    battles: int | None = Field(
        description="More battles needed (median over the simulation); none: not within the "
        "projection's horizon."
    )
    passing: int = Field(description="Target pairs (or models, for half_width) passing now.")
    targets: int
    z: float = Field(description="The corrected z each pair's test uses.")
    horizon: int = Field(0, description="Battles the projection looked ahead.")
    participants: int | None = Field(
        None, description="More participants the battles take at the table's rate so far."
    )

    def sentence(self, goal: str) -> str:
        if goal == "top":
            what = (
                f"top {self.targets} adjacent pairs separated "
                f"({self.passing} of {self.targets} now)"
            )
        else:
            what = f"every band within the target half-width ({self.passing} of {self.targets} now)"
        if self.met_now:
            return f"{what}: goal met"
        if self.battles is None:
            return f"{what}: not within {self.horizon:,} more battles (the projection's horizon)"
        return f"{what}: about {self.battles:,} more battles (~{self.participants:,} participants)"


class RecruitmentQuota(Frozen):
    """Participants still needed from one demographic group (`prefboard plan --quotas`)."""

    attribute: str
    value: str
    participants: int
    population_share: float
    for_share: int = Field(description="To bring the group to its population share.")
    for_precision: int = Field(description="To reach `[plan] group_half_width` in the group.")

    @property
    def quota(self) -> int:
        return max(self.for_share, self.for_precision)


class GroupNeed(Frozen):
    """One demographic group's sample share against its population share."""

    attribute: str
    value: str
    participants: int
    sample_share: float
    population_share: float
    needed: int | None = Field(
        description="More participants of this group that would lift its sample share to the "
        "population share (others unchanged); 0 at or above it; none if unreachable (share 1)."
    )
    published: bool = Field(
        description="False: below the privacy threshold, its count shows as 0 (so `needed` is "
        "an upper bound)."
    )


class Plan(Frozen):
    """What the plan stage computes (`prefboard.matchmaking.stage`): the Next battles page."""

    explore: float = Field(0.5, description="Share of each queue given to random pairs.")
    board: float = Field(
        0.25, description="Share aimed at the order of the whole board while the goal is open."
    )
    queue: list[PlannedBattle] = Field(
        default_factory=list,
        description="Per battle dimension, the pooled table's next battles, most useful first.",
    )
    goals: list[GoalProjection] = Field(
        default_factory=list, description="Per battle dimension, the `[plan]` goal's status."
    )
    quotas: list[RecruitmentQuota] = Field(default_factory=list)
    groups: list[GroupNeed] = Field(
        default_factory=list, description="Groups with a population share, most in need first."
    )


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


# Schema 2 files still validate (the fields added since have defaults): a version published
# before an upgrade stays comparable.
READABLE_SCHEMAS = range(2, SCHEMA_VERSION + 1)


def read_standings(path: Path) -> Standings:
    """standings.json (or the folder `prefboard rate --out` wrote), or a `StandingsError`
    naming the file and the first thing wrong with it."""
    if path.is_dir():
        path = path / "standings.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StandingsError(f"{path}: no such file; `prefboard rate --out` writes one") from None
    except UnicodeDecodeError:
        raise StandingsError(f"{path}: not JSON: not UTF-8 text") from None
    except OSError as exc:
        raise StandingsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StandingsError(f"{path}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None
    except RecursionError:
        raise StandingsError(f"{path}: not JSON: nested too deeply") from None
    if not isinstance(raw, dict):
        raise StandingsError(f"{path}: not standings: the top level is not a JSON object")
    version = raw.get("schema_version")
    if version not in READABLE_SCHEMAS or isinstance(version, bool):
        found = f"schema_version {capped(str(version), 20)}"
        if version is None:
            found = "no schema_version"
        fix = "`prefboard rate --out` writes them"
        if isinstance(version, int) and version > SCHEMA_VERSION:
            fix = "written by a newer prefboard: upgrade to read it"
        raise StandingsError(
            f"{path}: {found}; this prefboard reads standings of schema "
            f"{READABLE_SCHEMAS[0]} to {READABLE_SCHEMAS[-1]} ({fix})"
        )
    try:
        return Standings.model_validate(raw)
    except ValidationError as exc:
        raise StandingsError(f"{path}: {_first_problem(exc)}") from None


def _first_problem(exc: ValidationError) -> str:
    """`field tables[0].entries[2].mu: Input should be a valid number (and 3 more)`: the
    first error pydantic found, short, instead of its dump of every one."""
    first = exc.errors()[0]
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
    more = exc.error_count() - 1
    return (
        f"field {capped(where.lstrip('.') or '(top level)', 80)}: {capped(first['msg'], 120)}"
        + (f" (and {more} more)" if more else "")
    )


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
