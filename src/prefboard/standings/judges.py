"""Automated judges in the standings: their own tables, the item-level evidence the agreement
report is computed from, and the agreement figures (standings/agreement.py) the site shows.

Judges are kept apart from `Standings.tables` on purpose: every published human ranking reads
those, and no judge verdict may reach one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from prefboard.standings.base import Frozen

if TYPE_CHECKING:
    # standings.model imports this module and rebuilds the models below once Table exists.
    from prefboard.standings.model import Table


class Verdicts(Frozen):
    """Outcomes on judged items of one dimension, oriented to the item's model pair in key
    order (lo = the model first in [[models]]), as distinct patterns: the human votes for lo,
    for hi and tie; `verdict` the judge's (0 lo, 1 hi, 2 tie; absent for the humans' own
    items); `count` how many items (judge verdicts) have the pattern."""

    lo: list[int] = Field(default_factory=list)
    hi: list[int] = Field(default_factory=list)
    tie: list[int] = Field(default_factory=list)
    verdict: list[int] = Field(default_factory=list)
    count: list[int] = Field(default_factory=list)


class SideCounts(Frozen):
    """Raw verdicts by the side shown: a (first), b (second), tie."""

    a: int = 0
    b: int = 0
    tie: int = 0


class JudgeDimension(Frozen):
    dimension: str
    judged: Verdicts = Field(
        description="Each judge verdict on an item with at least one human vote, with the "
        "humans' votes on that item."
    )
    sides: SideCounts = Field(description="All the judge's verdicts on this dimension by side.")


class JudgeBoard(Frozen):
    """One automated judge: its battles rated like the humans' pooled table (batch posterior),
    never part of a published ranking."""

    key: str
    label: str
    battles: int
    tables: list[Table] = Field(description="Pooled table per dimension the judge answered.")
    dimensions: list[JudgeDimension] = Field(default_factory=list)


class HumanReference(Frozen):
    """What the humans' noise ceiling is computed from, per dimension: items with two or more
    human votes, all human verdicts by side, and the split-half tables (participants split in
    two seeded halves, each rated like a judge)."""

    dimension: str
    items: Verdicts
    sides: SideCounts
    halves: list[Table] = Field(default_factory=list)


class Interval(Frozen):
    value: float | None = None
    lower: float | None = None
    upper: float | None = None


class Agreement(Frozen):
    """One judge against the humans on one dimension, beside the human noise ceiling."""

    judge: str
    dimension: str
    items: int = Field(description="Judge verdicts on items the humans also voted on.")
    match: Interval = Field(description="Share of items where the judge picks the human plurality.")
    kappa: Interval = Field(description="Cohen's kappa (a/b/tie) against the human plurality.")
    judge_tie_rate: float | None = None
    human_tie_rate: float | None = Field(None, description="Share of human votes tied, same items.")
    position_a: Interval = Field(description="Judge's share of 'a' among its non-tie verdicts.")
    tau: Interval = Field(description="Kendall tau, judge's ranking vs the humans' headline.")
    ceiling_items: int = Field(0, description="Human items with 2+ votes (the ceiling's sample).")
    ceiling_match: Interval = Field(default_factory=Interval)
    ceiling_kappa: Interval = Field(default_factory=Interval)
    human_position_a: Interval = Field(default_factory=Interval)
    ceiling_tau: Interval = Field(default_factory=Interval, description="Split-half tau.")
    flagged: bool = False
    reasons: list[str] = Field(default_factory=list)
