"""Timestamps: ISO 8601 with a zone, real dates and times, in the years a battle can carry;
each refused one told why."""

from __future__ import annotations

import calendar
import re

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from prefboard.ingest.cellbytes import plain_utc
from prefboard.ingest.checks import Checker, arrow_text, cell, clip

# ISO 8601 date and time with a zone; pandas alone would accept zone-less or date-only strings.
ISO_WITH_ZONE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$"
# Years a preference battle can plausibly carry; 9999-12-31 is a placeholder, not a date, and
# would sort every later battle before it in the replay. The end stays well before 2106: the
# build stamps files with the newest battle's time (SOURCE_DATE_EPOCH), and gzip's 32-bit mtime
# ends in 2106, so a battle dated 2107 passed validation and crashed the build. `import` uses
# the same 1970-2099 window.
YEAR_RANGE = (1970, 2099)


def flag_timestamps(check: Checker) -> pd.Series:
    f = check.frame
    ts = f["timestamp"]
    shape_ok, parsed = parse_timestamps(ts)
    bad = check.filled("timestamp") & (~shape_ok | parsed.isna())
    check.flag(
        bad,
        "timestamp",
        "timestamp",
        lambda i: f"{clip(cell(ts, i))!r} " + _timestamp_reason(cell(ts, i), bool(shape_ok.iat[i])),
    )
    lo, hi = YEAR_RANGE
    # times compared, not years: the years (a pass of their own) only when a message needs them
    start, end = pd.Timestamp(f"{lo}-01-01", tz="UTC"), pd.Timestamp(f"{hi + 1}-01-01", tz="UTC")
    outside = ((parsed < start) | (parsed >= end)).to_numpy(dtype=bool)  # NaT: neither
    if outside.any():
        year = parsed.dt.year
        check.flag(
            outside,
            "timestamp",
            "timestamp",
            lambda i: f"{clip(cell(ts, i))!r}: year {cell(year, i)} is outside {lo}–{hi}",
        )
    return parsed


def parse_timestamps(ts: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Which cells are ISO 8601 with a zone, and their UTC times (NaT where not a real time):
    the same as pandas' ISO 8601 parser, down to the resolution it infers. The shape nearly
    every file uses (what `simulate`, `import` and most exports write) is cast by Arrow, so
    that only other shapes take pandas' slower parser."""
    cells = arrow_text(ts)
    plain = plain_utc(cells)
    # every cell plain (the usual file): the cells as they are, not a filtered copy
    chosen = cells if plain.all() else pc.filter(cells, pa.array(plain))
    try:
        fast = pc.cast(chosen, pa.timestamp("us", tz="UTC"))
    except pa.ArrowInvalid:  # a day or time that does not exist: pandas says which
        plain[:] = False
    if len(plain) and plain.all():  # the usual file: every cell cast by Arrow, no other shape
        times = pd.DatetimeIndex(fast.to_numpy(zero_copy_only=False), tz="UTC")
        return pd.Series(plain, index=ts.index), pd.Series(times, index=ts.index)
    rest = ts[~plain]
    shape_ok = pd.Series(plain, index=ts.index)
    shape_ok[~plain] = rest.str.match(ISO_WITH_ZONE, na=False).to_numpy(dtype=bool)
    slow = pd.to_datetime(rest.where(shape_ok[~plain]), utc=True, format="ISO8601", errors="coerce")
    if not plain.any():
        return shape_ok, slow
    # pandas infers microseconds, or nanoseconds when a cell has more than six decimals
    unit = "ns" if slow.notna().any() and slow.dt.unit == "ns" else "us"
    parsed = pd.Series(pd.NaT, index=ts.index, dtype=f"datetime64[{unit}, UTC]")
    parsed[plain] = pd.DatetimeIndex(fast.to_numpy(zero_copy_only=False), tz="UTC")
    parsed[~plain] = slow.to_numpy()
    return shape_ok, parsed


def _timestamp_reason(value: str, iso_shaped: bool) -> str:
    """Why a timestamp was refused: a well-formed one naming a day or time that does not exist
    (2026-02-30) is told so, not sent to look up ISO 8601."""
    if iso_shaped:
        year, month, day = int(value[:4]), int(value[5:7]), int(value[8:10])
        hour, minute = int(value[11:13]), int(value[14:16])
        second = int(value[17:19]) if value[16:17] == ":" else 0
        if not 1 <= month <= 12:
            return f"is not a real date: there is no month {month}"
        days = calendar.monthrange(year, month)[1]
        if not 1 <= day <= days:
            name = calendar.month_name[month]
            return f"is not a real date: {name} has {days} days in {year}"
        if hour > 23 or minute > 59 or second > 59:
            return "is not a real time: hours run 00-23, minutes and seconds 00-59"
        zone = re.search(r"[+-](\d{2}):?(\d{2})$", value)
        if zone and (int(zone.group(1)) > 23 or int(zone.group(2)) > 59):
            return f"has an impossible time zone offset {zone.group(0)}"
    return "is not ISO 8601 with a timezone (e.g. 2026-09-01T10:02:11Z)"
