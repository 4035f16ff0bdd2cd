"""`prefboard diff STANDINGS --judge KEY`: the humans' headline rankings against one automated
judge's, as a diff from the humans (old) to the judge (new). Every diff output and gate works
unchanged: a rank move reads "if this judge ranked instead of people, the model would move"."""

from __future__ import annotations

from prefboard.errors import PrefboardError, listed
from prefboard.standings.model import Standings


def judge_versus_humans(standings: Standings, judge: str) -> tuple[Standings, Standings]:
    """(humans, judge): the same standings holding only the human headline tables, and only
    the judge's tables filed under the same keys, for the dimensions the judge answered."""
    board = next((j for j in standings.judges if j.key == judge), None)
    if board is None:
        known = listed(j.key for j in standings.judges) if standings.judges else "none"
        raise PrefboardError(
            f"--judge {judge!r}: no such judge in these standings (judges: {known})"
        )
    humans, judged = [], []
    for table in board.tables:
        head = standings.headline(table.dimension)
        if head is None:
            continue
        humans.append(head)
        key = {"slice_attribute": head.slice_attribute, "slice_value": head.slice_value}
        judged.append(table.model_copy(update=key))
    return (
        standings.model_copy(update={"tables": humans}),
        standings.model_copy(update={"tables": judged}),
    )
