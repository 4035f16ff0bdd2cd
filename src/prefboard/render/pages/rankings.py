"""The ranking pages: the home page (headline of the main dimension) and one page per dimension
with its headline, pooled ranking and head-to-head grid."""

from __future__ import annotations

from typing import Any

from prefboard.render import charts
from prefboard.render import format as fmt
from prefboard.render.pages.categories import category_switch
from prefboard.render.pages.core import Page, _Builder, chart_block, grid


def home(pb: _Builder) -> Page:
    d = pb.main_dim
    assert d is not None
    table = pb.s.headline(d.key)
    assert table is not None
    text = pb.render(
        "index.md.j2",
        dim={"label": d.label},
        headline=pb.ranking("index.md", table, "home-interval"),
        tabs=_dimension_tabs(pb),
        categories=category_switch(pb, "index.md"),
        counts=_battle_counts(pb, table.battles, d.label),
        dims=pb.dim_links("index.md"),
    )
    return Page("index.md", "Leaderboard", text)


def _dimension_tabs(pb: _Builder) -> list[dict[str, Any]]:
    """One tab per battle dimension on the home table: its headline caption and rows."""
    tabs = []
    for d in pb.battle_dims:
        table = pb.s.headline(d.key)
        if table is None:
            continue
        rows = pb.rows("index.md", table.entries)
        tabs.append({"label": d.label, "caption": pb.caption(table), "rows": rows})
    return tabs


def _battle_counts(pb: _Builder, shown: int, label: str) -> str:
    """Why the headline counts fewer battles than were accepted: a battle may leave a
    dimension's verdict blank, and only the battles with a verdict count in its ranking."""
    accepted = pb.s.provenance.totals.get("battles", {}).get("accepted", 0)
    if shown == accepted:
        return ""
    return (
        f"{fmt.counted(accepted, 'battle')} were accepted; each dimension's ranking counts the "
        f"ones with a verdict on it ({label}: {fmt.count(shown)}), because a battle may leave "
        "a dimension blank."
    )


def dimensions(pb: _Builder) -> list[Page]:
    rows = []
    for d in pb.battle_dims:
        t = pb.s.headline(d.key)
        leader = t.entries[0] if t and t.entries else None
        rows.append(
            [
                {"text": d.label, "href": f"{d.key}.html", "sort": d.label},
                d.description,
                pb.names[leader.model] if leader else fmt.MISSING,
                fmt.count(t.battles if t else 0),
            ]
        )
    pages = [
        Page(
            "dimensions/index.md",
            "Dimensions",
            pb.render(
                "dimensions_index.md.j2",
                heatmap=chart_block("dimension-heatmap", charts.dimension_heatmap_spec(pb.s)),
                rows=rows,
            ),
        )
    ]
    for d in pb.battle_dims:
        path = f"dimensions/{d.key}.md"
        headline, pooled = pb.s.headline(d.key), pb.s.table(d.key)
        assert headline is not None and pooled is not None
        pages.append(
            Page(
                path,
                d.label,
                pb.render(
                    "dimension.md.j2",
                    dim=d,
                    headline=pb.ranking(path, headline, f"interval-{d.key}"),
                    pooled={"rows": pb.rows(path, pooled.entries)},
                    h2h=chart_block(f"h2h-{d.key}", charts.head_to_head_chart(pb.s, d.key)),
                    h2h_grid=grid(pb.s, d.key, path),
                ),
            )
        )
    return pages
