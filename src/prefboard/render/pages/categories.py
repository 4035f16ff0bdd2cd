"""Battle-level slices on the site: one page per battle attribute (e.g. category: battles per
value, rank by value, each value's ranking) and the category switcher above the home table.

The switcher's rows are all in the static HTML: each value's ranking sits in a hidden block, and
prefboard.js shows the one a reader picks. Values reach the page only as escaped text; the
`<select>` and the blocks are matched by generated ids (`c<slice>-<value>`), never by the
contributor's value, so a value with markup or quotes cannot become an attribute or a script.
Without JavaScript the select stays hidden and links lead to the attribute pages.
"""

from __future__ import annotations

from typing import Any

from prefboard.render import charts
from prefboard.render import format as fmt
from prefboard.render.pages.core import Page, _Builder, chart_block, href
from prefboard.standings.model import SliceInfo, Table


def battle_slices(pb: _Builder) -> list[SliceInfo]:
    return [sl for sl in pb.s.slices if sl.level == "battle"]


def page_of(sl: SliceInfo) -> str:
    return f"categories/{sl.attribute}.md"


def categories(pb: _Builder) -> list[Page]:
    return [category(pb, sl) for sl in battle_slices(pb)]


def category(pb: _Builder, sl: SliceInfo) -> Page:
    path = page_of(sl)
    samples = [x for x in pb.s.samples if x.attribute == sl.attribute and x.published]
    share_rows = [
        [x.value, fmt.count(x.battles), fmt.count(x.participants), fmt.percent(x.sample_share)]
        for x in samples
    ]
    heatmaps = [
        {
            "label": d.label,
            "chart": chart_block(
                f"category-{sl.attribute}-{d.key}",
                charts.group_rank_heatmap_spec(pb.s, d.key, sl.attribute),
            ),
        }
        for d in pb.battle_dims
    ]
    text = pb.render(
        "category.md.j2",
        attr={"label": sl.label or sl.attribute, "column": sl.attribute},
        share_rows=share_rows,
        blank=fmt.counted(sl.blank_battles, "battle") if sl.blank_battles else "",
        suppressed=[v for v in sl.values if v not in sl.published],
        heatmaps=heatmaps,
        dim={"label": pb.main_dim.label if pb.main_dim else ""},
        rankings=_rankings(pb, sl, path),
    )
    return Page(path, sl.label or sl.attribute, text)


def _rankings(pb: _Builder, sl: SliceInfo, page: str) -> list[dict[str, Any]]:
    """Each published value's ranking on the main dimension."""
    out: list[dict[str, Any]] = []
    if pb.main_dim is None:
        return out
    for value in sl.published:
        t = pb.s.table(pb.main_dim.key, sl.attribute, value)
        if t is not None:
            out.append(
                {"value": value, "caption": _caption(pb, t), "rows": pb.rows(page, t.entries)}
            )
    return out


def _caption(pb: _Builder, t: Table) -> str:
    return pb.group_caption(t, "the other values", "the overall ranking")


def category_switch(pb: _Builder, page: str) -> dict[str, Any] | None:
    """The home table's switcher: per battle slice, a link to its page and one option (with its
    pre-rendered ranking of the main dimension) per published value; None when there is none."""
    if pb.main_dim is None:
        return None
    attributes = []
    for i, sl in enumerate(battle_slices(pb)):
        options = []
        for j, value in enumerate(sl.values):
            t = pb.s.table(pb.main_dim.key, sl.attribute, value)
            if value not in sl.published or t is None:
                continue
            options.append(
                {
                    "id": f"c{i}-{j}",
                    "label": value,
                    "caption": f"{sl.label or sl.attribute}: {value}. {_caption(pb, t)}",
                    "rows": pb.rows(page, t.entries),
                }
            )
        attributes.append(
            {"label": sl.label or sl.attribute, "href": href(page, page_of(sl)), "options": options}
        )
    if not any(a["options"] for a in attributes):
        return None
    return {"dim": pb.main_dim.label, "attributes": attributes}
