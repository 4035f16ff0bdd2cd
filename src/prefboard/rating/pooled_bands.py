"""The clustered widening of a pooled band (rating/pooled_robust.py), group by group.

A band needs diag(A (robust - model) Aᵀ) (A = I - 1uᵀ), where, with B_j = (left + w_j τ² I) C_j
and left = (Σ_g w_g C_g) Σ_s (pooled_robust's docstring), the model term and every diagonal
block of the meat enter as B_j E_j B_jᵀ, E_j = Σ_t sign_t D_t,jj - L_j. So once per fit
F_j = C_j E_j C_jᵀ, and per band, with Z = A left,
    Σ_j diag(A B_j E_j B_jᵀ Aᵀ) = diag(Z (Σ_{w_j = 0} F_j) Zᵀ) + Σ_{w_j ≠ 0} diag(Z_j F_j Z_jᵀ),
Z_j = Z + w_j τ² A: a slice's band costs three n x n products instead of 3J + 1 (J groups).
The centring terms are rank J and mapped the same way (C_j ū_j, C_j Σ_c g_cj n_cᵀ); blocks between
two groups and the sparse part (prompts) go through the full maps [B_1 ... B_J] as before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from prefboard.rating.pooled_meat import Meat
from prefboard.rating.pooling import Pooled


@dataclass(frozen=True)
class Mapped:
    """One fit's meat and model carried through the groups' maps C_j (module docstring)."""

    pooled: Pooled  # the fit these were mapped with
    own: list[np.ndarray | None]  # F_j; None: group j has neither battles nor a meat block
    means: np.ndarray  # n x J: column j = C_j ū_j
    scores: list[list[np.ndarray]]  # per term, per group j: C_j (Σ_c g_c n_cᵀ)_j (n x J)
    rest: bool  # a block between two groups or a sparse part: the full maps are needed


def mapped(
    pooled: Pooled,
    terms: list[Meat],
    means: sparse.csr_matrix,
    information: list[np.ndarray | None],
) -> Mapped:
    n = pooled.population_mean.shape[0]
    own: list[np.ndarray | None] = []
    for c, lap in zip(pooled.maps, information, strict=True):
        j = len(own)
        e = None if lap is None else -lap
        for t in terms:
            for b in t.blocks:
                if b.j == b.k == j:
                    e = t.sign * b.matrix if e is None else e + t.sign * b.matrix
        own.append(None if e is None else c @ e @ c.T)
    dense_means = means.toarray()
    block = [slice(j * n, (j + 1) * n) for j in range(len(pooled.maps))]
    cu = np.column_stack([c @ dense_means[j, block[j]] for j, c in enumerate(pooled.maps)])
    scores = [
        [c @ t.scores_by_count[block[j]].toarray() for j, c in enumerate(pooled.maps)]
        for t in terms
    ]
    rest = any(t.light.nnz or any(b.j != b.k for b in t.blocks) for t in terms)
    return Mapped(pooled, own, cu, scores, rest)


def _centred(x: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A x with A = I - 1uᵀ, without the n x n product."""
    return x - np.outer(np.ones(x.shape[0]), u @ x)


def _rowdot(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.asarray(np.einsum("ij,ij->i", x, y))


def excess(
    m: Mapped, terms: list[Meat], weights: np.ndarray, u: np.ndarray, left: np.ndarray
) -> np.ndarray:
    """diag(A (robust - model) Aᵀ) over the diagonal blocks and the centring terms (module
    docstring); ``left`` = (Σ_g w_g C_g) Σ_s. The caller adds what `Mapped.rest` leaves."""
    t2 = m.pooled.tau**2
    n = left.shape[0]
    z = _centred(left, u)
    out = np.zeros(n)
    quiet = [f for w, f in zip(weights, m.own, strict=True) if f is not None and w == 0]
    if quiet:
        out += _rowdot(z @ np.sum(quiet, axis=0), z)
    for w, f in zip(weights, m.own, strict=True):
        if f is not None and w != 0:
            zj = z + (w * t2) * (np.eye(n) - np.outer(np.ones(n), u))
            out += _rowdot(zj @ f, zj)
    ym = _centred(left @ m.means + t2 * m.means * weights, u)  # n x J
    for t, per in zip(terms, m.scores, strict=True):
        total = np.sum(per, axis=0)
        weighted = np.sum([w * h for w, h in zip(weights, per, strict=True)], axis=0)
        ys = _centred(left @ total + t2 * weighted, u)
        cp = np.asarray((t.count_products @ ym.T).T)
        out += t.sign * (_rowdot(cp, ym) - 2.0 * _rowdot(ys, ym))
    return out
