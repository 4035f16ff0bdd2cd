"""Reading one contributor CSV into string columns plus the physical line of every record.

Kept apart from `ingest` because it is the only place that touches raw bytes: encoding, size,
header shape and line numbers are settled here, so the validation rules can work on clean columns.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from prefboard.errors import Problem, listed
from prefboard.io.tables import MAX_COLUMNS, SourceError, SourceProblem, read_source, record_lines

# Column names longer than this are clipped in messages and get no "did you mean" hint: difflib
# indexes every character of the name, which for a 100 MB header cell costs gigabytes.
MAX_NAME_SHOWN = 60
# csv's default field limit (128 KiB) would raise on a huge cell; ingest reports it instead.
csv.field_size_limit(2**31 - 1)


@dataclass
class RawTable:
    """A CSV as strings: `frame` has one str column per header cell, `lines` the physical line
    (1-based) each record starts on."""

    path: str
    sha256: str
    size: int
    frame: pd.DataFrame
    lines: np.ndarray
    problems: list[Problem]
    # Physical lines of records dropped before validation (wrong field count, CSV syntax), so
    # ingest can still count them in the ledger: every record read is accepted or excluded.
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, rule)
    # Lines of records with every cell empty (`,,,,,`, what Excel leaves below the data): blank
    # lines, not errors; the ledger counts them as skipped.
    blank: list[int] = field(default_factory=list)
    # Data records of a file refused for its header: not checked, counted in one message.
    unchecked: int = 0
    # A well-formed file read block by block (`batches`): `frame` holds only its header and
    # `lines` fills in as the blocks are read, so no more than a block is ever held as text.
    stream: Callable[[], Iterator[RawTable]] | None = None
    # Records of a streamed file, counted as its blocks are read: their lines are in the checked
    # rows' `_line` already, and holding them here too cost 8 bytes a row (80 MB at 10M rows).
    streamed: int = 0

    @property
    def records(self) -> int:
        """How many records were read into rows (refused and blank ones apart)."""
        return len(self.lines) + self.streamed


def read_csv(
    file: Path,
    shown: str,
    expected: list[str],
    max_bytes: int,
    optional: frozenset[str] = frozenset(),
) -> RawTable:
    """Read `file` (named `shown` in messages) whose header must be exactly `expected`
    (in any order; columns in `optional` may be absent)."""
    empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in expected})
    size = file.stat().st_size
    if size > max_bytes:
        msg = f"file is {size / 1e6:.1f} MB, over the configured limit of {max_bytes / 1e6:g} MB"
        p = Problem(shown, 0, 0, "file-too-large", msg + " (data.max_file_mb)")
        return RawTable(shown, "", size, empty, np.empty(0, np.int64), [p])
    data = file.read_bytes()
    if file.suffix.lower() in COLUMNAR:
        return _read_columnar(file, shown, expected, optional, data, max_bytes, empty)

    digest = hashlib.sha256(data).hexdigest()

    def fail(problem: Problem) -> RawTable:
        return RawTable(shown, digest, size, empty, np.empty(0, np.int64), [problem])

    data = data.removeprefix(b"\xef\xbb\xbf")
    text = _decode(data, shown)
    if isinstance(text, Problem):
        return fail(text)
    # A lone "\r" ends a line too (old Mac files): csv.reader raises on one inside a "line".
    first_line = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    if not first_line.strip():
        return fail(Problem(shown, 1, 0, "header", "file is empty or has no header line"))
    try:
        header = next(csv.reader([first_line]))
    except csv.Error as exc:
        return fail(Problem(shown, 1, 0, "header", f"header line is not valid CSV: {exc}"))
    problems = check_delimiter(shown, first_line, header, expected)
    problems = problems or check_header(shown, header, expected, optional)
    if problems:
        records = _data_records(text)
        if records:
            # The header's consequences, folded into it: one message, not one per row.
            why = f"{records} data row(s) not checked because of the header problem above"
            problems.append(Problem(shown, 1, 0, "header", why))
        table = RawTable(shown, digest, size, empty, np.empty(0, np.int64), problems)
        table.unchecked = records
        return table

    # Records whose every cell is empty (`,,,,,`, what spreadsheets leave below the data) are
    # blank lines, not battles: both parsers set them aside with their line.
    parsed = parse_fast(data, header) if '"' not in text else None
    rejected: list[tuple[int, str]] = []
    if parsed is None:
        frame, lines, problems, blank = parse_slow(text, shown, header)
        rejected = [(p.line, p.rule) for p in problems]
    else:
        frame, lines, blank = parsed
    return RawTable(shown, digest, size, frame, lines, problems, rejected, blank)


def _decode(data: bytes, shown: str) -> str | Problem:
    """The file's text, or the one problem that keeps it from being read as UTF-8 text."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or looks_utf16(data):
        return Problem(shown, 1, 1, "encoding", "file is UTF-16; save it as UTF-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        # report the CSV field, like every other problem, not the byte offset
        col = data.count(b",", data.rfind(b"\n", 0, exc.start) + 1, exc.start) + 1
        msg = f"invalid UTF-8 byte 0x{data[exc.start]:02x}; save the file as UTF-8"
        return Problem(shown, line, col, "encoding", msg)
    nul = text.find("\0")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        return Problem(shown, line, 0, "nul-byte", "file contains a NUL byte")
    return text


def _data_records(text: str) -> int:
    """Non-blank lines after the header: the rows a refused header keeps from being checked
    (physical lines, so a quoted newline counts twice; it is a count for a message)."""
    lines = re.split(r"\r\n|\r|\n", text)[1:]
    return sum(1 for line in lines if line.strip(" ,;\t"))


DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


def check_delimiter(
    shown: str, first_line: str, header: list[str], expected: list[str]
) -> list[Problem]:
    """A file saved with another delimiter (a spreadsheet in a locale where the comma is the
    decimal mark writes semicolons) reads as one column: say so instead of listing every
    expected column as missing."""
    if len(header) >= len(expected):
        return []
    for delimiter, name in DELIMITERS.items():
        cells = [c.strip().strip('"') for c in first_line.split(delimiter)]
        if len(cells) > len(header) and len(set(cells) & set(expected)) >= 2:
            msg = f"this file looks {name}-separated; save it as comma-separated CSV"
            return [Problem(shown, 1, 0, "header", msg)]
    return []


def looks_utf16(data: bytes) -> bool:
    """UTF-16 saved without a byte-order mark: every other byte of ASCII text is NUL. Named as
    such instead of as a puzzling "NUL byte" on line 1."""
    head = data[:64]
    if len(head) < 4:
        return False
    even, odd = head[0::2], head[1::2]
    return (odd.count(0) == len(odd) and 0 not in even) or (
        even.count(0) == len(even) and 0 not in odd
    )


def _clip_name(name: str) -> str:
    return name if len(name) <= MAX_NAME_SHOWN else name[:MAX_NAME_SHOWN] + "…"


COLUMNAR = (".parquet", ".pq", ".jsonl", ".ndjson")


def _read_columnar(
    file: Path,
    shown: str,
    expected: list[str],
    optional: frozenset[str],
    data: bytes,
    max_bytes: int,
    empty: pd.DataFrame,
) -> RawTable:
    """Parquet and JSON Lines battle files, read with pyarrow into the same string columns.

    "Line" means the physical line of a JSON Lines record (blank lines counted) or, for
    Parquet, the 1-based row. A Parquet file must also fit `max_bytes` once decoded.
    """
    digest, size = hashlib.sha256(data).hexdigest(), len(data)

    def fail(problem: Problem) -> RawTable:
        return RawTable(shown, digest, size, empty, np.empty(0, np.int64), [problem])

    try:
        frame = read_source(file, max_bytes=max_bytes)
    except SourceProblem as exc:
        limit = " (data.max_file_mb)" if exc.rule == "file-too-large" else ""
        return fail(Problem(shown, exc.line, exc.column, exc.rule, exc.detail + limit))
    except (SourceError, ValueError, OSError) as exc:
        msg = str(exc).removeprefix(f"{file.name}: ").splitlines()[0]
        return fail(Problem(shown, 0, 0, "file-format", f"cannot read {file.suffix} file: {msg}"))
    header = [str(c) for c in frame.columns]
    problems = check_header(shown, header, expected, optional)
    if problems:
        return RawTable(shown, digest, size, empty, np.empty(0, np.int64), problems)
    frame = frame.fillna("").astype(str)
    lines = np.arange(1, len(frame) + 1)
    if file.suffix.lower() in (".jsonl", ".ndjson"):
        physical = record_lines(data.removeprefix(b"\xef\xbb\xbf"))
        lines = physical if len(physical) == len(frame) else lines
    return RawTable(shown, digest, size, frame, lines, [])


def check_header(
    shown: str, header: list[str], expected: list[str], optional: frozenset[str]
) -> list[Problem]:
    import difflib

    problems: list[Problem] = []
    if len(header) > MAX_COLUMNS:
        return [Problem(shown, 1, 0, "header", f"{len(header)} columns (limit {MAX_COLUMNS})")]
    seen: set[str] = set()
    for i, name in enumerate(header, start=1):
        shown_name = _clip_name(name)
        if name in seen:
            problems.append(Problem(shown, 1, i, "header", f"duplicated column {shown_name!r}"))
        elif name not in expected:
            long = len(name) > MAX_NAME_SHOWN
            near = [] if long else difflib.get_close_matches(name, expected, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            problems.append(Problem(shown, 1, i, "header", f"unknown column {shown_name!r}{hint}"))
        seen.add(name)
    missing = [c for c in expected if c not in seen and c not in optional]
    if missing:
        problems.append(Problem(shown, 1, 0, "header", f"missing column(s): {listed(missing)}"))
    return problems


def parse_fast(
    data: bytes, header: list[str], skip: int = 1, first: int = 1, newlines: int | None = None
) -> tuple[pd.DataFrame, np.ndarray, list[int]] | None:
    """pyarrow parse for files without quotes, where records and physical lines coincide.
    `data` holds `skip` header lines (0 for a block of a streamed file), and its first line is
    physical line `first`; `newlines` is its count of "\\n" when the caller has it already."""
    bad: list[int] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad.append(row.number or 0)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(
                column_names=header, skip_rows=skip, use_threads=True, block_size=1 << 22
            ),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                # large_string is what pandas' Arrow-backed strings hold: the frame is then
                # built without a copy (with `string` each column was cast, ~1/3 of the parse)
                column_types=dict.fromkeys(header, pa.large_string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, ValueError):
        return None
    if bad:
        return None  # let the slow path report each malformed row with its line
    newlines = data.count(b"\n") if newlines is None else newlines
    n_lines = newlines + (not data.endswith(b"\n"))
    if table.num_rows == n_lines - skip and b"\r" not in data:
        # no blank line: records are the lines after the header, one for one
        lines = np.arange(skip + 1, n_lines + 1, dtype=np.int64) + (first - 1)
    else:
        lines = _record_lines(data, skip, first)
    if len(lines) != table.num_rows:
        return None
    blank_mask = _blank_rows(table)
    blank: list[int] = []
    if blank_mask.any():
        blank = lines[blank_mask].tolist()
        table, lines = table.filter(pa.array(~blank_mask)), lines[~blank_mask]
    frame = table.to_pandas(types_mapper=None)
    frame = frame.astype(object) if frame.empty else frame
    return frame, lines, blank


def _record_lines(data: bytes, skip: int, first: int) -> np.ndarray:
    """The physical line of each record pyarrow read from `data` (its non-blank lines after
    `skip` header lines), when blank lines or carriage returns keep them apart."""
    buf = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10)
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [len(buf)]))
    lengths = stops - starts
    # a lone "\r" left of "\n" makes a visually empty line, which pyarrow skips too
    has_cr = (lengths == 1) & (buf[np.minimum(starts, len(buf) - 1)] == 13)
    nonblank = np.flatnonzero((lengths > 0) & ~has_cr) + 1
    lines: np.ndarray = nonblank[nonblank > skip].astype(np.int64) + (first - 1)
    return lines


def _blank_rows(table: pa.Table) -> np.ndarray:
    """Rows whose every cell is empty. In Arrow, and column by column over the rows still
    blank: the first column (an id) is filled in nearly every row, so one column's pass (~20 ms
    per 1M rows) usually settles it; comparing Python strings cost ~0.3 s per column."""
    blank = np.zeros(table.num_rows, dtype=bool)
    if not table.num_columns:
        return blank
    blank[:] = np.asarray(pc.equal(table.column(0), ""), dtype=bool)
    for c in range(1, table.num_columns):
        idx = np.flatnonzero(blank)
        if not len(idx):
            break
        cells = pc.take(table.column(c), pa.array(idx))
        blank[idx] = np.asarray(pc.equal(cells, ""), dtype=bool)
    return blank


def parse_slow(
    text: str, shown: str, header: list[str]
) -> tuple[pd.DataFrame, np.ndarray, list[Problem], list[int]]:
    """csv-module parse that knows where each record starts, for quoted or malformed files."""
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    rows: list[list[str]] = []
    lines: list[int] = []
    problems: list[Problem] = []
    blank: list[int] = []
    prev_end = reader.line_num
    try:
        for row in reader:
            start, prev_end = prev_end + 1, reader.line_num
            if not row or (len(row) == 1 and row[0] == ""):
                continue
            if len(row) == len(header) and not any(row):
                blank.append(start)
                continue
            if len(row) != len(header):
                problems.append(
                    Problem(
                        shown,
                        start,
                        0,
                        "field-count",
                        f"expected {len(header)} fields, found {len(row)}",
                    )
                )
                continue
            rows.append(row)
            lines.append(start)
    except csv.Error as exc:
        problems.append(Problem(shown, reader.line_num, 0, "csv-syntax", str(exc)))
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    return frame, np.asarray(lines, dtype=np.int64), problems, blank
