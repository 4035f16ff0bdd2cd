"""`prefboard diff --fail-on RULES`: fail a pull request when the rankings regress.

A gate is a list of rules checked against a `StandingsDiff`; each rule that trips names the
dimension, the model and the numbers, so the pull request says exactly what regressed. Rules
look at the headline table of each dimension only: slice tables are small and noisy, and a gate
that trips on noise gets overridden by habit.

- `rank-drop` or `rank-drop:N`: a model's headline rank falls by N places or more (default 1).
- `score-drop:X%`: a model's headline score falls by more than X percent of its old score;
  `score-drop:X`: by more than X points (the eval-stack rule "block the deploy if a category
  drops more than 2 %" is `score-drop:2%`).
- `new-exclusions`: more rows are excluded for some reason than before.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from prefboard.standings.diff import StandingsDiff, _Names, _num, clean, md
from prefboard.standings.model import Standings

RULES_HELP = "rank-drop[:N], score-drop:X% or score-drop:X, new-exclusions"
_RULE = re.compile(r"^(rank-drop|score-drop|new-exclusions)(?::([0-9]+(?:\.[0-9]+)?)(%?))?$")


@dataclass(frozen=True)
class Rule:
    name: str
    threshold: float = 0.0
    percent: bool = False

    @property
    def label(self) -> str:
        if self.name == "new-exclusions" or (self.name == "rank-drop" and self.threshold == 1):
            return self.name
        amount = f"{self.threshold:g}" + ("%" if self.percent else "")
        return f"{self.name}:{amount}"


@dataclass(frozen=True)
class Trip:
    """One tripped rule: which rule, where, and what happened (raw values, escaped on output)."""

    rule: str
    dimension: str  # a dimension key, or the row kind for new-exclusions
    subject: str  # a model key, or the exclusion reason
    old: float
    new: float


def parse_rules(values: tuple[str, ...] | list[str]) -> list[Rule]:
    """Rules from `--fail-on` values (each comma-separated); ValueError names a bad one."""
    rules: list[Rule] = []
    for value in values:
        for raw in value.split(","):
            text = raw.strip()
            if not text:
                continue
            rules.append(_parse_rule(text))
    return list(dict.fromkeys(rules))


def _parse_rule(text: str) -> Rule:
    match = _RULE.match(text)
    if match is None:
        raise ValueError(f"unknown rule {clean(text, 40)!r}; rules: {RULES_HELP}")
    name, amount, percent = match.group(1), match.group(2), match.group(3) == "%"
    if name == "new-exclusions":
        if amount is not None:
            raise ValueError("new-exclusions takes no threshold")
        return Rule(name)
    if name == "score-drop" and amount is None:
        raise ValueError("score-drop needs a threshold, e.g. score-drop:2% or score-drop:0.5")
    if name == "rank-drop":
        if percent or (amount is not None and (float(amount) < 1 or not amount.isdigit())):
            raise ValueError("rank-drop takes a whole number of places, e.g. rank-drop:2")
        return Rule(name, float(amount or 1))
    return Rule(name, float(amount or 0), percent)


def _score_fell(rule: Rule, old: float, new: float) -> bool:
    if not (math.isfinite(old) and math.isfinite(new)) or new >= old:
        return False
    if not rule.percent:
        return old - new > rule.threshold
    # percent of the old score's size: TrueSkill scores are positive in practice (mu0 = 25)
    return old == 0 or (old - new) / abs(old) * 100 > rule.threshold


def check(d: StandingsDiff, rules: list[Rule]) -> list[Trip]:
    """Every rule that trips, in rule order, then dimension, model and reason order."""
    trips: list[Trip] = []
    for rule in rules:
        if rule.name == "new-exclusions":
            trips += [
                Trip(rule.label, c.kind, c.reason, c.old, c.new)
                for c in d.exclusions
                if c.delta > 0
            ]
            continue
        for m in d.headline_moves:
            if m.old_rank is None or m.new_rank is None:
                continue
            if rule.name == "rank-drop" and m.new_rank - m.old_rank >= rule.threshold:
                trips.append(Trip(rule.label, m.dimension, m.model, m.old_rank, m.new_rank))
            old, new = m.old_score, m.new_score
            if rule.name != "score-drop" or old is None or new is None:
                continue
            if _score_fell(rule, old, new):
                trips.append(Trip(rule.label, m.dimension, m.model, old, new))
    return trips


def _what(trip: Trip, names: _Names) -> tuple[str, str, str]:
    """(where, who, change) for one trip, escaped by `names`."""
    if trip.rule == "new-exclusions":
        change = f"{trip.old:.0f} → {trip.new:.0f} rows (+{trip.new - trip.old:.0f})"
        return names.esc(trip.dimension), names.esc(trip.subject), change
    if trip.rule.startswith("rank-drop"):
        change = f"rank {trip.old:.0f} → {trip.new:.0f} (↓{trip.new - trip.old:.0f})"
    else:
        change = f"score {_num(trip.old)} → {_num(trip.new)} ({trip.new - trip.old:+.2f}"
        change += f", {(trip.new - trip.old) / abs(trip.old) * 100:+.1f}%)" if trip.old else ")"
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
    names = _Names(old, new, clean)
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
    names = _Names(old, new, md)
    lines = ["", "#### Gate", "", f"**{_verdict(rules, trips)}**", ""]
    if trips:
        lines += ["| Rule | Where | Model or reason | Change |", "|---|---|---|---|"]
        for trip in trips[:limit]:
            lines.append("| " + " | ".join([trip.rule, *_what(trip, names)]) + " |")
        if len(trips) > limit:
            lines += ["", f"… and {len(trips) - limit} more (see --format json)."]
        lines.append("")
    return "\n".join(lines)


def as_json(rules: list[Rule], trips: list[Trip]) -> dict[str, object]:
    def finite(x: float) -> float | None:
        return x if math.isfinite(x) else None

    return {
        "rules": [r.label for r in rules],
        "passed": not trips,
        "tripped": [
            {
                "rule": t.rule,
                "where": t.dimension,
                "subject": t.subject,
                "old": finite(t.old),
                "new": finite(t.new),
            }
            for t in trips
        ],
    }
