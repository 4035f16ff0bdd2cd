"""Reading table files (CSV, JSON, JSON Lines, Parquet) into string columns.

Shared by `ingest` (Parquet and JSON Lines battle files) and `import` (every format): both get
the same bounds, checked before a parser sees the file, and the same text for every value.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson
import pyarrow.parquet as pq

from prefboard.errors import PrefboardError, listed

MAX_COLUMNS = 1_000
# Bounds checked before a source is parsed: JSON nesting (Python's json raised RecursionError a
# few thousand deep and pyarrow killed the process 50,000 deep; records are flat), and the size
# a source would have as CSV text, which a compressed Parquet file can exceed a millionfold.
# `import` has no configured limit, so it gets this one; ingest passes data.max_file_mb.
MAX_JSON_DEPTH = 64
MAX_SOURCE_BYTES = 4_000_000_000
SUFFIXES = {
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


class SourceError(PrefboardError):
    """A table file cannot be read (or, for `import`, used) as a whole, as opposed to single
    bad rows."""


class SourceProblem(SourceError):
    """A source refused as a whole for a reason with a place: `rule`, and `line` / `column`
    (1-based, 0 when the whole file or line). Ingest turns it into one located `Problem`; the
    message names the file and line already, for `import`'s one-line error."""

    def __init__(self, name: str, detail: str, rule: str, line: int = 0, column: int = 0) -> None:
        super().__init__(f"{name}:{line}: {detail}" if line else f"{name}: {detail}")
        self.detail, self.rule, self.line, self.column = detail, rule, line, column


def read_source(
    path: Path, columns: Sequence[str] | None = None, max_bytes: int = MAX_SOURCE_BYTES
) -> pd.DataFrame:
    """A CSV, JSON (array of records), JSONL/NDJSON or Parquet file as a frame of strings.

    The format follows the suffix. Every value is a string: missing/null -> "", numbers in their
    shortest round-trip form (integral floats without ".0"), booleans "true"/"false", nested
    values as compact JSON. With `columns`, only those are returned (in that order), and a
    column absent from the source raises `SourceError`.

    Bounded before parsing, each a `SourceProblem`: at most 1,000 columns, no duplicated column,
    JSON nested at most 64 deep, and a Parquet file at most `max_bytes` once decoded (the size
    it would have as CSV text).
    """
    path = Path(path)
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        known = ", ".join(sorted(SUFFIXES))
        raise SourceError(f"{path.name}: unknown source format (suffixes: {known})")
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    wanted = list(dict.fromkeys(columns)) if columns is not None else None
    try:
        if kind == "csv":
            frame = _read_csv(path, wanted)
        elif kind == "parquet":
            frame = _read_parquet(path, wanted, max_bytes)
        else:
            frame = _read_json(path, wanted, lines=kind == "jsonl")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path.name}: not valid UTF-8 ({exc.reason})") from None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError, ValueError) as exc:
        # Arrow's messages can run to a schema dump; the first line says what went wrong.
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise SourceError(f"{path.name}: cannot read: {first}") from None
    return frame.reset_index(drop=True)


def _require(name: str, present: Sequence[str], wanted: list[str] | None) -> list[str]:
    if wanted is None:
        return list(present)
    missing = [c for c in wanted if c not in present]
    if missing:
        raise SourceError(
            f"{name}: no column(s) {listed(repr(c) for c in missing)} "
            f"(columns: {listed((repr(c) for c in present), 30)})"
        )
    return wanted


def _check_columns(name: str, names: Sequence[str], line: int) -> None:
    """At most MAX_COLUMNS names, none twice: one located problem, in linear time (counting
    with `list.count` per column made a 100,000-column CSV hang `import`)."""
    if len(names) > MAX_COLUMNS:
        detail = f"{len(names):,} columns (limit {MAX_COLUMNS:,})"
        raise SourceProblem(name, detail, "header", line)
    counts = Counter(names)
    seen: set[str] = set()
    for i, column in enumerate(names, start=1):
        if column in seen:  # located at the repeat, as csvread does
            detail = f"duplicated column {column[:60]!r} ({counts[column]} times)"
            raise SourceProblem(name, detail, "header", line, i)
        seen.add(column)


def _read_csv(path: Path, wanted: list[str] | None) -> pd.DataFrame:
    csv.field_size_limit(2**31 - 1)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh), None)
    if not header:
        raise SourceError(f"{path.name}: empty file, no header line")
    _check_columns(path.name, header, 1)
    cols = _require(path.name, header, wanted)
    return read_csv_text(path, cols)[cols]


def read_csv_text(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A CSV's cells as text, every one: an empty cell is "", never NaN ("NA" and "null" are
    names, not missing values). `columns` limits the read to those."""
    return pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        usecols=columns,
        encoding="utf-8-sig",
    )


def _read_parquet(path: Path, wanted: list[str] | None, max_bytes: int) -> pd.DataFrame:
    """Parquet compresses (and run-length encodes) so well that a 4 KB file can decode to
    gigabytes: the row count and the columns' uncompressed sizes are checked in the metadata
    first, and text columns are read dictionary-encoded, batch by batch, so that their decoded
    size is counted before it exists."""
    schema = pq.read_schema(path)
    _check_columns(path.name, schema.names, 0)
    cols = _require(path.name, schema.names, wanted)
    for i, name in enumerate(schema.names, start=1):
        typ = schema.field(name).type
        if name in cols and pa.types.is_nested(typ):
            detail = f"column {name[:60]!r} holds nested values ({typ}); expected text or numbers"
            raise SourceProblem(path.name, detail, "header", 0, i)
    meta = pq.ParquetFile(path).metadata
    stored = sum(
        rg.column(j).total_uncompressed_size
        for rg in (meta.row_group(k) for k in range(meta.num_row_groups))
        for j in range(rg.num_columns)
        if rg.column(j).path_in_schema in cols
    )
    # every cell is at least a separator in CSV form, so rows x columns is a lower bound
    _within(path.name, max(stored, meta.num_rows * len(cols)), max_bytes)
    text = [c for c in cols if _is_text(schema.field(c).type)]
    reader = pq.ParquetFile(path, read_dictionary=text)
    batches, size = [], 0
    for batch in reader.iter_batches(batch_size=65_536, columns=cols, use_threads=False):
        size += _decoded_bytes(batch)
        _within(path.name, size, max_bytes)
        batches.append(batch)
    if batches:
        table = pa.Table.from_batches(batches)
    else:
        table = reader.schema_arrow.empty_table().select(cols)
    return _arrow_frame(table, cols)


def _is_text(typ: pa.DataType) -> bool:
    return any(
        f(typ)
        for f in (pa.types.is_string, pa.types.is_large_string, pa.types.is_binary,
                  pa.types.is_large_binary)
    )  # fmt: skip


def _decoded_bytes(batch: pa.RecordBatch) -> int:
    """The batch's size once every dictionary is expanded, plus one separator per cell."""
    total = batch.num_rows * batch.num_columns
    for arr in batch.columns:
        if pa.types.is_dictionary(arr.type):
            lengths = pc.binary_length(arr.dictionary)
            total += int(pc.sum(pc.take(lengths, arr.indices)).as_py() or 0)
        else:
            total += arr.nbytes
    return int(total)


def _within(name: str, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        limit = f"{max_bytes / 1e6:,.0f} MB"
        detail = f"decodes to over {size / 1e6:,.0f} MB, over the limit of {limit}"
        raise SourceProblem(name, detail, "file-too-large")


def _read_json(path: Path, wanted: list[str] | None, lines: bool) -> pd.DataFrame:
    with path.open("rb") as fh:
        head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise SourceError(f"{path.name}: empty file")
    check_json_depth(path, per_line=lines)
    if head[:1] == b"[":
        if lines:
            raise SourceError(f"{path.name}: a JSON array, not JSON lines; name it .json")
        with path.open(encoding="utf-8-sig") as fh:
            try:
                records = json.load(fh)
            except json.JSONDecodeError as exc:
                raise SourceError(f"{path.name}:{exc.lineno}: invalid JSON: {exc.msg}") from None
        if not all(isinstance(r, dict) for r in records):
            raise SourceError(f"{path.name}: expected an array of objects (records)")
        return _records_frame(path.name, records, wanted)
    # One object per line. pyarrow is fast but refuses a column whose type changes from row to
    # row ("1" in one, 1 in the next); the json module takes anything.
    try:
        table = _arrow_json(path)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _records_frame(path.name, _json_lines(path), wanted)
    _check_columns(path.name, table.column_names, 1)
    cols = _require(path.name, table.column_names, wanted)
    return _arrow_frame(table.select(cols), cols)


def _arrow_json(path: Path) -> pa.Table:
    """pyarrow's JSON reader, keeping date-like strings as written: it infers a timestamp type
    for "2026-09-02T10:00:00Z" and drops the zone ("+01:00" too, silently shifting the time),
    so such columns are read again as plain strings."""
    opts = pajson.ReadOptions(block_size=1 << 26)
    table = pajson.read_json(path, read_options=opts)
    temporal = [f.name for f in table.schema if pa.types.is_temporal(f.type)]
    if not temporal:
        return table
    schema = pa.schema([(name, pa.string()) for name in temporal])
    parse = pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
    return pajson.read_json(path, read_options=opts, parse_options=parse)


# A JSON string on one line (a raw newline is not allowed inside one): brackets inside strings
# do not nest.
_JSON_STRING = re.compile(rb'"[^"\\\n]*(?:\\.[^"\\\n]*)*"')
_BLOCK = 1 << 24


def check_json_depth(path: Path, per_line: bool) -> None:
    """Raise a `SourceProblem` at the first line nested deeper than MAX_JSON_DEPTH, before any
    parser sees it. Linear, a block of lines at a time: for JSON Lines only lines with more
    opening brackets than the limit are scanned exactly; a JSON document carries its depth
    from block to block."""
    depth, line = 0, 1
    with path.open("rb") as fh:
        pending = b""
        while True:
            block = fh.read(_BLOCK)
            data = pending + block
            cut = data.rfind(b"\n") + 1 if block else len(data)
            if not data:
                return
            if cut == 0:  # one long line so far: read on to its end
                pending = data
                continue
            data, pending = data[:cut], data[cut:]
            if per_line:
                _check_lines(path.name, data, line)
            else:
                depth = _check_document(path.name, data, line, depth)
            line += data.count(b"\n")
            if not block:
                return


def _either(buf: np.ndarray, a: int, b: int) -> np.ndarray:
    # two comparisons, not np.isin; and no cumsum over booleans, which numpy runs ~10x slower
    either: np.ndarray = (buf == a) | (buf == b)
    return either


def _check_lines(name: str, data: bytes, first_line: int) -> None:
    buf = np.frombuffer(data, dtype=np.uint8)
    opens = np.flatnonzero(_either(buf, 0x5B, 0x7B))
    if len(opens) <= MAX_JSON_DEPTH:
        return
    newlines = np.flatnonzero(buf == 10)
    per_line = np.bincount(np.searchsorted(newlines, opens))  # opening brackets per line
    starts = np.concatenate(([0], newlines + 1))
    for k in np.flatnonzero(per_line > MAX_JSON_DEPTH):
        stop = starts[k + 1] if k + 1 < len(starts) else len(data)
        _check_document(name, data[starts[k] : stop], first_line + int(k), 0)


def _check_document(name: str, data: bytes, first_line: int, depth: int) -> int:
    """Depth after `data`, starting from `depth`; raises at the first line past the limit."""
    bare = _JSON_STRING.sub(b'""', data)  # strings hold no newline: line numbers survive
    buf = np.frombuffer(bare, dtype=np.uint8)
    step = _either(buf, 0x5B, 0x7B).view(np.int8) - _either(buf, 0x5D, 0x7D).view(np.int8)
    running = depth + np.cumsum(step, dtype=np.int64)
    over = np.flatnonzero(running > MAX_JSON_DEPTH)
    if len(over):
        line = first_line + bare.count(b"\n", 0, int(over[0]))
        detail = f"JSON nested more than {MAX_JSON_DEPTH} levels deep; records are flat"
        raise SourceProblem(name, detail, "nesting", line)
    return int(running[-1]) if len(running) else depth


def _json_lines(path: Path) -> list[dict[str, Any]]:
    records = []
    with path.open(encoding="utf-8-sig") as fh:
        for no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SourceError(f"{path.name}:{no}: invalid JSON: {exc.msg}") from None
            if not isinstance(rec, dict):
                raise SourceError(f"{path.name}:{no}: expected a JSON object per line")
            records.append(rec)
    return records


def record_lines(data: bytes) -> np.ndarray:
    """The physical line (1-based) of each record of a JSON Lines file that parsed: the lines
    holding a "{" (every other line is blank, or the file would not have parsed as one object
    per line). Readers skip blank lines, so numbering records 1..n put every problem after a
    blank line on the wrong line."""
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    line_of = np.searchsorted(newlines, np.flatnonzero(buf == 0x7B))  # sorted already
    first = np.ones(len(line_of), dtype=bool)  # the first "{" of each line starts its record
    first[1:] = line_of[1:] != line_of[:-1]
    return (line_of[first] + 1).astype(np.int64)


def _records_frame(
    name: str, records: list[dict[str, Any]], wanted: list[str] | None
) -> pd.DataFrame:
    present: dict[str, None] = {}
    for rec in records:
        present.update(dict.fromkeys(rec))
    _check_columns(name, list(present), 0)
    cols = _require(name, list(present), wanted)
    data = {c: pd.Series([_py_str(r.get(c)) for r in records], dtype=str) for c in cols}
    return pd.DataFrame(data, columns=cols)


def _py_str(value: Any) -> str:
    """One JSON value as the same string pyarrow's cast would give."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _arrow_frame(table: pa.Table, cols: list[str]) -> pd.DataFrame:
    out: dict[str, pd.Series] = {}
    for c in cols:
        arr = table.column(c)
        if pa.types.is_dictionary(arr.type):
            arr = arr.cast(arr.type.value_type)
        typ = arr.type
        text = None
        if pa.types.is_string(typ) or pa.types.is_large_string(typ):
            text = arr
        elif not (pa.types.is_nested(typ) or pa.types.is_binary(typ)):
            try:
                text = arr.cast(pa.string())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                text = None
        if text is None:
            out[c] = pd.Series([_py_str(v) for v in arr.to_pylist()], dtype=str)
        else:
            out[c] = pd.Series(pc.fill_null(text, "").to_pandas(), dtype=str)
    return pd.DataFrame(out, columns=cols)
