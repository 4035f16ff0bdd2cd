"""The plain UTC timestamp shape checked on the bytes of an Arrow string column.

Nearly every file writes every timestamp as `2026-09-01T10:02:11Z`: twenty bytes a cell, so a
chunk's data buffer is an (n, 20) byte matrix and the shape is two comparisons per byte
(~10x faster than the regular expression, which stays the reference and the fallback for a
chunk with a cell of another length).
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
            ok: np.ndarray = ((text >= _LOW) & (text <= _HIGH)).all(axis=1)
            return ok
    return np.asarray(pc.match_substring_regex(chunk, PLAIN_UTC), dtype=bool)
