"""`prefboard diff` for people: a terminal table (`render_text`) and a GitHub job summary
(`render_markdown`, `markdown_parts` for the "What changed" page), from a `StandingsDiff`
computed by `prefboard.standings.diff`.

The Markdown goes into a pull request's job summary, and model keys, display names, file paths
and reasons come from that untrusted pull request: every interpolated value passes through
`md()`, which shows control characters as escapes, caps the length and escapes HTML and Markdown
syntax (`prefboard.render.escape`). Numbers go through `prefboard.render.format`.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from prefboard.render import format as fmt
from prefboard.render.escape import capped, markdown_inline, printable
from prefboard.standings.diff import RankMove, StandingsDiff, dimension_order, table_key
from prefboard.standings.model import POOLED, POSTSTRATIFIED, Standings

VALUE_CAP = 80
NO_CHANGES = "No changes in rankings, scores, input files or exclusions."
HEADING = "### Standings diff"


# ---------------------------------------------------------------------------------------------
# Making values safe to show


def clean(value: object, cap: int = VALUE_CAP) -> str:
    """One line of plain text for a terminal (`escape.printable`), at most `cap` characters."""
    return capped(printable(value).strip(), cap)


def md(value: object, cap: int = VALUE_CAP) -> str:
    """`clean`, then `escape.markdown_inline`: safe inside a GitHub Markdown table cell, with no
    tag, link, autolinked URL, emphasis, code span, extra cell or template syntax."""
    return markdown_inline(clean(value, cap))


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


_KIND_NOUNS = {k: (k[:-1], k) for k in ("battles", "ratings", "participants")}


# ---------------------------------------------------------------------------------------------
# Shared content: what both renderers show


class Names:
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
        self.order = {d: i for i, d in enumerate(dimension_order(old, new))}

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


def _summary(d: StandingsDiff, names: Names) -> str:
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
    ends = _band(m)
    return fmt.MISSING if ends is None else fmt.band(*ends)


def _score_text(m: RankMove) -> str:
    text = f"{fmt.number(m.old_score)} → {fmt.number(m.new_score)}"
    if m.old_score is not None and m.new_score is not None:
        delta = m.new_score - m.old_score
        if math.isfinite(delta):
            text += f" ({fmt.signed(delta)})"
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
    d: StandingsDiff, old: Standings, new: Standings, names: Names, limit: int
) -> tuple[_Section, list[str], list[_Section]]:
    """The headline table, notes on the data, and the detail tables, all cells escaped."""
    limit = max(limit, 0)
    details = [
        _slice_section(d, names, limit),
        _files_section(d, names, limit),
        _exclusions_section(d, names, limit),
        _tables_section(d, names, limit),
    ]
    headline = _headline_section(d, names, limit)
    return headline, _notes(d, old, new, names), [s for s in details if s.total or s.note]


def _headline_section(d: StandingsDiff, names: Names, limit: int) -> _Section:
    ranked = sorted((m for m in d.headline_moves if m.rank_changed), key=names.move_order)
    rows = [
        [
            names.dim(m.dimension),
            _rank_text(m),
            m.change,
            names.model(m.model),
            _score_text(m),
            _band_text(m),
        ]
        for m in ranked[:limit]
    ]
    header = ["Dimension", "Rank", "Change", "Model", "Score", "Band"]
    return _Section("Headline rankings", header, rows, len(ranked))


def _notes(d: StandingsDiff, old: Standings, new: Standings, names: Names) -> list[str]:
    """Versions and data dates, what each headline ranks by (and a change of basis), models
    added and removed."""
    esc = names.esc
    notes = [
        f"Old: version {esc(old.version)}, "
        f"data through {esc(old.provenance.data_through or fmt.MISSING)}"
        f"; new: version {esc(new.version)}, "
        f"data through {esc(new.provenance.data_through or fmt.MISSING)}."
    ]
    if d.headline_tables:
        bases = [
            f"{names.dim(dim)} {names.slice(key[1], key[2])}"
            for dim, key in d.headline_tables.items()
        ]
        notes.append("Headline rankings: " + "; ".join(bases) + ".")
    for dim, key in d.headline_tables.items():
        before, after = old.headline(dim), new.headline(dim)
        if before is not None and after is not None and table_key(before) != key:
            notes.append(
                f"The headline for {names.dim(dim)} changed basis from "
                f"{names.slice(before.slice_attribute, before.slice_value)} to "
                f"{names.slice(key[1], key[2])}; compare its slice tables."
            )
    if d.models_added:
        notes.append("Models added: " + ", ".join(names.model(k) for k in d.models_added) + ".")
    if d.models_removed:
        notes.append("Models removed: " + ", ".join(names.model(k) for k in d.models_removed) + ".")
    return notes


def _slice_section(d: StandingsDiff, names: Names, limit: int) -> _Section:
    slice_moves = sorted(
        (m for m in d.moves if m.rank_changed and not m.headline), key=names.move_order
    )
    score_only = sum(1 for m in d.moves if not m.rank_changed)
    rows = [
        [
            names.dim(m.dimension),
            names.slice(m.slice_attribute, m.slice_value),
            _rank_text(m),
            m.change,
            names.model(m.model),
            _score_text(m),
        ]
        for m in slice_moves[:limit]
    ]
    note = ""
    if score_only:
        note = f"{_plural(score_only, 'score change')} with the rank unchanged not listed."
    header = ["Dimension", "Slice", "Rank", "Change", "Model", "Score"]
    return _Section("Slice-level rank changes", header, rows, len(slice_moves), note)


def _files_section(d: StandingsDiff, names: Names, limit: int) -> _Section:
    rows = [
        [
            names.esc(f.path),
            names.esc(f.kind),
            f.status,
            f"{fmt.count(f.old_rows)} → {fmt.count(f.new_rows)}",
            fmt.signed_count(f.rows_delta),
            f"{fmt.count(f.old_accepted)} → {fmt.count(f.new_accepted)}",
            "changed" if f.sha_changed else "same",
        ]
        for f in d.files[:limit]
    ]
    header = ["File", "Kind", "Status", "Rows", "Change", "Accepted", "Content"]
    return _Section("Input files", header, rows, len(d.files))


def _exclusions_section(d: StandingsDiff, names: Names, limit: int) -> _Section:
    rows = [
        [
            names.esc(c.kind),
            names.esc(c.reason),
            fmt.count(c.old),
            fmt.count(c.new),
            fmt.signed_count(c.delta),
        ]
        for c in d.exclusions[:limit]
    ]
    header = ["Kind", "Reason", "Old", "New", "Change"]
    return _Section("Excluded rows", header, rows, len(d.exclusions))


def _tables_section(d: StandingsDiff, names: Names, limit: int) -> _Section:
    tables = [(k, "added") for k in d.tables_added] + [(k, "removed") for k in d.tables_removed]
    tables.sort(key=lambda kt: (names.order.get(kt[0][0], len(names.order)), kt[0], kt[1]))
    rows = [[names.dim(k[0]), names.slice(k[1], k[2]), status] for k, status in tables[:limit]]
    return _Section("Tables", ["Dimension", "Slice", "Status"], rows, len(tables))


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
    names = Names(old, new, md)
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
    names = Names(old, new, clean)
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
