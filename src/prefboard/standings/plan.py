"""The plan stage's part of the result object: next battles, the goal's projection, quotas."""

from __future__ import annotations

from pydantic import Field

from prefboard.standings.base import Frozen


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
