"""Which tables a plan covers: battle dimensions, a slice's table, pair counts so far."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from prefboard.standings.model import POOLED, POSTSTRATIFIED, Pair, Standings, Table

__all__ = [
    "PairKey",
    "Plannable",
    "battle_dimensions",
    "pair_counts",
    "pair_key",
    "pairs_of",
    "select_tables",
]


@dataclass(frozen=True)
class Plannable:
    dimension: str
    table: Table


def battle_dimensions(standings: Standings) -> list[str]:
    return [d.key for d in standings.dimensions if d.battles]


def _slice_labels(standings: Standings, dimension: str) -> str:
    labels = [
        f"{t.slice_attribute}={t.slice_value}"
        for t in standings.tables
        if t.dimension == dimension and t.slice_attribute != POSTSTRATIFIED
    ]
    return ", ".join(labels) if labels else "(none)"


def select_tables(
    standings: Standings, dimension: str | None, attribute: str, value: str
) -> list[Plannable]:
    battle_dims = battle_dimensions(standings)
    if attribute == POSTSTRATIFIED:
        raise ValueError(
            "the post-stratified table combines several groups and cannot be battled directly; "
            f"plan on the pooled table ({POOLED}={POOLED}) or on one group"
        )
    if dimension is not None:
        if dimension not in battle_dims:
            known = ", ".join(battle_dims) or "(none)"
            if any(d.key == dimension for d in standings.dimensions):
                raise ValueError(
                    f"dimension {dimension!r} is rated on a scale only and has no battles; "
                    f"battle dimensions: {known}"
                )
            raise ValueError(f"unknown dimension {dimension!r}; battle dimensions: {known}")
        dims = [dimension]
    else:
        if not battle_dims:
            raise ValueError("the standings have no battle dimensions to plan for")
        dims = battle_dims
    found = [
        Plannable(d, t) for d in dims if (t := standings.table(d, attribute, value)) is not None
    ]
    if found:
        return found
    where = f"dimension {dims[0]!r}" if len(dims) == 1 else "any battle dimension"
    for s in standings.slices:
        if s.attribute == attribute and value in s.values and value not in s.published:
            raise ValueError(
                f"group {attribute}={value} is not published (fewer participants than the "
                "privacy threshold), so it has no table to plan on"
            )
    raise ValueError(
        f"no table for slice {attribute}={value} in {where}; "
        f"available in {dims[0]!r}: {_slice_labels(standings, dims[0])}"
    )


PairKey = tuple[str, str, str]


def pair_key(dimension: str, a: str, b: str) -> PairKey:
    """A pair in a dimension, whichever model is named first."""
    return (dimension, a, b) if a <= b else (dimension, b, a)


def pair_counts(
    standings: Standings, dimension: str, wanted: Iterable[tuple[str, str]]
) -> dict[PairKey, int]:
    """Battles so far of (at least) the ``wanted`` pairs of a dimension's pooled table, by
    :func:`pair_key`; a wanted pair missing never met. Only pairs of two wanted models are
    keyed: a plan shows ~10 pairs, and keying all ~45 k of a 300-model board's dimension for
    them took ~0.2 CPU s per build."""
    names = {m for pair in wanted for m in pair}
    return {
        pair_key(dimension, p.model_a, p.model_b): p.battles
        for p in pairs_of(standings, dimension)
        if p.model_a in names and p.model_b in names
    }


# The pairs of each dimension, in standings order, for the last standings' pair list seen
# (identity checked): the plan stage reads one dimension's pairs at a time, and scanning all
# ~270 k pairs of a 300-model board again for each of 6 dimensions, twice, took ~2 s.
_BY_DIMENSION: list[tuple[list[Pair], dict[str, list[Pair]]]] = []


def pairs_of(standings: Standings, dimension: str) -> list[Pair]:
    """The standings' pairs of one dimension, in their order."""
    held = _BY_DIMENSION[0] if _BY_DIMENSION else None  # one read: the plan stage has 2 threads
    if held is None or held[0] is not standings.pairs:
        grouped: dict[str, list[Pair]] = {}
        for p in standings.pairs:
            grouped.setdefault(p.dimension, []).append(p)
        held = (standings.pairs, grouped)
        _BY_DIMENSION[:] = [held]
    return held[1].get(dimension, [])
