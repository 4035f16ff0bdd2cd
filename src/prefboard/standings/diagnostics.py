"""Parts of the result object that check the fit: ties, pairs and their fit, position bias,
rating history, Likert rows and agreement, sample shares, order sensitivity, the
Bradley–Terry–Davidson cross-check and partial pooling. Re-exported by `standings.model`."""

from __future__ import annotations

from pydantic import Field

from prefboard.standings.base import Frozen


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
    prompt_correlation: float = Field(
        0.0,
        description="Share of a vote's noise that every vote on its prompt shares (pairwise "
        "maximum likelihood; 0 without a prompt_id or repeated prompts).",
    )
    prompt_vote_pairs: int = Field(0, description="Pairs of votes on one prompt behind it.")
    prompt_correlation_lower: float | None = Field(
        None,
        description="Interval of prompt_correlation at rating.interval: pairwise likelihood "
        "ratio adjusted for pairs that share a vote (None without repeated prompts).",
    )
    prompt_correlation_upper: float | None = None
    batch_beta: float | None = Field(
        None,
        description="beta / sqrt(1 - prompt_correlation): the beta of the batch fits when "
        "prompts share noise (None: the configured beta).",
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

    def share_of(self, model: str) -> float | None:
        """`model`'s share of the pair's battles, a tie counting half; None before any battle."""
        wins = self.wins_a if model == self.model_a else self.wins_b
        return (wins + self.ties / 2) / self.battles if self.battles else None


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
    tau_p_value: float = Field(
        1.0,
        description="p-value of the likelihood-ratio test of no group differences (tau = 0; "
        "null 1/2 chi2_0 + 1/2 chi2_1); tau is 0 unless it is below 1 - rating.interval.",
    )
    cells: int = Field(0, description="Cells with a nonzero population share (cells only).")
    empty_cells: list[str] = Field(
        default_factory=list,
        description="Cells with a population share but no battles: pooled estimate, wider band.",
    )
    target: str = Field("", description="Where the cells' population shares come from.")
