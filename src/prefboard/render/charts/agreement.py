"""The Agreement page's charts: a judge's scores against the humans' (one point per model), and
its agreement beside the human noise ceiling (one bar pair per dimension, with intervals)."""

from __future__ import annotations

import altair as alt

from prefboard.render.charts.base import (
    NO_DATA,
    Row,
    _data,
    _dimension_labels,
    _finish,
    _height,
    _model_names,
    _name,
    _num,
)
from prefboard.standings.model import Standings

WHO = ["judge", "human ceiling"]


def judge_scatter_chart(standings: Standings, judge: str, dimension: str) -> alt.TopLevelMixin:
    """Each model's score by the judge (x) against its human headline score (y)."""
    names = _model_names(standings)
    board = next((j for j in standings.judges if j.key == judge), None)
    mine = next((t for t in board.tables if t.dimension == dimension), None) if board else None
    head = standings.headline(dimension)
    theirs = {e.model: e for e in head.entries if e.battles} if head else {}
    rows: list[Row] = [
        {
            "model": _name(names, e.model),
            "judge score": _num(e.score),
            "human score": _num(theirs[e.model].score),
            "judge rank": e.rank,
            "human rank": theirs[e.model].rank,
        }
        for e in sorted(mine.entries if mine else [], key=lambda e: e.model)
        if e.battles and e.model in theirs
    ]
    base = alt.Chart(_data(rows)).encode(
        # a handful of ticks: at desktop width the default put 31 labels that ran together
        x=alt.X(
            "judge score:Q",
            scale=alt.Scale(zero=False),
            axis=alt.Axis(tickCount=8),
            title="Score by the judge",
        ),
        y=alt.Y("human score:Q", scale=alt.Scale(zero=False), title="Score by people"),
        tooltip=["model:N", "judge score:Q", "human score:Q", "judge rank:Q", "human rank:Q"],
    )
    # names beside the points: the page's theme colours the text
    labels = base.mark_text(align="left", dx=7).encode(text=alt.Text("model:N"))
    return _finish(base.mark_circle(size=80) + labels, 260)


def agreement_chart(standings: Standings, judge: str) -> alt.TopLevelMixin:
    """Per dimension, the judge's match with the human plurality beside one human's match with
    the others' (the ceiling), each with its interval."""
    labels = _dimension_labels(standings)
    # the board's order (overall first), as in the page's tables, not alphabetical
    order = list(labels)
    rows: list[Row] = []
    for a in sorted(
        standings.judge_agreement,
        key=lambda a: order.index(a.dimension) if a.dimension in order else len(order),
    ):
        if a.judge != judge:
            continue
        for who, share in zip(WHO, (a.match, a.ceiling_match), strict=True):
            if share.value is None:
                continue
            rows.append(
                {
                    "dimension": labels.get(a.dimension, a.dimension),
                    "who": who,
                    "match": _num(share.value),
                    "lower": _num(share.lower),
                    "upper": _num(share.upper),
                }
            )
    base = alt.Chart(_data(rows)).encode(
        y=alt.Y("dimension:N", title=None, sort=None),
        yOffset=alt.YOffset("who:N", sort=WHO),
    )
    tooltip = ["dimension:N", "who:N", "match:Q", "lower:Q", "upper:Q"]
    bars = base.mark_bar(opacity=0.75).encode(
        # percent, as the tables beside it print agreement
        x=alt.X(
            "match:Q",
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(format="%"),
            title="Agreement with the plurality",
        ),
        color=alt.Color("who:N", sort=WHO, title=None),
        tooltip=tooltip,
    )
    # the intervals in one neutral grey that reads on both palettes and over either bar
    rules = base.mark_rule(strokeWidth=2, color=NO_DATA).encode(
        x=alt.X("lower:Q"), x2=alt.X2("upper:Q"), tooltip=tooltip
    )
    dims = len({r["dimension"] for r in rows})
    return _finish(bars + rules, _height(2 * dims))
