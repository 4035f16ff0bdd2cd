"""The style-control part of `Standings`: per battle dimension, the ranking with the style
covariates' effects taken out beside the same fit without them, and each covariate's
coefficient with its interval and effect in plain words (rating/style.py computes them)."""

from __future__ import annotations

from pydantic import Field

from prefboard.standings.base import Frozen


class StyleCoefficient(Frozen):
    covariate: str
    label: str
    description: str = ""
    transform: str = Field(description="log1p or linear: what the model sees of each value.")
    scale: float = Field(
        description="Root mean square of the transformed difference between the two answers: "
        "the unit the fit's coefficient is in (Arena scales its features the same way)."
    )
    estimate: float = Field(description="Skill points per `scale` of difference.")
    lower: float
    upper: float
    sd: float
    step: float = Field(
        description="The change the plain-words effect is for, in transformed units: "
        "log1p(2x) - log1p(x) at the median x (a doubling) for log1p, 1 for linear."
    )
    step_text: str = Field(description="That change in words, e.g. 'each doubling of ...'.")
    effect: float = Field(
        description="Change in the chance of being preferred (a tie counting half) against an "
        "equally skilled model for that change, as a share (0.031 = 3.1 percentage points)."
    )
    effect_lower: float
    effect_upper: float
    matters: bool = Field(description="The coefficient's interval excludes 0.")
    differs: bool = Field(True, description="False when the two answers never differ on it.")


class StyleEntry(Frozen):
    model: str
    battles: int
    raw_score: float
    raw_lower: float
    raw_upper: float
    raw_rank: int
    raw_rank_lower: int
    raw_rank_upper: int
    score: float
    lower: float
    upper: float
    rank: int
    rank_lower: int
    rank_upper: int
    rank_change: int = Field(description="raw_rank - rank: positive when style control lifts it.")


class StyleControl(Frozen):
    dimension: str
    battles: int = Field(description="Battles with every covariate on both sides (fitted).")
    battles_without: int = Field(
        description="Battles with a verdict on this dimension but a covariate missing: in every "
        "other ranking, left out of this fit."
    )
    draw_margin: float
    beta: float
    coefficients: list[StyleCoefficient] = Field(default_factory=list)
    entries: list[StyleEntry] = Field(
        default_factory=list, description="In style-controlled rank order."
    )
