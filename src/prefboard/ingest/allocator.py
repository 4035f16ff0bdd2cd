"""Large arrays mapped from the system and unmapped when freed, for the whole process.

glibc serves a block of 128 KiB or more with its own mapping at first, but each such block
freed raises that threshold (up to 32 MiB), so the stages' per-battle arrays of a few MB then
come from the heap. Freed there, their pages stay resident until the heap's top is free; at
10M battles that held 100-200 MB above the live arrays at the validation and rating peaks.
A fixed threshold keeps every array of 1 MiB or more mapped and returned as it is freed.

Only large inputs set it (each new mapping is paid in page faults: on a 1M-row board ~50,000
more, ~0.05-0.1 s of a 1 s validation, for no memory that matters there).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

# glibc's mallopt parameter number, and the size from which a block gets its own mapping: far
# above the stages' small objects; on a large board the page faults of the mapped arrays cost
# ~10 % more system time (measured at 10M: 1 MiB held ~40 MB less at the peak than 4 MiB).
_M_MMAP_THRESHOLD = -3
MAPPED_FROM = 1 << 20
# Battle files from which validation sets it: ~3.5M rows of the example board's ~76 bytes.
LARGE_INPUT_BYTES = 1 << 28


@cache
def map_large_arrays() -> bool:
    """Set the fixed threshold once per process; False where the C library is not glibc."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return False
    if libc is None or not hasattr(libc, "mallopt"):
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, MAPPED_FROM))
