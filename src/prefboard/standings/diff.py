"""What changed between two standings: rank moves, models, input files and exclusions.

`prefboard diff OLD NEW` reads two `standings.json` (or folders holding one) and reports the
difference for people (`render_text`), for a GitHub job summary (`render_markdown`) and for
machines (`render_json`). Everything is ordered deterministically, so the same two standings
always give byte-identical output.

The Markdown goes into a pull request's job summary, and model keys, display names, file paths
and reasons come from that untrusted pull request: every interpolated value passes through
`md()`, which shows control characters as escapes, caps the length and escapes HTML and Markdown
syntax (`prefboard.render.escape`).
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

from prefboard.render.escape import capped, markdown_inline, printable
from prefboard.standings.model import POOLED, POSTSTRATIFIED, Entry, Standings, Table

SCORE_TOLERANCE = 1e-9
VALUE_CAP = 80
NO_CHANGES = "No changes in rankings, scores, input files or exclusions."
HEADING = "### Standings diff"

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


def _key(t: Table) -> TableKey:
    return (t.dimension, t.slice_attribute, t.slice_value)


def _model_keys(s: Standings) -> set[str]:
    return {m.key for m in s.models} | {e.model for t in s.tables for e in t.entries}


def _dimension_order(old: Standings, new: Standings) -> list[str]:
    """Dimensions as the new standings list them, then ones only the old had, then the rest."""
    out: list[str] = []
    for d in [*new.dimensions, *old.dimensions]:
        if d.key not in out:
            out.append(d.key)
    extra = {t.dimension for t in [*old.tables, *new.tables]} - set(out)
    return out + sorted(extra)


def _headline_keys(old: Standings, new: Standings) -> dict[str, TableKey]:
    out: dict[str, TableKey] = {}
    for dim in _dimension_order(old, new):
        t = new.headline(dim) or old.headline(dim)
        if t is not None:
            out[dim] = _key(t)
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
    before = {_key(t): t for t in old.tables}
    after = {_key(t): t for t in new.tables}
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
# Making values safe to show


def clean(value: object, cap: int = VALUE_CAP) -> str:
    """One line of plain text for a terminal (`escape.printable`), at most `cap` characters."""
    return capped(printable(value).strip(), cap)


def md(value: object, cap: int = VALUE_CAP) -> str:
    """`clean`, then `escape.markdown_inline`: safe inside a GitHub Markdown table cell, with no
    tag, link, autolinked URL, emphasis, code span, extra cell or template syntax."""
    return markdown_inline(clean(value, cap))


def _num(x: float | None) -> str:
    if x is None:
        return "—"
    if not math.isfinite(x):
        return str(x)
    return f"{x:.2f}"


def _signed(n: int) -> str:
    return f"+{n}" if n > 0 else str(n)


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


_KIND_NOUNS = {
    "battles": ("battle", "battles"),
    "ratings": ("rating", "ratings"),
    "participants": ("participant", "participants"),
}


# ---------------------------------------------------------------------------------------------
# Shared content: what both renderers show


class _Names:
    """Display names and labels, preferring the new standings; `esc` makes them safe."""

    def __init__(self, old: Standings, new: Standings, esc: Callable[[object], str]) -> None:
        self.esc = esc
        self.models = {m.key: m.name for m in old.models} | {m.key: m.name for m in new.models}
        self.dims = {d.key: d.label for d in old.dimensions} | {
            d.key: d.label for d in new.dimensions
        }
        self.attrs = {s.attribute: s.label for s in old.slices} | {
            s.attribute: s.label for s in new.slices
        }
        self.order = {d: i for i, d in enumerate(_dimension_order(old, new))}

    def model(self, key: str) -> str:
        return self.esc(self.models.get(key) or key)

    def dim(self, key: str) -> str:
        return self.esc(self.dims.get(key) or key)

    def slice(self, attribute: str, value: str) -> str:
        if (attribute, value) == (POOLED, POOLED):
            return "pooled"
        if attribute == POSTSTRATIFIED:
            return "post-stratified by " + self.esc(self.attrs.get(value) or value)
        return f"{self.esc(self.attrs.get(attribute) or attribute)}: {self.esc(value)}"

    def kind(self, kind: str, n: int) -> str:
        one, many = _KIND_NOUNS.get(kind, (f"{kind} row", f"{kind} rows"))
        return _plural(n, self.esc(one), self.esc(many))

    def move_order(self, m: RankMove) -> tuple[object, ...]:
        big = 1 << 60
        return (
            self.order.get(m.dimension, len(self.order)),
            m.dimension,
            m.slice_attribute,
            m.slice_value,
            m.new_rank if m.new_rank is not None else big,
            m.old_rank if m.old_rank is not None else big,
            m.model,
        )


def _summary(d: StandingsDiff, names: _Names) -> str:
    """One line: models moved, added and removed, rows added per kind, exclusions."""
    if d.empty:
        return NO_CHANGES
    parts: list[str] = []
    moved = {
        m.model
        for m in d.headline_moves
        if m.old_rank is not None and m.new_rank is not None and m.rank_changed
    }
    if moved:
        parts.append(f"{_plural(len(moved), 'model')} moved in the headline ranking")
    elif d.moves:
        parts.append("no headline rank changes")
        slice_moves = [m for m in d.moves if m.rank_changed]
        if slice_moves:
            parts.append(_plural(len(slice_moves), "slice-level rank change"))
        else:
            tables = {(m.dimension, m.slice_attribute, m.slice_value) for m in d.moves}
            parts.append(f"scores moved in {_plural(len(tables), 'table')}")
    if d.models_added:
        parts.append(f"{_plural(len(d.models_added), 'model')} added")
    if d.models_removed:
        parts.append(f"{_plural(len(d.models_removed), 'model')} removed")
    for kind in sorted({f.kind for f in d.files}):
        files = [f for f in d.files if f.kind == kind]
        up = [f for f in files if f.rows_delta > 0]
        down = [f for f in files if f.rows_delta < 0]
        if up:
            n = sum(f.rows_delta for f in up)
            parts.append(f"{names.kind(kind, n)} added in {_plural(len(up), 'file')}")
        if down:
            n = -sum(f.rows_delta for f in down)
            parts.append(f"{names.kind(kind, n)} removed in {_plural(len(down), 'file')}")
    rewritten = [f for f in d.files if f.rows_delta == 0 and f.status == "changed"]
    if rewritten:
        parts.append(f"{_plural(len(rewritten), 'file')} changed with the same row count")
    newly = sum(c.delta for c in d.exclusions if c.delta > 0)
    freed = -sum(c.delta for c in d.exclusions if c.delta < 0)
    if newly:
        parts.append(f"{_plural(newly, 'row')} newly excluded")
    if freed:
        parts.append(f"{_plural(freed, 'row')} no longer excluded")
    if d.tables_added:
        parts.append(f"{_plural(len(d.tables_added), 'table')} added")
    if d.tables_removed:
        parts.append(f"{_plural(len(d.tables_removed), 'table')} removed")
    text = ", ".join(parts)
    return text[:1].upper() + text[1:]


def _band(m: RankMove) -> tuple[float, float] | None:
    return m.new_band if m.new_band is not None else m.old_band


def _band_text(m: RankMove) -> str:
    band = _band(m)
    return "—" if band is None else f"{_num(band[0])} – {_num(band[1])}"


def _score_text(m: RankMove) -> str:
    text = f"{_num(m.old_score)} → {_num(m.new_score)}"
    if m.old_score is not None and m.new_score is not None:
        delta = m.new_score - m.old_score
        if math.isfinite(delta):
            text += f" ({delta:+.2f})"
    return text


def _rank_text(m: RankMove) -> str:
    return str(m.new_rank) if m.new_rank is not None else f"({m.old_rank})"


@dataclass
class _Section:
    title: str
    header: list[str]
    rows: list[list[str]]
    total: int
    note: str = ""


def _sections(
    d: StandingsDiff, old: Standings, new: Standings, names: _Names, limit: int
) -> tuple[_Section, list[str], list[_Section]]:
    """The headline table, notes on the data, and the detail tables, all cells escaped."""
    esc = names.esc
    limit = max(limit, 0)

    ranked = sorted((m for m in d.headline_moves if m.rank_changed), key=names.move_order)
    headline = _Section(
        "Headline rankings",
        ["Dimension", "Rank", "Change", "Model", "Score", "Band"],
        [
            [
                names.dim(m.dimension),
                _rank_text(m),
                m.change,
                names.model(m.model),
                _score_text(m),
                _band_text(m),
            ]
            for m in ranked[:limit]
        ],
        len(ranked),
    )

    notes = [
        f"Old: version {esc(old.version)}, data through {esc(old.provenance.data_through or '—')}"
        f"; new: version {esc(new.version)}, "
        f"data through {esc(new.provenance.data_through or '—')}."
    ]
    if d.headline_tables:
        bases = [
            f"{names.dim(dim)} {names.slice(key[1], key[2])}"
            for dim, key in d.headline_tables.items()
        ]
        notes.append("Headline rankings: " + "; ".join(bases) + ".")
    for dim, key in d.headline_tables.items():
        before, after = old.headline(dim), new.headline(dim)
        if before is not None and after is not None and _key(before) != key:
            notes.append(
                f"The headline for {names.dim(dim)} changed basis from "
                f"{names.slice(before.slice_attribute, before.slice_value)} to "
                f"{names.slice(key[1], key[2])}; compare its slice tables."
            )
    if d.models_added:
        notes.append("Models added: " + ", ".join(names.model(k) for k in d.models_added) + ".")
    if d.models_removed:
        notes.append("Models removed: " + ", ".join(names.model(k) for k in d.models_removed) + ".")

    details: list[_Section] = []
    slice_moves = sorted(
        (m for m in d.moves if m.rank_changed and not m.headline), key=names.move_order
    )
    score_only = sum(1 for m in d.moves if not m.rank_changed)
    details.append(
        _Section(
            "Slice-level rank changes",
            ["Dimension", "Slice", "Rank", "Change", "Model", "Score"],
            [
                [
                    names.dim(m.dimension),
                    names.slice(m.slice_attribute, m.slice_value),
                    _rank_text(m),
                    m.change,
                    names.model(m.model),
                    _score_text(m),
                ]
                for m in slice_moves[:limit]
            ],
            len(slice_moves),
            (
                f"{_plural(score_only, 'score change')} with the rank unchanged not listed."
                if score_only
                else ""
            ),
        )
    )
    details.append(
        _Section(
            "Input files",
            ["File", "Kind", "Status", "Rows", "Change", "Accepted", "Content"],
            [
                [
                    esc(f.path),
                    esc(f.kind),
                    f.status,
                    f"{_num_int(f.old_rows)} → {_num_int(f.new_rows)}",
                    _signed(f.rows_delta),
                    f"{_num_int(f.old_accepted)} → {_num_int(f.new_accepted)}",
                    "changed" if f.sha_changed else "same",
                ]
                for f in d.files[:limit]
            ],
            len(d.files),
        )
    )
    details.append(
        _Section(
            "Excluded rows",
            ["Kind", "Reason", "Old", "New", "Change"],
            [
                [esc(c.kind), esc(c.reason), str(c.old), str(c.new), _signed(c.delta)]
                for c in d.exclusions[:limit]
            ],
            len(d.exclusions),
        )
    )
    tables = [(k, "added") for k in d.tables_added] + [(k, "removed") for k in d.tables_removed]
    tables.sort(key=lambda kt: (names.order.get(kt[0][0], len(names.order)), kt[0], kt[1]))
    details.append(
        _Section(
            "Tables",
            ["Dimension", "Slice", "Status"],
            [[names.dim(k[0]), names.slice(k[1], k[2]), status] for k, status in tables[:limit]],
            len(tables),
        )
    )
    return headline, notes, [s for s in details if s.total or s.note]


def _num_int(n: int | None) -> str:
    return "—" if n is None else str(n)


def _more(section: _Section) -> str:
    hidden = section.total - len(section.rows)
    return f"… and {hidden} more (see --format json)." if hidden > 0 else ""


# ---------------------------------------------------------------------------------------------
# Markdown


def _md_table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def markdown_parts(
    d: StandingsDiff, old: Standings, new: Standings, limit: int = 50
) -> tuple[list[str], list[str]]:
    """The Markdown lines shown at once (summary line and headline table) and the lines to fold
    away (notes and detail tables); the caller chooses how to fold. Every value is escaped."""
    names = _Names(old, new, md)
    headline, notes, details = _sections(d, old, new, names, limit)
    top = [_summary(d, names), ""]
    if headline.total:
        top += _md_table(headline.header, headline.rows)
        if _more(headline):
            top += ["", _more(headline)]
    else:
        top.append("No headline rank changes.")
    folded: list[str] = []
    for note in notes:
        folded += [note, ""]
    for section in details:
        folded += [f"#### {section.title}", ""]
        if section.rows:
            folded += [*_md_table(section.header, section.rows), ""]
        for extra in (_more(section), section.note):
            if extra:
                folded += [extra, ""]
    return top, folded


def render_markdown(d: StandingsDiff, old: Standings, new: Standings, limit: int = 50) -> str:
    """A compact GitHub job summary: heading, one summary line, the headline rank changes, and
    the rest folded in a `<details>` block (GitHub renders Markdown inside it)."""
    if d.empty:
        return f"{HEADING}\n\n{NO_CHANGES}\n"
    top, folded = markdown_parts(d, old, new, limit)
    lines = [HEADING, "", *top, "", "<details><summary>Details</summary>", "", *folded]
    return "\n".join([*lines, "</details>", ""])


# ---------------------------------------------------------------------------------------------
# Text


def _width(text: str) -> int:
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def _text_table(header: list[str], rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(row: list[str]) -> str:
        cells = [c + " " * (w - _width(c)) for c, w in zip(row, widths, strict=True)]
        return (indent + "  ".join(cells)).rstrip()

    rule = [["-" * w for w in widths]]
    return [line(r) for r in [header, *rule, *rows]]


def render_text(d: StandingsDiff, old: Standings, new: Standings, limit: int = 50) -> str:
    """Aligned columns for a terminal; the same content as the Markdown."""
    if d.empty:
        return NO_CHANGES + "\n"
    names = _Names(old, new, clean)
    headline, notes, details = _sections(d, old, new, names, limit)
    lines = [_summary(d, names), "", headline.title]
    if headline.total:
        lines += _text_table(headline.header, headline.rows)
        if _more(headline):
            lines.append("  " + _more(headline))
    else:
        lines.append("  No headline rank changes.")
    lines += ["", *notes]
    for section in details:
        lines += ["", section.title]
        if section.rows:
            lines += _text_table(section.header, section.rows)
        lines += ["  " + extra for extra in (_more(section), section.note) if extra]
    return "\n".join(lines) + "\n"


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
