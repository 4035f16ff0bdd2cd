"""numba's ``njit``, with its on-disk cache made safe for several processes at once.

A kernel compiled with ``cache=True`` keeps an index file (each signature's data file name)
and one data file per signature beside the code. numba replaces each file atomically, but not
the pair: two processes adding signatures of one kernel at once (the two test workers, a
``prefboard serve`` beside a ``build``, the rating stage beside its cross-check worker) can each
take the same free number, and a later load then reads another signature's machine code. A
clean-clone CI run aborted inside LLVM while loading a kernel from the cache, four seconds after
both test workers started compiling; two processes saving 150 entries each into one cache lost
2-46 entries and left 2-16 pointing at another entry's data in each of three runs. Here every
save and load of a cache entry holds a lock on a file beside the index: exclusive for a save
(read the index, add the entry, write the index and the data), shared for a load. Kernels
import ``njit`` from this module so that no cache is read before the lock is in place.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from typing import Any

from numba import njit
from numba.core.caching import IndexDataCacheFile

try:
    import fcntl
except ImportError:  # not POSIX: numba's own behaviour
    fcntl = None  # type: ignore[assignment]

__all__ = ["lock_path", "njit"]

# Marks numba's methods once wrapped (the module may be imported again by a reload).
_WRAPPED = "_prefboard_locked"


def lock_path(cache: IndexDataCacheFile) -> str | None:
    """The lock file of one kernel's cache: beside its index (None if a numba release no
    longer names the index where this module looks)."""
    index = getattr(cache, "_index_path", None)
    return index + ".lock" if isinstance(index, str) else None


@contextlib.contextmanager
def _locked(cache: IndexDataCacheFile, exclusive: bool) -> Iterator[None]:
    path = lock_path(cache)
    if fcntl is None or path is None:
        yield
        return
    try:
        # O_NOFOLLOW: a planted link is never opened (nor created through) in its place
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError:  # a folder numba cannot write to either: it saves nothing there
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # releases the lock


def _wrap(method: Callable[..., Any], exclusive: bool) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(self: IndexDataCacheFile, *args: Any) -> Any:
        with _locked(self, exclusive):
            return method(self, *args)

    setattr(locked, _WRAPPED, True)
    return locked


def _install() -> None:
    for name, exclusive in (("save", True), ("flush", True), ("load", False)):
        method = getattr(IndexDataCacheFile, name)
        if not getattr(method, _WRAPPED, False):
            setattr(IndexDataCacheFile, name, _wrap(method, exclusive))


_install()
