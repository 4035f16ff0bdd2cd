"""Checks on the bytes of Arrow string columns whose cells all have one length.

Nearly every file writes every timestamp as `2026-09-01T10:02:11Z` and every id with one
number of characters: then a chunk's data buffer is an (n, width) byte matrix, read by NumPy
without a copy. The timestamp shape is two comparisons per byte (~10x faster than the regular
expression, which stays the reference and the fallback); ids become one 64-bit key each, so
repeated ids are found with an integer hash table (Arrow's table of 10M distinct strings held
~1 GB at once, a third of the peak of validating 10M rows).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Years from 1000 only: Arrow reads year 0, which pandas refuses.
PLAIN_UTC = r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"
# The same shape byte by byte: the lowest and the highest byte allowed at each position.
_LOW = np.frombuffer(b"1000-00-00T00:00:00Z", np.uint8)
_HIGH = np.where(np.isin(_LOW, list(b"-T:Z")), _LOW, np.uint8(ord("9")))  # digits up to 9
# Each byte's allowed span above its lowest: a byte is allowed when byte - low, wrapping below
# zero to 256 - (low - byte), which is above every span, is at most the span.
_SPAN = _HIGH - _LOW


def plain_utc(cells: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Which cells (large_string) have the plain UTC shape."""
    chunks = cells.chunks if isinstance(cells, pa.ChunkedArray) else [cells]
    masks = [_plain_chunk(chunk) for chunk in chunks]
    return np.concatenate(masks) if masks else np.zeros(0, dtype=bool)


def _plain_chunk(chunk: pa.Array) -> np.ndarray:
    width = len(_LOW)
    n = len(chunk)
    if n and not chunk.null_count:
        _, offsets, data = chunk.buffers()
        off = np.frombuffer(offsets, np.int64)[chunk.offset : chunk.offset + n + 1]
        if int(off[-1] - off[0]) == n * width and (np.diff(off) == width).all():
            text = np.frombuffer(data, np.uint8)[off[0] : off[-1]].reshape(n, width)
            wrong = (text - _LOW) > _SPAN  # two passes over the bytes, not three
            if not wrong.any():  # the usual chunk, settled without a reduction row by row
                return np.ones(n, dtype=bool)
            return np.asarray(~wrong.any(axis=1), dtype=bool)
    return np.asarray(pc.match_substring_regex(chunk, PLAIN_UTC), dtype=bool)


# FNV-1a's 64-bit prime: mixes each 8-byte word of an id into its key.
_PRIME = np.uint64(0x100000001B3)


def fixed_width_keys(cells: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """A 64-bit key per cell (large_string) when every non-empty cell has one byte length:
    the bytes themselves up to 8 bytes, a hash of them beyond (equal cells, equal keys; the
    caller confirms that equal keys are equal cells). None when lengths differ or a cell is
    null: the caller then compares the strings."""
    chunks = cells.chunks if isinstance(cells, pa.ChunkedArray) else [cells]
    if any(chunk.null_count for chunk in chunks):
        return None
    # two passes, so that no chunk's lengths are held while another's keys are made
    width = max((int(np.diff(_offsets(c)).max(initial=0)) for c in chunks), default=0)
    keys = np.zeros(len(cells), dtype=np.uint64)
    start = 0
    for chunk in chunks:
        off = _offsets(chunk)
        length = np.diff(off)
        filled = length == width
        if not (filled | (length == 0)).all():
            return None
        data = chunk.buffers()[2]
        raw = np.frombuffer(data, np.uint8) if data is not None else np.empty(0, np.uint8)
        keys[start : start + len(chunk)] = _keys(filled, raw[off[0] : off[-1]], width)
        start += len(chunk)
    return keys


def ascii_only(cells: pa.Array | pa.ChunkedArray) -> bool:
    """Whether every byte of the cells (large_string, no missing cell) is ASCII: one pass over
    their bytes, where Arrow's check of each cell made a mask of every cell."""
    for chunk in cells.chunks if isinstance(cells, pa.ChunkedArray) else [cells]:
        if chunk.null_count:
            return False
        data = chunk.buffers()[2] if len(chunk) else None
        if data is not None:
            off = _offsets(chunk)
            if int(np.frombuffer(data, np.uint8)[off[0] : off[-1]].max(initial=0)) >= 128:
                return False
    return True


def _offsets(chunk: pa.Array) -> np.ndarray:
    """Where each cell of a large_string chunk starts, and where the last ends."""
    offsets: np.ndarray = np.frombuffer(chunk.buffers()[1], np.int64)
    return offsets[chunk.offset : chunk.offset + len(chunk) + 1]


def _keys(filled: np.ndarray, text: np.ndarray, width: int) -> np.ndarray:
    """Keys of one chunk: 0 for an empty cell; the filled cells' bytes (`text`, `width` each)
    as 8-byte words, one word as it is, more folded into one."""
    keys = np.zeros(len(filled), dtype=np.uint64)
    if not width:
        return keys
    words = -(-width // 8)
    padded = np.zeros((int(filled.sum()), words * 8), dtype=np.uint8)
    padded[:, :width] = text.reshape(-1, width)
    packed = padded.view(np.uint64)
    key = packed[:, 0].copy()
    for k in range(1, words):
        key = (key * _PRIME) ^ packed[:, k]
        key ^= key >> np.uint64(29)
    keys[filled] = key
    return keys


# Rows compared at a time when checking that ids ascend: bounds the (rows, width) mask.
_ROWS_AT_ONCE = 1 << 18


def ascending(cells: pa.Array | pa.ChunkedArray) -> bool:
    """Whether every cell (large_string) has one non-zero byte length and each is greater,
    byte by byte, than the cell before it (across chunks too): then no id repeats, and the
    integer hash table (at 10M ids the peak of validation) is not needed. Exports and
    `simulate` number their battles in order, so this is the usual case."""
    every = cells.chunks if isinstance(cells, pa.ChunkedArray) else [cells]
    chunks = [chunk for chunk in every if len(chunk)]
    if any(chunk.null_count for chunk in chunks):
        return False
    width, last = -1, np.empty(0, np.uint8)
    for chunk in chunks:
        off = _offsets(chunk)
        width = int(off[1] - off[0]) if width < 0 else width
        if not width or int(off[-1] - off[0]) != len(chunk) * width:
            return False
        if not (np.diff(off) == width).all():
            return False
        data = np.frombuffer(chunk.buffers()[2], np.uint8)[off[0] : off[-1]]
        text = data.reshape(-1, width)
        for start in range(0, len(text), _ROWS_AT_ONCE):
            rows = text[max(0, start - 1) : start + _ROWS_AT_ONCE]
            if len(last) and not start and not _increasing(np.vstack([last, rows[:1]])):
                return False
            if not _increasing(rows):
                return False
        last = text[-1:]
    return True


def _increasing(rows: np.ndarray) -> bool:
    """Whether each row of an (n, width) byte matrix is greater than the one above it.

    Each row read as one NumPy bytes value: their comparison is unsigned and byte by byte
    (trailing NULs are dropped, which keeps the order of values of one width), one pass where
    finding each pair's first differing byte took four (65 -> 8 ms per million 8-byte ids)."""
    if len(rows) < 2:
        return True
    text = np.ascontiguousarray(rows).view(f"S{rows.shape[1]}").ravel()
    return bool((text[1:] > text[:-1]).all())


def short_digits(cells: pa.Array | pa.ChunkedArray, most: int) -> np.ndarray:
    """Which cells (large_string) are 1 to `most` ASCII digits, as the regular expression
    `[0-9]{1,most}` matches them. When every byte of a chunk is a digit (a turns column, the
    usual case) only the lengths are looked at; otherwise Arrow's regular expression: the
    pandas `fullmatch` it replaces cost ~55 ms per million cells."""
    chunks = cells.chunks if isinstance(cells, pa.ChunkedArray) else [cells]
    pattern = f"^[0-9]{{1,{most}}}$"
    masks = []
    for chunk in chunks:
        data = chunk.buffers()[2] if len(chunk) and not chunk.null_count else None
        if data is not None:
            off = _offsets(chunk)
            text = np.frombuffer(data, np.uint8)[off[0] : off[-1]]
            if not (text - np.uint8(48) > 9).any():  # every byte a digit (wraps below "0")
                length = np.diff(off)
                masks.append((length >= 1) & (length <= most))
                continue
        masks.append(np.asarray(pc.match_substring_regex(chunk, pattern), dtype=bool))
    return np.concatenate(masks) if masks else np.zeros(0, dtype=bool)


# The longest value `short_positions` looks up by its bytes ("tie", the longest outcome).
_SHORTEST = 4


def short_positions(cells: pa.Array | pa.ChunkedArray, values: list[str]) -> np.ndarray | None:
    """Where each cell (large_string) stands in `values` (exact bytes), -1 where it is none of
    them: what Arrow's `index_in` gives, from each cell's byte length and first byte, and the
    later bytes of only the cells whose length and first byte are a longer value's. Arrow
    hashes every cell (~10 ns a cell, an outcome column of 1M rows ~10 ms); this is half that.
    None when a value is over 4 bytes, two share a length and first byte, or a cell is null."""
    table = np.full((_SHORTEST + 2, 256), -1, dtype=np.int8)  # length (5: longer) x first byte
    encoded = [value.encode("utf-8") for value in values]
    for i, value in enumerate(encoded):
        if len(value) > _SHORTEST or (value and table[len(value), value[0]] >= 0):
            return None
        if value:
            table[len(value), value[0]] = i
        else:
            table[0, :] = i  # an empty cell: its "first byte" is the next cell's
    chunks = cells.chunks if isinstance(cells, pa.ChunkedArray) else [cells]
    if any(chunk.null_count for chunk in chunks):
        return None
    found = [_chunk_positions(chunk, table, encoded) for chunk in chunks]
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int8)


def _chunk_positions(chunk: pa.Array, table: np.ndarray, values: list[bytes]) -> np.ndarray:
    off = _offsets(chunk)
    data = chunk.buffers()[2] if len(chunk) else None
    raw = np.frombuffer(data, np.uint8) if data is not None and data.size else np.zeros(1, np.uint8)
    start = off[:-1]
    key = np.minimum(off[1:] - start, _SHORTEST + 1)  # the table's row: the byte length
    key <<= 8
    key += raw.take(np.minimum(start, len(raw) - 1))  # its column: the first byte
    at: np.ndarray = table.ravel().take(key)
    for i, value in enumerate(values):
        if len(value) < 2:
            continue
        rows = np.flatnonzero(at == i)
        first = start[rows]
        same = np.ones(len(rows), dtype=bool)
        for k in range(1, len(value)):
            same &= raw[first + k] == value[k]
        at[rows[~same]] = -1
    return at
