"""The analysis stage's part of the result object (`Standings.analysis`): fairness, benchmark
and Likert agreement, the quoted studies and the disclosure (`prefboard.standings.analyze`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from prefboard.standings.base import Frozen
from prefboard.standings.disclosure import Disclosure


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
    studies: dict[str, Any] = Field(
        default_factory=dict,
        description="The benchmark figures the pages quote, as the benchmarks wrote them: "
        "`calibration` (benchmarks/bench_calibration.py --write) and `planning` "
        "(benchmarks/bench_matchmaking.py --write). Copied here so that every number on the "
        "site is in standings.json.",
    )
    disclosure: Disclosure = Field(
        default_factory=Disclosure,
        description="Per organization: variants tested, each one's battles and share of the "
        "prompts, and the variants never made public (`[[models]] status`).",
    )
