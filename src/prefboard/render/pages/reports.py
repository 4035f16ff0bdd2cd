"""The analysis and reference pages: ratings concordance, fairness, benchmarks, next battles,
methodology, data and what changed. Each is a function of the page builder."""

from __future__ import annotations

import json
from importlib import resources
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from prefboard.render import charts, plan_figures
from prefboard.render.pages.core import (
    NEXT_BATTLES_SHOWN,
    NEXT_GROUPS_SHOWN,
    POOLED,
    POSTSTRATIFIED,
    Page,
    _Builder,
    _num,
    chart_block,
)
from prefboard.standings.model import Standings

if TYPE_CHECKING:
    from prefboard.standings.diff import Comparison


def ratings(pb: _Builder) -> Page:
    dims = []
    for d in pb.s.dimensions:
        if not d.likert:
            continue
        rows = [
            [
                pb.names[r.model],
                r.n,
                _num(r.mean),
                f"{_num(r.ci_lower)} – {_num(r.ci_upper)}",
                " / ".join(str(c) for c in r.counts),
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
            next(d.label for d in pb.s.dimensions if d.key == a.dimension),
            _num(a.alpha_ordinal, 3),
            _num(a.alpha_interval, 3),
            a.units,
            a.raters,
            a.pairable_values,
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
    label = {d.key: d.label for d in pb.s.dimensions}
    return [
        [
            label[c.dimension],
            pb.names[c.model],
            f"{c.likert_rank} ({c.likert_lower}–{c.likert_upper})",
            f"{c.battle_rank} ({c.battle_lower}–{c.battle_upper})",
        ]
        for c in pb.s.analysis.concordance
    ]


def fairness(pb: _Builder) -> Page:
    dim = pb.main_dim
    assert dim is not None
    head = pb.s.headline(dim.key)
    assert head is not None
    a = pb.s.analysis
    label = {d.key: d.label for d in pb.s.dimensions}
    bias_rows = [
        [
            label[b.dimension],
            "–" if b.spearman is None else f"{b.spearman:+.2f}",
            b.min_battles,
            b.max_battles,
            "–" if b.ratio is None else f"{b.ratio:.2f}",
            "–" if b.tie_rate is None else f"{b.tie_rate:.1%}",
        ]
        for b in a.sampling_bias
    ]
    main_bias = next(b for b in a.sampling_bias if b.dimension == dim.key)
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
        for e in a.effective_samples
    ]
    connectivity = [
        [
            next(d.label for d in pb.s.dimensions if d.key == t.dimension),
            "pooled" if t.slice_attribute == POOLED else f"{t.slice_attribute}={t.slice_value}",
            t.battles,
            t.components,
            sum(e.provisional for e in t.entries),
        ]
        for t in pb.s.tables
        if t.slice_attribute != POSTSTRATIFIED
    ]
    consistency = [[pb.names[c.model], c.best, c.worst, c.groups] for c in a.group_spread]
    agreement = [
        [g.attribute, g.value, "–" if g.tau is None else f"{g.tau:.2f}"] for g in a.group_agreement
    ]
    text = pb.render(
        "fairness.md.j2",
        dim={"label": dim.label},
        bias_text=bias_text,
        bias_chart=chart_block("battles-vs-rank", charts.battles_vs_rank_chart(pb.s, head)),
        bias=bias_rows,
        coverage_chart=chart_block("pair-coverage", charts.pair_coverage_chart(pb.s, dim.key)),
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
    taus = [
        [name]
        + ["–" if (t := tau.get((name, d.key))) is None else f"{t:+.2f}" for d in pb.battle_dims]
        for name in names
    ]
    score = {(b.benchmark, b.model): b.score for b in pb.s.benchmarks}
    # grouped once: filtering every row for every benchmark was quadratic
    ranks_of: dict[str, list[Any]] = {}
    for r in a.benchmark_ranks:
        ranks_of.setdefault(r.benchmark, []).append(r)
    benches = []
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
                f"{r.human_rank - r.benchmark_rank:+d}",
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


def next_battles(pb: _Builder) -> Page:
    """The plan stage's queue, goal status and quotas (`Standings.plan`), formatted."""
    goal, planned = pb.s.plan_goal, pb.s.plan
    status = {g.dimension: g.sentence(goal.goal) for g in planned.goals}
    dims = []
    for d in pb.battle_dims:
        rows = [
            [
                pb.names[c.model_a],
                pb.names[c.model_b],
                f"{c.gain:.4f}",
                f"{c.p_a:.0%}",
                f"{c.p_tie:.0%}",
                c.battles,
                c.reason,
            ]
            for c in planned.queue
            if c.dimension == d.key
        ][:NEXT_BATTLES_SHOWN]
        dims.append({"label": d.label, "rows": rows, "goal": status.get(d.key, "")})
    quota_rows = [
        [
            q.attribute,
            q.value,
            q.participants,
            f"{q.population_share:.0%}",
            q.for_share,
            q.for_precision,
            q.quota,
        ]
        for q in planned.quotas
    ]
    groups = [
        [
            g.attribute,
            g.value,
            g.participants if g.published else "–",
            f"{g.sample_share:.1%}",
            f"{g.population_share:.1%}",
            "–" if g.needed is None else g.needed,
        ]
        for g in planned.groups[:NEXT_GROUPS_SHOWN]
    ]
    text = pb.render(
        "next.md.j2",
        dims=dims,
        groups=groups,
        goal=goal,
        quotas=quota_rows,
        explore=f"{planned.explore:.0%}",
        board=f"{planned.board:.0%}",
        bench=_plan_benchmark(),
    )
    return Page("next.md", "Next battles", text)


def _plan_benchmark() -> dict[str, Any]:
    """The planning benchmark's figures (templates/planning.json), as the page shows them."""
    figures = plan_figures.load()
    return {
        "source": figures["source"].split(" (")[0],
        "conditions": figures["conditions"],
        "rows": plan_figures.table_rows(figures),
        "margin": plan_figures.TAU_MARGIN,
        "shortfalls": [
            f"{r['board']}, {r['world']} world: " + "; ".join(miss)
            for r in figures["rows"]
            if (miss := plan_figures.shortfalls(r))
        ],
    }


def methodology(pb: _Builder) -> Page:
    from prefboard.config_reference import reference_sections

    p = pb.s.parameters
    post = _post_text(pb.s)
    pooling = [
        [
            next(d.label for d in pb.s.dimensions if d.key == x.dimension),
            x.grouping.replace("+", " × "),
            f"{x.tau:.2f}",
            f"{x.tau_lower:.2f} – {x.tau_upper:.2f}",
            x.groups,
        ]
        for x in pb.s.pooling
    ]
    slices = [
        [
            sl.label,
            ", ".join(sl.values),
            ", ".join(f"{k} {v:.0%}" for k, v in sl.population.items()) or "–",
        ]
        for sl in pb.s.slices
    ]
    excluded = [
        [kind, reason, n]
        for kind, reasons in pb.s.provenance.excluded.items()
        for reason, n in reasons.items()
    ]
    sensitivity = [
        [
            next(d.label for d in pb.s.dimensions if d.key == o.dimension),
            f"{o.median_spread_over_sigma:.2f}",
            o.max_rank_shift,
            o.passes,
        ]
        for o in pb.s.order_sensitivity
    ]
    params = {
        "mu_text": f"{p.mu:g}",
        "sigma_text": f"{p.sigma:.4g}",
        "beta_text": f"{p.beta:.4g}",
        "tau_text": f"{p.tau:.4g}",
        "draw_pinned": p.draw_probability is not None,
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
            next(d.label for d in pb.s.dimensions if d.key == c.dimension),
            _num(c.kendall_tau, 3),
            _num(c.nu, 3),
            ", ".join(pb.names[e.model] for e in c.entries if e.disagrees) or "none",
        ]
        for c in pb.s.crosscheck
    ]
    label = {d.key: d.label for d in pb.s.dimensions}
    ties = [
        [
            label[t.dimension],
            t.source,
            f"{t.draw_probability:.3g}",
            "–" if t.mle is None else f"{t.mle:.3g} ({t.lower:.3g}–{t.upper:.3g})",
            f"{t.tie_share:.1%}",
        ]
        for t in pb.s.ties
    ]
    clustering = [
        [label[t.dimension], t.clustering, f"{t.inflation_median:.2f}"]
        for t in pb.s.tables
        if t.slice_attribute == POOLED
    ]
    study = json.loads(
        resources.files("prefboard").joinpath("templates", "calibration.json").read_text()
    )
    text = pb.render(
        "methodology.md.j2",
        calibration_chart=chart_block("calibration", charts.calibration_chart(study)),
        calibration_source=study["source"],
        calibration_truth=study["truth"],
        calibration_rows=_calibration_rows(study),
        fit=_fit_rows(pb),
        fit_check=pb.s.fit_checks[0] if pb.s.fit_checks else None,
        crosscheck=crosscheck,
        ties=ties,
        clustering=clustering,
        draws=pb.s.parameters.rank_draws,
        btd_draws=pb.s.crosscheck[0].draws if pb.s.crosscheck else 0,
        p=params,
        q=pb.s.quality,
        sensitivity=sensitivity,
        slices=slices,
        post_text=post,
        pooling=pooling,
        excluded=excluded,
        reference=reference_sections(),
    )
    return Page("methodology.md", "Methodology", text)


def _calibration_rows(study: dict[str, Any]) -> list[list[object]]:
    """One row per scenario: its conditions and the figures the study measured."""
    lo, hi = study["target"]
    rows: list[list[object]] = []
    for sc in study["scenarios"]:
        head = next((c for c in sc["cells"] if c["table"] == "headline"), None)
        groups = [c for c in sc["cells"] if c["table"] != "headline"]
        if head is None:
            continue

        def mark(value: float) -> str:
            return f"{value:.1f} %" + ("" if lo <= value <= hi else " (outside target)")

        group_text = ", ".join(mark(c["coverage"]) for c in groups) or "–"
        ranks = [c["rank_coverage"] for c in sc["cells"]]
        rows.append(
            [
                sc["label"],
                sc["conditions"],
                f"{mark(head['coverage'])} of {head['intervals']}",
                group_text,
                f"{min(ranks):.1f} %"
                if min(ranks) == max(ranks)
                else f"{min(ranks):.1f}–{max(ranks):.1f} %",
                f"{head['width']:.2f}",
            ]
        )
    return rows


def _fit_rows(pb: _Builder) -> list[list[object]]:
    """Per dimension: pairs tested and flagged, and the position (first-shown) effect."""
    rows: list[list[object]] = []
    for f in pb.s.fit_checks:
        pos = f.position
        if pos.enough:
            effect = f"{pos.h:+.2f} ± {pos.h_se:.2f} (p = {pos.p_value:.2g})"
            effect += " flagged" if pos.flagged else ""
        else:
            effect = f"not reported ({pos.decided} decided battles)"
        share = "–" if pos.share_a is None else f"{pos.share_a:.1%} (p = {pos.share_p:.2g})"
        rows.append(
            [
                next(d.label for d in pb.s.dimensions if d.key == f.dimension),
                f.pairs_tested,
                ", ".join(f.misfits) or "none",
                effect,
                share,
            ]
        )
    return rows


def _post_text(s: Standings) -> str:
    strata = s.parameters.stratify_by
    if not strata:
        return "No slice declares population shares, so the headline is the pooled ranking."
    cells = next((x for x in s.pooling if x.target), None)
    if cells is None:
        # standings written before partial pooling: independent groups, renormalised weights
        return (
            f"The headline ranking of each dimension combines the group rankings of "
            f"{', '.join(strata)} with the population shares below."
        )
    target = {
        "joint shares": "the joint population shares of rating.joint_population",
        "raked to marginal shares": (
            "joint shares raked (iterative proportional fitting) from the sample's joint counts, "
            "plus half a participant per cell, to the marginal population shares below"
        ),
        "population shares": "the population shares below",
    }[cells.target]
    return (
        f"The headline of each dimension is the population-weighted sum of the pooled skills of "
        f"the joint cells of {' × '.join(strata)} ({cells.cells} cells with a nonzero share), "
        f"weighted by {target}. The weights are the same for every model, whatever cells it "
        "played in; the band and ranks come from the sum's full covariance, correlations "
        "between cells included. A cell without battles counts with the population estimate "
        "and tau² more variance per model (the headline notes name such cells); a cell with "
        "share 0 has weight 0."
    )


def data(pb: _Builder) -> Page:
    prov = pb.s.provenance
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
    text = pb.render("data.md.j2", prov=prov, totals=totals, excluded=excluded, files=files)
    return Page("data.md", "Data", text)


def changes_page(b: _Builder, standings: Standings, previous: Comparison | None) -> Page:
    from prefboard.standings import diff

    if previous is None:
        return Page("changes.md", "What changed", b.render("changes.md.j2", previous=None))
    changes = previous.changes
    if changes.empty:
        body = diff.NO_CHANGES
    else:
        # The job summary folds the details in <details>, whose content Python-Markdown leaves
        # raw; here they go into a collapsed pymdownx.details block, which renders them.
        top, folded = diff.markdown_parts(changes, previous.before, standings)
        inner = ["    " + line if line else "" for line in folded]
        body = "\n".join([*top, "", '??? note "Details"', "", *inner])
    # markdown_parts escapes every value it interpolates.
    return Page(
        "changes.md",
        "What changed",
        b.render("changes.md.j2", previous=previous.label, body=Markup(body)),
    )
