"""Rankings drawn: the forest plot of bands, and rank heatmaps by dimension and by group."""

from __future__ import annotations

import functools
import json
from typing import Any, cast

import altair as alt
import pandas as pd

from prefboard.render import format as fmt
from prefboard.render.charts.base import (
    MIN_HEIGHT,
    RANK_SCHEME,
    STATUS,
    Row,
    Spec,
    _csv_data,
    _data,
    _dimension_labels,
    _entry_row,
    _finish,
    _height,
    _ink,
    _ink_color,
    _model_names,
    _model_order,
    _name,
    _ordered,
    chart_spec,
    csv_values,
)
from prefboard.standings.model import Standings, Table


def _rank_color(max_rank: int) -> alt.Color:
    # Rank 1 gets the bright end of viridis. The domain is fixed so that colours mean the same
    # in every column, and is at least [1, 2] so that a one-model table still has a scale.
    top = max(2, max_rank)
    return _rank_color_of([1, top], list(range(1, top + 1)))


def _rank_color_of(domain: list[Any], ticks: list[Any]) -> alt.Color:
    return alt.Color(
        "rank:Q",
        title="Rank",
        scale=alt.Scale(scheme=RANK_SCHEME, reverse=True, domain=domain),
        # Whole ranks only: a gradient legend otherwise labels fractional ticks ("2", "2").
        legend=alt.Legend(orient="bottom", values=ticks, format="d"),
    )


def _rank_position(rank: int, max_rank: int) -> float:
    """Where a rank sits on the (reversed) viridis scale of `_rank_color`: best = 1.0."""
    return 1.0 - (rank - 1) / (max(2, max_rank) - 1)


def _heatmap_rows(rows: list[Row], x_field: str) -> tuple[list[Row], int]:
    """The columns drawn or shown (with each cell's ink), and the largest rank."""
    max_rank = max((r["rank"] for r in rows), default=1)
    for r in rows:
        r["ink"] = _ink(_rank_position(r["rank"], max_rank))
    # Only the columns drawn or shown, as CSV: a 300-model board has 1,800 cells per group
    # heatmap and six heatmaps on a group page.
    columns = ["model", x_field, "rank", "rank_range", "score", "band", "battles", "status", "ink"]
    return [{c: r[c] for c in columns} for r in rows], max_rank


HEATMAP_NUMBERS = ("rank", "score", "battles")


def _rank_heatmap(
    rows: list[Row], y_order: list[str], x_field: str, x_title: str, x_order: list[str]
) -> alt.TopLevelMixin:
    shown, max_rank = _heatmap_rows(rows, x_field)
    data = _csv_data(shown, HEATMAP_NUMBERS)
    return _heatmap_layers(
        data, y_order, x_field, x_title, x_order, _rank_color(max_rank), _height(len(y_order))
    )


def _rank_heatmap_spec(
    rows: list[Row], y_order: list[str], x_field: str, x_title: str, x_order: list[str]
) -> Spec:
    """`chart_spec(_rank_heatmap(...))` from a skeleton built once per `x_field`, with this
    chart's orders, title, colour scale, height and data put in: Altair's copies and checks of
    every part cost about 40 ms a heatmap, and a 300-model board draws 50 of them."""
    shown, max_rank = _heatmap_rows(rows, x_field)
    top = max(2, max_rank)
    spec: Spec = json.loads(_heatmap_skeleton(x_field))
    fill = {
        _Y_ORDER: y_order,
        _X_ORDER: x_order,
        _X_TITLE: x_title,
        _DOMAIN: [1, top],
        _TICKS: list(range(1, top + 1)),
    }
    spec = cast(Spec, _fill(spec, fill))
    spec["data"] = csv_values(shown, HEATMAP_NUMBERS)
    spec["height"] = _height(len(y_order))
    return spec


# Stand-ins in the skeleton for what differs from chart to chart: no value the builder makes
# (a model name, a group) is looked up in it, as the real values go in only after the walk.
_Y_ORDER, _X_ORDER, _X_TITLE = "\x00y-order", "\x00x-order", "\x00x-title"
_DOMAIN, _TICKS = "\x00rank-domain", "\x00rank-ticks"


@functools.lru_cache(maxsize=4)
def _heatmap_skeleton(x_field: str) -> str:
    empty = alt.Data(values=[])  # type: ignore[no-untyped-call]
    color = _rank_color_of([_DOMAIN], [_TICKS])
    chart = _heatmap_layers(empty, [_Y_ORDER], x_field, _X_TITLE, [_X_ORDER], color, MIN_HEIGHT)
    return json.dumps(chart_spec(chart))


def _fill(node: Any, fill: dict[str, Any]) -> Any:
    """`node` with each stand-in (a string, or a list holding only one) replaced by its value."""
    if isinstance(node, str):
        return fill.get(node, node)
    if isinstance(node, list):
        if len(node) == 1 and isinstance(node[0], str) and node[0] in fill:
            return fill[node[0]]
        return [_fill(v, fill) for v in node]
    if isinstance(node, dict):
        return {k: _fill(v, fill) for k, v in node.items()}
    return node


def _heatmap_layers(
    data: alt.Data,
    y_order: list[str],
    x_field: str,
    x_title: str,
    x_order: list[str],
    color: alt.Color,
    height: int,
) -> alt.TopLevelMixin:
    tooltip = [
        alt.Tooltip("model:N", title="Model"),
        alt.Tooltip(f"{x_field}:N", title=x_title),
        alt.Tooltip("rank:Q", title="Rank"),
        alt.Tooltip("rank_range:N", title="Rank interval"),
        alt.Tooltip("score:Q", title="Score", format=".2f"),
        alt.Tooltip("band:N", title="Band"),
        alt.Tooltip("battles:Q", title="Battles", format=",d"),
        alt.Tooltip("status:N", title="Status"),
    ]
    base = alt.Chart().encode(
        x=alt.X(
            f"{x_field}:N",
            sort=x_order,
            title=None,
            # Slanted: level labels of six columns ran into each other on a 390 px phone.
            axis=alt.Axis(labelAngle=-35, orient="top", labelLimit=140),
        ),
        y=alt.Y("model:N", sort=y_order, title=None),
        tooltip=tooltip,
    )
    cells = base.mark_rect().encode(color=color)
    labels = base.mark_text(fontSize=12).encode(text=alt.Text("rank:Q"), color=_ink_color())
    return _finish(alt.layer(cells, labels, data=data), height)


def interval_chart(standings: Standings, table: Table) -> alt.TopLevelMixin:
    """Forest plot: one row per model by rank, a rule over its band and a point at its score.

    Provisional models (too few battles) are drawn in the second category colour with a hollow
    point, so their position reads as tentative.
    """
    rows = _interval_rows(standings, table)
    order = [r["model"] for r in rows]
    return _interval_layers(_data(rows), order, standings.parameters.interval, _height(len(rows)))


def interval_spec(standings: Standings, table: Table) -> Spec:
    """`chart_spec(interval_chart(standings, table))` from a skeleton built once per interval
    level, with this table's row order, height and rows put in (as the JSON records Altair
    makes of them: ints, floats, and None for a missing band end)."""
    rows = _interval_rows(standings, table)
    spec: Spec = json.loads(_interval_skeleton(standings.parameters.interval))
    spec = cast(Spec, _fill(spec, {_Y_ORDER: [r["model"] for r in rows]}))
    spec["data"] = {"values": rows}
    spec["height"] = _height(len(rows))
    return spec


def _interval_rows(standings: Standings, table: Table) -> list[Row]:
    names = _model_names(standings)
    entries = sorted(table.entries, key=lambda e: (e.rank, _name(names, e.model)))
    return [_entry_row(e, names) for e in entries]


@functools.lru_cache(maxsize=4)
def _interval_skeleton(interval: float) -> str:
    empty = alt.Data(values=[])  # type: ignore[no-untyped-call]
    return json.dumps(chart_spec(_interval_layers(empty, [_Y_ORDER], interval, MIN_HEIGHT)))


def _interval_layers(
    data: alt.Data | pd.DataFrame, order: list[str], interval: float, height: int
) -> alt.TopLevelMixin:
    tooltip = [
        alt.Tooltip("model:N", title="Model"),
        alt.Tooltip("rank:Q", title="Rank"),
        alt.Tooltip("rank_range:N", title="Rank interval"),
        alt.Tooltip("score:Q", title="Score", format=".2f"),
        alt.Tooltip("band:N", title=f"{fmt.percent(interval, 0)} band"),
        alt.Tooltip("battles:Q", title="Battles", format=",d"),
        alt.Tooltip("status:N", title="Status"),
    ]
    status = alt.Scale(domain=STATUS)
    base = alt.Chart().encode(
        y=alt.Y("model:N", sort=order, title=None),
        color=alt.Color("status:N", scale=status, legend=alt.Legend(title=None, orient="bottom")),
        tooltip=tooltip,
    )
    rules = base.mark_rule(strokeWidth=2).encode(
        x=alt.X(
            "lower:Q",
            scale=alt.Scale(zero=False),
            title=f"Skill (posterior mean) with its {interval:.0%} band",
        ),
        x2=alt.X2("upper:Q"),
    )
    # Hollow for provisional: fill opacity 0 keeps the stroke in the status colour.
    points = base.mark_point(filled=True, size=70, strokeWidth=1.5).encode(
        x=alt.X("score:Q"),
        stroke=alt.Stroke("status:N", scale=status, legend=None),
        fillOpacity=alt.FillOpacity(
            "status:N", scale=alt.Scale(domain=STATUS, range=[1, 0]), legend=None
        ),
    )
    return _finish(alt.layer(rules, points, data=data), height)


# What a rank heatmap is drawn from: rows, row order, column field, column title, column order.
_HeatmapInput = tuple[list[Row], list[str], str, str, list[str]]


def dimension_heatmap(standings: Standings) -> alt.TopLevelMixin:
    """Model x dimension; each cell is the model's rank in that dimension's headline table."""
    return _rank_heatmap(*_dimension_heatmap_input(standings))


def dimension_heatmap_spec(standings: Standings) -> Spec:
    """`chart_spec(dimension_heatmap(standings))`, from the cached skeleton."""
    return _rank_heatmap_spec(*_dimension_heatmap_input(standings))


def _dimension_heatmap_input(standings: Standings) -> _HeatmapInput:
    names = _model_names(standings)
    labels = _dimension_labels(standings)
    rows: list[Row] = []
    columns: list[str] = []
    mean_rank: dict[str, list[int]] = {}
    for dim in standings.dimensions:
        head = standings.headline(dim.key)
        if head is None or not head.entries:
            continue  # a Likert-only dimension has no ranking
        columns.append(labels[dim.key])
        for e in head.entries:
            row = _entry_row(e, names)
            row["dimension"] = labels[dim.key]
            rows.append(row)
            mean_rank.setdefault(e.model, []).append(e.rank)
    # Rows go by average rank over the dimensions, so the overall strongest model is on top.
    keys = sorted(mean_rank, key=lambda k: (sum(mean_rank[k]) / len(mean_rank[k]), k))
    rows.sort(key=lambda r: (columns.index(r["dimension"]), r["rank"], r["model"]))
    return rows, [_name(names, k) for k in keys], "dimension", "Dimension", columns


def group_rank_heatmap(standings: Standings, dimension: str, attribute: str) -> alt.TopLevelMixin:
    """Model x value of one slice attribute; each cell is the rank within that group's table."""
    return _rank_heatmap(*_group_heatmap_input(standings, dimension, attribute))


def group_rank_heatmap_spec(standings: Standings, dimension: str, attribute: str) -> Spec:
    """`chart_spec(group_rank_heatmap(...))`, from the cached skeleton: a 300-model board draws
    six on each group and category page."""
    return _rank_heatmap_spec(*_group_heatmap_input(standings, dimension, attribute))


def _group_heatmap_input(standings: Standings, dimension: str, attribute: str) -> _HeatmapInput:
    names = _model_names(standings)
    info = next((s for s in standings.slices if s.attribute == attribute), None)
    tables = {
        t.slice_value: t
        for t in standings.tables
        if t.dimension == dimension and t.slice_attribute == attribute
    }
    if info is not None:
        # Groups below the privacy threshold are never shown, even if a table slipped through.
        values = [v for v in info.values if v in tables and v in info.published]
    else:
        values = sorted(tables)
    rows: list[Row] = []
    seen: set[str] = set()
    for v in values:
        for e in tables[v].entries:
            row = _entry_row(e, names)
            row["group"] = v
            rows.append(row)
            seen.add(e.model)
    keys = _ordered(seen, _model_order(standings, dimension))
    rows.sort(key=lambda r: (values.index(r["group"]), r["rank"], r["model"]))
    title = info.label if info is not None and info.label else attribute
    return rows, [_name(names, k) for k in keys], "group", title, values
