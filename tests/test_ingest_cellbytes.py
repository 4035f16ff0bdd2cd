"""The byte-level checks say exactly what the regular expression and Arrow's string hash table
they stand in for say, cell for cell, on the fast path and the fallback alike (issue 18)."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from prefboard.ingest import cellbytes, checks
from prefboard.ingest.cellbytes import PLAIN_UTC, plain_utc
from prefboard.ingest.checks import first_seen_codes, id_codes

TIMES = [
    "2026-09-01T10:02:11Z", "1000-01-01T00:00:00Z", "0999-01-01T00:00:00Z",
    "9999-99-99T99:99:99Z", "2026-09-01 10:02:11Z", "2026-09-01T10:02:11z",
    "2026-09-01T10:02:11+00:00", "2026-09-0110:02:11Z", "2026-09-01T10:02:1Z",
    "2026-09-01T10:02:11ZZ", "2026-09-01T10:02:1\u0661Z", "", "2026/09/01T10:02:11Z",
    "2026-09-01T10-02-11Z", "2026-09-01T10:02:11.5Z", " 2026-09-01T10:02:11Z",
    "a026-09-01T10:02:11Z",
]  # fmt: skip
WORDS = ["a", "b", "tie", ""]
OUTCOMES = [
    "a",
    "b",
    "tie",
    "",
    "A",
    "ti",
    "tiee",
    "b ",
    " a",
    "\u00e9",
    "tie\0",
    "a\0",
    "x" * 50,
    "draw",
]


def _chunked(cells: list[str]) -> pa.ChunkedArray:
    """Two chunks, the second a slice: offsets that do not start at 0."""
    whole = pa.array(["pad", *cells], pa.large_string())
    return pa.chunked_array([whole.slice(1, 3), whole.slice(4)])


def test_plain_utc_is_the_regular_expression() -> None:
    cells = _chunked(TIMES)
    expected = np.asarray(pc.match_substring_regex(cells, PLAIN_UTC), dtype=bool)
    assert plain_utc(cells).tolist() == expected.tolist()
    assert plain_utc(pa.array([None, TIMES[0]], pa.large_string())).tolist() == [False, True]
    twenty = [t for t in TIMES if len(t.encode()) == 20]  # every cell on the fast path
    assert len(twenty) >= 8
    expected = np.asarray(pc.match_substring_regex(_chunked(twenty), PLAIN_UTC), dtype=bool)
    assert plain_utc(_chunked(twenty)).tolist() == expected.tolist()


def test_id_codes_number_ids_as_arrow_does() -> None:
    """Ids of one length (8 bytes packed as they are, 9 and 36 hashed), empty cells among
    them, and ids of mixed lengths (Arrow's string table) all number alike."""
    for width in (8, 9, 36):
        ids = [f"{i % 37:0{width}d}" for i in range(200)] + ["", "", f"{5:0{width}d}"]
        cells = _chunked(ids)
        assert id_codes(cells).tolist() == first_seen_codes(cells).tolist()
    mixed = _chunked(["a", "bb", "a", "", "bb", "ccc"])
    assert id_codes(mixed).tolist() == [0, 1, 0, 2, 1, 3]


def test_id_codes_survive_a_hash_collision(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every id given one key (the worst collision): the rows are checked, the codes are still
    the strings' own."""
    monkeypatch.setattr(checks, "fixed_width_keys", lambda cells: np.zeros(len(cells), np.uint64))
    cells = _chunked(["b1", "b2", "b1", "b3", "b2"])
    assert id_codes(cells).tolist() == [0, 1, 0, 2, 1]


def _ascending_by_python(cells: list[str]) -> bool:
    raw = [c.encode() for c in cells]
    one_length = len({len(c) for c in raw}) <= 1
    return one_length and b"" not in raw and all(a < b for a, b in itertools.pairwise(raw))


def test_ascending_ids_are_told_apart_from_every_near_miss(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ids in order skip the hash table only when every one has one byte length and each is
    greater than the one before, across chunks and across the comparison's row groups."""
    monkeypatch.setattr(cellbytes, "_ROWS_AT_ONCE", 3)
    rising = [f"b{i:03d}" for i in range(10)]
    cases = [
        rising,
        [*rising[:5], rising[4], *rising[5:]],  # a repeat
        [*rising[:6], rising[3], *rising[7:]],  # a step back, in the second row group
        [*rising[:4], "", *rising[4:]],  # an empty id
        [*rising[:4], "b04", *rising[5:]],  # one shorter
        ["b\u00e9", "b\u00ea", "bf\u00e9"[:2]],  # bytes, not characters
        ["ba", "bb"],
        ["a\x7f", "\u00e9"],  # 0x7f then 0xc3: bytes compare unsigned
        ["a\x00\x00", "a\x00b", "a\x01\x00"],  # NULs inside and at the end of an id
        ["a\x00", "a\x00"],  # a repeat ending in NUL
        ["ab", "a\x00"],  # a step back to a NUL
        [],
    ]
    for ids in cases:
        for split in range(len(ids) + 1):
            whole = pa.array(["pad", *ids], pa.large_string())
            cells = pa.chunked_array([whole.slice(1, split), whole.slice(1 + split)])
            assert cellbytes.ascending(cells) == _ascending_by_python(ids), (ids, split)
    assert not cellbytes.ascending(pa.array(["a", None, "c"], pa.large_string()))


TURNS = ["", "0", "7", "12345", "123456", "\u0665", "1a", " 1", "+1", "-1", "00000", "1\n", "x"]


@pytest.mark.parametrize("cells", [TURNS, ["1", "22", "333", "4444", "55555", "666666", ""]])
def test_short_digits_is_the_regular_expression(cells: list[str]) -> None:
    """The turns check's byte path (every byte a digit: lengths only) and its fallback (any
    other byte: Arrow's regular expression) say what pandas' `fullmatch` said, in sliced and
    chunked arrays too."""
    rows = [list(p) for p in itertools.product(cells, repeat=2)]
    values = [c for row in rows for c in row]
    expected = [bool(re.fullmatch(r"[0-9]{1,5}", v)) for v in values]
    arr = pa.array(values, type=pa.large_string())
    assert cellbytes.short_digits(arr, 5).tolist() == expected
    assert cellbytes.short_digits(arr.slice(3), 5).tolist() == expected[3:]
    chunked = pa.chunked_array([arr.slice(0, 5), arr.slice(5)])
    assert cellbytes.short_digits(chunked, 5).tolist() == expected


def test_short_positions_are_arrows_lookup() -> None:
    """Outcome cells looked up by their bytes stand where Arrow's `index_in` (the reference:
    exact bytes, hashed) puts them: the four words, near misses sharing a length or a first
    byte ("ti", "tiee", "tIe", "tie\\0"), non-ASCII, empty cells at a buffer's end, in sliced
    and chunked arrays alike."""
    near = [*OUTCOMES, "tIe", "tiE", "Tie", "t", "tx", "aa", "\u00e9a", "ti\u00e9"[:2], "t\u00e9"]
    rows = [c for pair in itertools.product(near, repeat=2) for c in pair] + ["", ""]
    arr = pa.array(rows, type=pa.large_string())
    words = pa.array(WORDS, type=pa.large_string())
    expected = pc.fill_null(pc.index_in(arr, value_set=words), -1).to_numpy().tolist()
    found = cellbytes.short_positions(arr, WORDS)
    assert found is not None and found.tolist() == expected
    for cells in (arr.slice(7), pa.chunked_array([arr.slice(0, 5), arr.slice(5, 0), arr.slice(5)])):
        found = cellbytes.short_positions(cells, WORDS)
        assert found is not None
        assert (
            found.tolist()
            == pc.fill_null(pc.index_in(cells, value_set=words), -1).to_numpy().tolist()
        )
    only_empty = cellbytes.short_positions(pa.array(["", ""], pa.large_string()), WORDS)
    assert only_empty is not None and only_empty.tolist() == [3, 3]


def test_short_positions_leave_what_they_cannot_look_up_to_arrow() -> None:
    cells = pa.array(["a", "b"], pa.large_string())
    assert cellbytes.short_positions(cells, ["a", "abcde"]) is None  # over 4 bytes
    assert cellbytes.short_positions(cells, ["ab", "ac"]) is None  # one length, one first byte
    assert cellbytes.short_positions(pa.array(["a", None], pa.large_string()), WORDS) is None


@pytest.mark.parametrize("dtype", ["str", object])
def test_a_column_a_file_lacks_is_what_reindex_fills_in(dtype: str | type) -> None:
    """The block's columns in order, one the file lacks (prompt_id) empty text: what pandas'
    `reindex(fill_value="")` (the reference) gave, dtype and index included."""
    for rows in (["x1", "x2", "x3"], []):
        frame = pd.DataFrame({"b": pd.Series(rows, dtype=dtype), "a": pd.Series(rows, dtype=dtype)})
        frame.index = pd.RangeIndex(5, 5 + len(rows))
        made = checks._in_order(frame, ["a", "prompt_id", "b"])
        filled = frame.reindex(columns=["a", "prompt_id", "b"], fill_value="")
        pd.testing.assert_frame_equal(made, filled)
        assert made["prompt_id"].dtype == filled["prompt_id"].dtype


def test_ascii_only_reads_only_the_cells_bytes() -> None:
    """Whether every cell is ASCII, as Arrow's per-cell check says, looking only at the bytes
    of the cells themselves: a slice's neighbours outside it (here "é") do not count."""
    whole = pa.array(["\u00e9", "b1", "", "b2", "\u00e9x"], pa.large_string())
    for start in range(5):
        for stop in range(start, 6):
            part = whole.slice(start, stop - start)
            expected = bool(pc.all(pc.string_is_ascii(part)).as_py() is not False)
            assert cellbytes.ascii_only(part) == expected, (start, stop)
            chunked = pa.chunked_array([whole.slice(1, 2), part], pa.large_string())
            assert cellbytes.ascii_only(chunked) == expected
    assert not cellbytes.ascii_only(pa.array(["a", None], pa.large_string()))
