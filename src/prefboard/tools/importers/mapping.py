"""Which source columns hold what: the mapping `import` reads a source with, and its presets."""

from __future__ import annotations

import re
from dataclasses import dataclass

from prefboard.config import KEY_PATTERN
from prefboard.tools.importers.report import ImportSourceError
from prefboard.tools.importers.values import normalise_key

_KEY_RE = re.compile(KEY_PATTERN)


@dataclass(frozen=True)
class PairwiseMapping:
    """Which source columns hold what, and which winner values mean what."""

    model_a: str = "model_a"
    model_b: str = "model_b"
    winner: str = "winner"
    winner_values: tuple[str, str, str] = ("model_a", "model_b", "tie")  # a / b / tie
    participant: str | None = None
    timestamp: str | None = None
    dimension: str = "overall"
    slices: tuple[str, ...] = ()  # categorical columns -> participant slice attributes
    categories: tuple[str, ...] = ()  # columns -> battle-level slices (importers/categories.py)
    prompt_id: str | None = None  # column -> the battle file's prompt_id
    optional: tuple[str, ...] = ()  # of the above, columns a source may lack (arena preset)
    extra_ties: tuple[str, ...] = ()  # also a tie, reported apart, e.g. "tie (bothbad)"
    # The source's own id of each judgement: part of the battle id, so that identical votes
    # the source tells apart stay apart and re-imports of them are recognised.
    battle_id: str | None = None

    @property
    def columns(self) -> list[str]:
        """The source columns this mapping reads."""
        named = [self.model_a, self.model_b, self.winner]
        named += [c for c in (self.participant, self.timestamp, self.battle_id) if c]
        named += [c for c in (self.prompt_id,) if c]
        return named + list(self.slices) + list(self.categories)


ARENA = PairwiseMapping(
    winner_values=("model_a", "model_b", "tie"),
    participant="judge",
    timestamp="tstamp",
    extra_ties=("tie (bothbad)",),
    # Arena exports carry these in some releases, not in others: kept when present.
    categories=("category", "language"),
    prompt_id="question_id",
    optional=("category", "language", "question_id"),
)
PAIRWISE = PairwiseMapping()
FORMATS: dict[str, PairwiseMapping] = {"arena": ARENA, "pairwise": PAIRWISE}


def check_mapping(m: PairwiseMapping) -> None:
    """Refuse a mapping no source could be imported with, before anything is read."""
    if not _KEY_RE.match(m.dimension) or len(m.dimension) > 64:
        raise ImportSourceError(f"dimension {m.dimension!r} is not a valid key ({KEY_PATTERN})")
    wins = [v.strip() for v in m.winner_values]
    if len(wins) != 3 or "" in wins or len(set(wins)) != 3:
        raise ImportSourceError("winner_values must be three distinct non-empty values (a, b, tie)")
    clash = set(wins) & {v.strip() for v in m.extra_ties}
    if clash:
        raise ImportSourceError(f"extra_ties repeats winner value(s): {', '.join(sorted(clash))}")
    attrs = [normalise_key(c) for c in m.slices]
    for col, attr in zip(m.slices, attrs, strict=True):
        if attr in ("participant_id", "strikes") or attrs.count(attr) > 1:
            raise ImportSourceError(
                f"slice column {col!r} gives attribute {attr!r} twice or "
                "clashes with a participants column"
            )
        if len(attr) > 64:
            raise ImportSourceError(f"slice column {col!r} is too long a name for an attribute")
