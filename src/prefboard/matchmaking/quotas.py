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
import dataclasses
import io
import math

from prefboard.matchmaking.groups import attribute_totals
from prefboard.matchmaking.posterior import table_posterior
from prefboard.matchmaking.stopping import participants_for, project
from prefboard.rating import ranks
from prefboard.standings.model import (
    GoalProjection,
    RecruitmentQuota,
    Standings,
    safe_cell,
)

__all__ = ["QUOTA_COLUMNS", "GoalStatus", "Quota", "goal_status", "quotas", "quotas_csv"]


#: The goal's status on one dimension (the standings' model of it).
GoalStatus = GoalProjection


def goal_status(standings: Standings, dimension: str) -> GoalProjection | None:
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
    return GoalProjection(dimension=dimension, participants=people, **dataclasses.asdict(proj))


#: Participants still needed from one group (the standings' model of a quota row).
Quota = RecruitmentQuota


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
    totals = attribute_totals(standings.samples)
    target = standings.plan_goal.group_half_width
    out = []
    for attribute in sorted({s.attribute for s in standings.samples}):
        rows = [
            (s, float(s.population_share))
            for s in standings.samples
            if s.attribute == attribute and s.population_share
        ]
        if not rows:
            continue
        floor = max(s.participants / p for s, p in rows)
        final = max(float(totals.get(attribute, 0) + more_participants), floor)
        for s, p in rows:
            share = max(0, math.ceil(p * final - s.participants - 1e-9))
            precision = 0
            widest = _widest_band(standings, s.attribute, s.value)
            if target is not None and widest is not None and widest > target:
                # The slack keeps an exact hit (e.g. a width of exactly twice the target)
                # from rounding up.
                precision = math.ceil(s.participants * ((widest / target) ** 2 - 1.0) - 1e-9)
            out.append(
                Quota(
                    attribute=s.attribute,
                    value=s.value,
                    participants=s.participants,
                    population_share=p,
                    for_share=share,
                    for_precision=precision,
                )
            )
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
