"""Standings -> Markdown pages (Jinja2 templates shipped in the package).

Pages read only the `Standings` object. Every value is escaped twice over: Jinja autoescape turns
HTML into text, and the `md` filter backslash-escapes Markdown syntax, so a contributor-supplied
name can neither become markup nor a link. Tables are HTML blocks, which Markdown leaves alone.
Both go through `prefboard.render.escape`, which also makes control and bidi characters visible.
"""

from __future__ import annotations

import functools
import json
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jinja2
from markupsafe import Markup, escape

from prefboard.render import charts
from prefboard.render import format as fmt
from prefboard.render.escape import markdown_inline, printable
from prefboard.standings.model import (
    POOLED,
    POSTSTRATIFIED,
    Entry,
    LikertRow,
    Provenance,
    Standings,
    Table,
)

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
    # The one formatter (prefboard.render.format) as filters; `count` replaces Jinja's alias of
    # `length`, which no template uses (`length` stays available).
    for name in ("number", "signed", "signed_count", "count", "band", "rank_range", "percent"):
        env.filters[name] = getattr(fmt, name)
    env.finalize = _no_template_syntax
    return env


def _no_template_syntax(value: object) -> object:
    """Every interpolated plain value is escaped here, braces included, so "{{ x }}" in a name
    stays inert even under a templating MkDocs plugin; Markup (already safe) passes through."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    # cached for plain strings only: a str subclass may carry its own __html__
    return _inert(value) if type(value) is str else _inert.__wrapped__(value)


@functools.lru_cache(maxsize=1 << 16)
def _inert(value: str) -> Markup:
    # A 300-model board's pages interpolate ~520,000 values, mostly names and numbers that
    # repeat from table to table: each distinct one is escaped once.
    return Markup(str(escape(printable(value))).replace("{", "&#123;").replace("}", "&#125;"))


def href(from_page: str, to_page: str) -> str:
    """Relative link between two pages' built .html files (use_directory_urls is off)."""
    return _relative(posixpath.dirname(from_page) or ".", to_page.removesuffix(".md") + ".html")


@functools.lru_cache(maxsize=1 << 14)
def _relative(folder: str, target: str) -> str:
    # posixpath.relpath costs ~50 µs (two abspath calls); a 300-model board's pages ask ~25,000
    # times for a few thousand distinct (folder, target) links.
    return posixpath.relpath(target, folder)


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


def data_through(provenance: Provenance) -> str:
    """The data's date for readers: "data through" the day of the latest timestamp, or a plain
    statement when the timestamps were synthesised on import (they order battles, date nothing)."""
    if provenance.synthetic_timestamps:
        return "dates not recorded"
    return f"data through {provenance.data_through[:10] or fmt.MISSING}"


def grid(standings: Standings, dimension: str, page: str) -> dict[str, Any]:
    """How many models a pair grid of `dimension` shows (the top of the ranking,
    charts.GRID_MODELS) out of how many, and the link to the file holding every pair."""
    table = standings.headline(dimension)
    return {
        "shown": len(charts.grid_models(standings, dimension)),
        "total": len(table.entries) if table else 0,
        "standings": posixpath.relpath("downloads/standings.json", posixpath.dirname(page) or "."),
    }


def no_data(what: str) -> str:
    """The sentence an empty table is replaced by: what would fill it."""
    return f"No data yet: {what}"


class _Builder:
    def __init__(self, standings: Standings) -> None:
        self.s = standings
        self.env = environment()
        self.names = {m.key: m.name for m in standings.models}
        self.orgs = {m.key: m.organization for m in standings.models}
        self.licenses = {m.key: m.license or fmt.MISSING for m in standings.models}
        self.statuses = {m.key: m.status for m in standings.models}
        self.slice_labels = {sl.attribute: sl.label or sl.attribute for sl in standings.slices}
        self.dim_labels = {d.key: d.label for d in standings.dimensions}
        self.battle_dims = [d for d in standings.dimensions if d.battles]
        self.main_dim = self.battle_dims[0] if self.battle_dims else None
        # entries by model per table (by identity: the tables live as long as the standings)
        self._entries: dict[int, dict[str, Entry]] = {}
        p = standings.parameters
        passes = 1 + p.permutations
        counts = standings.provenance.totals
        self.site = {
            "title": standings.title,
            "description": standings.description,
            "synthetic": standings.synthetic,
            "version": standings.version,
            "data_through": data_through(standings.provenance),
            "passes": passes,
            "z_text": fmt.number(p.z),
            "interval_pct": fmt.percent(p.interval, 0),
            "min_participants": p.min_participants,
            "battles": counts.get("battles", {}).get("accepted", 0),
            "participants": counts.get("participants", {}).get("accepted", 0),
        }

    def entry(self, table: Table | None, key: str) -> Entry | None:
        """`key`'s entry in `table` (the first, as a scan finds it): each model page looks
        itself up in every headline and group table, 300 x 26 scans of 300 entries."""
        if table is None:
            return None
        index = self._entries.get(id(table))
        if index is None:
            index = self._entries[id(table)] = {}
            for e in table.entries:
                index.setdefault(e.model, e)
        return index.get(key)

    @functools.cached_property
    def pooled_likert(self) -> dict[str, list[LikertRow]]:
        """Each model's pooled Likert rows, in standings order (one pass for all model pages)."""
        out: dict[str, list[LikertRow]] = {}
        for r in self.s.likert:
            if r.slice_attribute == POOLED:
                out.setdefault(r.model, []).append(r)
        return out

    def render(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(site=self.site, **context)

    def rows(self, page: str, entries: Iterable[Entry]) -> list[dict[str, Any]]:
        return [
            {
                "rank": e.rank,
                "rank_lower": e.rank_lower,
                "rank_range": fmt.rank_range(e.rank_lower, e.rank_upper),
                "name": self.names[e.model],
                "href": href(page, f"models/{e.model}.md"),
                "organization": self.orgs[e.model],
                "license": self.licenses[e.model],
                # private and retired rows are hidden until the reader asks (prefboard.js)
                "status": self.statuses[e.model],
                "disclosure_href": href(page, "disclosure.md"),
                "score_sort": f"{e.score:.4f}",
                "score": fmt.number(e.score),
                "lower": f"{e.lower:.4f}",
                "band": fmt.band(e.lower, e.upper),
                "conservative": f"{e.conservative:.4f}",
                "conservative_text": fmt.number(e.conservative),
                "battles": e.battles,
                "battles_text": fmt.count(e.battles),
                "provisional": e.provisional,
                "p_best": e.p_best,
                "p_best_text": fmt.percent(e.p_best),
                "p_top": e.p_top,
                "p_top_text": fmt.percent(e.p_top),
                "p_above_sort": -1.0 if e.p_above_next is None else e.p_above_next,
                "p_above_text": fmt.percent(e.p_above_next),
            }
            for e in entries
        ]

    def ranking(self, page: str, table: Table, chart_id: str) -> dict[str, Any]:
        return {
            "rows": self.rows(page, table.entries),
            "chart": chart_block(chart_id, charts.interval_spec(self.s, table)),
            "caption": self.caption(table),
            "notes": table.notes,
        }

    def caption(self, table: Table) -> str:
        # slice labels, not config keys ("Age group", not "age_group")
        strata = [self.slice_labels.get(a, a) for a in table.slice_value.split("+")]
        if table.slice_attribute == POSTSTRATIFIED and table.weights and table.pooled:
            caption = (
                f"Post-stratified over the cells of {' × '.join(strata)}: "
                f"{fmt.counted(table.battles, 'battle')}; each cell's pooled estimate weighted "
                "by its share of the population, the same weights for every model."
            )
        elif table.slice_attribute == POSTSTRATIFIED and table.weights:
            caption = (
                f"Post-stratified to population shares of {', '.join(strata)}: "
                f"{fmt.counted(table.battles, 'battle')}, each group weighted by its share of the "
                "population."
            )
        elif table.slice_attribute == POSTSTRATIFIED:
            caption = "Pooled over every accepted battle (no population shares configured)."
        else:
            caption = self.group_caption(table)
        return caption

    def group_caption(
        self, t: Table, others: str = "the other groups", toward: str = "the population"
    ) -> str:
        caption = (
            f"{fmt.counted(t.battles, 'battle')} from {fmt.counted(t.participants, 'participant')}."
        )
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
                f" Partially pooled with {others} (tau = {fmt.number(tau)}): the estimates "
                f"shrink toward {toward} by as much as the data justify."
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
