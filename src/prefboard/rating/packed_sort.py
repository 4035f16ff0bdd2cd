"""Rank counts of posterior draws by sorting integers that carry their model index.

Each key (a float64) becomes an unsigned integer of the same order (the usual bit flip: negative
numbers have every bit inverted, the others their sign bit set), and its lowest bits are
replaced by the model's index. One plain sort of those integers per draw then gives both the
order and who is where, and numpy sorts 64-bit integers with its vectorised sort: at 300 models
~12 ms per 4,000 draws where the index sort (`np.argsort`) and its check took ~21 ms.

It gives the argsort's counts exactly, or declines: dropping the low bits can only merge keys
that lie within 2**bits units in the last place of each other, so a draw in which two neighbours
share their high bits is not counted here (nor is any draw of its block); neither is a block
holding a nan or a zero (+0 and -0 are equal keys with different bits). Otherwise every draw's
keys are distinct and their order is unique: the one any sort finds.
"""

from __future__ import annotations

import numpy as np

from prefboard.jit import njit

__all__ = ["add_packed_counts"]

_SIGN = np.uint64(1) << np.uint64(63)
_EXPONENT = np.uint64(0x7FF0000000000000)
_ALL = ~np.uint64(0)


def add_packed_counts(keys: np.ndarray, counts: np.ndarray) -> bool:
    """Adds ``counts[i, r]`` = draws (rows of ``keys``) in which model i has the (r + 1)-th
    smallest key, and returns True; or adds nothing and returns False (see the module
    docstring), leaving the block to the index sort."""
    n, m = keys.shape
    if n == 0 or m == 0:
        return False
    shift = np.uint64(max(1, (m - 1).bit_length()))
    bits = np.ascontiguousarray(keys, dtype=np.float64).view(np.uint64)
    packed = np.empty((n, m), dtype=np.uint64)
    if not _pack(bits, packed, shift):
        return False
    packed.sort(axis=1)
    return bool(_count_packed(packed, counts, shift))


@njit(cache=True)
def _pack(bits: np.ndarray, packed: np.ndarray, shift: np.uint64) -> bool:
    """The order-preserving integers of the keys, each model's index in their low ``shift``
    bits; False (``packed`` then partly written) at a nan or a zero."""
    low = (np.uint64(1) << shift) - np.uint64(1)
    n, m = bits.shape
    for d in range(n):
        for j in range(m):
            b = bits[d, j]
            magnitude = b & ~_SIGN
            if magnitude == np.uint64(0) or magnitude > _EXPONENT:
                return False
            ordered = (b ^ _ALL) if b & _SIGN else (b | _SIGN)
            packed[d, j] = (ordered & ~low) | np.uint64(j)
    return True


@njit(cache=True)
def _count_packed(packed: np.ndarray, counts: np.ndarray, shift: np.uint64) -> bool:
    """counts[index, r] += 1 for the r-th sorted integer of every row, once every row's
    neighbours are checked to differ above the index bits; else counts nothing, False."""
    low = (np.uint64(1) << shift) - np.uint64(1)
    n, m = packed.shape
    for d in range(n):
        prev = packed[d, 0] >> shift
        for r in range(1, m):
            cur = packed[d, r] >> shift
            if cur == prev:
                return False
            prev = cur
    for d in range(n):
        for r in range(m):
            counts[np.int64(packed[d, r] & low), r] += 1
    return True
