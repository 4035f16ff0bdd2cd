"""The `prefboard diff --fail-on` verdict for people: a terminal block and a Markdown table for
the GitHub job summary, from the trips `prefboard.standings.gate.check` found. Names are
escaped by `render.diff`'s helpers; numbers go through `render.format`."""

from __future__ import annotations

from prefboard.render import format as fmt
from prefboard.render.diff import Names, clean, md
from prefboard.standings.gate import Rule, Trip
from prefboard.standings.model import Standings


def _what(trip: Trip, names: Names) -> tuple[str, str, str]:
    """(where, who, change) for one trip, escaped by `names`."""
    if trip.rule == "new-exclusions":
        old, new = round(trip.old), round(trip.new)
        change = f"{fmt.count(old)} → {fmt.count(new)} rows ({fmt.signed_count(new - old)})"
        return names.esc(trip.dimension), names.esc(trip.subject), change
    if trip.rule.startswith("rank-drop"):
        old, new = round(trip.old), round(trip.new)
        change = f"rank {old} → {new} (↓{new - old})"
    else:
        delta = trip.new - trip.old
        share = f", {fmt.signed(delta / abs(trip.old) * 100, 1)}%" if trip.old else ""
        change = f"score {fmt.number(trip.old)} → {fmt.number(trip.new)} "
        change += f"({fmt.signed(delta)}{share})"
    return names.dim(trip.dimension), names.model(trip.subject), change


def _verdict(rules: list[Rule], trips: list[Trip]) -> str:
    labels = ", ".join(r.label for r in rules)
    if not trips:
        return f"Gate passed: {labels}."
    tripped = ", ".join(dict.fromkeys(t.rule for t in trips))
    found = f"{len(trips)} {'finding' if len(trips) == 1 else 'findings'}"
    return f"Gate failed: {found} from {tripped} (checked {labels})."


def render_text(
    rules: list[Rule], trips: list[Trip], old: Standings, new: Standings, limit: int = 50
) -> str:
    names = Names(old, new, clean)
    lines = ["", _verdict(rules, trips)]
    for trip in trips[:limit]:
        where, who, change = _what(trip, names)
        lines.append(f"  {trip.rule}: {where}: {who}: {change}")
    if len(trips) > limit:
        lines.append(f"  … and {len(trips) - limit} more.")
    return "\n".join(lines) + "\n"


def render_markdown(
    rules: list[Rule], trips: list[Trip], old: Standings, new: Standings, limit: int = 50
) -> str:
    names = Names(old, new, md)
    lines = ["", "#### Gate", "", f"**{_verdict(rules, trips)}**", ""]
    if trips:
        lines += ["| Rule | Where | Model or reason | Change |", "|---|---|---|---|"]
        for trip in trips[:limit]:
            lines.append("| " + " | ".join([trip.rule, *_what(trip, names)]) + " |")
        if len(trips) > limit:
            lines += ["", f"… and {len(trips) - limit} more (see --format json)."]
        lines.append("")
    return "\n".join(lines)
