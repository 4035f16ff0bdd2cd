"""The checks every kind of result file shares: one combined frame per kind, each row flagged
with the first rule it broke, and messages that say which cell, what was found and why."""

from __future__ import annotations

import difflib
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from prefboard.errors import Problem
from prefboard.ingest.cellbytes import ascending, ascii_only, fixed_width_keys
from prefboard.ingest.csvread import RawTable

MAX_CELL_CHARS = 1_000
MAX_PROBLEMS_PER_RULE = 200


class Checker:
    """Flags rows of one combined frame, keeping the first rule each row broke."""

    def __init__(self, frame: pd.DataFrame, colmaps: dict[str, dict[str, int]]) -> None:
        self.frame = frame
        self.colmaps = colmaps
        self.reason = np.full(len(frame), None, dtype=object)
        self.problems: list[Problem] = []
        self.counts: Counter[str] = Counter()
        # rows excluded because of another file's problem, reported with it: {kind: rows}
        self.folded: dict[str, int] = {}
        # a block checked apart (`apart`): each flag as (rule, rows, problems made), so that
        # `merge` reports what checking the blocks one after the other would have
        self.events: list[tuple[str, int, int]] | None = None
        self._filled: dict[str, np.ndarray] = {}

    def filled(self, column: str) -> np.ndarray:
        """Which cells of `column` are not empty: `frame[column] != ""`, from the cells' byte
        lengths, and once per column (five checks ask; pandas' comparison took ~0.5 ms per
        200,000 cells each time)."""
        if column not in self._filled:
            lengths = pc.binary_length(arrow_text(self.frame[column]))
            # a missing cell is not "" (pandas: NaN != "" holds), though parsed cells never are
            filled = pc.fill_null(pc.greater(lengths, 0), True)
            self._filled[column] = np.asarray(filled, dtype=bool)
        return self._filled[column]

    def flag(
        self, mask: np.ndarray | pd.Series, column: str, rule: str, message: Callable[[int], str]
    ) -> None:
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        if not len(idx):
            return
        fresh = idx[self.reason[idx] == None]  # noqa: E711 - elementwise on an object array
        self.reason[fresh] = f"invalid:{rule}"
        files = self.frame["_file"].to_numpy()
        lines = self.frame["_line"].to_numpy()
        shown = idx[: max(0, MAX_PROBLEMS_PER_RULE - self.counts[rule])]
        for i in shown:
            col = self.colmaps[files[i]].get(column, 0)
            self.problems.append(Problem(files[i], int(lines[i]), col, rule, message(int(i))))
        self.counts[rule] += len(idx)
        if self.events is not None:
            self.events.append((rule, len(idx), len(shown)))

    def part(self, frame: pd.DataFrame) -> Checker:
        """A checker of `frame` (a block of the rows) reporting into this one's problems and
        counts, so the limit on messages per rule counts over every block."""
        part = Checker(frame, self.colmaps)
        part.problems, part.counts, part.folded = self.problems, self.counts, self.folded
        return part

    @classmethod
    def apart(cls, frame: pd.DataFrame, colmaps: dict[str, dict[str, int]]) -> Checker:
        """A checker of `frame` (a block) reporting only into itself, so that blocks can be
        checked at once on several threads and `merge`d in their order."""
        part = cls(frame, colmaps)
        part.events = []
        return part

    def merge(self, part: Checker) -> None:
        """Report a block checked `apart` as if it had been checked here: each flag's rows
        counted, and its problems kept while the rule has room (the block's checker kept the
        first of each flag's rows too, with at least as much room)."""
        at = 0
        for rule, rows, made in part.events or []:
            room = max(0, MAX_PROBLEMS_PER_RULE - self.counts[rule])
            self.problems += part.problems[at : at + min(made, room)]
            self.counts[rule] += rows
            at += made
        for kind, rows in part.folded.items():
            self.folded[kind] = self.folded.get(kind, 0) + rows
        self.colmaps |= part.colmaps

    def flag_quietly(self, mask: np.ndarray | pd.Series, rule: str) -> int:
        """Exclude rows whose problem another message already explains; returns how many."""
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        fresh = idx[self.reason[idx] == None]  # noqa: E711 - elementwise on an object array
        self.reason[fresh] = f"invalid:{rule}"
        return len(fresh)

    def overflow(self) -> list[Problem]:
        return [
            Problem("", 0, 0, rule, f"{n - MAX_PROBLEMS_PER_RULE} more rows break this rule")
            for rule, n in sorted(self.counts.items())
            if n > MAX_PROBLEMS_PER_RULE
        ]

    def unflagged(self, mask: np.ndarray) -> np.ndarray:
        """The rows of `mask` no rule has flagged yet: `mask & ~bad`, with the reasons looked
        up at the rows of `mask` only (`bad` compares every row's reason, an object each:
        ~12 ms per 1M rows)."""
        idx = np.flatnonzero(mask)
        fresh = np.zeros(len(self.reason), dtype=bool)
        fresh[idx[self.reason[idx] == None]] = True  # noqa: E711 - elementwise on objects
        return fresh

    @property
    def bad(self) -> np.ndarray:
        bad: np.ndarray = self.reason != None  # noqa: E711 - elementwise on an object array
        return bad


def combine(
    raws: list[RawTable], columns: list[str]
) -> tuple[pd.DataFrame, dict[str, dict[str, int]]]:
    frames = []
    colmaps: dict[str, dict[str, int]] = {}
    for raw in raws:
        f = _in_order(raw.frame, columns)
        # One shared str object per row, not pandas' Arrow strings: every message and the ledger
        # take `_file` as a NumPy array, which from Arrow meant a new Python string per row.
        # Filled, not `np.full`: that made a new str per row too (~80 bytes a row, kept to the
        # end of validation: 0.8 GB at 10M rows, and ~0.1 s per 333,000 rows).
        files = np.empty(len(f), dtype=object)
        files.fill(raw.path)
        f["_file"] = pd.Series(files, index=f.index, dtype=object)
        f["_line"] = line_numbers(raw.lines)
        frames.append(f)
        colmaps[raw.path] = {c: i for i, c in enumerate(raw.frame.columns, start=1)}
        # The combined frame holds the rows from here on; keeping both copies doubled peak
        # memory on large inputs (10M rows). Only the header is still needed.
        raw.frame = raw.frame.iloc[:0]
    if not frames:
        empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
        empty["_file"] = pd.Series([], dtype=object)
        empty["_line"] = pd.Series([], dtype=np.int64)
        return empty, colmaps
    if len(frames) == 1:  # a block: no copy
        return frames[0].reset_index(drop=True), colmaps
    return pd.concat(frames, ignore_index=True), colmaps


def _in_order(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """`frame`'s `columns` in that order, one it lacks (an optional column, such as prompt_id)
    empty text: what `reindex(fill_value="")` gives, without pandas writing "" row by row
    (~22 ms per 1M rows a column)."""
    have = set(frame.columns)
    parts = {c: frame[c] if c in have else _empty_text(frame.index) for c in columns}
    return pd.DataFrame(parts, index=frame.index, copy=False)


def _empty_text(index: pd.Index) -> pd.Series:
    """A column of empty strings (Arrow large_string, pandas' str): zeroed offsets, no bytes."""
    n = len(index)
    offsets = pa.py_buffer(np.zeros(n + 1, dtype=np.int64))
    cells = pa.LargeStringArray.from_buffers(n, offsets, pa.py_buffer(b""))
    return pd.Series(pd.array(cells, dtype="str"), index=index, copy=False)


def line_numbers(lines: np.ndarray) -> np.ndarray:
    """Physical line numbers as int32 when they fit (they always do below 2^31 lines): held
    for every row to the end of validation, 40 MB less at 10M rows than int64. Messages and
    the ledger read them as Python ints, so nothing shown depends on the width."""
    if len(lines) and int(lines.max()) >= 2**31:
        return lines
    return lines.astype(np.int32)


def normalise_ids(frame: pd.DataFrame, columns: list[str]) -> None:
    """Ids in Unicode NFC, so that "é" typed as one code point and as "e" + combining accent
    (what macOS file names and some keyboards produce) are one participant, not two, and a
    battle_id repeated in the other form is a duplicate. NFC, not NFKC: canonically equivalent
    strings are the same text by definition and render identically, while NFKC would also
    merge ids that look different (fullwidth digits, ligatures, superscripts)."""
    for col in columns:
        s = frame[col]
        if isinstance(s.dtype, pd.StringDtype) and ascii_only(arrow_text(s)):
            continue  # every byte ASCII (the usual file), seen without a mask of every cell
        odd = ~s.str.isascii().fillna(True).to_numpy(dtype=bool)  # ASCII is NFC already
        if odd.any():
            frame.loc[odd, col] = s[odd].map(lambda v: unicodedata.normalize("NFC", v))


def common_checks(check: Checker, columns: list[str], required: list[str]) -> None:
    f = check.frame
    for col in columns:
        text = arrow_text(f[col])
        # A cell has no more characters than bytes: counting characters (a pass decoding
        # UTF-8) is needed only in a column with a cell of over MAX_CELL_CHARS bytes.
        if (pc.max(pc.binary_length(text)).as_py() or 0) <= MAX_CELL_CHARS:
            continue
        too_long = np.asarray(pc.greater(pc.utf8_length(text), MAX_CELL_CHARS), dtype=bool)

        def long_cell(i: int, c: str = col) -> str:
            return f"{len(cell(f[c], i))} characters (limit {MAX_CELL_CHARS})"

        check.flag(too_long, col, "cell-too-long", long_cell)
    for col in required:

        def empty(i: int, c: str = col) -> str:
            return f"{c} is empty"

        check.flag(~check.filled(col), col, "required", empty)


def flag_duplicates(check: Checker, col: str, ascend: bool | None = None) -> np.ndarray:
    """Flag each repeat of an id seen in an earlier row; returns which rows repeat one.
    `ascend`: whether the ids ascend (`cellbytes.ascending`), when the caller knows."""
    f = check.frame
    cells = arrow_text(f[col])
    if ascending(cells) if ascend is None else ascend:  # the usual export: no id repeats, and
        # no hash table is needed
        return np.zeros(len(f), dtype=bool)
    codes = id_codes(cells)
    del cells
    new = first_occurrences(codes)
    first_row = np.flatnonzero(new)
    dup: np.ndarray = ~new & (f[col] != "").to_numpy(dtype=bool)
    if not dup.any():
        return dup
    files, lines = f["_file"].to_numpy(), f["_line"].to_numpy()

    def message(i: int) -> str:
        j = first_row[codes[i]]
        return f"{col} {clip(cell(f[col], i))!r} already used at {files[j]}:{lines[j]}"

    check.flag(dup, col, "duplicate-id", message)
    return dup


def first_seen_codes(cells: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Each cell's value numbered in order of first appearance (0, 1, 2, ...): Arrow's hash
    table, where pandas' `duplicated` on Arrow strings cost ~1 s per million ids. Across the
    chunks of a chunked array the numbering is shared."""
    encoded = pc.dictionary_encode(cells)
    parts = encoded.chunks if isinstance(encoded, pa.ChunkedArray) else [encoded]
    codes = [np.asarray(part.indices, dtype=np.int64) for part in parts]
    numbered: np.ndarray = np.concatenate(codes) if codes else np.empty(0, np.int64)
    return numbered


def id_codes(cells: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """`first_seen_codes` of a column of mostly distinct ids, from an integer hash table over
    one 64-bit key per id when the ids have one length (cellbytes). Every row given an earlier
    row's code is checked to hold the same id; a hash collision (a few chances in a million
    at 10M ids of over 8 bytes) sends the column to Arrow's string table."""
    keys = fixed_width_keys(cells)
    if keys is None:
        return first_seen_codes(cells)
    codes: np.ndarray = pd.factorize(keys)[0].astype(np.int64, copy=False)  # first seen, first
    del keys
    new = first_occurrences(codes)
    again = np.flatnonzero(~new)
    if len(again):
        first = pa.array(np.flatnonzero(new)[codes[again]])
        same = pc.equal(pc.take(cells, pa.array(again)), pc.take(cells, first))
        if not pc.all(same).as_py():
            return first_seen_codes(cells)
    return codes


def first_occurrences(codes: np.ndarray) -> np.ndarray:
    """Rows whose code appears for the first time. Codes are numbered in order of first
    appearance, so a row is new exactly when its code exceeds every code before it."""
    before = np.empty_like(codes)  # the highest code of the rows above each row
    before[:1] = -1
    np.maximum.accumulate(codes[:-1], out=before[1:])
    new: np.ndarray = codes > before
    return new


def flag_models(check: Checker, col: str, keys: list[str]) -> np.ndarray:
    f = check.frame
    codes = positions(f[col], keys)
    unknown = (codes < 0) & check.filled(col)
    hints: dict[str, str] = {}

    def message(i: int) -> str:
        value = cell(f[col], i)
        if value not in hints:
            # difflib indexes every character: skip it for cells already too long to be a key
            near = (
                difflib.get_close_matches(value, keys, n=1, cutoff=0.6)
                if len(value) <= MAX_CELL_CHARS
                else []
            )
            hints[value] = lookalike(value) + (f"; did you mean {near[0]!r}?" if near else "")
        return f"unknown model {clip(value)!r}{hints[value]} (declare it under [[models]])"

    check.flag(unknown, col, "unknown-model", message)
    return codes


@dataclass(frozen=True)
class Roster:
    """Who battles and ratings may name, and where they are declared."""

    known: set[str]
    file: str
    unreadable: bool  # the participants file is missing or was refused whole

    @cached_property
    def ids(self) -> pa.Array:
        """The known ids, sorted (code-point order, as Arrow and Python sort strings)."""
        return pa.array(sorted(self.known), type=pa.large_string())

    @cached_property
    def dtype(self) -> pd.CategoricalDtype:
        """The known ids as the categories of a battle's `participant_id` (compact.py)."""
        return pd.CategoricalDtype(pd.Index(pd.array(self.ids, dtype="str")))


def flag_participants(check: Checker, who: Roster, kind: str) -> np.ndarray:
    """Flag ids not in the roster; returns each row's position in `who.ids` (-1 none)."""
    f = check.frame
    cells = arrow_text(f["participant_id"])
    found = pc.index_in(cells, value_set=who.ids)
    at: np.ndarray = np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), np.int32)
    unknown = (at < 0) & check.filled("participant_id")
    if who.unreadable:
        quiet = check.flag_quietly(unknown, "unknown-participant")
        check.folded[kind] = check.folded.get(kind, 0) + quiet
        return at
    check.flag(
        unknown,
        "participant_id",
        "unknown-participant",
        lambda i: (
            f"participant {clip(cell(f['participant_id'], i))!r} is not in {who.file}"
            + lookalike(cell(f["participant_id"], i))
            + "; add a row for them there"
        ),
    )
    return at


def lookalike(value: str) -> str:
    """Why an id that looks right matches nothing: padding, or a look-alike character (Cyrillic
    "а" for Latin "a", a zero-width space) that no one can see in a message."""
    notes = ""
    if value != value.strip():
        notes += "; it has leading or trailing whitespace"
    odd = sorted({c for c in value[:MAX_CELL_CHARS] if not c.isascii()})
    if odd:
        names = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, '?')}" for c in odd[:3])
        more = f" and {len(odd) - 3} more" if len(odd) > 3 else ""
        notes += f"; it contains non-ASCII character(s): {names}{more}"
    return notes


def clip(value: object, limit: int = 60) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def arrow_text(text: pd.Series) -> pa.Array:
    """A text column as Arrow strings: no copy for pandas' Arrow-backed strings; object columns
    (the csv-module parse, empty frames) are converted."""
    return pa.array(text, type=pa.large_string())


def positions(text: pd.Series, values: list[str]) -> np.ndarray:
    """Where each cell stands in `values` (exact match), -1 where it is none of them. Arrow's
    hash lookup: pandas' `get_indexer` and `Series.map` cost seconds per million cells."""
    cells = arrow_text(text)
    found = pc.index_in(cells, value_set=pa.array(values, type=cells.type))
    at: np.ndarray = np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), np.intp)
    return at


def cell(column: pd.Series, i: int) -> str:
    """Row i of a text column, typed as the text it is (cells are read as strings)."""
    return str(column.iat[i])
