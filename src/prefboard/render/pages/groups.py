"""The demographic group pages: the index of slices and one page per attribute (who took part,
rank by group, each group's ranking)."""

from __future__ import annotations

from prefboard.render import charts
from prefboard.render import format as fmt
from prefboard.render.pages.core import Page, _Builder, chart_block


def groups(pb: _Builder) -> list[Page]:
    stratified = set(pb.s.parameters.stratify_by)
    # battle-level slices (category, ...) have pages of their own: render/pages/categories.py
    people = [sl for sl in pb.s.slices if sl.level == "participant"]
    rows = [
        [
            {"text": sl.label, "href": f"{sl.attribute}.html", "sort": sl.label},
            ", ".join(sl.published) or fmt.MISSING,
            ", ".join(v for v in sl.values if v not in sl.published) or fmt.MISSING,
            "yes" if sl.attribute in stratified else "no",
        ]
        for sl in people
    ]
    pages = [Page("groups/index.md", "Groups", pb.render("groups_index.md.j2", rows=rows))]
    for sl in people:
        pages.append(group(pb, sl.attribute))
    return pages


def group(pb: _Builder, attribute: str) -> Page:
    sl = next(x for x in pb.s.slices if x.attribute == attribute)
    path = f"groups/{attribute}.md"
    samples = [x for x in pb.s.samples if x.attribute == attribute and x.published]
    share_rows = [
        [
            x.value,
            fmt.count(x.participants),
            fmt.count(x.battles),
            fmt.percent(x.sample_share),
            fmt.percent(x.population_share),
        ]
        for x in samples
    ]
    heatmaps = [
        {
            "label": d.label,
            "chart": chart_block(
                f"group-{attribute}-{d.key}",
                charts.group_rank_heatmap_spec(pb.s, d.key, attribute),
            ),
        }
        for d in pb.battle_dims
    ]
    groups = []
    if pb.main_dim:
        for value in sl.published:
            t = pb.s.table(pb.main_dim.key, attribute, value)
            if t is None:
                continue
            groups.append(
                {
                    "value": value,
                    "caption": pb.group_caption(t),
                    "rows": pb.rows(path, t.entries),
                }
            )
    text = pb.render(
        "group.md.j2",
        attr={"label": sl.label},
        shares=chart_block(
            f"shares-{attribute}", charts.sample_vs_population_chart(pb.s, attribute)
        ),
        share_rows=share_rows,
        suppressed=[v for v in sl.values if v not in sl.published],
        heatmaps=heatmaps,
        dim={"label": pb.main_dim.label if pb.main_dim else ""},
        groups=groups,
    )
    return Page(path, sl.label, text)
