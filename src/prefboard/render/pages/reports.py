"""The Next battles page (a function of the page builder). The other analysis and reference
pages moved to `analysis` and `reference`; they are re-exported here for older imports."""

from __future__ import annotations

from typing import Any

from prefboard.render import format as fmt
from prefboard.render import plan_figures
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
    """The plan stage's queue, goal status and quotas (`Standings.plan`), formatted."""
    goal, planned = pb.s.plan_goal, pb.s.plan
    status = {g.dimension: g.sentence(goal.goal) for g in planned.goals}
    dims = []
    for d in pb.battle_dims:
        rows = [
            [
                pb.names[c.model_a],
                pb.names[c.model_b],
                fmt.number(c.gain, 4),
                fmt.percent(c.p_a),
                fmt.percent(c.p_tie),
                c.battles,
                c.reason,
            ]
            for c in planned.queue
            if c.dimension == d.key
        ][:NEXT_BATTLES_SHOWN]
        dims.append({"label": d.label, "rows": rows, "goal": status.get(d.key, "")})
    quota_rows = [
        [
            q.attribute,
            q.value,
            q.participants,
            fmt.percent(q.population_share),
            q.for_share,
            q.for_precision,
            q.quota,
        ]
        for q in planned.quotas
    ]
    groups = [
        [
            g.attribute,
            g.value,
            fmt.count(g.participants) if g.published else fmt.MISSING,
            fmt.percent(g.sample_share),
            fmt.percent(g.population_share),
            fmt.count(g.needed),
        ]
        for g in planned.groups[:NEXT_GROUPS_SHOWN]
    ]
    text = pb.render(
        "next.md.j2",
        dims=dims,
        groups=groups,
        goal=goal,
        quotas=quota_rows,
        explore=fmt.percent(planned.explore, 0),
        board=fmt.percent(planned.board, 0),
        bench=_plan_benchmark(pb.s.analysis.studies["planning"]),
    )
    return Page("next.md", "Next battles", text)


def _plan_benchmark(figures: dict[str, Any]) -> dict[str, Any]:
    """The planning benchmark's figures (templates/planning.json, copied into the standings by
    the analysis stage), as the page shows them."""
    return {
        "source": figures["source"].split(" (")[0],
        "conditions": figures["conditions"],
        "rows": plan_figures.table_rows(figures),
        "margin": plan_figures.TAU_MARGIN,
        "shortfalls": [
            f"{r['board']}, {r['world']} world: " + "; ".join(miss)
            for r in figures["rows"]
            if (miss := plan_figures.shortfalls(r))
        ],
    }
