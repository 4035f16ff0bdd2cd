"""The reference pages: methodology (parameters, checks, calibration, config reference), the
data ledger, and what changed since the previous version."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from prefboard.render import charts
from prefboard.render import format as fmt
from prefboard.render.escape import code_spans
from prefboard.render.pages.core import Page, _Builder, chart_block
from prefboard.standings.model import POOLED, Standings, TieModel, standings_column_meanings

if TYPE_CHECKING:
    from prefboard.standings.diff import Comparison


def methodology(pb: _Builder) -> Page:
    from prefboard.config_reference import reference_sections

    study = pb.s.analysis.studies["calibration"]
    text = pb.render(
        "methodology.md.j2",
        calibration_chart=chart_block("calibration", charts.calibration_chart(study)),
        calibration_source=study["source"],
        calibration_truth=study["truth"],
        calibration_rows=_calibration_rows(study),
        calibration_summary=_calibration_summary(study),
        fit=_fit_rows(pb),
        fit_check=pb.s.fit_checks[0] if pb.s.fit_checks else None,
        draws=pb.s.parameters.rank_draws,
        btd_draws=pb.s.crosscheck[0].draws if pb.s.crosscheck else 0,
        p=_parameters(pb),
        q=pb.s.quality,
        post_text=_post_text(pb.s),
        reference=[
            {**s, "rows": [[k, d, code_spans(m)] for k, d, m in s["rows"]]}
            for s in reference_sections()
        ],
        **_model_tables(pb),
        **_check_tables(pb),
    )
    return Page("methodology.md", "Methodology", text)


def _parameters(pb: _Builder) -> dict[str, Any]:
    """The rating parameters as the methodology text quotes them."""
    p = pb.s.parameters
    return {
        "mu_text": f"{p.mu:g}".replace("-", fmt.MINUS),
        "sigma_text": f"{p.sigma:.4g}",
        "beta_text": f"{p.beta:.4g}",
        "tau_text": f"{p.tau:.4g}",
        "draw_pinned": p.draw_probability is not None,
        "permutations": p.permutations,
        "passes": 1 + p.permutations,
        "permuted_all": p.permuted_tables == "all",
        "seed": p.seed,
        "band": p.band,
        "z_text": fmt.number(p.z, 3),
        "interval_pct": fmt.percent(p.interval, 0),
        "min_battles": p.min_battles,
    }


def _p_value(p: float) -> str:
    """A test's p-value: two decimals, and "< 0.001" where those would read 0.00."""
    return "< " + fmt.number(0.001, 3) if p < 0.001 else fmt.number(p, 2)


def _model_tables(pb: _Builder) -> dict[str, list[list[Any]]]:
    """The methodology page's tables of groups and data: pooling, slices and exclusions."""
    label, slice_label = pb.dim_labels, pb.slice_labels
    return {
        "pooling": [
            [
                label[x.dimension],
                " × ".join(slice_label.get(a, a) for a in x.grouping.split("+")),
                fmt.number(x.tau),
                fmt.band(x.tau_lower, x.tau_upper),
                _p_value(x.tau_p_value),
                fmt.count(x.groups),
            ]
            for x in pb.s.pooling
        ],
        "slices": [
            [
                sl.label or sl.attribute,
                ", ".join(sl.values),
                ", ".join(f"{k} {fmt.percent(v, 0)}" for k, v in sl.population.items())
                or fmt.MISSING,
            ]
            for sl in pb.s.slices
        ],
        "excluded": [
            [kind, reason, fmt.count(n)]
            for kind, reasons in pb.s.provenance.excluded.items()
            for reason, n in reasons.items()
        ],
    }


def _check_tables(pb: _Builder) -> dict[str, list[list[Any]]]:
    """The methodology page's checks of the model: order sensitivity, the Bradley–Terry–Davidson
    cross-check, ties and clustering."""
    label = pb.dim_labels
    noise = {t.dimension: t for t in pb.s.ties}
    return {
        "sensitivity": [
            [
                label[o.dimension],
                fmt.number(o.median_spread_over_sigma),
                fmt.count(o.max_rank_shift),
                fmt.count(o.passes),
            ]
            for o in pb.s.order_sensitivity
        ],
        "crosscheck": [
            [
                label[c.dimension],
                fmt.number(c.kendall_tau, 3),
                fmt.number(c.nu, 3),
                ", ".join(pb.names[e.model] for e in c.entries if e.disagrees) or "none",
            ]
            for c in pb.s.crosscheck
        ],
        "ties": [
            [
                label[t.dimension],
                t.source,
                fmt.number(t.draw_probability, 3),
                fmt.MISSING
                if t.mle is None
                else f"{fmt.number(t.mle, 3)} ({fmt.band(t.lower, t.upper, 3)})",
                fmt.percent(t.tie_share),
            ]
            for t in pb.s.ties
        ],
        "clustering": [
            [
                label[t.dimension],
                t.clustering,
                fmt.number(t.inflation_median),
                *_prompt_noise(noise.get(t.dimension)),
            ]
            for t in pb.s.tables
            if t.slice_attribute == POOLED
        ],
    }


def _prompt_noise(ties: TieModel | None) -> tuple[str, str]:
    """The clustering table's shared prompt noise (rho, vote pairs) and the batch fits' beta."""
    if ties is None or not ties.prompt_vote_pairs:
        rho = "no prompt judged twice"
    else:
        interval = fmt.band(ties.prompt_correlation_lower, ties.prompt_correlation_upper, 3)
        rho = (
            f"{fmt.number(ties.prompt_correlation, 3)} ({interval}; "
            f"{fmt.count(ties.prompt_vote_pairs)})"
        )
    beta = "configured" if ties is None or ties.batch_beta is None else fmt.number(ties.batch_beta)
    return rho, beta


def _span(values: list[float]) -> str:
    """Percent figures of the study (recorded in percent) as "98.1%" or "98.1%–98.8%"."""
    lo, hi = fmt.percent(min(values) / 100), fmt.percent(max(values) / 100)
    return lo if lo == hi else f"{lo}–{hi}"


def _calibration_summary(study: dict[str, Any]) -> str:
    """How many cells met the targets, and what the rank intervals' own mass says."""
    cells = [c for sc in study["scenarios"] for c in sc["cells"]]
    lo, hi = study["target"]
    bands = sum(lo <= c["coverage"] <= hi for c in cells)
    ranks = sum(93.0 <= c["rank_coverage"] <= 99.0 for c in cells)
    text = (
        f"Bands met it in {fmt.count(bands)} of {fmt.count(len(cells))} cells, "
        f"rank intervals in {fmt.count(ranks)}."
    )
    masses = [c["rank_mass"] for c in cells if "rank_mass" in c]
    if masses:
        text += (
            f" The rank intervals' own posterior mass averaged {_span(masses)} per cell: ranks "
            f"are whole numbers, so the range nearest {fmt.percent(0.95, 0)} holds a little "
            f"more or less, and its coverage should follow that mass."
        )
    return text


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
            # the study records coverage in percent; the formatter takes shares
            return fmt.percent(value / 100) + ("" if lo <= value <= hi else " (outside target)")

        group_text = ", ".join(mark(c["coverage"]) for c in groups) or fmt.MISSING
        ranks = [c["rank_coverage"] for c in sc["cells"]]
        masses = [c["rank_mass"] for c in sc["cells"] if "rank_mass" in c]
        held = f" (the intervals hold {_span(masses)})" if masses else ""
        rows.append(
            [
                sc["label"],
                code_spans(sc["conditions"]),
                f"{mark(head['coverage'])} of {fmt.count(head['intervals'])}",
                group_text,
                _span(ranks) + held,
                fmt.number(head["width"]),
            ]
        )
    return rows


def _fit_rows(pb: _Builder) -> list[list[object]]:
    """Per dimension: pairs tested and flagged, and the position (first-shown) effect."""
    rows: list[list[object]] = []
    for f in pb.s.fit_checks:
        pos = f.position
        if pos.enough:
            effect = f"{fmt.signed(pos.h)} ± {fmt.number(pos.h_se)} (p = {pos.p_value:.2g})"
            effect += " flagged" if pos.flagged else ""
        else:
            effect = f"not reported ({fmt.count(pos.decided)} decided battles)"
        share = fmt.MISSING
        if pos.share_a is not None:
            share = f"{fmt.percent(pos.share_a)} (p = {pos.share_p:.2g})"
        rows.append(
            [
                pb.dim_labels[f.dimension],
                fmt.count(f.pairs_tested),
                ", ".join(f.misfits) or "none",
                effect,
                share,
            ]
        )
    return rows


def _post_text(s: Standings) -> str:
    labels = {sl.attribute: sl.label or sl.attribute for sl in s.slices}
    strata = [labels.get(a, a) for a in s.parameters.stratify_by]
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
        f"the joint cells of {' × '.join(strata)} "
        f"({fmt.count(cells.cells)} cells with a nonzero share), "
        f"weighted by {target}. The weights are the same for every model, whatever cells it "
        "played in; the band and ranks come from the sum's full covariance, correlations "
        "between cells included. A cell without battles counts with the population estimate "
        "and tau² more variance per model (the headline notes name such cells); a cell with "
        "share 0 has weight 0."
    )


def data(pb: _Builder) -> Page:
    prov = pb.s.provenance
    totals = [
        [kind, *(fmt.count(t[k]) for k in ("files", "rows", "accepted", "excluded"))]
        for kind, t in prov.totals.items()
    ]
    excluded = [
        [kind, reason, fmt.count(n)]
        for kind, reasons in prov.excluded.items()
        for reason, n in reasons.items()
    ]
    files = [
        [
            f.path,
            f.kind,
            *(fmt.count(n) for n in (f.rows, f.accepted, f.excluded, f.bytes)),
            f.sha256[:16] + "…",
        ]
        for f in prov.files
    ]
    columns = [[c, code_spans(meaning)] for c, meaning in standings_column_meanings()]
    text = pb.render(
        "data.md.j2", prov=prov, totals=totals, excluded=excluded, files=files, columns=columns
    )
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
