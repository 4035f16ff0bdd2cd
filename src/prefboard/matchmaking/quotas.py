"""The `[plan]` goal's status per dimension, and recruitment quotas per demographic group.

Both read standings only. The goal's projection is `stopping.project` on the pooled table's
posterior (`posterior.table_posterior`). Quotas: with ``T`` participants of an attribute now,
``P`` more needed for the goal (battles still needed / battles per participant so far) and
population shares ``p_g``, the sample after recruiting has ``T' = max(T + P, max_g n_g / p_g)``
participants (a group already above its share cannot be un-recruited, so it sets a floor), and
group g needs ``ceil(p_g T' - n_g)`` more to sit at its share. A group's own precision goal
(`[plan] group_half_width`) needs ``n_g ((w / target)^2 - 1)`` more, since a band's width falls
as one over the square root of the battles (and so of the participants, at the same rate of
battles per participant). The quota is the larger of the two.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

from prefboard.matchmaking.online import _attribute_totals
from prefboard.matchmaking.posterior import table_posterior
from prefboard.matchmaking.stopping import Projection, participants_for, project
from prefboard.rating import ranks
from prefboard.render.escape import printable
from prefboard.standings.model import POOLED, Standings, safe_cell

__all__ = ["QUOTA_COLUMNS", "GoalStatus", "Quota", "goal_status", "quotas", "quotas_csv"]


@dataclass(frozen=True)
class GoalStatus:
    dimension: str
    projection: Projection
    participants: int | None
    """More participants the battles take at the table's rate so far (None: not projected)."""

    def sentence(self, goal: str, k: int) -> str:
        p = self.projection
        if goal == "top":
            what = f"top {p.targets} adjacent pairs separated ({p.passing} of {p.targets} now)"
        else:
            what = f"every band within the target half-width ({p.passing} of {p.targets} now)"
        if p.met_now:
            return f"{what}: goal met"
        if p.battles is None:
            return f"{what}: not within {p.horizon:,} more battles (the projection's horizon)"
        return f"{what}: about {p.battles:,} more battles (~{self.participants:,} participants)"


def goal_status(standings: Standings, dimension: str) -> GoalStatus | None:
    """The goal's projection on the pooled table of ``dimension`` (None without one)."""
    table = standings.table(dimension)
    if table is None or len(table.entries) < 2:
        return None
    g = standings.plan_goal
    post = table_posterior(standings, table)
    proj = project(
        post.mean,
        post.cov,
        post.beta,
        post.eps,
        goal=g.goal,
        k=g.top_k,
        level=g.level,
        looks=g.looks,
        max_half_width=g.max_half_width,
        batch=g.batch,
        explore=g.explore,
        seed=ranks.rank_seed(standings.parameters.seed, "stopping", dimension),
    )
    people = (
        participants_for(proj.battles, table.battles, table.participants)
        if proj.battles is not None
        else None
    )
    return GoalStatus(dimension, proj, people)


@dataclass(frozen=True)
class Quota:
    attribute: str
    value: str
    participants: int
    population_share: float
    for_share: int
    for_precision: int

    @property
    def quota(self) -> int:
        return max(self.for_share, self.for_precision)


QUOTA_COLUMNS = [
    "attribute",
    "group",
    "participants",
    "population_share",
    "for_share",
    "for_precision",
    "quota",
]


def _widest_band(standings: Standings, attribute: str, value: str) -> float | None:
    widths = [
        (e.upper - e.lower) / 2
        for t in standings.tables
        if (t.slice_attribute, t.slice_value) == (attribute, value)
        for e in t.entries
        if e.battles > 0
    ]
    return max(widths) if widths else None


def quotas(standings: Standings, more_participants: int = 0) -> list[Quota]:
    """Participants still needed per group with a population share (see the module docs)."""
    totals = _attribute_totals(standings.samples)
    target = standings.plan_goal.group_half_width
    out = []
    for attribute in sorted({s.attribute for s in standings.samples}):
        rows = [s for s in standings.samples if s.attribute == attribute and s.population_share]
        if not rows:
            continue
        floor = max(s.participants / float(s.population_share) for s in rows)
        final = max(float(totals.get(attribute, 0) + more_participants), floor)
        for s in rows:
            p = float(s.population_share)
            share = max(0, math.ceil(p * final - s.participants - 1e-9))
            precision = 0
            widest = _widest_band(standings, s.attribute, s.value)
            if target is not None and widest is not None and widest > target:
                # The slack keeps an exact hit (e.g. a width of exactly twice the target)
                # from rounding up.
                precision = math.ceil(s.participants * ((widest / target) ** 2 - 1.0) - 1e-9)
            out.append(Quota(s.attribute, s.value, s.participants, p, share, precision))
    return out


def quotas_csv(rows: list[Quota]) -> str:
    """Quotas as CSV for a recruitment platform's quota settings (formula-safe cells)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(QUOTA_COLUMNS)
    for q in rows:
        writer.writerow(
            [
                safe_cell(q.attribute),
                safe_cell(q.value),
                q.participants,
                f"{q.population_share:.4g}",
                q.for_share,
                q.for_precision,
                q.quota,
            ]
        )
    return buf.getvalue()


def goal_participants(standings: Standings) -> int:
    """More participants the goal needs: the largest over the battle dimensions."""
    need = 0
    for d in standings.dimensions:
        if d.battles and (status := goal_status(standings, d.key)) is not None:
            need = max(need, status.participants or 0)
    return need


def describe_slice(attribute: str, value: str) -> str:
    return POOLED if attribute == POOLED else printable(f"{attribute}={value}")
