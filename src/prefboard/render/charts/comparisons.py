"""Rankings set beside other evidence: static benchmarks (bump chart) and the calibration
study's coverage."""

from __future__ import annotations

from typing import Any

import altair as alt

from prefboard.render.charts.base import (
    ACCENT,
    Row,
    _data,
    _finish,
    _height,
    _model_names,
    _name,
)
from prefboard.standings.model import BenchmarkScore, Standings


def bump_chart(
    standings: Standings,
    benchmark: str,
    dimension: str,
    scores_of_benchmark: list[BenchmarkScore] | None = None,
) -> alt.TopLevelMixin:
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
        detail=alt.Detail("model:N"),
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
        .encode(text=alt.Text("model:N"))
    )
    return _finish(alt.layer(lines, points, labels), _height(len(bench_rank)) + 40)


def calibration_chart(study: dict[str, Any]) -> alt.TopLevelMixin:
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
        x2=alt.X2("hi:Q"),
        tooltip=[alt.Tooltip("lo:Q", title="Target from"), alt.Tooltip("hi:Q", title="Target to")],
    )
    points = (
        alt.Chart(_data(rows))
        .mark_point(filled=True, size=80)
        .encode(
            x=alt.X("coverage:Q", scale=x_scale, title="Coverage of 95% bands (%)"),
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
                alt.Tooltip("intervals:Q", title="Intervals", format=",d"),
            ],
        )
    )
    return _finish(alt.layer(target, points), 40 * len(study["scenarios"]) + 60)
