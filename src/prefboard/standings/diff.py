"""What changed between two standings: rank moves, models, input files and exclusions.

`prefboard diff OLD NEW` reads two `standings.json` (or folders holding one); `diff_standings`
computes the difference, `render_json` gives it to machines, and `prefboard.render.diff` shows
it to people (terminal text, GitHub job summary). Everything is ordered deterministically, so
the same two standings always give byte-identical output.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from prefboard.standings.model import Entry, Standings, Table

SCORE_TOLERANCE = 1e-9

TableKey = tuple[str, str, str]


@dataclass(frozen=True)
class RankMove:
    """One model in one table whose rank or score changed, or which entered or left it."""

    dimension: str
    slice_attribute: str
    slice_value: str
    model: str
    old_rank: int | None
    new_rank: int | None
    old_score: float | None
    new_score: float | None
    old_band: tuple[float, float] | None
    new_band: tuple[float, float] | None
    headline: bool = False

    @property
    def rank_changed(self) -> bool:
        return self.old_rank != self.new_rank

    @property
    def change(self) -> str:
        """`↑2` (better), `↓1` (worse), `new`, `gone`, or `=` (score only)."""
        if self.old_rank is None:
            return "new"
        if self.new_rank is None:
            return "gone"
        if self.new_rank < self.old_rank:
            return f"↑{self.old_rank - self.new_rank}"
        if self.new_rank > self.old_rank:
            return f"↓{self.new_rank - self.old_rank}"
        return "="


@dataclass(frozen=True)
class FileChange:
    """An input file that was added, removed, or whose rows or content changed."""

    path: str
    kind: str
    status: str  # "added", "removed" or "changed"
    old_rows: int | None
    new_rows: int | None
    old_accepted: int | None
    new_accepted: int | None
    sha_changed: bool

    @property
    def rows_delta(self) -> int:
        return (self.new_rows or 0) - (self.old_rows or 0)


@dataclass(frozen=True)
class ExclusionChange:
    kind: str
    reason: str
    old: int
    new: int

    @property
    def delta(self) -> int:
        return self.new - self.old


@dataclass(frozen=True)
class StandingsDiff:
    models_added: list[str]
    models_removed: list[str]
    moves: list[RankMove]
    files: list[FileChange]
    exclusions: list[ExclusionChange]
    tables_added: list[TableKey]
    tables_removed: list[TableKey]
    headline_tables: dict[str, TableKey]

    @property
    def empty(self) -> bool:
        return not (
            self.models_added
            or self.models_removed
            or self.moves
            or self.files
            or self.exclusions
            or self.tables_added
            or self.tables_removed
        )

    @property
    def headline_moves(self) -> list[RankMove]:
        return [m for m in self.moves if m.headline]


@dataclass(frozen=True)
class Comparison:
    """A previous version's standings and what changed since (computed by the analysis stage,
    `analysis.compare`), for the "What changed" page."""

    label: str
    before: Standings
    changes: StandingsDiff


# ---------------------------------------------------------------------------------------------
# Computing the diff


def table_key(t: Table) -> TableKey:
    return (t.dimension, t.slice_attribute, t.slice_value)


def _model_keys(s: Standings) -> set[str]:
    return {m.key for m in s.models} | {e.model for t in s.tables for e in t.entries}


def dimension_order(old: Standings, new: Standings) -> list[str]:
    """Dimensions as the new standings list them, then ones only the old had, then the rest."""
    out: list[str] = []
    for d in [*new.dimensions, *old.dimensions]:
        if d.key not in out:
            out.append(d.key)
    extra = {t.dimension for t in [*old.tables, *new.tables]} - set(out)
    return out + sorted(extra)


def _headline_keys(old: Standings, new: Standings) -> dict[str, TableKey]:
    out: dict[str, TableKey] = {}
    for dim in dimension_order(old, new):
        t = new.headline(dim) or old.headline(dim)
        if t is not None:
            out[dim] = table_key(t)
    return out


def _score_moved(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) != math.isnan(b)
    if a == b:  # equal infinities included
        return False
    return not abs(a - b) <= SCORE_TOLERANCE


def _entry_moved(a: Entry, b: Entry) -> bool:
    return a.rank != b.rank or _score_moved(a.score, b.score)


def _move(key: TableKey, model: str, a: Entry | None, b: Entry | None, headline: bool) -> RankMove:
    return RankMove(
        dimension=key[0],
        slice_attribute=key[1],
        slice_value=key[2],
        model=model,
        old_rank=a.rank if a else None,
        new_rank=b.rank if b else None,
        old_score=a.score if a else None,
        new_score=b.score if b else None,
        old_band=(a.lower, a.upper) if a else None,
        new_band=(b.lower, b.upper) if b else None,
        headline=headline,
    )


def _table_moves(key: TableKey, old: Table, new: Table, headline: bool) -> list[RankMove]:
    before = {e.model: e for e in old.entries}
    after = {e.model: e for e in new.entries}
    moves = []
    for model in sorted(before.keys() | after.keys()):
        a, b = before.get(model), after.get(model)
        if a is not None and b is not None and not _entry_moved(a, b):
            continue
        moves.append(_move(key, model, a, b, headline))
    return moves


def _file_changes(old: Standings, new: Standings) -> list[FileChange]:
    before = {f.path: f for f in old.provenance.files}
    after = {f.path: f for f in new.provenance.files}
    out = []
    for path in before.keys() | after.keys():
        a, b = before.get(path), after.get(path)
        if a is not None and b is not None:
            same = (a.sha256, a.rows, a.accepted, a.kind) == (b.sha256, b.rows, b.accepted, b.kind)
            if same:
                continue
        ref = b if b is not None else a
        assert ref is not None
        out.append(
            FileChange(
                path=path,
                kind=ref.kind,
                status="added" if a is None else "removed" if b is None else "changed",
                old_rows=a.rows if a else None,
                new_rows=b.rows if b else None,
                old_accepted=a.accepted if a else None,
                new_accepted=b.accepted if b else None,
                sha_changed=a is None or b is None or a.sha256 != b.sha256,
            )
        )
    return sorted(out, key=lambda f: (f.kind, f.path))


def _exclusion_changes(old: Standings, new: Standings) -> list[ExclusionChange]:
    def flat(s: Standings) -> dict[tuple[str, str], int]:
        return {
            (kind, reason): n
            for kind, reasons in s.provenance.excluded.items()
            for reason, n in reasons.items()
        }

    before, after = flat(old), flat(new)
    out = [
        ExclusionChange(kind, reason, before.get((kind, reason), 0), after.get((kind, reason), 0))
        for kind, reason in sorted(before.keys() | after.keys())
    ]
    return [c for c in out if c.old != c.new]


def diff_standings(old: Standings, new: Standings) -> StandingsDiff:
    """Everything that differs between `old` and `new`, each list in a fixed order."""
    old_models, new_models = _model_keys(old), _model_keys(new)
    before = {table_key(t): t for t in old.tables}
    after = {table_key(t): t for t in new.tables}
    headlines = _headline_keys(old, new)
    headline_set = set(headlines.values())
    moves: list[RankMove] = []
    for key in sorted(before.keys() & after.keys()):
        moves += _table_moves(key, before[key], after[key], key in headline_set)
    moves.sort(key=lambda m: (m.dimension, m.slice_attribute, m.slice_value, m.model))
    return StandingsDiff(
        models_added=sorted(new_models - old_models),
        models_removed=sorted(old_models - new_models),
        moves=moves,
        files=_file_changes(old, new),
        exclusions=_exclusion_changes(old, new),
        tables_added=sorted(after.keys() - before.keys()),
        tables_removed=sorted(before.keys() - after.keys()),
        headline_tables=headlines,
    )


# ---------------------------------------------------------------------------------------------
# JSON


def _jsonable(value: object) -> object:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def render_json(d: StandingsDiff, gate: dict[str, object] | None = None) -> str:
    """The whole diff as JSON with sorted keys; non-finite numbers become null. `gate` is the
    `--fail-on` verdict, under the key "gate"."""
    data = asdict(d)
    if gate is not None:
        data["gate"] = gate
    data["empty"] = d.empty
    for move, raw in zip(d.moves, data["moves"], strict=True):
        raw["change"] = move.change
    for f, raw in zip(d.files, data["files"], strict=True):
        raw["rows_delta"] = f.rows_delta
    for c, raw in zip(d.exclusions, data["exclusions"], strict=True):
        raw["delta"] = c.delta
    return json.dumps(_jsonable(data), sort_keys=True, indent=1, allow_nan=False) + "\n"


# The renderers moved to `prefboard.render.diff` (which imports this module); their old names
# here still work, looked up lazily.
_RENDERED = frozenset(
    {"HEADING", "NO_CHANGES", "clean", "markdown_parts", "md", "render_markdown", "render_text"}
)
if TYPE_CHECKING:
    # fmt: off
    from prefboard.render.diff import HEADING as HEADING
    from prefboard.render.diff import NO_CHANGES as NO_CHANGES
    from prefboard.render.diff import clean as clean
    from prefboard.render.diff import markdown_parts as markdown_parts
    from prefboard.render.diff import md as md
    from prefboard.render.diff import render_markdown as render_markdown
    from prefboard.render.diff import render_text as render_text
    # fmt: on


def __getattr__(name: str) -> object:
    if name in _RENDERED:
        from prefboard.render import diff

        return getattr(diff, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
