"""The Disclosure page: per organization the variants tested, each one's battles and share of
the prompts, and the variants never made public. Formats `standings.analysis.disclosure`
(computed by the analysis stage); counts nothing itself."""

from __future__ import annotations

from typing import Any

from prefboard.render import format as fmt
from prefboard.render.pages.core import Page, _Builder, href
from prefboard.standings.disclosure import OrganizationDisclosure

PATH = "disclosure.md"
STATUS_TEXT = {"public": "public", "private": "private (never made public)", "retired": "retired"}


def disclosure(pb: _Builder) -> Page:
    d = pb.s.analysis.disclosure
    summary = [
        [
            {"text": o.organization, "href": f"#{_anchor(i)}", "sort": o.organization},
            {"text": fmt.count(o.variants), "sort": o.variants},
            {"text": fmt.count(o.families), "sort": o.families},
            {"text": fmt.count(o.battles), "sort": o.battles},
            {"text": fmt.count(len(o.private)), "sort": len(o.private)},
        ]
        for i, o in enumerate(d.organizations)
    ]
    text = pb.render(
        "disclosure.md.j2",
        unit=d.unit,
        total=d.total,
        summary=summary,
        organizations=[_organization(pb, i, o) for i, o in enumerate(d.organizations)],
        hidden=sum(len(o.private) + len(o.retired) for o in d.organizations),
    )
    return Page(PATH, "Disclosure", text)


def _anchor(i: int) -> str:
    # Organization names are the contributor's text: anchors are numbered, never derived.
    return f"org-{i + 1}"


def _model_href(key: str) -> str:
    return href(PATH, f"models/{key}.md")


def _organization(pb: _Builder, i: int, o: OrganizationDisclosure) -> dict[str, Any]:
    rows = [
        [
            {
                "text": pb.names[r.model],
                "href": href(PATH, f"models/{r.model}.md"),
                "sort": r.model,
            },
            # a model with no declared family is its own: a dash, not its name twice
            "—" if r.family == r.model else pb.names.get(r.family, r.family),
            STATUS_TEXT[r.status],
            {"text": fmt.count(r.battles), "sort": r.battles},
            {"text": fmt.count(r.prompts), "sort": r.prompts},
            {"text": fmt.percent(r.share), "sort": f"{r.share:.6f}"},
        ]
        for r in o.rows
    ]
    return {
        "anchor": _anchor(i),
        "name": o.organization,
        "variants": fmt.counted(o.variants, "variant"),
        "private": [pb.names[k] for k in o.private],
        "retired": [pb.names[k] for k in o.retired],
        "rows": rows,
    }
