"""The Agreement page: each automated judge against the humans, beside the human noise ceiling,
and the judge's own rankings, labelled as automated and kept apart from the human ones."""

from __future__ import annotations

from typing import Any

from prefboard.render import format as fmt
from prefboard.render.charts.agreement import agreement_chart, judge_scatter_chart
from prefboard.render.pages.core import Page, _Builder, chart_block
from prefboard.standings.judges import Agreement, Interval, JudgeBoard

PATH = "agreement.md"


def agreement(pb: _Builder) -> Page:
    judges = [_judge(pb, board) for board in pb.s.judges]
    return Page(PATH, "Agreement", pb.render("agreement.md.j2", judges=judges))


def _judge(pb: _Builder, board: JudgeBoard) -> dict[str, Any]:
    rows = [a for a in pb.s.judge_agreement if a.judge == board.key]
    dims = []
    for t in board.tables:
        dims.append(
            {
                "label": pb.dim_labels.get(t.dimension, t.dimension),
                "rows": pb.rows(PATH, t.entries),
                "battles": fmt.counted(t.battles, "verdict"),
                "chart": chart_block(
                    f"judge-{board.key}-{t.dimension}",
                    judge_scatter_chart(pb.s, board.key, t.dimension),
                ),
            }
        )
    return {
        "label": board.label,
        "battles": fmt.counted(board.battles, "verdict"),
        "flagged": [
            (pb.dim_labels.get(a.dimension, a.dimension), a.reasons) for a in rows if a.flagged
        ],
        "figures": [_figures(pb, a) for a in rows],
        "ceiling": [_ceiling(pb, a) for a in rows],
        "no_repeats": bool(rows) and all(a.ceiling_items == 0 for a in rows),
        "chart": chart_block(f"agreement-{board.key}", agreement_chart(pb.s, board.key)),
        "dims": dims,
    }


def _share(i: Interval) -> str:
    if i.value is None:
        return fmt.MISSING
    return f"{fmt.percent(i.value)} ({fmt.percent(i.lower)} – {fmt.percent(i.upper)})"


def _value(i: Interval) -> str:
    if i.value is None:
        return fmt.MISSING
    return f"{fmt.number(i.value)} ({fmt.band(i.lower, i.upper)})"


def _figures(pb: _Builder, a: Agreement) -> list[str]:
    return [
        pb.dim_labels.get(a.dimension, a.dimension),
        fmt.count(a.items),
        _share(a.match),
        _value(a.kappa),
        fmt.percent(a.judge_tie_rate),
        fmt.percent(a.human_tie_rate),
        _share(a.position_a),
        _value(a.tau),
    ]


def _ceiling(pb: _Builder, a: Agreement) -> list[str]:
    return [
        pb.dim_labels.get(a.dimension, a.dimension),
        fmt.count(a.ceiling_items),
        _share(a.ceiling_match),
        _value(a.ceiling_kappa),
        _share(a.human_position_a),
        _value(a.ceiling_tau),
    ]
