"""The `[plan]` section of leaderboard.toml: what `prefboard plan` aims at."""

from __future__ import annotations

from pydantic import Field, model_validator

from prefboard.config.sections import Section


class Plan(Section):
    """What `prefboard plan` aims at and when a study may stop."""

    goal: str = Field(
        "top",
        description=(
            "`top`: separate the top `top_k` adjacent pairs by a test on their difference; "
            "`half_width`: every band's half-width at most `max_half_width`."
        ),
        pattern="^(top|half_width)$",
    )
    top_k: int = Field(5, description="Adjacent pairs at the top the goal separates.", ge=1, le=50)
    level: float = Field(
        0.95, description="Confidence of the goal's tests (before correction).", gt=0, lt=1
    )
    looks: int = Field(
        20,
        description=(
            "Planned checks of the goal (one per batch); the tests are Bonferroni-corrected "
            "over the `top_k` pairs and these looks."
        ),
        ge=1,
        le=10_000,
    )
    max_half_width: float | None = Field(
        None, description="Band half-width target of the `half_width` goal.", gt=0, le=1e6
    )
    batch: int = Field(100, description="Battles per planned batch.", ge=1, le=1_000_000)
    explore: float = Field(
        0.5,
        description="Share of each batch given to random pairs (keeps the bands calibrated).",
        ge=0,
        le=1,
    )
    group_half_width: float | None = Field(
        None,
        description="Band half-width each published group's own ranking should reach (quotas).",
        gt=0,
        le=1e6,
    )

    @model_validator(mode="after")
    def _half_width_needs_target(self) -> Plan:
        if self.goal == "half_width" and self.max_half_width is None:
            raise ValueError('goal = "half_width" needs max_half_width')
        return self
