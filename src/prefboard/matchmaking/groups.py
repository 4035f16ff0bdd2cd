"""Groups most in need of participants: each group's sample share against its population's."""

from __future__ import annotations

import math
from collections.abc import Iterable

from prefboard.standings.model import GroupNeed, SampleShare, Standings

__all__ = ["GroupNeed", "attribute_totals", "groups_in_need"]


def attribute_totals(samples: Iterable[SampleShare]) -> dict[str, int]:
    """Participants with a known value per attribute, recovered from count / share."""
    totals: dict[str, int] = {}
    sums: dict[str, int] = {}
    for s in samples:
        sums[s.attribute] = sums.get(s.attribute, 0) + s.participants
        if s.sample_share > 0 and s.participants > 0:
            # Unpublished groups show 0 participants, so their sum would undercount; any
            # published group's count / share gives the true total.
            totals.setdefault(s.attribute, round(s.participants / s.sample_share))
    return {a: max(totals.get(a, 0), total) for a, total in sums.items()}


def groups_in_need(standings: Standings) -> list[GroupNeed]:
    """Groups with a population share, most in need of participants first.

    For a group with ``n`` of ``N`` participants (of its attribute) and population share ``p``,
    adding ``x`` participants of the group gives share ``(n + x) / (N + x)``, which reaches
    ``p`` at ``x = ceil((p N - n) / (1 - p))``. Sorted by `needed` (descending; unreachable
    first), then attribute and value.
    """
    totals = attribute_totals(standings.samples)
    out = []
    for s in standings.samples:
        if s.population_share is None:
            continue
        p = float(s.population_share)
        n_total = totals.get(s.attribute, 0)
        n = s.participants
        needed: int | None
        if p >= 1.0:
            needed = 0 if n >= n_total else None
        else:
            # The small slack keeps exact hits (e.g. 0.3 * 10 - 3) from rounding up to 1.
            needed = max(0, math.ceil((p * n_total - n) / (1.0 - p) - 1e-9))
        out.append(
            GroupNeed(
                attribute=s.attribute,
                value=s.value,
                participants=n,
                sample_share=s.sample_share,
                population_share=p,
                needed=needed,
                published=s.published,
            )
        )
    out.sort(key=lambda g: (g.needed is not None, -(g.needed or 0), g.attribute, g.value))
    return out
