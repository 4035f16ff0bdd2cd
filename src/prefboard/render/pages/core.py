"""Standings -> Markdown pages (Jinja2 templates shipped in the package).

Pages read only the `Standings` object. Every value is escaped twice over: Jinja autoescape turns
HTML into text, and the `md` filter backslash-escapes Markdown syntax, so a contributor-supplied
name can neither become markup nor a link. Tables are HTML blocks, which Markdown leaves alone.
Both go through `prefboard.render.escape`, which also makes control and bidi characters visible.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jinja2
from markupsafe import Markup, escape

from prefboard.render import charts
from prefboard.render.escape import markdown_inline, printable
from prefboard.standings.model import POOLED, POSTSTRATIFIED, Entry, Standings, Table

NEXT_BATTLES_SHOWN = 10
NEXT_GROUPS_SHOWN = 12


@dataclass(frozen=True)
class Page:
    path: str  # relative to the docs folder, e.g. "models/aurora-7b.md"
    title: str
    text: str


def md(value: object) -> Markup:
    """HTML-escape, then neutralise Markdown syntax, for text inside Markdown paragraphs."""
    return Markup(markdown_inline(value))


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("prefboard", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = md
    env.finalize = _no_template_syntax
    return env


def _no_template_syntax(value: object) -> object:
    """Every interpolated plain value is escaped here, braces included, so "{{ x }}" in a name
    stays inert even under a templating MkDocs plugin; Markup (already safe) passes through."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return Markup(str(escape(printable(value))).replace("{", "&#123;").replace("}", "&#125;"))


def href(from_page: str, to_page: str) -> str:
    """Relative link between two pages' built .html files (use_directory_urls is off)."""
    target = to_page.removesuffix(".md") + ".html"
    return posixpath.relpath(target, posixpath.dirname(from_page) or ".")


def chart_block(chart_id: str, chart: Any) -> dict[str, Any]:
    """A chart as an inline JSON spec; `<`, `>` and `&` are \\u-escaped so nothing in the data
    can close the script element."""
    text = json.dumps(charts.chart_spec(chart), sort_keys=True, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    # "{{", "{%" and "{#" never occur in JSON's own structure, only inside strings, where a
    # \u escape keeps a name like "{{ x }}" inert for any templating MkDocs plugin.
    for opener, escaped in (("{{", "{\\u007b"), ("{%", "{\\u0025"), ("{#", "{\\u0023")):
        text = text.replace(opener, escaped)
    return {"id": chart_id, "json": Markup(text)}


def _pct(p: float | None) -> str:
    if p is None:
        return "–"
    return "<0.1%" if 0 < p < 0.001 else f"{p:.1%}"


def _num(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


class _Builder:
    def __init__(self, standings: Standings) -> None:
        self.s = standings
        self.env = environment()
        self.names = {m.key: m.name for m in standings.models}
        self.orgs = {m.key: m.organization for m in standings.models}
        self.battle_dims = [d for d in standings.dimensions if d.battles]
        self.main_dim = self.battle_dims[0] if self.battle_dims else None
        p = standings.parameters
        passes = 1 + p.permutations
        counts = standings.provenance.totals
        self.site = {
            "title": standings.title,
            "description": standings.description,
            "synthetic": standings.synthetic,
            "version": standings.version,
            "data_through": standings.provenance.data_through or "–",
            "passes": passes,
            "z_text": f"{p.z:.2f}",
            "interval_pct": f"{p.interval:.0%}",
            "min_participants": p.min_participants,
            "battles": counts.get("battles", {}).get("accepted", 0),
            "participants": counts.get("participants", {}).get("accepted", 0),
        }

    def render(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(site=self.site, **context)

    def rows(self, page: str, entries: Iterable[Entry]) -> list[dict[str, Any]]:
        return [
            {
                "rank": e.rank,
                "rank_lower": e.rank_lower,
                "rank_range": f"{e.rank_lower}–{e.rank_upper}",
                "name": self.names[e.model],
                "href": href(page, f"models/{e.model}.md"),
                "organization": self.orgs[e.model],
                "score_sort": f"{e.score:.4f}",
                "score": f"{e.score:.2f}",
                "lower": f"{e.lower:.4f}",
                "band": f"{e.lower:.2f} – {e.upper:.2f}",
                "conservative": f"{e.conservative:.4f}",
                "conservative_text": f"{e.conservative:.2f}",
                "battles": e.battles,
                "provisional": e.provisional,
                "p_best": e.p_best,
                "p_best_text": _pct(e.p_best),
                "p_top": e.p_top,
                "p_top_text": _pct(e.p_top),
                "p_above_sort": -1.0 if e.p_above_next is None else e.p_above_next,
                "p_above_text": _pct(e.p_above_next),
            }
            for e in entries
        ]

    def ranking(self, page: str, table: Table, chart_id: str) -> dict[str, Any]:
        # slice labels, not config keys ("Age group", not "age_group")
        labels = {sl.attribute: sl.label for sl in self.s.slices}
        strata = [labels.get(a, a) for a in table.slice_value.split("+")]
        if table.slice_attribute == POSTSTRATIFIED and table.weights and table.pooled:
            caption = (
                f"Post-stratified over the cells of {' × '.join(strata)}: "
                f"{table.battles:,} battles; each cell's pooled estimate weighted by its share "
                "of the population, the same weights for every model."
            )
        elif table.slice_attribute == POSTSTRATIFIED and table.weights:
            caption = (
                f"Post-stratified to population shares of {', '.join(strata)}"
                f": {table.battles:,} battles, each group weighted by its share of the population."
            )
        elif table.slice_attribute == POSTSTRATIFIED:
            caption = "Pooled over every accepted battle (no population shares configured)."
        else:
            caption = self.group_caption(table)
        return {
            "rows": self.rows(page, table.entries),
            "chart": chart_block(chart_id, charts.interval_chart(self.s, table)),
            "caption": caption,
            "notes": table.notes,
        }

    def group_caption(self, t: Table) -> str:
        caption = f"{t.battles} battles from {t.participants} participants."
        tau = next(
            (
                x.tau
                for x in self.s.pooling
                if (x.dimension, x.grouping) == (t.dimension, t.slice_attribute)
            ),
            None,
        )
        if t.pooled and tau is not None:
            caption += (
                f" Partially pooled with the other groups (tau = {tau:.2f}): the estimates "
                "shrink toward the population by as much as the data justify."
            )
        return caption

    def dim_links(self, page: str) -> list[dict[str, str]]:
        # Markdown links name the .md source: MkDocs checks them and rewrites them to .html.
        return [
            {
                "label": d.label,
                "href": posixpath.relpath(f"dimensions/{d.key}.md", posixpath.dirname(page) or "."),
            }
            for d in self.battle_dims
        ]

    # pages -----------------------------------------------------------------------------------

    def home(self) -> Page:
        d = self.main_dim
        assert d is not None
        table = self.s.headline(d.key)
        assert table is not None
        text = self.render(
            "index.md.j2",
            dim={"label": d.label},
            headline=self.ranking("index.md", table, "home-interval"),
            dims=self.dim_links("index.md"),
        )
        return Page("index.md", "Leaderboard", text)

    def dimensions(self) -> list[Page]:
        rows = []
        for d in self.battle_dims:
            t = self.s.headline(d.key)
            leader = t.entries[0] if t and t.entries else None
            rows.append(
                [
                    {"text": d.label, "href": f"{d.key}.html", "sort": d.label},
                    d.description,
                    self.names[leader.model] if leader else "–",
                    t.battles if t else 0,
                ]
            )
        pages = [
            Page(
                "dimensions/index.md",
                "Dimensions",
                self.render(
                    "dimensions_index.md.j2",
                    heatmap=chart_block("dimension-heatmap", charts.dimension_heatmap(self.s)),
                    rows=rows,
                ),
            )
        ]
        for d in self.battle_dims:
            path = f"dimensions/{d.key}.md"
            headline, pooled = self.s.headline(d.key), self.s.table(d.key)
            assert headline is not None and pooled is not None
            pages.append(
                Page(
                    path,
                    d.label,
                    self.render(
                        "dimension.md.j2",
                        dim=d,
                        headline=self.ranking(path, headline, f"interval-{d.key}"),
                        pooled={"rows": self.rows(path, pooled.entries)},
                        h2h=chart_block(f"h2h-{d.key}", charts.head_to_head_chart(self.s, d.key)),
                    ),
                )
            )
        return pages

    def groups(self) -> list[Page]:
        stratified = set(self.s.parameters.stratify_by)
        rows = [
            [
                {"text": sl.label, "href": f"{sl.attribute}.html", "sort": sl.label},
                ", ".join(sl.published) or "–",
                ", ".join(v for v in sl.values if v not in sl.published) or "–",
                "yes" if sl.attribute in stratified else "no",
            ]
            for sl in self.s.slices
        ]
        pages = [Page("groups/index.md", "Groups", self.render("groups_index.md.j2", rows=rows))]
        for sl in self.s.slices:
            pages.append(self.group(sl.attribute))
        return pages

    def group(self, attribute: str) -> Page:
        sl = next(x for x in self.s.slices if x.attribute == attribute)
        path = f"groups/{attribute}.md"
        samples = [x for x in self.s.samples if x.attribute == attribute and x.published]
        share_rows = [
            [
                x.value,
                x.participants,
                x.battles,
                f"{x.sample_share:.1%}",
                "–" if x.population_share is None else f"{x.population_share:.1%}",
            ]
            for x in samples
        ]
        heatmaps = [
            {
                "label": d.label,
                "chart": chart_block(
                    f"group-{attribute}-{d.key}",
                    charts.group_rank_heatmap(self.s, d.key, attribute),
                ),
            }
            for d in self.battle_dims
        ]
        groups = []
        if self.main_dim:
            for value in sl.published:
                t = self.s.table(self.main_dim.key, attribute, value)
                if t is None:
                    continue
                groups.append(
                    {
                        "value": value,
                        "caption": self.group_caption(t),
                        "rows": self.rows(path, t.entries),
                    }
                )
        text = self.render(
            "group.md.j2",
            attr={"label": sl.label},
            shares=chart_block(
                f"shares-{attribute}", charts.sample_vs_population_chart(self.s, attribute)
            ),
            share_rows=share_rows,
            suppressed=[v for v in sl.values if v not in sl.published],
            heatmaps=heatmaps,
            dim={"label": self.main_dim.label if self.main_dim else ""},
            groups=groups,
        )
        return Page(path, sl.label, text)

    def models(self) -> list[Page]:
        main = self.s.headline(self.main_dim.key) if self.main_dim else None
        rank = {e.model: e for e in main.entries} if main else {}
        rows = [
            [
                {"text": m.name, "href": f"{m.key}.html", "sort": m.name},
                m.organization,
                m.license,
                m.release_date,
                {"text": str(rank[m.key].rank), "sort": rank[m.key].rank} if m.key in rank else "–",
                rank[m.key].battles if m.key in rank else 0,
            ]
            for m in self.s.models
        ]
        pages = [Page("models/index.md", "Models", self.render("models_index.md.j2", rows=rows))]
        pages += [self.model(m.key) for m in self.s.models]
        return pages

    def model(self, key: str) -> Page:
        info = next(m for m in self.s.models if m.key == key)
        path = f"models/{key}.md"
        link = {"text": "model card", "href": info.url, "sort": ""} if _safe_url(info.url) else "–"
        by_dimension = []
        for d in self.battle_dims:
            t = self.s.headline(d.key)
            e = _entry(t, key)
            if e is None:
                continue
            by_dimension.append(
                [
                    {
                        "text": d.label,
                        "href": href(path, f"dimensions/{d.key}.md"),
                        "sort": d.label,
                    },
                    e.rank,
                    f"{e.rank_lower}–{e.rank_upper}",
                    f"{e.score:.2f}",
                    f"{e.lower:.2f} – {e.upper:.2f}",
                    e.battles,
                    e.wins,
                    e.losses,
                    e.ties,
                ]
            )
        by_group = []
        dim = self.main_dim
        if dim:
            for sl in self.s.slices:
                for value in sl.published:
                    e = _entry(self.s.table(dim.key, sl.attribute, value), key)
                    if e is None:
                        continue
                    by_group.append(
                        [
                            sl.label,
                            value,
                            e.rank,
                            f"{e.score:.2f}",
                            f"{e.lower:.2f} – {e.upper:.2f}",
                            e.battles,
                        ]
                    )
        h2h = []
        if dim:
            for p in self.s.pairs:
                if p.dimension != dim.key or key not in (p.model_a, p.model_b):
                    continue
                me_a = p.model_a == key
                other = p.model_b if me_a else p.model_a
                wins, losses = (p.wins_a, p.wins_b) if me_a else (p.wins_b, p.wins_a)
                share = (wins + p.ties / 2) / p.battles if p.battles else None
                h2h.append(
                    [
                        {"text": self.names[other], "href": f"{other}.html", "sort": other},
                        p.battles,
                        wins,
                        losses,
                        p.ties,
                        "–" if share is None else f"{share:.0%}",
                        f"{(p.p_a if me_a else p.p_b):.0%}",
                    ]
                )
        misfits = self._misfits(key)
        likert = [
            [
                next(d.label for d in self.s.dimensions if d.key == r.dimension),
                r.n,
                _num(r.mean),
                f"{_num(r.ci_lower)} – {_num(r.ci_upper)}",
                f"{_scale(self.s, r.dimension)}",
            ]
            for r in self.s.likert
            if r.model == key and r.slice_attribute == POOLED
        ]
        text = self.render(
            "model.md.j2",
            model=info,
            info=[info.organization or "–", info.license or "–", info.release_date or "–", link],
            dim={"label": dim.label if dim else ""},
            by_dimension=by_dimension,
            by_group=by_group,
            h2h=h2h,
            misfits=misfits,
            fit_checked=bool(self.s.fit_checks),
            history=chart_block(f"history-{key}", charts.history_chart(self.s, key)),
            likert=likert,
        )
        return Page(path, info.name, text)

    def _misfits(self, key: str) -> list[list[object]]:
        """This model's pairs the fit check flagged: observed vs predicted a/b/tie counts."""
        labels = {d.key: d.label for d in self.s.dimensions}
        rows: list[list[object]] = []
        for p in self.s.pairs:
            if not p.misfit or key not in (p.model_a, p.model_b):
                continue
            me_a = p.model_a == key
            other = p.model_b if me_a else p.model_a
            wins, losses = (p.wins_a, p.wins_b) if me_a else (p.wins_b, p.wins_a)
            exp = (p.expected_a, p.expected_b) if me_a else (p.expected_b, p.expected_a)
            rows.append(
                [
                    labels.get(p.dimension, p.dimension),
                    {"text": self.names[other], "href": f"{other}.html", "sort": other},
                    f"{wins}–{losses}–{p.ties}",
                    f"{exp[0]:.1f}–{exp[1]:.1f}–{p.expected_tie:.1f}",
                    f"{p.fit_p_adjusted:.2g}",
                ]
            )
        return rows


def _entry(table: Table | None, key: str) -> Entry | None:
    if table is None:
        return None
    return next((e for e in table.entries if e.model == key), None)


def _scale(standings: Standings, dimension: str) -> str:
    d = next(x for x in standings.dimensions if x.key == dimension)
    return f"{d.scale_min}–{d.scale_max}"


def _safe_url(url: str) -> bool:
    # Only web links: a javascript: or data: URL in the config must never become a live link.
    return url.startswith(("https://", "http://"))
