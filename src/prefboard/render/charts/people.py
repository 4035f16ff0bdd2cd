"""Who took part and what they said: sample against population, rating history, Likert means."""

from __future__ import annotations

import functools
import json

import altair as alt

from prefboard.render import format as fmt
from prefboard.render.charts.base import (
    ACCENT,
    Row,
    Spec,
    _band,
    _csv_data,
    _data,
    _dimension_labels,
    _finish,
    _height,
    _model_names,
    _name,
    _num,
    chart_spec,
    csv_values,
)
from prefboard.standings.model import POOLED, Standings


def sample_vs_population_chart(standings: Standings, attribute: str) -> alt.TopLevelMixin:
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
    measure_scale = alt.Scale(domain=["Sample", "Population"])
    title = info.label if info is not None and info.label else attribute
    chart = (
        alt.Chart(_data(rows))
        .mark_bar()
        .encode(
            x=alt.X("value:N", sort=values, title=title, axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("measure:N", sort=["Sample", "Population"]),
            y=alt.Y("share:Q", title="Share", axis=alt.Axis(format="%")),
            color=alt.Color(
                "measure:N", scale=measure_scale, legend=alt.Legend(title=None, orient="bottom")
            ),
            tooltip=[
                alt.Tooltip("value:N", title=title),
                alt.Tooltip("measure:N", title="Of"),
                alt.Tooltip("share:Q", title="Share", format=".1%"),
                alt.Tooltip("participants:Q", title="Participants in sample", format=",d"),
                alt.Tooltip("battles:Q", title="Battles in sample", format=",d"),
            ],
        )
    )
    return _finish(chart, 240)


def _resolve_model(standings: Standings, model: str) -> str:
    """Accept a model key or, failing that, a display name."""
    if any(m.key == model for m in standings.models):
        return model
    return next((m.key for m in standings.models if m.name == model), model)


def _history_rows(standings: Standings, key: str) -> tuple[list[Row], list[str]]:
    """One row per recorded step of `key` in each dimension, and the colour domain."""
    labels = _dimension_labels(standings)
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
        for step, raw_mu, raw_sigma in zip(h.steps, mus, sigmas, strict=False):
            mu, sigma = _num(raw_mu), _num(raw_sigma)
            if mu is None or sigma is None:
                continue
            rows.append({"dimension": label, "step": step, "mu": mu, "sigma": sigma})
    return rows, domain


HISTORY_NUMBERS = ("step", "mu", "sigma")


def history_chart(standings: Standings, model: str) -> alt.TopLevelMixin:
    """mu after each recorded step for one model, a line per dimension over its mu ± z·sigma band.

    `model` is a key (a display name is accepted too).
    """
    rows, domain = _history_rows(standings, _resolve_model(standings, model))
    data = _csv_data(rows, HISTORY_NUMBERS)
    return _history_layers(data, tuple(domain), _step_ticks(rows), standings.parameters.z)


def history_spec(standings: Standings, model: str) -> Spec:
    """`chart_spec(history_chart(standings, model))`, with Altair's work done once per board:
    building the layers (copies and checks of every part) cost about 0.1 s a chart, 30 s for
    the model pages of a 300-model board, and only the data differs from model to model."""
    rows, domain = _history_rows(standings, _resolve_model(standings, model))
    skeleton = _history_skeleton(tuple(domain), _step_ticks(rows), standings.parameters.z)
    spec: Spec = json.loads(skeleton)
    spec["data"] = csv_values(rows, HISTORY_NUMBERS)
    return spec


@functools.lru_cache(maxsize=8)
def _history_skeleton(domain: tuple[str, ...], ticks: tuple[int, ...] | None, z: float) -> str:
    empty = alt.Data(values=[])  # type: ignore[no-untyped-call]
    return json.dumps(chart_spec(_history_layers(empty, domain, ticks, z)))


def _step_ticks(rows: list[Row]) -> tuple[int, ...] | None:
    """Explicit ticks for a short history, None for Vega's own. Steps are whole battles: Vega
    ignored `tickMinStep` here (a short history got ticks at halves, printed "1 2 2 3 3")."""
    steps = sorted({r["step"] for r in rows})
    if steps and steps[-1] - steps[0] <= 10:
        return tuple(range(steps[0], steps[-1] + 1))
    return None


def _history_layers(
    data: alt.Data, domain: tuple[str, ...], ticks: tuple[int, ...] | None, z: float
) -> alt.TopLevelMixin:
    tooltip = [
        alt.Tooltip("dimension:N", title="Dimension"),
        alt.Tooltip("step:Q", title="Battles so far", format=",d"),
        alt.Tooltip("mu:Q", title="mu", format=".2f"),
        alt.Tooltip("sigma:Q", title="sigma", format=".2f"),
        alt.Tooltip("lower:Q", title="Band from", format=".2f"),
        alt.Tooltip("upper:Q", title="Band to", format=".2f"),
    ]
    color = alt.Color(
        "dimension:N",
        scale=alt.Scale(domain=list(domain)),
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
    if ticks is not None:
        step_axis = alt.Axis(format="d", values=list(ticks))
    else:
        # Labels every 1,000 battles ran together at 1400 px: fewer ticks, and any that would
        # still touch are dropped.
        step_axis = alt.Axis(format=",d", tickCount=8, labelOverlap=True)
    base = alt.Chart(data).encode(
        x=alt.X(
            "step:Q",
            title="Battles in the dimension (timestamp order)",
            axis=step_axis,
        ),
        color=color,
        tooltip=tooltip,
    )
    band = base.mark_area(opacity=0.18).encode(
        y=alt.Y("lower:Q", scale=alt.Scale(zero=False), title="Skill (mu)"), y2=alt.Y2("upper:Q")
    )
    line = base.mark_line(strokeWidth=2).encode(y=alt.Y("mu:Q"))
    # The band is computed in the browser (mu ± z·sigma, the same double arithmetic): two
    # fewer columns on every point of a chart each model page carries.
    return _finish(
        alt.layer(band, line).transform_calculate(
            lower=f"datum.mu - {z!r} * datum.sigma", upper=f"datum.mu + {z!r} * datum.sigma"
        ),
        280,
    )


def likert_chart(standings: Standings, dimension: str) -> alt.TopLevelMixin:
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
                # Text, so the tooltip shows "—" rather than two blanks.
                "ci_text": _band(_num(r.ci_lower), _num(r.ci_upper)),
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
        alt.Tooltip("ci_text:N", title=f"{fmt.percent(standings.parameters.interval, 0)} CI"),
        alt.Tooltip("sd:Q", title="SD", format=".2f"),
        alt.Tooltip("n:Q", title="Ratings", format=",d"),
    ]
    base = alt.Chart().encode(
        # An explicit domain keeps unrated models on the axis (their null mean drops their marks).
        y=alt.Y("model:N", sort=order, scale=alt.Scale(domain=order), title=None),
        tooltip=tooltip,
    )
    title = f"Mean rating ({lo}–{hi})"
    rules = base.mark_rule(strokeWidth=2, color=ACCENT).encode(
        x=alt.X("ci_lower:Q", scale=x_scale, title=title, axis=alt.Axis(values=ticks, format="d")),
        x2=alt.X2("ci_upper:Q"),
    )
    points = base.mark_point(filled=True, size=70, color=ACCENT).encode(
        x=alt.X("mean:Q", scale=x_scale)
    )
    return _finish(alt.layer(rules, points, data=_data(rows)), _height(len(rows)))
