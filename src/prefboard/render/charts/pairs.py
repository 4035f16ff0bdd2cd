"""Model pairs: the head-to-head win-share grid, pair coverage, and battles against rank."""

from __future__ import annotations

import altair as alt

from prefboard.render import format as fmt
from prefboard.render.charts.base import (
    ACCENT,
    MIN_LABEL_CELL,
    NO_DATA,
    SHARE_SCHEME,
    Row,
    _data,
    _finish,
    _height,
    _ink,
    _ink_color,
    _model_names,
    _model_order,
    _name,
    _num,
    _ordered,
)
from prefboard.standings.model import Standings, Table


def _head_to_head_cells(standings: Standings, dimension: str) -> tuple[list[Row], list[str]]:
    """Both sides of every pair in `dimension`, and the model labels in rank order."""
    names = _model_names(standings)
    pairs = [p for p in standings.pairs if p.dimension == dimension]
    cells: list[Row] = []
    for p in pairs:
        sides = [
            (p.model_a, p.model_b, p.wins_a, p.wins_b, p.p_a, p.p_b),
            (p.model_b, p.model_a, p.wins_b, p.wins_a, p.p_b, p.p_a),
        ]
        for model, opponent, wins, losses, p_win, p_loss in sides:
            share = p.share_of(model)
            cells.append(
                {
                    "model": _name(names, model),
                    "opponent": _name(names, opponent),
                    "battles": p.battles,
                    "wins": wins,
                    "losses": losses,
                    "ties": p.ties,
                    "share": share,
                    "label": fmt.percent(share, 0) if share is not None else "",
                    "p_win": _num(p_win),
                    "p_loss": _num(p_loss),
                    "p_tie": _num(p.p_tie),
                    "ink": _ink(share),
                }
            )
    present = {p.model_a for p in pairs} | {p.model_b for p in pairs}
    order = [_name(names, k) for k in _ordered(present, _model_order(standings, dimension))]
    cells.sort(key=lambda c: (order.index(c["model"]), order.index(c["opponent"])))
    return cells, order


def head_to_head_chart(standings: Standings, dimension: str) -> alt.TopLevelMixin:
    """Row model x opponent: colour is the row model's observed win share (ties count half)."""
    cells, order = _head_to_head_cells(standings, dimension)
    tooltip = [
        alt.Tooltip("model:N", title="Model"),
        alt.Tooltip("opponent:N", title="Opponent"),
        alt.Tooltip("battles:Q", title="Battles", format=",d"),
        alt.Tooltip("wins:Q", title="Wins", format=",d"),
        alt.Tooltip("losses:Q", title="Losses", format=",d"),
        alt.Tooltip("ties:Q", title="Ties", format=",d"),
        alt.Tooltip("share:Q", title="Win share (ties half)", format=".0%"),
        alt.Tooltip("p_win:Q", title="Predicted P(win)", format=".0%"),
        alt.Tooltip("p_tie:Q", title="Predicted P(tie)", format=".0%"),
    ]
    # Both axes get the full model list as their domain so that the grid is square and in rank
    # order even where cells are missing (the diagonal, or pairs never played).
    base = alt.Chart(_data(cells)).encode(
        x=alt.X(
            "opponent:N",
            sort=order,
            scale=alt.Scale(domain=order),
            title="Opponent",
            axis=alt.Axis(orient="top", labelAngle=-30),
        ),
        y=alt.Y("model:N", sort=order, scale=alt.Scale(domain=order), title=None),
        tooltip=tooltip,
    )
    played = "datum.battles > 0"
    rects = (
        base.transform_filter(played)
        .mark_rect()
        .encode(
            color=alt.Color(
                "share:Q",
                title="Win share",
                scale=alt.Scale(scheme=SHARE_SCHEME, domain=[0, 1]),
                legend=alt.Legend(orient="bottom", format="%"),
            )
        )
    )
    # A "100%" label needs about 30 px: on a phone twelve columns are narrower than that and
    # the labels ran together, so below that width they fade out (the tooltip keeps them).
    fits = f"width / {max(1, len(order))} >= {MIN_LABEL_CELL}"
    on_cells = (
        base.transform_filter(played)
        .mark_text(fontSize=11, opacity=alt.ExprRef(expr=f"{fits} ? 1 : 0"))
        .encode(text="label:N", color=_ink_color())
    )
    # A pair never played gets a faint grey cell (still hovered for its predicted P(win)) and no
    # label: text off a coloured cell would need the theme's text colour, which a spec can't know.
    unplayed = base.transform_filter("datum.battles <= 0").mark_rect(color=NO_DATA, opacity=0.25)
    return _finish(alt.layer(rects, on_cells, unplayed), _height(len(order)) + 40)


def battles_vs_rank_chart(standings: Standings, table: Table) -> alt.TopLevelMixin:
    """Battles per model against its rank: a fair board shows no trend."""
    names = _model_names(standings)
    rows: list[Row] = [
        {"model": _name(names, e.model), "rank": e.rank, "battles": e.battles}
        for e in sorted(table.entries, key=lambda e: (e.rank, e.model))
    ]
    chart = (
        alt.Chart(_data(rows))
        .mark_circle(size=90, color=ACCENT, opacity=0.85)
        .encode(
            x=alt.X("rank:Q", title="Rank", scale=alt.Scale(zero=False), axis=alt.Axis(format="d")),
            y=alt.Y("battles:Q", title="Battles", scale=alt.Scale(zero=True)),
            tooltip=[
                alt.Tooltip("model:N", title="Model"),
                alt.Tooltip("rank:Q", title="Rank"),
                alt.Tooltip("battles:Q", title="Battles", format=",d"),
            ],
        )
    )
    return _finish(chart, 260)


def pair_coverage_chart(standings: Standings, dimension: str) -> alt.TopLevelMixin:
    """Battles per model pair (both directions shown), so gaps in the design stand out."""
    names = _model_names(standings)
    order = _model_order(standings, dimension)
    counts = {
        (p.model_a, p.model_b): p.battles for p in standings.pairs if p.dimension == dimension
    }
    cells: list[Row] = []
    for a in order:
        for b in order:
            if a == b:
                continue
            n = counts.get((a, b), counts.get((b, a), 0))
            cells.append(
                {
                    "model": _name(names, a),
                    "opponent": _name(names, b),
                    "battles": n,
                }
            )
    labels = [_name(names, k) for k in order]
    base = alt.Chart(_data(cells)).encode(
        x=alt.X("opponent:N", sort=labels, title=None, axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("model:N", sort=labels, title=None),
        tooltip=[
            alt.Tooltip("model:N", title="Model"),
            alt.Tooltip("opponent:N", title="Opponent"),
            alt.Tooltip("battles:Q", title="Battles", format=",d"),
        ],
    )
    rect = base.mark_rect().encode(
        color=alt.Color("battles:Q", scale=alt.Scale(scheme=SHARE_SCHEME), title="Battles")
    )
    return _finish(alt.layer(rect), _height(len(order)) + 60)
