"""Pure functions from a `Standings` to Altair charts; the site embeds their Vega-Lite JSON.

Rules every builder follows, because of where the specs end up:

- The site's JavaScript applies a light or dark theme when the page is viewed, and a spec's own
  `config` overrides that theme. So no text, axis or background colours are set here; the
  background is "transparent" so the page shows through. Sequential scales use viridis, which
  reads on white and on near-black alike; categorical scales name no scheme, so the theme's
  `range.category` applies: colour-blind-safe hues darkened for the light palette and lightened
  for the dark one (one fixed scheme cannot contrast with both backgrounds).
- Text drawn *on* a coloured cell is the one exception: its ink is chosen against the cell (a
  near-black or near-white, never pure), so it stays legible whatever the page theme is.
- Every mark has a tooltip; nothing is linked (`href`) from data, and model names go in as plain
  values, which Vega renders as text, never as markup.
- Same input, same spec: rows are sorted explicitly, data is inlined (no random dataset names)
  and no selection parameters are created (Altair names unnamed ones `param_N` from a counter
  that changes from call to call).
- Degenerate inputs (no battles, empty history, no ratings, one model) give a valid chart with
  fewer or no rows rather than an exception: a build should not fail on a thin leaderboard.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import altair as alt
import pandas as pd

from prefboard.standings.model import POOLED, BenchmarkScore, Entry, Standings, Table

ROW_HEIGHT = 24
MIN_HEIGHT = 80
RANK_SCHEME = "viridis"
SHARE_SCHEME = "viridis"
# Ink for labels printed on a viridis cell, picked by the cell's position on the scheme: viridis
# is dark (purple) at 0 and light (yellow) at 1; from about 0.45 up, dark text contrasts better.
DARK_INK = "#1b1b1b"
LIGHT_INK = "#f2f2f2"
DARK_INK_FROM = 0.45
# Marks without a colour encoding: Vega-Lite's defaults differ by mark (rules are black), so they
# get tableau10's first colour, which reads on both backgrounds; "no data" cells a faint mid grey.
ACCENT = "#4c78a8"
# Narrowest heatmap cell, in pixels, that still gets a percentage label printed on it.
MIN_LABEL_CELL = 30
NO_DATA = "#888888"
STATUS = ["established", "provisional"]

Row = dict[str, Any]


# --- helpers -------------------------------------------------------------------------------


def _num(value: float | None) -> float | None:
    """JSON has no NaN or infinity; a value that is not finite is shown as missing."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _unique_labels(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """key -> label, with a label that is empty or shared by several keys suffixed by its key.

    Nominal axes group by value, so two models both called "Assistant" would otherwise be drawn
    as one row.
    """
    pairs = list(pairs)
    seen: dict[str, int] = {}
    for _, label in pairs:
        seen[label] = seen.get(label, 0) + 1
    out = {}
    for key, label in pairs:
        if not label:
            out[key] = key
        elif seen[label] > 1:
            out[key] = f"{label} ({key})"
        else:
            out[key] = label
    return out


def _model_names(standings: Standings) -> dict[str, str]:
    return _unique_labels((m.key, m.name) for m in standings.models)


def _dimension_labels(standings: Standings) -> dict[str, str]:
    return _unique_labels((d.key, d.label) for d in standings.dimensions)


def _name(names: dict[str, str], key: str) -> str:
    # A key missing from `models` (hand-edited or older standings) is still shown, by its key.
    return names.get(key, key)


def _model_order(standings: Standings, dimension: str | None = None) -> list[str]:
    """Model keys: by headline rank in `dimension` if given, then in declaration order."""
    order: list[str] = []
    if dimension is not None:
        head = standings.headline(dimension)
        if head is not None:
            order = [e.model for e in sorted(head.entries, key=lambda e: (e.rank, e.model))]
    for m in standings.models:
        if m.key not in order:
            order.append(m.key)
    return order


def _ordered(keys: Iterable[str], order: list[str]) -> list[str]:
    """`keys` in `order`, with any key `order` lacks appended alphabetically."""
    keys = set(keys)
    known = [k for k in order if k in keys]
    return known + sorted(keys - set(known))


def _height(rows: int) -> int:
    return max(MIN_HEIGHT, rows * ROW_HEIGHT + 20)


def _finish(chart: alt.TopLevelMixin, height: int) -> alt.TopLevelMixin:
    # "container" makes vega-embed size the chart to the content column; `background` is the only
    # colour set at the top level, and transparent lets either theme's page colour show through.
    return chart.properties(width="container", height=height, background="transparent")


def _ink(position: float | None) -> str:
    """Which ink a label on a viridis cell at `position` (0..1) needs; see DARK_INK_FROM."""
    return "dark" if position is not None and position >= DARK_INK_FROM else "light"


def _ink_color() -> Any:
    return alt.condition("datum.ink === 'dark'", alt.value(DARK_INK), alt.value(LIGHT_INK))


def _rank_range(entry: Entry) -> str:
    if entry.rank_lower == entry.rank_upper:
        return str(entry.rank_lower)
    return f"{entry.rank_lower}–{entry.rank_upper}"


def _band(lower: float | None, upper: float | None) -> str:
    if lower is None or upper is None:
        return ""
    return f"{lower:.2f} to {upper:.2f}"


def _entry_row(entry: Entry, names: dict[str, str]) -> Row:
    lower, upper = _num(entry.lower), _num(entry.upper)
    return {
        "model": _name(names, entry.model),
        "rank": entry.rank,
        "rank_range": _rank_range(entry),
        "score": _num(entry.score),
        "lower": lower,
        "upper": upper,
        "band": _band(lower, upper),
        "battles": entry.battles,
        "wins": entry.wins,
        "losses": entry.losses,
        "ties": entry.ties,
        "status": STATUS[1] if entry.provisional else STATUS[0],
    }


def _rank_color(max_rank: int) -> alt.Color:
    # Rank 1 gets the bright end of viridis. The domain is fixed so that colours mean the same
    # in every column, and is at least [1, 2] so that a one-model table still has a scale.
    return alt.Color(
        "rank:Q",
        title="Rank",
        scale=alt.Scale(scheme=RANK_SCHEME, reverse=True, domain=[1, max(2, max_rank)]),
        # Whole ranks only: a gradient legend otherwise labels fractional ticks ("2", "2").
        legend=alt.Legend(orient="bottom", values=list(range(1, max(2, max_rank) + 1)), format="d"),
    )


def _rank_position(rank: int, max_rank: int) -> float:
    """Where a rank sits on the (reversed) viridis scale of `_rank_color`: best = 1.0."""
    return 1.0 - (rank - 1) / (max(2, max_rank) - 1)


def _rank_heatmap(
    rows: list[Row], y_order: list[str], x_field: str, x_title: str, x_order: list[str]
) -> alt.TopLevelMixin:
    max_rank = max((r["rank"] for r in rows), default=1)
    for r in rows:
        r["ink"] = _ink(_rank_position(r["rank"], max_rank))
    tooltip = [
        alt.Tooltip("model:N", title="Model"),
        alt.Tooltip(f"{x_field}:N", title=x_title),
        alt.Tooltip("rank:Q", title="Rank"),
        alt.Tooltip("rank_range:N", title="Rank interval"),
        alt.Tooltip("score:Q", title="Score", format=".2f"),
        alt.Tooltip("band:N", title="Band"),
        alt.Tooltip("battles:Q", title="Battles"),
        alt.Tooltip("status:N", title="Status"),
    ]
    base = alt.Chart(_data(rows)).encode(
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
    cells = base.mark_rect().encode(color=_rank_color(max_rank))
    labels = base.mark_text(fontSize=12).encode(text=alt.Text("rank:Q"), color=_ink_color())
    return _finish(alt.layer(cells, labels), _height(len(y_order)))


# --- charts --------------------------------------------------------------------------------


def interval_chart(standings: Standings, table: Table) -> alt.LayerChart:
    """Forest plot: one row per model by rank, a rule over its band and a point at its score.

    Provisional models (too few battles) are drawn in the second category colour with a hollow
    point, so their position reads as tentative.
    """
    names = _model_names(standings)
    entries = sorted(table.entries, key=lambda e: (e.rank, _name(names, e.model)))
    rows = [_entry_row(e, names) for e in entries]
    order = [r["model"] for r in rows]
    interval = standings.parameters.interval
    tooltip = [
        alt.Tooltip("model:N", title="Model"),
        alt.Tooltip("rank:Q", title="Rank"),
        alt.Tooltip("rank_range:N", title="Rank interval"),
        alt.Tooltip("score:Q", title="Score", format=".2f"),
        alt.Tooltip("band:N", title=f"{interval:.0%} band"),
        alt.Tooltip("battles:Q", title="Battles"),
        alt.Tooltip("status:N", title="Status"),
    ]
    status = alt.Scale(domain=STATUS)
    base = alt.Chart(_data(rows)).encode(
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
        x2="upper:Q",
    )
    # Hollow for provisional: fill opacity 0 keeps the stroke in the status colour.
    points = base.mark_point(filled=True, size=70, strokeWidth=1.5).encode(
        x="score:Q",
        stroke=alt.Stroke("status:N", scale=status, legend=None),
        fillOpacity=alt.FillOpacity(
            "status:N", scale=alt.Scale(domain=STATUS, range=[1, 0]), legend=None
        ),
    )
    return _finish(alt.layer(rules, points), _height(len(rows)))


def dimension_heatmap(standings: Standings) -> alt.LayerChart:
    """Model x dimension; each cell is the model's rank in that dimension's headline table."""
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
    return _rank_heatmap(rows, [_name(names, k) for k in keys], "dimension", "Dimension", columns)


def group_rank_heatmap(standings: Standings, dimension: str, attribute: str) -> alt.LayerChart:
    """Model x value of one slice attribute; each cell is the rank within that group's table."""
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
    return _rank_heatmap(rows, [_name(names, k) for k in keys], "group", title, values)


def sample_vs_population_chart(standings: Standings, attribute: str) -> alt.Chart:
    """Grouped bars per value: the sample's share of participants beside the population's."""
    info = next((s for s in standings.slices if s.attribute == attribute), None)
    shares = [s for s in standings.samples if s.attribute == attribute and s.published]
    declared = info.values if info is not None else []
    shares.sort(
        key=lambda s: (declared.index(s.value) if s.value in declared else len(declared), s.value)
    )
    rows: list[Row] = []
    for s in shares:
        measures = [("Sample", _num(s.sample_share)), ("Population", _num(s.population_share))]
        for measure, share in measures:
            if share is None:
                continue  # no census figure for this value: draw only the bar we have
            rows.append(
                {
                    "value": s.value,
                    "measure": measure,
                    "share": share,
                    "participants": s.participants,
                    "battles": s.battles,
                }
            )
    values = [s.value for s in shares]
    measure = alt.Scale(domain=["Sample", "Population"])
    title = info.label if info is not None and info.label else attribute
    chart = (
        alt.Chart(_data(rows))
        .mark_bar()
        .encode(
            x=alt.X("value:N", sort=values, title=title, axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("measure:N", sort=["Sample", "Population"]),
            y=alt.Y("share:Q", title="Share", axis=alt.Axis(format="%")),
            color=alt.Color(
                "measure:N", scale=measure, legend=alt.Legend(title=None, orient="bottom")
            ),
            tooltip=[
                alt.Tooltip("value:N", title=title),
                alt.Tooltip("measure:N", title="Of"),
                alt.Tooltip("share:Q", title="Share", format=".1%"),
                alt.Tooltip("participants:Q", title="Participants in sample"),
                alt.Tooltip("battles:Q", title="Battles in sample"),
            ],
        )
    )
    return _finish(chart, 240)


def _resolve_model(standings: Standings, model: str) -> str:
    """Accept a model key or, failing that, a display name."""
    if any(m.key == model for m in standings.models):
        return model
    return next((m.key for m in standings.models if m.name == model), model)


def history_chart(standings: Standings, model: str) -> alt.LayerChart:
    """mu after each recorded step for one model, a line per dimension over its mu ± z·sigma band.

    `model` is a key (a display name is accepted too).
    """
    key = _resolve_model(standings, model)
    labels = _dimension_labels(standings)
    z = standings.parameters.z
    rank = {d.key: i for i, d in enumerate(standings.dimensions)}
    histories = sorted(
        standings.history, key=lambda h: (rank.get(h.dimension, len(rank)), h.dimension)
    )
    rows: list[Row] = []
    domain: list[str] = []
    for h in histories:
        label = _name(labels, h.dimension)
        # The colour domain lists every dimension with a history, whether or not this model has
        # points in it, so a dimension keeps its colour from one model page to the next.
        domain.append(label)
        mus, sigmas = h.mu.get(key, []), h.sigma.get(key, [])
        for step, mu, sigma in zip(h.steps, mus, sigmas, strict=False):
            mu, sigma = _num(mu), _num(sigma)
            if mu is None or sigma is None:
                continue
            rows.append(
                {
                    "dimension": label,
                    "step": step,
                    "mu": mu,
                    "sigma": sigma,
                    "lower": mu - z * sigma,
                    "upper": mu + z * sigma,
                }
            )
    tooltip = [
        alt.Tooltip("dimension:N", title="Dimension"),
        alt.Tooltip("step:Q", title="Battles so far"),
        alt.Tooltip("mu:Q", title="mu", format=".2f"),
        alt.Tooltip("sigma:Q", title="sigma", format=".2f"),
        alt.Tooltip("lower:Q", title="Band from", format=".2f"),
        alt.Tooltip("upper:Q", title="Band to", format=".2f"),
    ]
    color = alt.Color(
        "dimension:N",
        scale=alt.Scale(domain=domain),
        # Drawn as line strokes at full opacity: the faint band would otherwise set the swatch.
        # Three to a row: in one row a phone showed four of six dimensions and cut the rest.
        legend=alt.Legend(
            title=None,
            orient="bottom",
            columns=3,
            symbolType="stroke",
            symbolOpacity=1,
            symbolStrokeWidth=2,
        ),
    )
    # Steps are whole battles. Vega ignored `tickMinStep` here (a short history got ticks at
    # halves, printed "1 2 2 3 3"), so a short history gets its steps as explicit tick values.
    steps = sorted({r["step"] for r in rows})
    if steps and steps[-1] - steps[0] <= 10:
        step_axis = alt.Axis(format="d", values=list(range(steps[0], steps[-1] + 1)))
    else:
        # Labels every 1,000 battles ran together at 1400 px: fewer ticks, and any that would
        # still touch are dropped.
        step_axis = alt.Axis(format=",d", tickCount=8, labelOverlap=True)
    base = alt.Chart(_data(rows)).encode(
        x=alt.X(
            "step:Q",
            title="Battles in the dimension (timestamp order)",
            axis=step_axis,
        ),
        color=color,
        tooltip=tooltip,
    )
    band = base.mark_area(opacity=0.18).encode(
        y=alt.Y("lower:Q", scale=alt.Scale(zero=False), title="Skill (mu)"), y2="upper:Q"
    )
    line = base.mark_line(strokeWidth=2).encode(y="mu:Q")
    return _finish(alt.layer(band, line), 280)


def likert_chart(standings: Standings, dimension: str) -> alt.LayerChart:
    """Mean Likert score with its confidence interval per model (pooled over all raters)."""
    names = _model_names(standings)
    info = next((d for d in standings.dimensions if d.key == dimension), None)
    likert = [
        r for r in standings.likert if r.dimension == dimension and r.slice_attribute == POOLED
    ]
    rows: list[Row] = []
    for r in likert:
        mean = _num(r.mean)
        rows.append(
            {
                "model": _name(names, r.model),
                "n": r.n,
                "mean": mean,
                "sd": _num(r.sd),
                "ci_lower": _num(r.ci_lower),
                "ci_upper": _num(r.ci_upper),
                # Text, so the tooltip says "n/a" rather than showing two blanks.
                "ci_text": _band(_num(r.ci_lower), _num(r.ci_upper)) or "n/a",
            }
        )
    # Best mean first; models without ratings (mean missing) last, alphabetically.
    rows.sort(key=lambda r: (r["mean"] is None, -(r["mean"] or 0.0), r["model"]))
    order = [r["model"] for r in rows]
    if info is not None:
        lo, hi = info.scale_min, info.scale_max
    else:
        counts = max((len(r.counts) for r in likert), default=0)
        lo, hi = 1, max(2, counts)
    x_scale = alt.Scale(domain=[lo, hi], nice=False)
    ticks = list(range(lo, hi + 1))
    tooltip = [
        alt.Tooltip("model:N", title="Model"),
        alt.Tooltip("mean:Q", title="Mean", format=".2f"),
        alt.Tooltip("ci_text:N", title=f"{standings.parameters.interval:.0%} CI"),
        alt.Tooltip("sd:Q", title="SD", format=".2f"),
        alt.Tooltip("n:Q", title="Ratings"),
    ]
    base = alt.Chart(_data(rows)).encode(
        # An explicit domain keeps unrated models on the axis (their null mean drops their marks).
        y=alt.Y("model:N", sort=order, scale=alt.Scale(domain=order), title=None),
        tooltip=tooltip,
    )
    title = f"Mean rating ({lo}–{hi})"
    rules = base.mark_rule(strokeWidth=2, color=ACCENT).encode(
        x=alt.X("ci_lower:Q", scale=x_scale, title=title, axis=alt.Axis(values=ticks, format="d")),
        x2="ci_upper:Q",
    )
    points = base.mark_point(filled=True, size=70, color=ACCENT).encode(
        x=alt.X("mean:Q", scale=x_scale)
    )
    return _finish(alt.layer(rules, points), _height(len(rows)))


def head_to_head_chart(standings: Standings, dimension: str) -> alt.LayerChart:
    """Row model x opponent: colour is the row model's observed win share (ties count half)."""
    names = _model_names(standings)
    pairs = [p for p in standings.pairs if p.dimension == dimension]
    cells: list[Row] = []
    for p in pairs:
        sides = [
            (p.model_a, p.model_b, p.wins_a, p.wins_b, p.p_a, p.p_b),
            (p.model_b, p.model_a, p.wins_b, p.wins_a, p.p_b, p.p_a),
        ]
        for model, opponent, wins, losses, p_win, p_loss in sides:
            share = (wins + p.ties / 2) / p.battles if p.battles else None
            cells.append(
                {
                    "model": _name(names, model),
                    "opponent": _name(names, opponent),
                    "battles": p.battles,
                    "wins": wins,
                    "losses": losses,
                    "ties": p.ties,
                    "share": share,
                    "label": f"{share:.0%}" if share is not None else "",
                    "p_win": _num(p_win),
                    "p_loss": _num(p_loss),
                    "p_tie": _num(p.p_tie),
                    "ink": _ink(share),
                }
            )
    present = {p.model_a for p in pairs} | {p.model_b for p in pairs}
    order = [_name(names, k) for k in _ordered(present, _model_order(standings, dimension))]
    cells.sort(key=lambda c: (order.index(c["model"]), order.index(c["opponent"])))
    tooltip = [
        alt.Tooltip("model:N", title="Model"),
        alt.Tooltip("opponent:N", title="Opponent"),
        alt.Tooltip("battles:Q", title="Battles"),
        alt.Tooltip("wins:Q", title="Wins"),
        alt.Tooltip("losses:Q", title="Losses"),
        alt.Tooltip("ties:Q", title="Ties"),
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


def battles_vs_rank_chart(standings: Standings, table: Table) -> alt.Chart:
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
                alt.Tooltip("battles:Q", title="Battles"),
            ],
        )
    )
    return _finish(chart, 260)


def pair_coverage_chart(standings: Standings, dimension: str) -> alt.LayerChart:
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
            alt.Tooltip("battles:Q", title="Battles"),
        ],
    )
    rect = base.mark_rect().encode(
        color=alt.Color("battles:Q", scale=alt.Scale(scheme=SHARE_SCHEME), title="Battles")
    )
    return _finish(alt.layer(rect), _height(len(order)) + 60)


def bump_chart(
    standings: Standings,
    benchmark: str,
    dimension: str,
    scores_of_benchmark: list[BenchmarkScore] | None = None,
) -> alt.LayerChart:
    """Each model's rank on a static benchmark joined to its rank by people (headline).

    `scores_of_benchmark`, when the caller has grouped the scores already, saves a pass over
    every benchmark's scores per chart."""
    names = _model_names(standings)
    head = standings.headline(dimension)
    people = {e.model: e.rank for e in head.entries if e.battles} if head else {}
    if scores_of_benchmark is None:
        scores_of_benchmark = [b for b in standings.benchmarks if b.benchmark == benchmark]
    scores = sorted(
        (b for b in scores_of_benchmark if b.model in people), key=lambda b: (-b.score, b.model)
    )
    bench_rank = {b.model: i for i, b in enumerate(scores, start=1)}
    people_order = sorted(bench_rank, key=lambda m: (people[m], m))
    people_rank = {m: i for i, m in enumerate(people_order, start=1)}
    columns = [f"{benchmark} rank", "rank by people"]
    rows: list[Row] = []
    for m in sorted(bench_rank):
        for column, rank in zip(columns, (bench_rank[m], people_rank[m]), strict=True):
            rows.append(
                {
                    "model": _name(names, m),
                    "column": column,
                    "rank": rank,
                    "shift": bench_rank[m] - people_rank[m],
                }
            )
    base = alt.Chart(_data(rows)).encode(
        x=alt.X("column:N", sort=columns, title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y(
            "rank:Q",
            scale=alt.Scale(reverse=True, zero=False),
            title="Rank",
            axis=alt.Axis(format="d"),
        ),
        detail="model:N",
        tooltip=[
            alt.Tooltip("model:N", title="Model"),
            alt.Tooltip("column:N", title="Ranking"),
            alt.Tooltip("rank:Q", title="Rank"),
            alt.Tooltip("shift:Q", title="Benchmark rank − people rank"),
        ],
    )
    # Lines and points carry the model's colour; the labels keep the theme's ink, because light
    # hues that read as lines were unreadable as text on white.
    color = alt.Color("model:N", legend=None)
    lines = base.mark_line(strokeWidth=2, opacity=0.8).encode(color=color)
    points = base.mark_circle(size=70, opacity=1).encode(color=color)
    labels = (
        base.transform_filter(f"datum.column === '{columns[1]}'")
        .mark_text(align="left", dx=8)
        .encode(text="model:N")
    )
    return _finish(alt.layer(lines, points, labels), _height(len(bench_rank)) + 40)


def calibration_chart(study: dict[str, Any]) -> alt.Chart:
    """Coverage of nominal 95 % bands per calibration scenario, the headline and each group as
    points, with the target strip (study["target"]) shaded."""
    rows: list[Row] = [
        {
            "scenario": sc["label"],
            "table": "headline" if c["table"] == "headline" else "group: " + c["table"],
            "coverage": c["coverage"],
            "intervals": c["intervals"],
            "rank_coverage": c["rank_coverage"],
        }
        for sc in study["scenarios"]
        for c in sc["cells"]
    ]
    lo, hi = study["target"]
    low = min([r["coverage"] for r in rows] + [lo]) // 5 * 5
    x_scale = alt.Scale(domain=[low, 100], zero=False)
    target = alt.Chart(_data([{"lo": lo, "hi": hi}])).mark_rect(opacity=0.15, color=ACCENT)
    target = target.encode(
        x=alt.X("lo:Q", scale=x_scale),
        x2="hi:Q",
        tooltip=[alt.Tooltip("lo:Q", title="Target from"), alt.Tooltip("hi:Q", title="Target to")],
    )
    points = (
        alt.Chart(_data(rows))
        .mark_point(filled=True, size=80)
        .encode(
            x=alt.X("coverage:Q", scale=x_scale, title="Coverage of 95 % bands (%)"),
            y=alt.Y("scenario:N", sort=None, title=None, axis=alt.Axis(labelLimit=320)),
            color=alt.Color(
                "table:N",
                title=None,
                legend=alt.Legend(orient="bottom", columns=2, labelLimit=300),
            ),
            shape=alt.Shape("table:N", title=None),
            tooltip=[
                alt.Tooltip("scenario:N", title="Scenario"),
                alt.Tooltip("table:N", title="Table"),
                alt.Tooltip("coverage:Q", title="Band coverage (%)"),
                alt.Tooltip("rank_coverage:Q", title="Rank interval coverage (%)"),
                alt.Tooltip("intervals:Q", title="Intervals"),
            ],
        )
    )
    return _finish(alt.layer(target, points), 40 * len(study["scenarios"]) + 60)


def _data(rows: list[Row]) -> alt.Data | pd.DataFrame:
    """Chart data as a DataFrame: Altair walks inline dict rows object by object (about 70 ms
    for a 2,000-point history), while a DataFrame is converted in one pass. `chart_spec` puts
    the rows back inline."""
    if not rows:
        return alt.Data(values=[])
    return pd.DataFrame(rows)


def _inline_datasets(spec: dict) -> dict:
    """Replace Altair's top-level named datasets by inline values where they are used, so each
    spec is self-contained and its data sits next to the marks that use it."""
    datasets = spec.pop("datasets", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"name"} and node["name"] in datasets:
                return {"values": datasets[node["name"]]}
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(spec)


def chart_spec(chart: alt.TopLevelMixin) -> dict:
    """The Vega-Lite JSON the site embeds, with "$schema" and "config" kept.

    Schema validation is skipped here: it cost most of the page stage (about 0.1 s a chart), and
    every chart builder is validated by rendering it with vl-convert in tests/test_charts.py.
    """
    # Big boards (100 models -> a 9,900-cell head-to-head) pass Altair's 5,000-row guard, which
    # exists for notebooks; lifted only for this call, not for the process.
    with alt.data_transformers.enable("default", max_rows=None):
        return _inline_datasets(chart.to_dict(validate=False))
