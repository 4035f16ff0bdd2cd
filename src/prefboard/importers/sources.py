"""Reading import sources (CSV, JSON, JSON Lines, Parquet) into string columns."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson
import pyarrow.parquet as pq

from prefboard.importers.api import SUFFIXES, ImportSourceError

# --- Reading sources ----------------------------------------------------------------------------


def read_source(path: Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A CSV, JSON (array of records), JSONL/NDJSON or Parquet file as a frame of strings.

    The format follows the suffix. Every value is a string: missing/null -> "", numbers in their
    shortest round-trip form (integral floats without ".0"), booleans "true"/"false", nested
    values as compact JSON. With `columns`, only those are returned (in that order), and a
    column absent from the source raises `ImportSourceError`.
    """
    path = Path(path)
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        known = ", ".join(sorted(SUFFIXES))
        raise ImportSourceError(f"{path.name}: unknown source format (suffixes: {known})")
    if not path.is_file():
        raise ImportSourceError(f"{path}: no such file")
    wanted = list(dict.fromkeys(columns)) if columns is not None else None
    try:
        if kind == "csv":
            frame = _read_csv(path, wanted)
        elif kind == "parquet":
            frame = _read_parquet(path, wanted)
        else:
            frame = _read_json(path, wanted, lines=kind == "jsonl")
    except UnicodeDecodeError as exc:
        raise ImportSourceError(f"{path.name}: not valid UTF-8 ({exc.reason})") from None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError, ValueError) as exc:
        raise ImportSourceError(f"{path.name}: cannot read: {exc}") from None
    return frame.reset_index(drop=True)


def _require(name: str, present: Sequence[str], wanted: list[str] | None) -> list[str]:
    if wanted is None:
        return list(present)
    missing = [c for c in wanted if c not in present]
    if missing:
        shown = ", ".join(repr(c) for c in list(present)[:30])
        raise ImportSourceError(
            f"{name}: no column(s) {', '.join(repr(c) for c in missing)} (columns: {shown})"
        )
    return wanted


def _read_csv(path: Path, wanted: list[str] | None) -> pd.DataFrame:
    csv.field_size_limit(2**31 - 1)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh), None)
    if not header:
        raise ImportSourceError(f"{path.name}: empty file, no header line")
    dupes = sorted({c for c in header if header.count(c) > 1})
    cols = _require(path.name, header, wanted)
    if any(c in dupes for c in cols):
        raise ImportSourceError(f"{path.name}: duplicated column(s) {', '.join(dupes)}")
    frame = pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        usecols=cols,
        encoding="utf-8-sig",
    )
    return frame[cols]


def _read_parquet(path: Path, wanted: list[str] | None) -> pd.DataFrame:
    names = pq.read_schema(path).names
    cols = _require(path.name, names, wanted)
    return _arrow_frame(pq.read_table(path, columns=cols), cols)


def _read_json(path: Path, wanted: list[str] | None, lines: bool) -> pd.DataFrame:
    with path.open("rb") as fh:
        head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise ImportSourceError(f"{path.name}: empty file")
    if head[:1] == b"[":
        if lines:
            raise ImportSourceError(f"{path.name}: a JSON array, not JSON lines; name it .json")
        with path.open(encoding="utf-8-sig") as fh:
            try:
                records = json.load(fh)
            except json.JSONDecodeError as exc:
                raise ImportSourceError(
                    f"{path.name}:{exc.lineno}: invalid JSON: {exc.msg}"
                ) from None
        if not all(isinstance(r, dict) for r in records):
            raise ImportSourceError(f"{path.name}: expected an array of objects (records)")
        return _records_frame(path.name, records, wanted)
    # One object per line. pyarrow is fast but refuses a column whose type changes from row to
    # row ("1" in one, 1 in the next); the json module takes anything.
    try:
        table = pajson.read_json(path, read_options=pajson.ReadOptions(block_size=1 << 26))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _records_frame(path.name, _json_lines(path), wanted)
    cols = _require(path.name, table.column_names, wanted)
    return _arrow_frame(table.select(cols), cols)


def _json_lines(path: Path) -> list[dict[str, Any]]:
    records = []
    with path.open(encoding="utf-8-sig") as fh:
        for no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ImportSourceError(f"{path.name}:{no}: invalid JSON: {exc.msg}") from None
            if not isinstance(rec, dict):
                raise ImportSourceError(f"{path.name}:{no}: expected a JSON object per line")
            records.append(rec)
    return records


def _records_frame(
    name: str, records: list[dict[str, Any]], wanted: list[str] | None
) -> pd.DataFrame:
    present: dict[str, None] = {}
    for rec in records:
        present.update(dict.fromkeys(rec))
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


# --- Cleaning and parsing -----------------------------------------------------------------------
