"""Battle files checked block by block: each block on one of two checking threads while the
next is read and parsed ahead, merged in the blocks' order, and stacked into whole columns."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from prefboard.ingest.ahead import ahead
from prefboard.ingest.cellbytes import ascending
from prefboard.ingest.checks import Checker
from prefboard.ingest.compact import categorical, stacked_categories
from prefboard.ingest.csvread import RawTable
from prefboard.ingest.csvstream import batches
from prefboard.ingest.memory import give_back

# Blocks checked at once: most of the checks' time is in Arrow and NumPy kernels, which leave
# the GIL free, so two blocks' checks (and the next block's parse) share the two cores.
CHECK_THREADS = 2


@dataclass
class Checked:
    """A block checked: its typed battles, its checker, which rows answered a dimension, and
    its first and last battle_id when its ids ascend (None when they do not)."""

    out: pd.DataFrame
    check: Checker
    answered: np.ndarray
    ends: pa.Array | None


@dataclass
class Blocks:
    """Every block's part, in the blocks' order."""

    outs: list[pd.DataFrame] = field(default_factory=list)
    kept: list[pd.DataFrame] = field(default_factory=list)  # each row's file and line
    reasons: list[np.ndarray] = field(default_factory=list)
    answered: list[np.ndarray] = field(default_factory=list)
    ends: list[pa.Array | None] = field(default_factory=list)

    def ids_ascend(self) -> bool:
        """Whether the battle ids ascend over every row (`cellbytes.ascending`): each block's
        did (checked on its thread) and each block's first id follows the last one before."""
        if any(e is None for e in self.ends):
            return False
        parts = [e for e in self.ends if e is not None and len(e)]
        return not parts or ascending(pa.chunked_array(parts, type=pa.large_string()))


def checked_blocks(
    raws: list[RawTable], check_block: Callable[[RawTable | None], Checked], tally: Checker
) -> Blocks:
    """Every block checked, and its typed battles, its rows' file and line and their reasons,
    in the blocks' order; problems reported into `tally` exactly as if the blocks had been
    checked one after the other (`Checker.merge`)."""
    blocks = Blocks()

    def merge(done: Future[Checked]) -> None:
        part = done.result()
        tally.merge(part.check)
        blocks.outs.append(part.out)
        blocks.kept.append(part.check.frame[["_file", "_line"]])
        blocks.reasons.append(part.check.reason)
        blocks.answered.append(part.answered)
        blocks.ends.append(part.ends)
        # the block's text is let go with its checker, and the pages freed are returned rather
        # than kept: the checking threads' heaps are not reused by this thread, so at 10M rows
        # what they kept freed was ~300 MiB of the resident size after the blocks
        del part, done
        give_back()

    with ThreadPoolExecutor(CHECK_THREADS, thread_name_prefix="prefboard-check") as pool:
        running: deque[Future[Checked]] = deque()
        # the next block is read and parsed on a worker thread while these are checked
        for block in ahead(blocks_of(raws)):
            running.append(pool.submit(check_block, block))
            del block
            if len(running) == CHECK_THREADS:
                merge(running.popleft())
        while running:
            merge(running.popleft())
    return blocks


def id_ends(cells: pa.Array | pa.ChunkedArray) -> pa.Array | None:
    """A block's first and last id when its ids ascend (none when it has no row), else None:
    the ascending check of every id, made on the checking threads (~40 ms per 1M ids that
    ran alone after the blocks)."""
    if not len(cells):
        return pa.array([], type=pa.large_string())
    if not ascending(cells):
        return None
    ends = cells.take(pa.array([0, len(cells) - 1]))
    return ends.combine_chunks() if isinstance(ends, pa.ChunkedArray) else ends


def stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The blocks' frames as one, column by column, each block's column let go once copied:
    `pd.concat` held every block and the whole result at once (at 10M rows, twice the typed
    battles). Empties `frames`."""
    first = list(frames[0].columns)
    # each block's columns taken out and the frames let go, rather than each column popped
    # from its frame (a pop rebuilt the frame's blocks: ~90 pops at 1M rows)
    pieces = {col: [f[col] for f in frames] for col in first}
    frames.clear()
    columns = {col: _stacked(pieces.pop(col)) for col in first}
    # copy=False: from Series, pandas' default copied the times and codes and joined the
    # columns of one dtype into one 2D array (a copy of each), so that popping one later
    # freed nothing until all were popped
    return pd.DataFrame(columns, copy=False)


def _stacked(pieces: list[pd.Series]) -> pd.Series:
    """One column of every block, the blocks' pieces let go and their pages handed back before
    the next column is stacked (they were made on the checking threads, whose freed memory this
    thread cannot reuse: at 10M rows stacking held ~300 MiB more)."""
    column = (
        stacked_categories(pieces) if categorical(pieces) else pd.concat(pieces, ignore_index=True)
    )
    del pieces
    give_back()
    return column


def blocks_of(raws: list[RawTable]) -> Iterator[RawTable | None]:
    """Every block of every file, or one None when there is none (an empty frame then still
    gets its typed columns)."""
    any_block = False
    for raw in raws:
        for block in batches(raw):
            any_block = True
            yield block
    if not any_block:
        yield None
