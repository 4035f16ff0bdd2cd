"""Information about a goal's order: how much one battle settles the target pairs.

A goal asks for the order of some pairs of models (the top adjacent pairs). A battle of any
pair moves every target difference's variance through the covariance (the fantasy update of
`matchmaking.information`); its value is the expected drop of the targets' order entropies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from prefboard.matchmaking import goal_kernel
from prefboard.matchmaking.information import PairSet, expected_difference_variance

__all__ = ["goal_information", "target_gains"]


def _binary_entropy(p: np.ndarray) -> np.ndarray:
    """H(p) in nats (0 at p = 0 or 1). Logs only where the argument is positive, instead of
    clipping copies: a 300-model board's plan evaluates it on ~13 M (target, pair) cells per
    batch, and the clipped copies were most of its time (same values, bit for bit)."""
    r = 1.0 - p
    out = p * np.log(p, out=np.zeros_like(p), where=p > 0.0)
    out += r * np.log(r, out=np.zeros_like(r), where=r > 0.0)
    return np.asarray(np.negative(out, out=out), dtype=np.float64)


def goal_information(
    mean: np.ndarray,
    cov: np.ndarray,
    pairs: PairSet,
    idx: np.ndarray,
    targets: tuple[np.ndarray, np.ndarray],
    beta: float,
    eps: float,
) -> np.ndarray:
    """Expected drop (nats) of the order uncertainty of the *target* pairs from one battle of
    each pair ``idx``: ``sum_t H(P(t ordered)) - H(P'(t ordered))`` where ``P'`` uses the
    target difference's variance after the battle's fantasy update (means kept). A battle
    helps a target through the covariance even when it does not involve its models."""
    goal = _Goal.of(mean, cov, targets)
    i, j, shrink = _shrinkage(mean, cov, pairs, idx, beta, eps)
    if len(idx) == 1:  # numpy sums a lone column pairwise, not row by row: let it
        return np.asarray(goal.drops(i, j, shrink).sum(axis=0), dtype=np.float64)
    out = np.empty(len(idx))
    for c in _chunks(len(idx), len(goal.m)):
        goal.drop_sums(i[c], j[c], shrink[c], out[c])
    return out


def target_gains(
    mean: np.ndarray,
    cov: np.ndarray,
    pairs: PairSet,
    k: int,
    targets: tuple[np.ndarray, np.ndarray],
    beta: float,
    eps: float,
) -> np.ndarray:
    """The terms of :func:`goal_information` for one pair ``k``: each target's drop, (targets,)."""
    goal = _Goal.of(mean, cov, targets)
    i, j, shrink = _shrinkage(mean, cov, pairs, np.array([k]), beta, eps)
    return np.asarray(goal.drops(i, j, shrink)[:, 0], dtype=np.float64)


@dataclass(frozen=True)
class _Goal:
    """The target pairs' difference means ``m``, variances ``v`` and covariances ``w`` with
    every skill, and their order entropies now."""

    m: np.ndarray
    v: np.ndarray
    w: np.ndarray
    before: np.ndarray

    @classmethod
    def of(cls, mean: np.ndarray, cov: np.ndarray, targets: tuple[np.ndarray, np.ndarray]) -> _Goal:
        hi, lo = targets
        m_t = mean[hi] - mean[lo]
        w = cov[hi, :] - cov[lo, :]  # (targets, models): cov of each target difference with s
        v_t = np.maximum(w[:, hi].diagonal() - w[:, lo].diagonal(), 1e-300)
        return cls(m_t, v_t, w, _binary_entropy(ndtr(np.abs(m_t) / np.sqrt(v_t))))

    def drops(self, i: np.ndarray, j: np.ndarray, shrink: np.ndarray) -> np.ndarray:
        """(targets, pairs): each target's entropy drop from one battle of each pair (i, j)."""
        out = np.empty((len(self.m), len(i)))
        goal_kernel.drops(*self._entropy_inputs(i, j, shrink), self.before, out)
        return out

    def drop_sums(self, i: np.ndarray, j: np.ndarray, shrink: np.ndarray, out: np.ndarray) -> None:
        """``out[c]``: the targets' drops from one battle of pair (i_c, j_c), summed as
        ``drops(...).sum(axis=0)`` sums them for two or more pairs, without the array."""
        goal_kernel.drop_sums(*self._entropy_inputs(i, j, shrink), self.before, out)

    def _entropy_inputs(
        self, i: np.ndarray, j: np.ndarray, shrink: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each cell's order probability after the battle and its two logs (numpy's)."""
        p = np.empty((len(self.m), len(i)))
        logs = np.empty((2, *p.shape))
        goal_kernel.entropy_inputs(self.w, self.v, np.abs(self.m), i, j, shrink, p, logs)
        goal_kernel.log_in_place(logs)
        return p, logs


def _shrinkage(
    mean: np.ndarray, cov: np.ndarray, pairs: PairSet, idx: np.ndarray, beta: float, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Models ``i``, ``j`` of pairs ``idx`` and the factor by which one battle of each moves
    a covariance: the fantasy site's ``lam / (1 + lam v)``."""
    i, j = pairs.i[idx], pairs.j[idx]
    m, v = mean[i] - mean[j], np.maximum(cov[i, i] + cov[j, j] - 2.0 * cov[i, j], 1e-300)
    v_post = expected_difference_variance(m, v, beta, eps)
    lam = np.maximum(v / np.maximum(v_post, 1e-300) - 1.0, 0.0) / v
    return i, j, lam / (1.0 + lam * v)


# (target, pair) cells per block of goal_information: ~0.5 MB per array, so the ~13 M cells a
# 300-model board's batch start scores never materialise at once (each whole-size temporary
# was ~100 MB of fresh pages, most of the plan stage's time).
_BLOCK_CELLS = 1 << 16


def _chunks(n: int, rows: int) -> list[slice]:
    """Column blocks of an n-column (rows, n) array. Every block keeps at least two columns
    (unless n is 1): numpy sums a one-column array along its rows pairwise rather than row by
    row, so a lone column could differ in the last bit from the unblocked sum."""
    width = max(2, _BLOCK_CELLS // max(rows, 1))
    starts = list(range(0, n, width))
    if len(starts) > 1 and n - starts[-1] < 2:
        starts.pop()
    return [slice(a, b) for a, b in zip(starts, [*starts[1:], n], strict=True)]
