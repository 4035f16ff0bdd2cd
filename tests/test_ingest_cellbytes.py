"""The byte-level timestamp shape says exactly what the regular expression says, cell for
cell, on the fast path (every cell twenty bytes) and the fallback alike (issue 18)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from prefboard.ingest.cellbytes import PLAIN_UTC, plain_utc

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
