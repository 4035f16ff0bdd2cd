"""The analysis pages: Likert ratings and their concordance with battles, fairness (sampling,
coverage, effective sample, group agreement) and static benchmarks against people."""

from __future__ import annotations

from typing import Any

from prefboard.render import charts
from prefboard.render import format as fmt
from prefboard.render.pages.core import Page, _Builder, chart_block, grid
from prefboard.standings.model import POOLED, POSTSTRATIFIED


def ratings(pb: _Builder) -> Page:
    dims = []
    for d in pb.s.dimensions:
        if not d.likert:
            continue
        rows = [
            [
                pb.names[r.model],
                fmt.count(r.n),
                fmt.number(r.mean),
                fmt.band(r.ci_lower, r.ci_upper),
                " / ".join(fmt.count(c) for c in r.counts),
            ]
            for r in pb.s.likert
            if r.dimension == d.key and r.slice_attribute == POOLED
        ]
        dims.append(
            {
                "label": d.label,
                "rows": rows,
                "chart": chart_block(f"likert-{d.key}", charts.likert_chart(pb.s, d.key)),
            }
        )
    agreement = [
        [
            pb.dim_labels[a.dimension],
            fmt.number(a.alpha_ordinal, 3),
            fmt.number(a.alpha_interval, 3),
            fmt.count(a.units),
            fmt.count(a.raters),
            fmt.count(a.pairable_values),
        ]
        for a in pb.s.agreement
    ]
    return Page(
        "ratings.md",
        "Ratings",
        pb.render("ratings.md.j2", dims=dims, agreement=agreement, concordance=concordance(pb)),
    )


def concordance(pb: _Builder) -> list[list[Any]]:
    """Models whose Likert rank and battle rank disagree (computed by the analysis stage)."""
    return [
        [
            pb.dim_labels[c.dimension],
            pb.names[c.model],
            f"{c.likert_rank} ({fmt.rank_range(c.likert_lower, c.likert_upper)})",
            f"{c.battle_rank} ({fmt.rank_range(c.battle_lower, c.battle_upper)})",
        ]
        for c in pb.s.analysis.concordance
    ]


def fairness(pb: _Builder) -> Page:
    dim = pb.main_dim
    assert dim is not None
    head = pb.s.headline(dim.key)
    assert head is not None
    a = pb.s.analysis
    bias_rows, bias_text = _sampling_bias(pb, dim.key)
    ess = [
        [
            pb.slice_labels.get(e.attribute, e.attribute),
            fmt.count(e.participants),
            fmt.count(round(e.effective)),
            fmt.percent(e.effective / e.participants if e.participants else None),
            ", ".join(e.groups_missing) or fmt.MISSING,
        ]
        for e in a.effective_samples
    ]
    connectivity = [
        [
            pb.dim_labels[t.dimension],
            _slice_text(pb, t.slice_attribute, t.slice_value),
            fmt.count(t.battles),
            fmt.count(t.components),
            fmt.count(sum(e.provisional for e in t.entries)),
        ]
        for t in pb.s.tables
        if t.slice_attribute != POSTSTRATIFIED
    ]
    consistency = [[pb.names[c.model], c.best, c.worst, c.groups] for c in a.group_spread]
    agreement = [
        [pb.slice_labels.get(g.attribute, g.attribute), g.value, fmt.number(g.tau)]
        for g in a.group_agreement
    ]
    text = pb.render(
        "fairness.md.j2",
        dim={"label": dim.label},
        bias_text=bias_text,
        bias_chart=chart_block("battles-vs-rank", charts.battles_vs_rank_chart(pb.s, head)),
        bias=bias_rows,
        coverage_chart=chart_block("pair-coverage", charts.pair_coverage_chart(pb.s, dim.key)),
        coverage_grid=grid(pb.s, dim.key, "fairness.md"),
        ess=ess,
        connectivity=connectivity,
        consistency=consistency,
        agreement=agreement,
    )
    return Page("fairness.md", "Fairness", text)


def benchmarks(pb: _Builder) -> Page:
    dim = pb.main_dim
    assert dim is not None
    a = pb.s.analysis
    by_name: dict[str, list[Any]] = {}
    for b in pb.s.benchmarks:
        by_name.setdefault(b.benchmark, []).append(b)
    names = sorted(by_name)
    tau = {(t.benchmark, t.dimension): t.tau for t in a.benchmark_agreement}
    taus = [[name] + [fmt.signed(tau.get((name, d.key))) for d in pb.battle_dims] for name in names]
    score = {(b.benchmark, b.model): b.score for b in pb.s.benchmarks}
    # grouped once: filtering every row for every benchmark was quadratic
    ranks_of: dict[str, list[Any]] = {}
    for r in a.benchmark_ranks:
        ranks_of.setdefault(r.benchmark, []).append(r)
    benches: list[dict[str, Any]] = []
    for name in names:
        ranks = ranks_of.get(name, [])
        shifts = sorted(ranks, key=lambda r: (-abs(r.benchmark_rank - r.human_rank), r.model))
        rows = [
            [
                {
                    "text": pb.names[r.model],
                    "href": f"models/{r.model}.html",
                    "sort": r.model,
                },
                f"{score[(name, r.model)]:g}",
                r.benchmark_rank,
                r.human_rank,
                fmt.signed_count(r.human_rank - r.benchmark_rank),
            ]
            for r in shifts
        ]
        rated = {r.model for r in ranks}
        present = [b for b in by_name[name] if b.model in rated]
        sources = sorted({b.source for b in present if b.source})
        benches.append(
            {
                "name": name,
                "source": "; ".join(sources),
                "chart": chart_block(
                    f"bump-{len(benches)}", charts.bump_chart(pb.s, name, dim.key, by_name[name])
                ),
                "rows": rows,
            }
        )
    text = pb.render(
        "benchmarks.md.j2",
        headers=["Benchmark", *[f"tau vs {d.label}" for d in pb.battle_dims]],
        taus=taus,
        benches=benches,
        dim={"label": dim.label},
    )
    return Page("benchmarks.md", "Benchmarks", text)


def _slice_text(pb: _Builder, attribute: str, value: str) -> str:
    """A table's slice for readers: "Pooled" or "Age group: 18-24", never the config key."""
    if attribute == POOLED:
        return "Pooled"
    return f"{pb.slice_labels.get(attribute, attribute)}: {value}"


def _sampling_bias(pb: _Builder, main: str) -> tuple[list[list[Any]], str]:
    """Per dimension: battles against rank; and the sentence for the main dimension."""
    a = pb.s.analysis
    bias_rows = [
        [
            pb.dim_labels[b.dimension],
            fmt.signed(b.spearman),
            fmt.count(b.min_battles),
            fmt.count(b.max_battles),
            fmt.number(b.ratio),
            fmt.percent(b.tie_rate),
        ]
        for b in a.sampling_bias
    ]
    main_bias = next(b for b in a.sampling_bias if b.dimension == main)
    if main_bias.spearman is None:
        bias_text = "Every model has the same number of battles."
    else:
        bias_text = (
            f"Spearman correlation between battles and rank: {fmt.signed(main_bias.spearman)} "
            "(negative: models with more battles rank better). Near zero is what a "
            "fair design gives."
        )
    return bias_rows, bias_text
