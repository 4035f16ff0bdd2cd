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
from scipy import sparse

from prefboard.jit import njit
from prefboard.rating.batch_terms import TIE
from prefboard.rating.pooled_blocks import Block, split

# Per-cluster score sums in fixed point (units of 2^-24): integer sums do not depend on the
# order of the battles, so the result is bit-identical under any shuffle. The rounding (3e-8
# per battle) is far below the scores' own size (~1e-2 to 1). Sums are taken in int64; as
# float64 (the products, the totals in `_means`) they stay exact below 2^53, which a million
# battles at score 10 (2^47) are far from.
_FIXED = float(2**24)


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


# The battles as the kernels read them: a, b, outcome and group per battle, any integer dtypes
# (one tuple: numba compiles a version per combination of dtypes).
Rows = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
Int = np.int64


@dataclass(frozen=True)
class _Scores:
    """The battles (``rows``: a, b, outcome and group per battle, -1 = the last slot) and
    the fixed-point score of lo at its group's pooled mean per (slot, pair lo < hi, outcome
    from lo's side) key (`_battle`; int64; hi's is its negative). Every pass over the battles
    reads these arrays and the small table: per-battle copies of the keys, columns and scores
    (five arrays of int64) cost more memory traffic than the passes themselves. ``played``:
    models with a battle; ``slots`` = J, ``m`` = models."""

    rows: Rows
    q: np.ndarray  # flat over keys ((slot * m + lo) * m + hi) * 3 + outcome
    played: np.ndarray
    slots: int
    m: int


@njit(cache=True, nogil=True, inline="always")
def _battle(
    rows: Rows, k: int, slots: int, m: int
) -> tuple[np.int64, np.int64, np.int64, np.int64]:
    """Battle k's slot (its group, or the last slot when not given), lo's and hi's columns
    (slot j's model i at j * m + i) and its key into the score table (outcome from lo's side,
    as batch.aggregate counts it). Any integer dtypes (int32 or int64 codes)."""
    a, b, outcome, group = rows
    x, y, o = np.int64(a[k]), np.int64(b[k]), np.int64(outcome[k])
    # min/max and a select rather than a branch on the pair's order (mispredicted half the
    # time: this runs once per battle per pass)
    lo, hi = min(x, y), max(x, y)
    o = 1 - o if x > y and o != TIE else o
    s = np.int64(group[k]) if group[k] >= 0 else np.int64(slots - 1)
    return s, s * m + lo, s * m + hi, ((s * m + lo) * m + hi) * 3 + o


# Above this many cells (clusters x columns) per-cluster sums are formed from sorted triplets
# rather than dense rows.
_DENSE_CELLS = 4_000_000


def _codes(cluster: np.ndarray) -> tuple[np.ndarray, int]:
    """Cluster codes as 0..C-1; codes that are already small are used as they are (empty
    clusters are zero rows), others are replaced by their rank among the sorted codes.
    Integer codes keep their dtype (the kernels take int32 as well; no int64 copy)."""
    cluster = np.asarray(cluster)
    cluster = cluster if cluster.dtype.kind in "iu" else cluster.astype(np.int64)
    if not cluster.size:
        return cluster, 0
    if cluster.min() >= 0 and cluster.max() < 4 * cluster.size + 1024:
        return cluster, int(cluster.max()) + 1
    uniq, codes = np.unique(cluster, return_inverse=True)
    return codes.reshape(-1), len(uniq)


@njit(cache=True, nogil=True)
def _dense_sums(
    codes: np.ndarray, n: int, rows: Rows, q: np.ndarray, slots: int, m: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per cluster, flat: its summed scores per column (n x slots·m) and battles per slot (n x
    slots), in int64 (exact in any order), in one pass over the battles (`_Scores`)."""
    width = slots * m
    g = np.zeros(n * width, dtype=np.int64)
    counts = np.zeros(n * slots, dtype=np.int64)
    for k in range(codes.shape[0]):
        s, lo, hi, key = _battle(rows, k, slots, m)
        c = np.int64(codes[k])
        g[c * width + lo] += q[key]
        g[c * width + hi] -= q[key]
        counts[c * slots + s] += 1
    return g, counts


def _csr(flat: np.ndarray, n: int, width: int) -> sparse.csr_matrix:
    """The dense (n x width) integer sums ``flat`` as a canonical float csr matrix (sorted
    indices, no zeros)."""
    data, indices, indptr = _nonzeros(flat, n, width)
    return sparse.csr_matrix((data, indices, indptr), shape=(n, width))


@njit(cache=True, nogil=True)
def _nonzeros(flat: np.ndarray, n: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """csr arrays (values as floats, column indices, row offsets) of the nonzero cells of the
    (n x width) row-major ``flat``, in one counting pass and one filling pass (numpy's
    flatnonzero, a bincount of rows and a gather took ~5 passes)."""
    indptr = np.zeros(n + 1, dtype=np.int64)
    for r in range(n):
        count = 0
        for c in range(r * width, (r + 1) * width):
            count += flat[c] != 0
        indptr[r + 1] = indptr[r] + count
    data = np.empty(indptr[n], dtype=np.float64)
    indices = np.empty(indptr[n], dtype=np.int64)
    k = 0
    for r in range(n):
        for c in range(width):
            v = flat[r * width + c]
            if v != 0:
                data[k], indices[k] = v, c
                k += 1
    return data, indices, indptr


@njit(cache=True, nogil=True)
def _bucket(rows: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Battles bucketed by row (a stable counting sort): row r's battles are
    ``order[start[r]:start[r + 1]]``, in battle order."""
    start = _starts(rows, n)
    order = np.empty(rows.shape[0], dtype=np.int64)
    fill = start[:-1].copy()
    for k in range(rows.shape[0]):
        order[fill[rows[k]]] = k
        fill[rows[k]] += 1
    return start, order


@njit(cache=True, nogil=True)
def _starts(rows: np.ndarray, n: int) -> np.ndarray:
    """Where each row's bucket starts (n + 1 offsets) when battles are sorted by row."""
    start = np.zeros(n + 1, dtype=np.int64)
    for k in range(rows.shape[0]):
        start[rows[k] + 1] += 1
    return np.cumsum(start)


@njit(cache=True, nogil=True)
def _battle_row_sums(
    codes: np.ndarray, n: int, rows: Rows, q: np.ndarray, slots: int, m: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`_dense_sums` as canonical csr arrays (indptr, indices, data: sorted indices, no zeros)
    of the scores and of the battles per slot, for boards with too many clusters for dense
    rows: battles bucketed by cluster (a counting sort), each cluster summed into one scratch
    row in int64 (exact in any order; columns slots·m onwards count the battles per slot), and
    its touched columns sorted. A coo -> csr conversion sorted every entry instead: the same
    integers, ~30 % more CPU at 300 models x 1M battles."""
    # Battles bucketed by cluster (a stable counting sort), each written as its key: the sums
    # then read one array in order, not four arrays at scattered battles (a cache miss each).
    start = _starts(codes, n)
    fill = start[:-1].copy()
    keys = np.empty(codes.shape[0], dtype=np.int64)
    for k in range(codes.shape[0]):
        keys[fill[codes[k]]] = _battle(rows, k, slots, m)[3]
        fill[codes[k]] += 1
    width = slots * m
    acc = np.zeros(width + slots, dtype=np.int64)
    seen = np.zeros(width + slots, dtype=np.bool_)
    touched = np.empty(width + slots, dtype=np.int64)
    g_ptr, c_ptr = np.zeros(n + 1, dtype=np.int64), np.zeros(n + 1, dtype=np.int64)
    g_idx, g_val = np.empty(2 * codes.shape[0], np.int64), np.empty(2 * codes.shape[0], np.int64)
    c_idx, c_val = np.empty(codes.shape[0], np.int64), np.empty(codes.shape[0], np.int64)
    gnz, cnz = 0, 0
    for r in range(n):
        t = 0
        for p in range(start[r], start[r + 1]):
            key = keys[p]
            lo = key // 3 // m  # the key is ((s * m + lo) * m + hi) * 3 + o (`_battle`)
            s = lo // m
            hi = s * m + key // 3 % m
            for e in range(3):  # lo's score, hi's (its negative), one battle in slot s
                c = lo if e == 0 else (hi if e == 1 else width + s)
                if not seen[c]:
                    seen[c] = True
                    touched[t] = c
                    t += 1
                acc[c] += q[key] if e == 0 else (-q[key] if e == 1 else 1)
        for c in np.sort(touched[:t]):
            if acc[c] != 0 and c < width:
                g_idx[gnz], g_val[gnz] = c, acc[c]
                gnz += 1
            elif acc[c] != 0:
                c_idx[cnz], c_val[cnz] = c - width, acc[c]
                cnz += 1
            acc[c] = 0
            seen[c] = False
        g_ptr[r + 1], c_ptr[r + 1] = gnz, cnz
    return g_ptr, g_idx[:gnz], g_val[:gnz], c_ptr, c_idx[:cnz], c_val[:cnz]


@njit(cache=True, nogil=True)
def _intersection(first: np.ndarray, second: np.ndarray, n2: int) -> tuple[np.ndarray, int]:
    """Codes of the clusters (first, second) as their rank among the distinct pairs in
    (first, second) order: np.unique's inverse of first * n2 + second, from two stable
    counting sorts (by second, then by first) instead of a sort of every battle's key."""
    n1 = np.int64(first.max()) + 1 if first.shape[0] else np.int64(0)
    _, by_second = _bucket(second, n2)
    start = np.zeros(n1 + 1, dtype=np.int64)
    for k in range(first.shape[0]):
        start[first[k] + 1] += 1
    fill = np.cumsum(start)[:-1]
    order = np.empty(first.shape[0], dtype=np.int64)
    for i in by_second:
        order[fill[first[i]]] = i
        fill[first[i]] += 1
    codes = np.empty(first.shape[0], dtype=np.int64)
    rank = -1
    last1, last2 = np.int64(-1), np.int64(-1)
    for j in order:
        if first[j] != last1 or second[j] != last2:
            rank += 1
            last1, last2 = np.int64(first[j]), np.int64(second[j])
        codes[j] = rank
    return codes, rank + 1


def _clustered(
    codes: np.ndarray, n: int, sc: _Scores
) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """(g, counts): per cluster (codes 0..n-1), its summed fixed-point scores over the slots and
    its battles per group. A participant-level cluster lies in one group, so its row holds one
    group's block only; kept sparse, the products in `_meat` skip the other J - 1 blocks."""
    width = sc.slots * sc.m
    battles = (sc.rows, sc.q, sc.slots, sc.m)
    if n * width <= _DENSE_CELLS:
        flat, counts = _dense_sums(codes, n, *battles)
        return _csr(flat, n, width), _csr(counts, n, sc.slots)
    gp, gi, gd, cp, ci, cd = _battle_row_sums(codes, n, *battles)
    g = sparse.csr_matrix((gd.astype(np.float64), gi, gp), shape=(n, width))
    return g, sparse.csr_matrix((cd.astype(np.float64), ci, cp), shape=(n, sc.slots))


def _meat(g: sparse.csr_matrix, counts: sparse.csr_matrix, sign: float, m: int) -> Meat:
    """One clustering's centred meat, factored (`Meat`), from its per-cluster sums over
    slots of ``m`` models."""
    gs = sparse.csr_matrix(g / _FIXED)  # a power of two: exact
    blocks, light = split(gs, m)
    return Meat(
        sign,
        blocks,
        light,
        sparse.csr_matrix(gs.T @ counts),
        sparse.csr_matrix(counts.T @ counts),
    )


def _means(g: sparse.csr_matrix, counts: sparse.csr_matrix, sc: _Scores) -> sparse.csr_matrix:
    """ū_j in group j's block, from exact integer totals (the column sums of one clustering)."""
    total = np.asarray(g.sum(axis=0)).reshape(-1)  # sums of integers: exact below 2^53
    n_j = np.asarray(counts.sum(axis=0)).reshape(-1)
    per = (total / _FIXED).reshape(sc.slots, sc.m) / np.maximum(n_j, 1.0)[:, None]
    width = sc.slots * sc.m
    rows = np.repeat(np.arange(sc.slots), sc.m)
    return sparse.csr_matrix((per.reshape(-1), (rows, np.arange(width))), shape=(sc.slots, width))
