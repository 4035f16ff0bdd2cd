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

The verdict's text for people is `prefboard.render.gate`; `as_json` is the machine form.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prefboard.errors import RuleError
from prefboard.render.diff import clean
from prefboard.standings.diff import StandingsDiff

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
    """Rules from `--fail-on` values (each comma-separated); `RuleError` names a bad one."""
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
        raise RuleError(f"unknown rule {clean(text, 40)!r}; rules: {RULES_HELP}")
    name, amount, percent = match.group(1), match.group(2), match.group(3) == "%"
    if name == "new-exclusions":
        if amount is not None:
            raise RuleError("new-exclusions takes no threshold")
        return Rule(name)
    if name == "score-drop" and amount is None:
        raise RuleError("score-drop needs a threshold, e.g. score-drop:2% or score-drop:0.5")
    if name == "rank-drop":
        if percent or (amount is not None and (float(amount) < 1 or not amount.isdigit())):
            raise RuleError("rank-drop takes a whole number of places, e.g. rank-drop:2")
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


# The text renderers moved to `prefboard.render.gate` (which imports this module); their old
# names here still work, looked up lazily.
if TYPE_CHECKING:
    from prefboard.render.gate import render_markdown as render_markdown
    from prefboard.render.gate import render_text as render_text


def __getattr__(name: str) -> object:
    if name in ("render_text", "render_markdown"):
        from prefboard.render import gate

        return getattr(gate, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
