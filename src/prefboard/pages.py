"""Standings -> Markdown pages (Jinja2 templates shipped in the package).

Pages read only the `Standings` object. Every value is escaped twice over: Jinja autoescape turns
HTML into text, and the `md` filter backslash-escapes Markdown syntax, so a contributor-supplied
name can neither become markup nor a link. Tables are HTML blocks, which Markdown leaves alone.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jinja2
import numpy as np
from markupsafe import Markup, escape

from prefboard import charts
from prefboard.config import Config
from prefboard.standings import POOLED, POSTSTRATIFIED, Entry, Standings, Table

NEXT_BATTLES_SHOWN = 10
NEXT_GROUPS_SHOWN = 12
_MD_SPECIAL = re.compile(r"([\\`*_\[\]()#+\-.!|~>])")


@dataclass(frozen=True)
class Page:
    path: str  # relative to the docs folder, e.g. "models/aurora-7b.md"
    title: str
    text: str


def md(value: object) -> Markup:
    """HTML-escape, then neutralise Markdown syntax, for text inside Markdown paragraphs."""
    text = str(escape(str(value)))
    text = _MD_SPECIAL.sub(r"\\\1", text).replace("\n", " ")
    # braces as entities: a backslash before "{" would still leave "{%" for a templating plugin
    text = text.replace("{", "&#123;").replace("}", "&#125;")
    return Markup(text)


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
    return Markup(str(escape(value)).replace("{", "&#123;").replace("}", "&#125;"))


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
    def __init__(self, standings: Standings, config: Config) -> None:
        self.s = standings
        self.config = config
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
                "mu_mean": f"{e.mu_mean:.4f}",
                "score": f"{e.mu_mean:.2f}",
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
            }
            for e in entries
        ]

    def ranking(self, page: str, table: Table, chart_id: str) -> dict[str, Any]:
        if table.slice_attribute == POSTSTRATIFIED and table.weights:
            caption = (
                f"Post-stratified to population shares of {table.slice_value.replace('+', ', ')}"
                f": {table.battles} battles, each group weighted by its share of the population."
            )
        elif table.slice_attribute == POSTSTRATIFIED:
            caption = "Pooled over every accepted battle (no population shares configured)."
        else:
            caption = f"{table.battles} battles from {table.participants} participants."
        return {
            "rows": self.rows(page, table.entries),
            "chart": chart_block(chart_id, charts.interval_chart(self.s, table)),
            "caption": caption,
            "notes": table.notes,
        }

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
                        "caption": f"{t.battles} battles from {t.participants} participants.",
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
                    f"{e.mu_mean:.2f}",
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
                            f"{e.mu_mean:.2f}",
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
            history=chart_block(f"history-{key}", charts.history_chart(self.s, key)),
            likert=likert,
        )
        return Page(path, info.name, text)

    def ratings(self) -> Page:
        dims = []
        for d in self.s.dimensions:
            if not d.likert:
                continue
            rows = [
                [
                    self.names[r.model],
                    r.n,
                    _num(r.mean),
                    f"{_num(r.ci_lower)} – {_num(r.ci_upper)}",
                    " / ".join(str(c) for c in r.counts),
                ]
                for r in self.s.likert
                if r.dimension == d.key and r.slice_attribute == POOLED
            ]
            dims.append(
                {
                    "label": d.label,
                    "rows": rows,
                    "chart": chart_block(f"likert-{d.key}", charts.likert_chart(self.s, d.key)),
                }
            )
        agreement = [
            [
                next(d.label for d in self.s.dimensions if d.key == a.dimension),
                _num(a.alpha_ordinal, 3),
                _num(a.alpha_interval, 3),
                a.units,
                a.raters,
                a.pairable_values,
            ]
            for a in self.s.agreement
        ]
        return Page(
            "ratings.md",
            "Ratings",
            self.render(
                "ratings.md.j2", dims=dims, agreement=agreement, concordance=self.concordance()
            ),
        )

    def concordance(self) -> list[list[Any]]:
        """Models whose Likert rank and battle rank disagree beyond their ranges, for each
        dimension measured both ways (ranges: rank_ranges over the intervals)."""
        from prefboard.rating.btd import disagreements
        from prefboard.rating.tournaments import rank_ranges

        rows: list[list[Any]] = []
        for d in self.s.dimensions:
            head = self.s.headline(d.key) if d.battles and d.likert else None
            if head is None:
                continue
            likert = {
                r.model: r
                for r in self.s.likert
                if r.dimension == d.key and r.slice_attribute == POOLED and r.n >= 2
            }
            battle = {e.model: e for e in head.entries if e.battles}
            common = sorted(set(likert) & set(battle))
            if len(common) < 2:
                continue
            mean = np.array([likert[m].mean for m in common], dtype=float)
            lo = np.array([likert[m].ci_lower for m in common], dtype=float)
            hi = np.array([likert[m].ci_upper for m in common], dtype=float)
            l_rank, l_best, l_worst = rank_ranges(mean, lo, hi, common)
            b_rank = np.array([battle[m].rank for m in common], dtype=float)
            b_best = np.array([battle[m].rank_lower for m in common], dtype=float)
            b_worst = np.array([battle[m].rank_upper for m in common], dtype=float)
            flags = disagreements(l_rank, l_best, l_worst, b_rank, b_best, b_worst)
            for i, m in enumerate(common):
                if flags[i]:
                    rows.append(
                        [
                            d.label,
                            self.names[m],
                            f"{l_rank[i]} ({l_best[i]}–{l_worst[i]})",
                            f"{battle[m].rank} ({battle[m].rank_lower}–{battle[m].rank_upper})",
                        ]
                    )
        return rows

    def fairness(self) -> Page:
        from prefboard import fairness as f

        dim = self.main_dim
        assert dim is not None
        head = self.s.headline(dim.key)
        assert head is not None
        bias_rows = []
        for d in self.battle_dims:
            t, pooled = self.s.headline(d.key), self.s.table(d.key)
            if t is None or pooled is None:
                continue
            b = f.sampling_bias(t)
            tie = f.tie_rate(pooled)
            bias_rows.append(
                [
                    d.label,
                    "–" if b.spearman is None else f"{b.spearman:+.2f}",
                    b.min_battles,
                    b.max_battles,
                    "–" if b.ratio is None else f"{b.ratio:.2f}",
                    "–" if tie is None else f"{tie:.1%}",
                ]
            )
        main_bias = f.sampling_bias(head)
        if main_bias.spearman is None:
            bias_text = "Every model has the same number of battles."
        else:
            bias_text = (
                f"Spearman correlation between battles and rank: {main_bias.spearman:+.2f} "
                "(negative: models with more battles rank better). Near zero is what a "
                "fair design gives."
            )
        ess = [
            [
                e.attribute,
                e.participants,
                f"{e.effective:.0f}",
                f"{e.effective / e.participants:.0%}" if e.participants else "–",
                ", ".join(e.groups_missing) or "–",
            ]
            for e in f.effective_samples(self.s)
        ]
        connectivity = [
            [
                next(d.label for d in self.s.dimensions if d.key == t.dimension),
                "pooled" if t.slice_attribute == POOLED else f"{t.slice_attribute}={t.slice_value}",
                t.battles,
                t.components,
                sum(e.provisional for e in t.entries),
            ]
            for t in self.s.tables
            if t.slice_attribute != POSTSTRATIFIED
        ]
        consistency = [
            [self.names[c.model], c.best, c.worst, c.groups]
            for c in f.group_consistency(self.s, dim.key)
        ]
        agreement = [
            [a, v, "–" if tau is None else f"{tau:.2f}"]
            for a, v, tau in f.group_agreement(self.s, dim.key)
        ]
        text = self.render(
            "fairness.md.j2",
            dim={"label": dim.label},
            bias_text=bias_text,
            bias_chart=chart_block("battles-vs-rank", charts.battles_vs_rank_chart(self.s, head)),
            bias=bias_rows,
            coverage_chart=chart_block(
                "pair-coverage", charts.pair_coverage_chart(self.s, dim.key)
            ),
            ess=ess,
            connectivity=connectivity,
            consistency=consistency,
            agreement=agreement,
        )
        return Page("fairness.md", "Fairness", text)

    def benchmarks(self) -> Page:
        from prefboard.rating.btd import kendall_tau

        dim = self.main_dim
        assert dim is not None
        names = sorted({b.benchmark for b in self.s.benchmarks})
        scores = {(b.benchmark, b.model): b for b in self.s.benchmarks}
        taus = []
        for name in names:
            row: list[Any] = [name]
            for d in self.battle_dims:
                head = self.s.headline(d.key)
                people = {e.model: e.rank for e in head.entries if e.battles} if head else {}
                common = sorted(m for m in people if (name, m) in scores)
                tau = (
                    kendall_tau(
                        np.array([-scores[(name, m)].score for m in common]),
                        np.array([people[m] for m in common], dtype=float),
                    )
                    if len(common) > 2
                    else float("nan")
                )
                row.append("–" if np.isnan(tau) else f"{tau:+.2f}")
            taus.append(row)
        benches = []
        head = self.s.headline(dim.key)
        people = {e.model: e.rank for e in head.entries if e.battles} if head else {}
        for name in names:
            present = sorted(
                (b for b in self.s.benchmarks if b.benchmark == name and b.model in people),
                key=lambda b: (-b.score, b.model),
            )
            bench_rank = {b.model: i for i, b in enumerate(present, start=1)}
            order = sorted(bench_rank, key=lambda m: (people[m], m))
            people_rank = {m: i for i, m in enumerate(order, start=1)}
            shifts = sorted(
                present,
                key=lambda b: (-abs(bench_rank[b.model] - people_rank[b.model]), b.model),
            )
            rows = [
                [
                    {
                        "text": self.names[b.model],
                        "href": f"models/{b.model}.html",
                        "sort": b.model,
                    },
                    f"{b.score:g}",
                    bench_rank[b.model],
                    people_rank[b.model],
                    f"{people_rank[b.model] - bench_rank[b.model]:+d}",
                ]
                for b in shifts
            ]
            sources = sorted({b.source for b in present if b.source})
            benches.append(
                {
                    "name": name,
                    "source": "; ".join(sources),
                    "chart": chart_block(
                        f"bump-{len(benches)}", charts.bump_chart(self.s, name, dim.key)
                    ),
                    "rows": rows,
                }
            )
        text = self.render(
            "benchmarks.md.j2",
            headers=["Benchmark", *[f"tau vs {d.label}" for d in self.battle_dims]],
            taus=taus,
            benches=benches,
            dim={"label": dim.label},
        )
        return Page("benchmarks.md", "Benchmarks", text)

    def next_battles(self) -> Page:
        from prefboard import matchmaking as mm

        params = mm.params_from(self.s)
        dims = []
        for d in self.battle_dims:
            rows = [
                [
                    self.names[c.model_a],
                    self.names[c.model_b],
                    f"{c.gain:.4f}",
                    f"{c.p_a:.0%}",
                    f"{c.p_tie:.0%}",
                    c.battles,
                    c.reason,
                ]
                for c in mm.plan(self.s, params, dimension=d.key, n=NEXT_BATTLES_SHOWN)
            ]
            dims.append({"label": d.label, "rows": rows})
        groups = [
            [
                g.attribute,
                g.value,
                g.participants if g.published else "–",
                f"{g.sample_share:.1%}",
                f"{g.population_share:.1%}",
                "–" if g.needed is None else g.needed,
            ]
            for g in mm.groups_in_need(self.s)[:NEXT_GROUPS_SHOWN]
        ]
        text = self.render("next.md.j2", dims=dims, groups=groups)
        return Page("next.md", "Next battles", text)

    def methodology(self) -> Page:
        from prefboard.config_reference import reference_sections

        p = self.s.parameters
        strata = p.stratify_by
        if strata:
            post = (
                f"The headline ranking of each dimension combines the group rankings of "
                f"{', '.join(strata)} with the population shares below: mu = Σ w·mu_g and "
                "variance = Σ w²·sigma_g², where the weights are renormalised over the groups "
                "in which the model has battles (each headline table says when that happened)."
            )
            if len(strata) > 1:
                post += (
                    " With several attributes the groups are their combinations, weighted by "
                    "the product of the marginal shares: this assumes the attributes are "
                    "independent in the population."
                )
        else:
            post = "No slice declares population shares, so the headline is the pooled ranking."
        slices = [
            [
                sl.label,
                ", ".join(sl.values),
                ", ".join(f"{k} {v:.0%}" for k, v in sl.population.items()) or "–",
            ]
            for sl in self.s.slices
        ]
        excluded = [
            [kind, reason, n]
            for kind, reasons in self.s.provenance.excluded.items()
            for reason, n in reasons.items()
        ]
        sensitivity = [
            [
                next(d.label for d in self.s.dimensions if d.key == o.dimension),
                f"{o.median_spread_over_sigma:.2f}",
                o.max_rank_shift,
                o.passes,
            ]
            for o in self.s.order_sensitivity
        ]
        params = {
            "mu_text": f"{p.mu:g}",
            "sigma_text": f"{p.sigma:.4g}",
            "beta_text": f"{p.beta:.4g}",
            "tau_text": f"{p.tau:.4g}",
            "draw_probability": f"{p.draw_probability:g}",
            "permutations": p.permutations,
            "passes": 1 + p.permutations,
            "seed": p.seed,
            "band": p.band,
            "z_text": f"{p.z:.3f}",
            "interval_pct": f"{p.interval:.0%}",
            "min_battles": p.min_battles,
        }
        crosscheck = [
            [
                next(d.label for d in self.s.dimensions if d.key == c.dimension),
                _num(c.kendall_tau, 3),
                _num(c.nu, 3),
                ", ".join(self.names[e.model] for e in c.entries if e.disagrees) or "none",
            ]
            for c in self.s.crosscheck
        ]
        study = json.loads(
            resources.files("prefboard").joinpath("templates", "calibration.json").read_text()
        )
        text = self.render(
            "methodology.md.j2",
            calibration_chart=chart_block("calibration", charts.calibration_chart(study)),
            calibration_source=study["source"],
            crosscheck=crosscheck,
            btd_draws=self.s.crosscheck[0].draws if self.s.crosscheck else 0,
            p=params,
            q=self.config.quality,
            sensitivity=sensitivity,
            slices=slices,
            post_text=post,
            excluded=excluded,
            reference=reference_sections(),
        )
        return Page("methodology.md", "Methodology", text)

    def data(self) -> Page:
        prov = self.s.provenance
        totals = [
            [kind, t["files"], t["rows"], t["accepted"], t["excluded"]]
            for kind, t in prov.totals.items()
        ]
        excluded = [
            [kind, reason, n]
            for kind, reasons in prov.excluded.items()
            for reason, n in reasons.items()
        ]
        files = [
            [f.path, f.kind, f.rows, f.accepted, f.excluded, f.bytes, f.sha256[:16] + "…"]
            for f in prov.files
        ]
        text = self.render("data.md.j2", prov=prov, totals=totals, excluded=excluded, files=files)
        return Page("data.md", "Data", text)


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


def changes_page(b: _Builder, standings: Standings, previous: tuple[str, Standings] | None) -> Page:
    from prefboard import diff

    if previous is None:
        return Page("changes.md", "What changed", b.render("changes.md.j2", previous=None))
    label, before = previous
    text = diff.render_markdown(diff.diff_standings(before, standings), before, standings)
    # diff.render_markdown escapes every value it interpolates; drop its own heading.
    body = Markup("\n".join(line for line in text.splitlines() if not line.startswith("### ")))
    return Page("changes.md", "What changed", b.render("changes.md.j2", previous=label, body=body))


def render_pages(
    standings: Standings, config: Config, previous: tuple[str, Standings] | None = None
) -> list[Page]:
    """Every generated page, in site-map order; `previous` (label, standings) feeds the
    "What changed" page."""
    b = _Builder(standings, config)
    pages = [b.home()]
    pages += b.dimensions()
    pages += b.groups()
    pages += b.models()
    if any(d.likert for d in standings.dimensions):
        pages.append(b.ratings())
    if b.main_dim is not None:
        pages.append(b.next_battles())
        pages.append(b.fairness())
    if b.main_dim is not None and standings.benchmarks:
        pages.append(b.benchmarks())
    pages.append(b.methodology())
    pages.append(b.data())
    pages.append(changes_page(b, standings, previous))
    return pages
