"""The byte-level checks say exactly what the regular expression and the hash lookup they
replace say, cell for cell (issue 18: validation at Arrow speed)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from prefboard.ingest.cellbytes import plain_utc, short_word_positions

PLAIN_UTC = r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"
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


def test_short_words_are_the_hash_lookup() -> None:
    cells = _chunked(OUTCOMES * 3)
    value_set = pa.array(WORDS, pa.large_string())
    expected = pc.fill_null(pc.index_in(cells, value_set=value_set), -1).to_numpy()
    assert short_word_positions(cells, WORDS).tolist() == expected.tolist()
    assert short_word_positions(pa.array(["b", None], pa.large_string()), WORDS).tolist() == [1, -1]
