"""Clustered votes carried through the pooled groups (rating/pooled_robust.py)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import sparse

from prefboard.rating import batch, groups, pooled_blocks, pooled_meat, pooled_robust

MODEL = groups.Model(prior_mean=25.0, prior_sigma=25 / 3, beta=25 / 6, draw_margin=0.74)
N_MODELS = 6


def _battles(seed: int, prompts: int = 800, votes: int = 4, prompt_sd: float = 0.0):
    """`votes` votes per prompt on one pair, each by a different participant in a random group
    (3 groups); the prompt shifts the pair's performance gap by N(0, prompt_sd^2)."""
    rng = np.random.default_rng(seed)
    skill = 25 + 1.5 * np.arange(N_MODELS, dtype=float)
    a0 = rng.integers(0, N_MODELS, prompts)
    b0 = (a0 + rng.integers(1, N_MODELS, prompts)) % N_MODELS
    a, b = np.repeat(a0, votes), np.repeat(b0, votes)
    prompt = np.repeat(np.arange(prompts), votes)
    effect = rng.normal(0, prompt_sd, prompts)[prompt] if prompt_sd else 0.0
    gap = skill[a] - skill[b] + effect + rng.normal(0, np.sqrt(2) * MODEL.beta, len(a))
    outcome = np.where(gap > MODEL.draw_margin, 0, np.where(gap < -MODEL.draw_margin, 1, 2))
    group = rng.integers(0, 3, len(a))
    person = np.arange(len(a))  # every vote its own participant
    return a, b, outcome.astype(np.int8), group, person, prompt


def _widen(a, b, outcome, group, clusters, weights):
    fit = groups.fit_groups(N_MODELS, a, b, outcome, group, 3, MODEL)
    sw = pooled_robust.sandwich(fit, a, b, outcome, group, clusters, MODEL)
    return fit, sw, pooled_robust.widen(fit.pooled, sw, np.asarray(weights, dtype=float))


def test_votes_repeated_within_a_cluster_double_the_robust_variance() -> None:
    # Every battle cast twice: the fit is the same whether the copies share a cluster or not,
    # but a shared cluster's score sum doubles, so its meat is 4x one copy's against 2x: the
    # robust variance is exactly twice as large (centring included: the means are the same).
    a, b, outcome, group, _, _ = _battles(1, prompts=300, votes=1)
    aa, bb, oo, gg = (np.concatenate([x, x]) for x in (a, b, outcome, group))
    n = len(a)
    same = np.concatenate([np.arange(n), np.arange(n)])
    apart = np.arange(2 * n)
    fit = groups.fit_groups(N_MODELS, aa, bb, oo, gg, 3, MODEL)
    one = pooled_robust.sandwich(fit, aa, bb, oo, gg, [same], MODEL)
    two = pooled_robust.sandwich(fit, aa, bb, oo, gg, [apart], MODEL)
    maps = pooled_robust._maps(fit.pooled, np.array([0.3, 0.3, 0.4, 0.0]))
    assert one.robust(maps) == pytest.approx(2 * two.robust(maps), rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("dense_cells", [pooled_meat._DENSE_CELLS, 0])
def test_battle_order_changes_nothing(monkeypatch, dense_cells: int) -> None:
    # both ways of summing per cluster (one bincount, or sorted triplets for large boards)
    monkeypatch.setattr(pooled_meat, "_DENSE_CELLS", dense_cells)
    a, b, outcome, group, person, prompt = _battles(2, prompt_sd=3.0)
    order = np.random.default_rng(0).permutation(len(a))
    w = [0.2, 0.5, 0.3, 0.0]
    _, _, one = _widen(a, b, outcome, group, [person, prompt], w)
    shuffled = (x[order] for x in (a, b, outcome, group, person, prompt))
    sa, sb, so, sg, sp, sq = shuffled
    _, _, two = _widen(sa, sb, so, sg, [sp, sq], w)
    assert np.array_equal(one[2], two[2])  # the sandwich is summed in fixed point
    assert one[1] == pytest.approx(two[1], abs=1e-9)


def test_a_prompt_judged_in_several_groups_widens_each_group_band() -> None:
    # Four votes per prompt spread over three groups, the prompt moving the gap by 0.9 beta:
    # each group's estimate borrows the population skill, which all four votes inform, so the
    # group's band widens although few of a prompt's votes fall in that group.
    a, b, outcome, group, person, prompt = _battles(3, prompt_sd=0.9 * MODEL.beta)
    for g in range(3):
        one = np.eye(4)[g]
        _, _, (_, _, clustered) = _widen(a, b, outcome, group, [person, prompt], one)
        _, _, (_, _, independent) = _widen(a, b, outcome, group, [person], one)
        assert np.median(clustered) > 1.12
        assert np.median(independent) < 1.05  # each vote its own participant: nothing shared
        assert np.all(clustered >= 1.0) and np.all(independent >= 1.0)  # never narrowed


def test_widening_keeps_the_level_and_the_mean() -> None:
    a, b, outcome, group, person, prompt = _battles(4, prompt_sd=0.9 * MODEL.beta)
    w = np.array([0.3, 0.3, 0.4, 0.0])
    fit, _, (mean, cov, factor) = _widen(a, b, outcome, group, [person, prompt], w)
    plain_mean, plain_cov = fit.pooled.combine(w)
    assert mean == pytest.approx(plain_mean)
    u = np.full(N_MODELS, 1 / N_MODELS)
    # the level's variance (11.6 here, from the prior) is kept; F R F adds only a trace of it
    assert u @ cov @ u == pytest.approx(u @ plain_cov @ u, rel=1e-4)
    centre = np.eye(N_MODELS) - np.outer(np.ones(N_MODELS), u)
    sd = np.sqrt(np.diag(centre @ cov @ centre.T))
    plain_sd = np.sqrt(np.diag(centre @ plain_cov @ centre.T))
    # F R F: each relative sd is the plain one times its factor, before re-centring mixes them
    assert sd == pytest.approx(plain_sd * factor, rel=0.05)


def test_sparse_scores_for_large_boards_give_the_dense_result(monkeypatch) -> None:
    # Boards with many clusters keep per-cluster scores sparse; the numbers must not change.
    a, b, outcome, group, person, prompt = _battles(5, prompt_sd=3.0)
    w = np.array([0.2, 0.5, 0.3, 0.0])
    _, _, dense = _widen(a, b, outcome, group, [person, prompt], w)
    monkeypatch.setattr(pooled_meat, "_DENSE_CELLS", 0)
    _, _, sparse = _widen(a, b, outcome, group, [person, prompt], w)
    assert sparse[2] == pytest.approx(dense[2], rel=1e-12)
    assert sparse[1] == pytest.approx(dense[1], rel=1e-12)


def _reference_meat(fit, a, b, outcome, group, cluster) -> np.ndarray:
    """Σ_c (g_c - ḡ_c)(g_c - ḡ_c)ᵀ written out battle by battle (J·n x J·n, dense): each
    battle's score at its group's pooled mean, rounded to the module's fixed point as the
    sandwich is, centred by its group's mean score per battle, summed per cluster."""
    slots, n = len(fit.counts), N_MODELS
    slot = np.where(group >= 0, group, slots - 1)
    u = np.zeros((len(a), slots * n))
    for k in range(len(a)):
        lo, hi = min(a[k], b[k]), max(a[k], b[k])
        o = outcome[k] if a[k] == lo or outcome[k] == batch.TIE else 1 - outcome[k]
        table = batch.score_table(
            fit.pooled.group_mean(slot[k]),
            np.array([lo * n + hi]),
            beta=MODEL.beta,
            draw_margin=MODEL.draw_margin,
        )
        v = np.rint(table[(lo * n + hi) * 3 + o] * pooled_robust._FIXED) / pooled_robust._FIXED
        u[k, slot[k] * n + lo] += v
        u[k, slot[k] * n + hi] -= v
    for j in range(slots):
        mine = slot == j
        block = slice(j * n, (j + 1) * n)
        u[mine, block] -= u[mine, block].mean(axis=0)
    meat = np.zeros((slots * n, slots * n))
    for c in np.unique(cluster):
        g = u[cluster == c].sum(axis=0)
        meat += np.outer(g, g)
    return meat


def _dense(x) -> np.ndarray:
    return x.toarray() if sparse.issparse(x) else np.asarray(x)


def _factored_meat(sw: pooled_robust.Sandwich) -> np.ndarray:
    """The sandwich's meat, its factors multiplied out (Meat: raw - cross - crossᵀ + ...)."""
    means = _dense(sw.means)
    out = np.zeros((means.shape[1], means.shape[1]))
    for t in sw.terms:
        cross = _dense(t.scores_by_count) @ means
        out += t.sign * (
            _dense(t.raw) - cross - cross.T + means.T @ _dense(t.count_products) @ means
        )
    return out


@pytest.mark.parametrize("speedup", [pooled_blocks._DENSE_SPEEDUP, 0.0, np.inf])
@pytest.mark.parametrize("two_way", [False, True])
def test_the_sandwich_equals_a_battle_by_battle_reference(
    monkeypatch, two_way: bool, speedup: float
) -> None:
    # 40 participants, each in one group (one clustering) or voting in every group with
    # prompts shared across groups (two clusterings: participant + prompt - their intersection);
    # the meat's blocks as chosen (a mix), all sparse (0) or all dense (inf)
    monkeypatch.setattr(pooled_blocks, "_DENSE_SPEEDUP", speedup)
    a, b, outcome, _, _, prompt = _battles(6, prompts=150, votes=4, prompt_sd=3.0)
    rng = np.random.default_rng(7)
    person = rng.integers(0, 40, len(a))
    group = person % 4 - 1 if not two_way else rng.integers(-1, 3, len(a))  # -1: not given
    clusters = [person, prompt] if two_way else [person]
    fit = groups.fit_groups(N_MODELS, a, b, outcome, group, 3, MODEL)
    sw = pooled_robust.sandwich(fit, a, b, outcome, group, clusters, MODEL)
    if speedup == 0.0:
        assert not any(t.blocks for t in sw.terms)
    if speedup == np.inf:
        assert not any(t.light.nnz for t in sw.terms)
    ref = _reference_meat(fit, a, b, outcome, group, person)
    if two_way:
        both = person * 1000 + prompt
        ref += _reference_meat(fit, a, b, outcome, group, prompt)
        ref -= _reference_meat(fit, a, b, outcome, group, both)
    scale = np.abs(ref).max()
    assert np.abs(_factored_meat(sw) - ref).max() <= 1e-12 * scale
    w = np.array([0.2, 0.5, 0.3, 0.0])
    mean, cov, factor = pooled_robust.widen(fit.pooled, sw, w)
    assert factor.max() > 1.01  # the clustering widens something: the comparison is not moot
    # the reference: the full n x n robust and model variances (the formula of the module
    # docstring) through batch.relative_widening, as widen computed them before it took only
    # their centred diagonal
    maps = pooled_robust._maps(fit.pooled, w)
    n = N_MODELS
    model = np.zeros((n, n))
    for j, lap in enumerate(sw.information):
        if lap is not None:
            model += maps[:, j * n : (j + 1) * n] @ lap @ maps[:, j * n : (j + 1) * n].T
    plain_mean, plain_cov = fit.pooled.combine(w)
    ref_cov, ref_factor = batch.relative_widening(plain_cov, maps @ ref @ maps.T, model, sw.played)
    assert np.array_equal(mean, plain_mean)
    assert np.abs(cov - ref_cov).max() <= 1e-12 * np.abs(ref_cov).max()
    assert factor == pytest.approx(ref_factor, rel=1e-12)


def test_a_band_from_another_pooled_object_maps_the_meat_again() -> None:
    # The sandwich carries its meat through its own fit's maps (pooled_bands.Mapped); widen
    # given another Pooled maps again rather than reuse them: here an equal copy, so the
    # band must come out the same to rounding; with another tau the maps differ, and so does it.
    a, b, outcome, group, person, prompt = _battles(8, prompt_sd=3.0)
    w = np.array([0.0, 1.0, 0.0, 0.0])
    fit, sw, (mean, cov, factor) = _widen(a, b, outcome, group, [person, prompt], w)
    copy = dataclasses.replace(fit.pooled)
    assert copy is not fit.pooled
    again = pooled_robust.widen(copy, sw, w)
    assert np.array_equal(again[0], mean)
    assert again[2] == pytest.approx(factor, rel=1e-13)
    assert again[1] == pytest.approx(cov, rel=1e-13)
    other = pooled_robust.widen(dataclasses.replace(fit.pooled, tau=fit.pooled.tau + 1.0), sw, w)
    assert not np.allclose(other[2], factor, rtol=1e-6)


def _scores_of(rng: np.random.Generator, size: int, m: int, slots: int) -> pooled_meat._Scores:
    """Random battles over ``slots`` groups (-1 = the last) with a random fixed-point score
    table; small values make many per-cluster sums cancel to exactly zero."""
    a = rng.integers(0, m, size)
    b = (a + rng.integers(1, m, size)) % m
    outcome = rng.integers(0, 3, size).astype(np.int8)
    group = rng.integers(-1, slots - 1, size)
    q = rng.integers(-3, 4, slots * m * m * 3)
    return pooled_meat._Scores((a, b, outcome, group), q, np.ones(m, bool), slots, m)


def _reference_sums(codes: np.ndarray, n: int, sc: pooled_meat._Scores):
    """The per-battle formulation `_clustered` used before its fused kernels: each battle's
    slot, lo/hi columns and table key computed with numpy, then summed per cluster by a coo ->
    csr conversion (duplicates summed in int64, zeros dropped, indices sorted)."""
    a, b, outcome, group = sc.rows
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    o = np.where((a > b) & (outcome != batch.TIE), 1 - outcome, outcome)
    slot = np.where(group >= 0, group, sc.slots - 1)
    q = sc.q[((slot * sc.m + lo) * sc.m + hi) * 3 + o]
    cols = np.concatenate([slot * sc.m + lo, slot * sc.m + hi])
    width = sc.slots * sc.m
    out = []
    for data, rows, c, w in (
        (np.concatenate([q, -q]), np.tile(codes, 2), cols, width),
        (np.ones(len(codes), np.int64), codes, slot, sc.slots),
    ):
        ref = sparse.coo_matrix((data, (rows, c)), (n, w)).tocsr()
        ref.sum_duplicates()
        ref.eliminate_zeros()
        out.append(ref)
    return out


@pytest.mark.parametrize("dense_cells", [pooled_meat._DENSE_CELLS, 0])
@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_per_cluster_sums_equal_the_per_battle_reference(monkeypatch, dense_cells, dtype) -> None:
    # Both kernels (dense rows, or battles bucketed by cluster for large boards) against the
    # numpy reference above, for int64 and int32 codes (the kernels read the arrays as given).
    monkeypatch.setattr(pooled_meat, "_DENSE_CELLS", dense_cells)
    rng = np.random.default_rng(9)
    sc = _scores_of(rng, 5000, 7, 4)
    a, b, outcome, group = sc.rows
    sc = dataclasses.replace(
        sc, rows=(a.astype(dtype), b.astype(dtype), outcome, group.astype(dtype))
    )
    codes = rng.integers(0, 50, 5000).astype(dtype)
    got = pooled_meat._clustered(codes, 60, sc)
    for g, ref in zip(got, _reference_sums(codes.astype(np.int64), 60, sc), strict=True):
        for name in ("indptr", "indices", "data"):
            assert np.array_equal(getattr(g, name), getattr(ref, name))
        assert g.data.dtype == np.float64 and np.all(g.data != 0)


def test_intersection_codes_are_the_ranks_np_unique_gave() -> None:
    # The codes of the intersection clustering were np.unique's inverse of first * n2 +
    # second; the two counting sorts must give the same codes (ranks in (first, second) order).
    rng = np.random.default_rng(4)
    first, second = rng.integers(0, 40, 3000), rng.integers(0, 900, 3000)
    uniq, ref = np.unique(first * 900 + second, return_inverse=True)
    codes, n = pooled_meat._intersection(first, second, 900)
    assert n == len(uniq) and np.array_equal(codes, ref.reshape(-1))
    assert pooled_meat._intersection(first[:0], second[:0], 900)[1] == 0


def test_int32_battles_give_the_int64_sandwich() -> None:
    # Callers may narrow codes to int32: the same sums and bands bit for bit.
    a, b, outcome, group, person, prompt = _battles(6, prompt_sd=2.0)
    w = np.array([0.5, 0.2, 0.3, 0.0])
    wide = _widen(a, b, outcome, group, [person, prompt], w)
    narrow = _widen(
        *(x.astype(np.int32) for x in (a, b)),
        outcome,
        group.astype(np.int32),
        [person.astype(np.int32), prompt.astype(np.int32)],
        w,
    )
    for x, y in zip(wide[2], narrow[2], strict=True):
        assert np.array_equal(x, y)


def _split_with_scipy(gs: sparse.csr_matrix, m: int) -> tuple[list, sparse.csr_matrix]:
    """`pooled_blocks.split` as scipy computed it before issue 18 compiled it: each group's
    columns sliced out, the clusters in both groups of a pair selected, and the block's
    product dense (BLAS) or sparse (scipy's sparse product) by the same cost rule."""
    slots = gs.shape[1] // m
    per = [sparse.csr_matrix(gs[:, j * m : (j + 1) * m]) for j in range(slots)]
    z = np.stack([np.diff(p.indptr) for p in per], axis=1).astype(np.float64)
    dense, data, rows, cols = [], [np.zeros(0)], [np.zeros(0, int)], [np.zeros(0, int)]
    for j in range(slots):
        for k in range(j, slots):
            both = np.flatnonzero((z[:, j] > 0) & (z[:, k] > 0))
            if not both.size:
                continue
            left, right = per[j][both], per[k][both]
            if pooled_blocks._DENSE_SPEEDUP * float(z[both, j] @ z[both, k]) >= both.size * m * m:
                lo = left.toarray()
                dense.append((j, k, lo.T @ (lo if j == k else right.toarray())))
                continue
            product = sparse.coo_matrix(left.T @ right)
            for r, c in [(product.row + j * m, product.col + k * m)] + (
                [(product.col + k * m, product.row + j * m)] if j != k else []
            ):
                data.append(product.data)
                rows.append(r)
                cols.append(c)
    width = slots * m
    light = sparse.csr_matrix(
        (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))), shape=(width, width)
    )
    return dense, light


@pytest.mark.parametrize("speedup", [pooled_blocks._DENSE_SPEEDUP, 0.0, np.inf])
@pytest.mark.parametrize("unsorted", [False, True])
def test_the_compiled_split_is_scipys_to_the_bit(monkeypatch, speedup, unsorted) -> None:
    # Reference: the scipy computation above. Clusters of one group (participants), of many
    # (prompts), empty ones; values at the scores' fixed-point scale; cancellations to zero.
    monkeypatch.setattr(pooled_blocks, "_DENSE_SPEEDUP", speedup)
    rng = np.random.default_rng(5)
    m, slots, clusters = 9, 5, 700
    cells = rng.random((clusters, slots * m)) < 0.08
    home = rng.integers(0, slots, clusters)
    own = np.repeat(np.arange(slots) == home[:, None], m, axis=1)
    cells[: clusters // 2] = (rng.random(cells.shape) < 0.9)[: clusters // 2] & own[: clusters // 2]
    cells[40:60] = False
    values = np.round(rng.normal(0.0, 3.0, cells.shape) * 2**24) / 2**24
    values[values == 0.0] = 2.0**-24
    values[7, :] = values[8, :] = 0.0
    values[7, [0, 1]], values[8, [0, 1]] = [1.0, 1.0], [1.0, -1.0]  # their products cancel
    cells[7:9] = False
    cells[7:9, :2] = True
    gs = sparse.csr_matrix(np.where(cells, values, 0.0))
    if unsorted:  # the rows' entries reversed: the compiled pass sorts them first
        gs = sparse.csr_matrix(
            (gs.data.copy(), gs.indices.copy(), gs.indptr.copy()), shape=gs.shape
        )
        for c in range(clusters):
            lo, hi = gs.indptr[c], gs.indptr[c + 1]
            gs.indices[lo:hi], gs.data[lo:hi] = gs.indices[lo:hi][::-1], gs.data[lo:hi][::-1]
        gs.has_sorted_indices = False
    blocks, light = pooled_blocks.split(gs, m)
    ref_blocks, ref_light = _split_with_scipy(gs.sorted_indices(), m)
    assert [(b.j, b.k, b.matrix.tobytes()) for b in blocks] == [
        (j, k, x.tobytes()) for j, k, x in ref_blocks
    ]
    assert (light.indptr.tolist(), light.indices.tolist()) == (
        ref_light.indptr.tolist(),
        ref_light.indices.tolist(),
    )
    assert light.data.tobytes() == ref_light.data.tobytes()
    # at the default speedup the participants' own-group blocks are dense, the rest sparse
    assert len(blocks) == {0.0: 0, np.inf: slots * (slots + 1) // 2}.get(speedup, slots)
    assert light.nnz > 0 or speedup == np.inf


@pytest.mark.parametrize(("rows", "width", "density"), [(500, 91, 0.05), (0, 5, 0.1), (4, 3, 0.0)])
def test_dense_sums_become_scipys_csr_of_them(rows, width, density) -> None:
    # Reference: scipy's own csr conversion of the same matrix as floats (canonical: sorted
    # indices, no zeros).
    rng = np.random.default_rng(rows)
    cells = rng.integers(-(2**40), 2**40, rows * width) * (rng.random(rows * width) < density)
    got = pooled_meat._csr(cells.astype(np.int64), rows, width)
    want = sparse.csr_matrix(cells.reshape(rows, width).astype(np.float64))
    assert got.shape == want.shape and got.has_canonical_format
    assert (got.indptr.tolist(), got.indices.tolist()) == (
        want.indptr.tolist(),
        want.indices.tolist(),
    )
    assert got.data.tobytes() == want.data.tobytes()
