"""The Style control page: per battle dimension, the style-controlled ranking beside the same
fit without covariates, each coefficient in plain words, and which covariates matter. Numbers
come from `Standings.style` (rating/style.py); this module only words and formats them."""

from __future__ import annotations

from typing import Any

from prefboard.render import format as fmt
from prefboard.render.pages.core import Page, _Builder, href
from prefboard.standings.style import StyleCoefficient, StyleControl

PATH = "style.md"


def style(pb: _Builder) -> Page:
    sections = [_section(pb, st) for st in pb.s.style]
    return Page(
        PATH,
        "Style control",
        pb.render(
            "style.md.j2",
            sections=sections,
            summary=_summary(pb),
            covariates=pb.s.style[0].coefficients if pb.s.style else [],
        ),
    )


def effect_sentence(c: StyleCoefficient) -> str:
    """ "each doubling of answer length raises the chance of being preferred against an equally
    skilled model by about 9.9 percentage points (9.0 to 10.9)" """
    if not c.differs:
        return f"{c.label}: the two answers never differ on it, so it cannot have an effect here"
    verb = "raises" if c.effect >= 0 else "lowers"
    size = fmt.number(abs(c.effect) * 100, 1)
    low, high = sorted((c.effect_lower * 100, c.effect_upper * 100))
    return (
        f"{c.step_text[:1].upper()}{c.step_text[1:]} {verb} the chance of being preferred "
        f"against an equally skilled model by about {size} percentage points (interval "
        f"{fmt.signed(low, 1)} to {fmt.signed(high, 1)})"
    )


def _verdict(c: StyleCoefficient) -> str:
    if not c.differs:
        return "never differs"
    if not c.matters:
        return "no clear effect"
    return "matters: " + ("preferred when higher" if c.estimate > 0 else "preferred when lower")


def _summary(pb: _Builder) -> dict[str, Any]:
    """Which covariates matter, dimension by dimension (interval excludes 0)."""
    labels = [c.label for c in pb.s.style[0].coefficients] if pb.s.style else []
    rows = [
        [pb.dim_labels[st.dimension], *[_verdict(c) for c in st.coefficients]] for st in pb.s.style
    ]
    return {"headers": ["Dimension", *labels], "rows": rows}


def _section(pb: _Builder, st: StyleControl) -> dict[str, Any]:
    coefficients = [
        [
            c.label,
            c.transform,
            fmt.number(c.estimate),
            fmt.band(c.lower, c.upper),
            fmt.signed(c.effect * 100, 1),
            _verdict(c),
        ]
        for c in st.coefficients
    ]
    rows = [
        [
            str(e.rank),
            {
                "text": pb.names[e.model],
                "href": href(PATH, f"models/{e.model}.md"),
                "sort": e.model,
            },
            fmt.number(e.score),
            fmt.band(e.lower, e.upper),
            fmt.rank_range(e.rank_lower, e.rank_upper),
            str(e.raw_rank),
            fmt.number(e.raw_score),
            fmt.rank_range(e.raw_rank_lower, e.raw_rank_upper),
            fmt.signed_count(e.rank_change),
            fmt.count(e.battles),
        ]
        for e in st.entries
    ]
    return {
        "label": pb.dim_labels[st.dimension],
        "battles": fmt.counted(st.battles, "battle"),
        "without": fmt.counted(st.battles_without, "battle") if st.battles_without else "",
        "effects": [effect_sentence(c) for c in st.coefficients],
        "coefficients": coefficients,
        "rows": rows,
    }
