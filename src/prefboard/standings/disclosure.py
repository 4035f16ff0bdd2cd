"""Disclosure: which variants each organization had tested, how much of the board each saw, and
which were never made public.

The "leaderboard illusion" critique of Chatbot Arena (Singh et al., 2025) is that undisclosed
private variants, tested at length and only the best published, inflate a provider's rank. A
reader can only judge that with the counts in front of them: per organization the variants
tested, each one's battles and share of the prompts, and the private ones by name. The rating
stage counts each model's battles and prompts (`ModelInfo.battles`, `.prompts`); `disclose`,
in the analysis stage, groups them here, so the Disclosure page only formats.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from prefboard.standings.base import Frozen

if TYPE_CHECKING:
    # model.py imports this module for `Analysis.disclosure`
    from prefboard.standings.model import ModelInfo

Status = Literal["public", "private", "retired"]
UNSTATED = "(organization not stated)"


class VariantUse(Frozen):
    model: str
    family: str = Field(description="`[[models]] family`, or the model's own key when unset.")
    status: Status = "public"
    battles: int = Field(description="Accepted battles the model took part in (any dimension).")
    prompts: int = Field(
        description="Distinct prompts among them (a battle without a prompt id counts as one)."
    )
    share: float = Field(description="prompts / the board's `Disclosure.total`.")


class OrganizationDisclosure(Frozen):
    organization: str = Field(description="As configured; `(organization not stated)` if empty.")
    variants: int = Field(description="Models of this organization with at least one battle.")
    families: int = Field(description="Distinct families among those variants.")
    battles: int = Field(description="Sum of the variants' battles (an in-house battle twice).")
    private: list[str] = Field(
        default_factory=list, description="Keys of the variants never made public (`private`)."
    )
    retired: list[str] = Field(default_factory=list, description="Keys of retired variants.")
    rows: list[VariantUse] = Field(default_factory=list, description="Most battles first.")


class Disclosure(Frozen):
    unit: Literal["prompts", "battles"] = Field(
        "battles",
        description="`prompts` when battles carry prompt ids, else `battles` (each battle its "
        "own prompt): what `total` and every `share` count.",
    )
    total: int = Field(0, description="Distinct prompts (or battles) on the board.")
    organizations: list[OrganizationDisclosure] = Field(
        default_factory=list, description="Most battles first; ties by name."
    )


def disclose(models: Sequence[ModelInfo], prompts: int, battles: int) -> Disclosure:
    """Group the models' counts by organization. `prompts` is the board's distinct prompts (0
    when no battle has a prompt id: shares are then of `battles`, the accepted battles)."""
    unit: Literal["prompts", "battles"] = "prompts" if prompts else "battles"
    total = prompts or battles
    by_org: dict[str, list[ModelInfo]] = {}
    for m in models:
        if m.battles:
            by_org.setdefault(m.organization or UNSTATED, []).append(m)
    orgs = [_organization(name, tested, total) for name, tested in by_org.items()]
    orgs.sort(key=lambda o: (-o.battles, o.organization))
    return Disclosure(unit=unit, total=total, organizations=orgs)


def _organization(name: str, tested: list[ModelInfo], total: int) -> OrganizationDisclosure:
    # Without prompt ids each battle is its own prompt, so a model's prompts are its battles.
    rows = [
        VariantUse(
            model=m.key,
            family=m.family or m.key,
            status=m.status,
            battles=m.battles,
            prompts=m.prompts,
            share=m.prompts / total if total else 0.0,
        )
        for m in tested
    ]
    rows.sort(key=lambda r: (-r.battles, r.model))
    return OrganizationDisclosure(
        organization=name,
        variants=len(rows),
        families=len({r.family for r in rows}),
        battles=sum(r.battles for r in rows),
        private=sorted(r.model for r in rows if r.status == "private"),
        retired=sorted(r.model for r in rows if r.status == "retired"),
        rows=rows,
    )
