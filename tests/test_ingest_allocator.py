"""The process-wide allocator setting the stages make (ingest/allocator.py)."""

from __future__ import annotations

import ctypes.util
import platform

import pytest

from prefboard.ingest import allocator


@pytest.mark.skipif(
    platform.system() != "Linux" or "libc" not in str(ctypes.util.find_library("c")),
    reason="glibc's mallopt only",
)
def test_glibc_accepts_the_fixed_mapping_threshold() -> None:
    # mallopt returns 1 when glibc took the value: large arrays are then mapped and unmapped
    # one by one, whatever was freed before (the dynamic threshold is off)
    assert allocator.map_large_arrays() is True
    assert allocator.map_large_arrays() is True  # once per process, then remembered
