"""Σ_c g_c g_cᵀ of the pooled sandwich's meat (rating/pooled_meat.py) block by block: one
block per pair of groups, over the clusters with score sums in both, each kept dense or sparse
by its cost.

Why compiled: scipy sliced the per-cluster sums per group and per pair (~50 slicing and
product calls per clustering at 7 groups), most of a small board's sandwich. The numbers are
scipy's: a sparse block's entry sums its clusters' products in cluster order, as scipy's sparse
product sums them, exact zeros dropped; a dense block is the same BLAS product of the same
dense rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from prefboard.jit import njit


@dataclass(frozen=True)
class Block:
    """Rows j, columns k (j <= k) of the dense part of Σ_c g_c g_cᵀ: group j's block of the
    heavy clusters' sums against group k's (n x n)."""

    j: int
    k: int
    matrix: np.ndarray


# How many times faster a dense product runs than a sparse one, per multiply-add (measured at
# 300 models: ~20); a block of the meat is dense when that makes it cheaper (`split`).
_DENSE_SPEEDUP = 20.0


def split(gs: sparse.csr_matrix, m: int) -> tuple[tuple[Block, ...], sparse.csr_matrix]:
    """Σ_c g_c g_cᵀ block by block (groups j <= k, over the clusters that touch both), each
    block dense or sparse by its cost: Σ_c z_cj·z_ck sparse products (z: a cluster's nonzero
    sums in a group) against (clusters)·m² dense ones, which run _DENSE_SPEEDUP times faster.
    ``gs``: per-cluster score sums (clusters x groups·m, group j's model i in column j·m + i).
    Returns the dense blocks and the sparse ones as one matrix (both triangles)."""
    if not gs.has_sorted_indices:
        gs = gs.sorted_indices()
    slots = gs.shape[1] // m
    indptr, indices = gs.indptr.astype(np.int64), gs.indices.astype(np.int64)
    ranges = _slot_ranges(indptr, indices, slots, m)
    pairs = [(j, k) for j in range(slots) for k in range(j, slots)]
    clusters, cost = _pair_costs(ranges, np.array(pairs, dtype=np.int64).reshape(-1, 2))
    dense: list[Block] = []
    sparse_pairs: list[tuple[int, int]] = []
    entries = 0  # at most: a multiply-add touches one entry, and a block has m^2 (twice)
    for (j, k), both, products in zip(pairs, clusters.tolist(), cost.tolist(), strict=True):
        if not both:
            continue
        if _DENSE_SPEEDUP * float(products) >= both * m * m:
            lo, hi = _dense_rows(ranges, indices, gs.data, j, k, both, m)
            # a.T @ a is one symmetric rank-k update (exactly symmetric)
            dense.append(Block(j, k, lo.T @ (lo if j == k else hi)))
        else:
            sparse_pairs.append((j, k))
            entries += 2 * min(products, m * m)
    data, rows, cols = _sparse_blocks(
        ranges,
        indices,
        gs.data,
        np.array(sparse_pairs, dtype=np.int64).reshape(-1, 2),
        m,
        entries,
    )
    width = slots * m
    return tuple(dense), sparse.csr_matrix((data, (rows, cols)), shape=(width, width))


@njit(cache=True, nogil=True)
def _slot_ranges(indptr: np.ndarray, indices: np.ndarray, slots: int, m: int) -> np.ndarray:
    """Where each row's entries of each group start (rows x slots + 1 offsets into the csr
    arrays; indices sorted within a row, group j's columns j·m .. j·m + m - 1)."""
    rows = indptr.shape[0] - 1
    out = np.empty((rows, slots + 1), dtype=np.int64)
    for c in range(rows):
        p = indptr[c]
        for j in range(slots + 1):
            while p < indptr[c + 1] and indices[p] < j * m:
                p += 1
            out[c, j] = p
    return out


@njit(cache=True, nogil=True, inline="always")
def _sums_in(ranges: np.ndarray, c: int, j: int) -> np.int64:
    """z_cj: cluster c's nonzero sums in group j (`_slot_ranges`)."""
    return np.int64(ranges[c, j + 1] - ranges[c, j])


@njit(cache=True, nogil=True)
def _pair_costs(ranges: np.ndarray, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pair of groups (j, k): the clusters with sums in both, and Σ z_cj·z_ck over them
    (the sparse product's multiply-adds)."""
    clusters = np.zeros(pairs.shape[0], dtype=np.int64)
    cost = np.zeros(pairs.shape[0], dtype=np.int64)
    for t in range(pairs.shape[0]):
        j, k = pairs[t, 0], pairs[t, 1]
        for c in range(ranges.shape[0]):
            zj, zk = _sums_in(ranges, c, j), _sums_in(ranges, c, k)
            if zj > 0 and zk > 0:
                clusters[t] += 1
                cost[t] += zj * zk
    return clusters, cost


@njit(cache=True, nogil=True)
def _dense_rows(
    ranges: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    j: int,
    k: int,
    both: int,
    m: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Groups j's and k's columns of the clusters with sums in both, as dense (both x m) rows
    in cluster order."""
    lo = np.zeros((both, m))
    hi = np.zeros((both, m))
    r = 0
    for c in range(ranges.shape[0]):
        if _sums_in(ranges, c, j) > 0 and _sums_in(ranges, c, k) > 0:
            for p in range(ranges[c, j], ranges[c, j + 1]):
                lo[r, indices[p] - j * m] = data[p]
            for p in range(ranges[c, k], ranges[c, k + 1]):
                hi[r, indices[p] - k * m] = data[p]
            r += 1
    return lo, hi


@njit(cache=True, nogil=True)
def _sparse_blocks(
    ranges: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    pairs: np.ndarray,
    m: int,
    capacity: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sparse blocks' entries as (value, row, column) triplets, both triangles: block
    (j, k)'s entry (p, q) sums x_cp·y_cq over the clusters c with sums in both groups, in
    cluster order (scipy's sparse product's order), and is left out when exactly zero."""
    acc = np.zeros((m, m))
    values = np.empty(capacity)
    rows = np.empty(capacity, dtype=np.int64)
    cols = np.empty(capacity, dtype=np.int64)
    n = 0
    for t in range(pairs.shape[0]):
        j, k = pairs[t, 0], pairs[t, 1]
        for c in range(ranges.shape[0]):
            if _sums_in(ranges, c, j) == 0 or _sums_in(ranges, c, k) == 0:
                continue
            for p in range(ranges[c, j], ranges[c, j + 1]):
                x = data[p]
                for q in range(ranges[c, k], ranges[c, k + 1]):
                    acc[indices[p] - j * m, indices[q] - k * m] += data[q] * x
        for p in range(m):
            for q in range(m):
                if acc[p, q] != 0.0:
                    values[n], rows[n], cols[n] = acc[p, q], j * m + p, k * m + q
                    n += 1
                    if j != k:
                        values[n], rows[n], cols[n] = acc[p, q], k * m + q, j * m + p
                        n += 1
                acc[p, q] = 0.0
    return values[:n], rows[:n], cols[:n]
