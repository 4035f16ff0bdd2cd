"""Memory freed by validation handed back to the system, so that the next stage starts lower.

The blocks' columns are many arrays of a few MB each: glibc keeps such freed memory in the
process's heap for reuse, but the whole-input columns they are stacked into are too large to
be carved from it, so both stayed resident (at 10M rows about 400 MB above what was live).

Only large inputs hand pages back (`hand_back_for`): each `malloc_trim` walks the heap, ~2 ms a
call and ~30 calls an ingest, 0.1 s of a 1M-row board's 1.5 s validation for memory that does
not matter there (the same threshold as `allocator.LARGE_INPUT_BYTES`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

import pyarrow as pa

from prefboard.ingest.allocator import LARGE_INPUT_BYTES

# Whether `give_back` returns pages: set by each ingest for its battle files' size.
_returning = [False]


def hand_back_for(input_bytes: int) -> None:
    """From now on, return freed pages only if `input_bytes` of battle files are large."""
    _returning[0] = input_bytes >= LARGE_INPUT_BYTES


@cache
def _libc() -> ctypes.CDLL | None:
    """The C library when it is glibc (it has `malloc_trim`), else None: nothing to do."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def give_back() -> None:
    """Return the free pages of Arrow's pool and of the C heap to the system, when the input
    is large."""
    if _returning[0]:
        give_back_now()


def give_back_now() -> None:
    """Return the free pages now, whatever the input's size: once at the end of validation, so
    that what it freed is not carried into the rating stage (1M rows, the rating stage's peak:
    583-600 MiB trimming throughout, 583-585 MiB with this one trim, 599-646 MiB with none)."""
    pa.default_memory_pool().release_unused()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
