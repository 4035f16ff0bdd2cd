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
from prefboard.standings.model import Pair, Standings, Table

#: Models a pair grid shows: the top of the headline ranking. A grid of every pair grows with
#: models² (90,000 cells and tens of MB of chart spec at 300 models, unreadable at any width);
#: every pair's record stays in standings.json (`pairs`).
GRID_MODELS = 30


def grid_models(standings: Standings, dimension: str) -> list[str]:
    """Keys of the models a pair grid of `dimension` shows, in headline rank order."""
    return _model_order(standings, dimension)[:GRID_MODELS]


def _head_to_head_cells(standings: Standings, dimension: str) -> tuple[list[Row], list[str]]:
    """Both sides of every pair in `dimension` among the grid's models, and their labels in
    rank order; a pair among them that never met gets an empty cell."""
    names = _model_names(standings)
    pairs = [p for p in standings.pairs if p.dimension == dimension]
    present = {p.model_a for p in pairs} | {p.model_b for p in pairs}
    shown = _ordered(present, _model_order(standings, dimension))[:GRID_MODELS]
    kept = set(shown)
    met = {(p.model_a, p.model_b): p for p in pairs if p.model_a in kept and p.model_b in kept}
    cells: list[Row] = []
    for a in shown:
        for b in shown:
            p = met.get((a, b)) or met.get((b, a))
            if p is not None:
                cells.append(_cell(names, p, a))
            elif a != b:
                cells.append(_unplayed_cell(names, a, b))
    return cells, [_name(names, k) for k in shown]


def _cell(names: dict[str, str], p: Pair, model: str) -> Row:
    """`model`'s side of the pair `p`."""
    me_a = p.model_a == model
    opponent = p.model_b if me_a else p.model_a
    wins, losses = (p.wins_a, p.wins_b) if me_a else (p.wins_b, p.wins_a)
    p_win, p_loss = (p.p_a, p.p_b) if me_a else (p.p_b, p.p_a)
    share = p.share_of(model)
    return {
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


def _unplayed_cell(names: dict[str, str], model: str, opponent: str) -> Row:
    """A pair with no battle in the standings: counted zero, no prediction kept for it."""
    return {
        "model": _name(names, model),
        "opponent": _name(names, opponent),
        "battles": 0,
        "wins": 0,
        "losses": 0,
        "ties": 0,
        "share": None,
        "label": "",
        "p_win": None,
        "p_loss": None,
        "p_tie": None,
        "ink": _ink(None),
    }


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
    base = alt.Chart().encode(
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
        .encode(text=alt.Text("label:N"), color=_ink_color())
    )
    # A pair never played gets a faint grey cell (hovered for its zero counts: the standings keep
    # no prediction for it) and no label: text off a coloured cell would need the theme's text
    # colour, which a spec can't know.
    unplayed = base.transform_filter("datum.battles <= 0").mark_rect(color=NO_DATA, opacity=0.25)
    layers = alt.layer(rects, on_cells, unplayed, data=_data(cells))
    return _finish(layers, _height(len(order)) + 40)


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
    """Battles per model pair (both directions shown) among the grid's models (`grid_models`),
    so gaps in the design stand out."""
    names = _model_names(standings)
    order = grid_models(standings, dimension)
    shown = set(order)
    counts = {
        (p.model_a, p.model_b): p.battles
        for p in standings.pairs
        if p.dimension == dimension and p.model_a in shown and p.model_b in shown
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
