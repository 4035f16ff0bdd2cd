"""The Next battles page (a function of the page builder). The other analysis and reference
pages moved to `analysis` and `reference`; they are re-exported here for older imports."""

from __future__ import annotations

from prefboard.render.pages.analysis import benchmarks, concordance, fairness, ratings
from prefboard.render.pages.core import (
    NEXT_BATTLES_SHOWN,
    NEXT_GROUPS_SHOWN,
    Page,
    _Builder,
)
from prefboard.render.pages.reference import changes_page, data, methodology

__all__ = [
    "benchmarks",
    "changes_page",
    "concordance",
    "data",
    "fairness",
    "methodology",
    "next_battles",
    "ratings",
]


def next_battles(pb: _Builder) -> Page:
    from prefboard import matchmaking as mm
    from prefboard.matchmaking import quotas as mq

    goal = pb.s.plan_goal
    dims = []
    for d in pb.battle_dims:
        rows = [
            [
                pb.names[c.model_a],
                pb.names[c.model_b],
                f"{c.gain:.4f}",
                f"{c.p_a:.0%}",
                f"{c.p_tie:.0%}",
                c.battles,
                c.reason,
            ]
            for c in mm.plan(
                pb.s, None, dimension=d.key, n=NEXT_BATTLES_SHOWN, explore=goal.explore
            )
        ]
        status = mq.goal_status(pb.s, d.key)
        sentence = status.sentence(goal.goal, goal.top_k) if status else ""
        dims.append({"label": d.label, "rows": rows, "goal": sentence})
    quota_rows = [
        [
            q.attribute,
            q.value,
            q.participants,
            f"{q.population_share:.0%}",
            q.for_share,
            q.for_precision,
            q.quota,
        ]
        for q in mq.quotas(pb.s, mq.goal_participants(pb.s))
    ]
    groups = [
        [
            g.attribute,
            g.value,
            g.participants if g.published else "–",
            f"{g.sample_share:.1%}",
            f"{g.population_share:.1%}",
            "–" if g.needed is None else g.needed,
        ]
        for g in mm.groups_in_need(pb.s)[:NEXT_GROUPS_SHOWN]
    ]
    text = pb.render(
        "next.md.j2",
        dims=dims,
        groups=groups,
        goal=goal,
        quotas=quota_rows,
        explore=f"{goal.explore:.0%}",
    )
    return Page("next.md", "Next battles", text)
