"""The meat of the pooled sandwich (rating/pooled_robust.py): per-cluster score sums over the
slots (group, model) and Σ_c (g_c - ḡ_c)(g_c - ḡ_c)ᵀ, kept factored.

Clusters with many scores (a participant voting on most models of one group) are kept as dense
n x n blocks of the meat, one per pair of groups they touch; clusters with few (a prompt's
handful of votes) as one sparse matrix. Why: at 300 models a participant's sums fill their
group's block, and a sparse product over those blocks ran at about a twentieth of the dense
product's speed, in building the meat and again in every band (`Meat.quadratic`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy import sparse

# Per-cluster score sums in fixed point (units of 2^-24): integer sums do not depend on the
# order of the battles, so the result is bit-identical under any shuffle. The rounding (3e-8
# per battle) is far below the scores' own size (~1e-2 to 1). Sums are taken in int64; as
# float64 (the products, the totals in `_means`) they stay exact below 2^53, which a million
# battles at score 10 (2^47) are far from.
_FIXED = float(2**24)


@dataclass(frozen=True)
class Block:
    """Rows j, columns k (j <= k) of the dense part of Σ_c g_c g_cᵀ: group j's block of the
    heavy clusters' sums against group k's (n x n)."""

    j: int
    k: int
    matrix: np.ndarray


@dataclass(frozen=True)
class Meat:
    """Σ_c (g_c - ḡ_c)(g_c - ḡ_c)ᵀ of one clustering, kept factored (never J·n x J·n dense):
    ḡ_c holds, per group j, n_cj (the cluster's battles in j) times the group's mean score
    per battle ū_j. Centring matters: scores are taken at the pooled (shrunk) group means,
    where they do not average to zero, and an uncentred sum would count that pull, squared
    and growing with a cluster's size, as clustering. Σ_c g_c g_cᵀ is split by cluster:
    ``blocks`` (heavy clusters, dense) + ``light`` (sparse); module docstring."""

    sign: float  # +1, or -1 for the intersection term of two-way clustering
    blocks: tuple[Block, ...]
    light: sparse.csr_matrix  # J·n x J·n
    scores_by_count: sparse.csr_matrix  # Σ_c g_c n_cᵀ (J·n x J)
    count_products: sparse.csr_matrix  # Σ_c n_c n_cᵀ (J x J)

    @property
    def raw(self) -> sparse.csr_matrix:
        """Σ_c g_c g_cᵀ as one sparse matrix (for checks; the bands use `quadratic`)."""
        out = sparse.lil_matrix(self.light.shape)
        for b in self.blocks:
            n = b.matrix.shape[0]
            out[b.j * n : (b.j + 1) * n, b.k * n : (b.k + 1) * n] = b.matrix
            if b.j != b.k:
                out[b.k * n : (b.k + 1) * n, b.j * n : (b.j + 1) * n] = b.matrix.T
        return sparse.csr_matrix(out.tocsr() + self.light)

    def quadratic(self, y: np.ndarray, between: bool = False) -> np.ndarray:
        """diag(Y (Σ_c g_c g_cᵀ) Yᵀ) for Y (rows x J·n), block by block; ``between``: without
        the dense blocks of one group with itself (rating/pooled_bands.py maps those)."""
        out = np.zeros(y.shape[0])
        if self.light.nnz:
            out += np.einsum("ij,ji->i", y, self.light @ y.T)
        for b in self.blocks:
            if between and b.j == b.k:
                continue
            n = b.matrix.shape[0]
            left, right = y[:, b.j * n : (b.j + 1) * n], y[:, b.k * n : (b.k + 1) * n]
            # the (k, j) block is the transpose: the same diagonal again
            part = np.einsum("ij,ij->i", left @ b.matrix, right)
            out += part if b.j == b.k else 2.0 * part
        return out


@dataclass(frozen=True)
class _Scores:
    """Per battle: its group (slot), its pair's columns and the fixed-point score of lo at the
    group's pooled mean (int64; hi's is its negative). ``played``: models with a
    battle; ``slots`` = J, ``m`` = models."""

    slot: np.ndarray
    cols: tuple[np.ndarray, np.ndarray]  # lo's and hi's columns: group j's model i at j * m + i
    q: np.ndarray
    played: np.ndarray
    slots: int
    m: int


# Above this many cells (clusters x columns) per-cluster sums are formed from sorted triplets
# rather than dense rows.
_DENSE_CELLS = 4_000_000

# How many times faster a dense product runs than a sparse one, per multiply-add (measured at
# 300 models: ~20); a block of the meat is dense when that makes it cheaper (`_split`).
_DENSE_SPEEDUP = 20.0


def _codes(cluster: np.ndarray) -> tuple[np.ndarray, int]:
    """Cluster codes as 0..C-1; codes that are already small are used as they are (empty
    clusters are zero rows), others are replaced by their rank among the sorted codes."""
    cluster = np.asarray(cluster, dtype=np.int64)
    if not cluster.size:
        return cluster, 0
    if cluster.min() >= 0 and cluster.max() < 4 * cluster.size + 1024:
        return cluster, int(cluster.max()) + 1
    uniq, codes = np.unique(cluster, return_inverse=True)
    return codes.reshape(-1), len(uniq)


@njit(cache=True, nogil=True)
def _dense_sums(
    codes: np.ndarray,
    n: int,
    slot: np.ndarray,
    cols: tuple[np.ndarray, np.ndarray],
    q: np.ndarray,
    slots: int,
    width: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Per cluster, flat: its summed scores per column (n x width) and battles per slot (n x
    slots), in int64 (exact in any order), without a temporary per battle."""
    g = np.zeros(n * width, dtype=np.int64)
    counts = np.zeros(n * slots, dtype=np.int64)
    for k in range(codes.shape[0]):
        c = codes[k]
        g[c * width + cols[0][k]] += q[k]
        g[c * width + cols[1][k]] -= q[k]
        counts[c * slots + slot[k]] += 1
    return g, counts


def _csr(flat: np.ndarray, n: int, width: int) -> sparse.csr_matrix:
    """The dense (n x width) integer sums ``flat`` as a canonical float csr matrix (sorted
    indices, no zeros)."""
    nz = np.flatnonzero(flat)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(nz // width, minlength=n), out=indptr[1:])
    data = flat[nz].astype(np.float64)
    return sparse.csr_matrix((data, nz % width, indptr), shape=(n, width))


def _triplets(
    rows: np.ndarray, n: int, width: int, cols: tuple[np.ndarray, ...], value: np.ndarray | None
) -> sparse.csr_matrix:
    """As `_dense_sums` for one matrix, for boards with too many clusters for dense rows: per
    (row, column), the sum of ``value`` (None = 1) at ``cols[0]`` minus that at ``cols[1]``,
    as a canonical csr matrix (sorted indices, no zeros)."""
    v = np.ones(len(rows), dtype=np.int64) if value is None else value
    hi = cols[1] if len(cols) > 1 else cols[0]
    indptr, indices, data = _row_sums(rows, n, width, cols[0], hi, v, len(cols) > 1)
    return sparse.csr_matrix((data.astype(np.float64), indices, indptr), shape=(n, width))


@njit(cache=True, nogil=True)
def _row_sums(
    rows: np.ndarray,
    n: int,
    width: int,
    lo: np.ndarray,
    hi: np.ndarray,
    value: np.ndarray,
    signed: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`_triplets`' csr arrays: battles bucketed by row (a counting sort), each row summed
    into one scratch row of ``width`` int64 (exact in any order) and its touched columns
    sorted. A coo -> csr conversion sorted all 2 x battles entries instead: the same integers,
    ~30 % more CPU at 300 models x 1M battles."""
    start = np.zeros(n + 1, dtype=np.int64)
    for k in range(rows.shape[0]):
        start[rows[k] + 1] += 1
    start = np.cumsum(start)
    order = np.empty(rows.shape[0], dtype=np.int64)
    fill = start[:-1].copy()
    for k in range(rows.shape[0]):
        order[fill[rows[k]]] = k
        fill[rows[k]] += 1
    acc = np.zeros(width, dtype=np.int64)
    seen = np.zeros(width, dtype=np.bool_)
    touched = np.empty(width, dtype=np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    indices = np.empty(2 * rows.shape[0], dtype=np.int64)
    data = np.empty(2 * rows.shape[0], dtype=np.int64)
    nnz = 0
    for r in range(n):
        t = 0
        for p in range(start[r], start[r + 1]):
            k = order[p]
            c = lo[k]
            if not seen[c]:
                seen[c] = True
                touched[t] = c
                t += 1
            acc[c] += value[k]
            if signed:
                c = hi[k]
                if not seen[c]:
                    seen[c] = True
                    touched[t] = c
                    t += 1
                acc[c] -= value[k]
        row = np.sort(touched[:t])
        for c in row:
            if acc[c] != 0:
                indices[nnz] = c
                data[nnz] = acc[c]
                nnz += 1
            acc[c] = 0
            seen[c] = False
        indptr[r + 1] = nnz
    return indptr, indices[:nnz], data[:nnz]


def _clustered(
    codes: np.ndarray, n: int, sc: _Scores
) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """(g, counts): per cluster (codes 0..n-1), its summed fixed-point scores over the slots and
    its battles per group. A participant-level cluster lies in one group, so its row holds one
    group's block only; kept sparse, the products in `_meat` skip the other J - 1 blocks."""
    width = sc.slots * sc.m
    if n * width <= _DENSE_CELLS:
        flat, counts = _dense_sums(codes, n, sc.slot, sc.cols, sc.q, sc.slots, width)
        return _csr(flat, n, width), _csr(counts, n, sc.slots)
    g = _triplets(codes, n, width, sc.cols, sc.q)
    return g, _triplets(codes, n, sc.slots, (sc.slot,), None)


def _meat(g: sparse.csr_matrix, counts: sparse.csr_matrix, sign: float, m: int) -> Meat:
    """One clustering's centred meat, factored (`Meat`), from its per-cluster sums over
    slots of ``m`` models."""
    gs = sparse.csr_matrix(g / _FIXED)  # a power of two: exact
    blocks, light = _split(gs, m)
    return Meat(
        sign,
        blocks,
        light,
        sparse.csr_matrix(gs.T @ counts),
        sparse.csr_matrix(counts.T @ counts),
    )


def _split(gs: sparse.csr_matrix, m: int) -> tuple[tuple[Block, ...], sparse.csr_matrix]:
    """Σ_c g_c g_cᵀ block by block (groups j <= k, over the clusters that touch both), each
    block dense or sparse by its cost: Σ_c z_cj·z_ck sparse products (z: a cluster's nonzero
    sums in a group) against (clusters)·m² dense ones, which run _DENSE_SPEEDUP times faster."""
    slots = gs.shape[1] // m
    per = [sparse.csr_matrix(gs[:, j * m : (j + 1) * m]) for j in range(slots)]
    z = np.stack([np.diff(p.indptr) for p in per], axis=1).astype(np.float64)
    dense: list[Block] = []
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = [(np.zeros(0), _NONE, _NONE)]
    for j in range(slots):
        for k in range(j, slots):
            both = np.flatnonzero((z[:, j] > 0) & (z[:, k] > 0))
            if not both.size:
                continue
            left, right = per[j][both], per[k][both]
            if _DENSE_SPEEDUP * float(z[both, j] @ z[both, k]) >= both.size * m * m:
                lo = left.toarray()
                # a.T @ a is one symmetric rank-k update (exactly symmetric)
                dense.append(Block(j, k, lo.T @ (lo if j == k else right.toarray())))
                continue
            product = sparse.coo_matrix(left.T @ right)
            parts.append((product.data, product.row + j * m, product.col + k * m))
            if j != k:
                parts.append((product.data, product.col + k * m, product.row + j * m))
    data, rows, cols = (np.concatenate(x) for x in zip(*parts, strict=True))
    width = slots * m
    return tuple(dense), sparse.csr_matrix((data, (rows, cols)), shape=(width, width))


_NONE = np.zeros(0, dtype=np.int64)


def _means(g: sparse.csr_matrix, counts: sparse.csr_matrix, sc: _Scores) -> sparse.csr_matrix:
    """ū_j in group j's block, from exact integer totals (the column sums of one clustering)."""
    total = np.asarray(g.sum(axis=0)).reshape(-1)  # sums of integers: exact below 2^53
    n_j = np.asarray(counts.sum(axis=0)).reshape(-1)
    per = (total / _FIXED).reshape(sc.slots, sc.m) / np.maximum(n_j, 1.0)[:, None]
    width = sc.slots * sc.m
    rows = np.repeat(np.arange(sc.slots), sc.m)
    return sparse.csr_matrix((per.reshape(-1), (rows, np.arange(width))), shape=(sc.slots, width))
