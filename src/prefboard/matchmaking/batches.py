"""Batches of battles planned before any outcome is known, by fantasy updates.

Each pick is the pair of highest information under the posterior as if the picks before it
had been observed (`matchmaking.information.fantasy_update`): a batch spreads over pairs
instead of repeating one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from prefboard.matchmaking.goal import goal_information
from prefboard.matchmaking.information import (
    PairSet,
    difference_moments,
    fantasy_update,
    pair_information,
)

__all__ = ["Batch", "Targets", "adjacent_pairs", "plan_batch"]


_LAZY = 16


Targets = tuple[np.ndarray, np.ndarray]


def adjacent_pairs(mean: np.ndarray, k: int | None = None) -> Targets:
    """(upper, lower) model indices of the adjacent pairs of ranks 1..k+1 by mean (all
    ``n - 1`` of them when ``k`` is None): the order the goal, or the whole board, asks for."""
    order = np.argsort(-mean, kind="stable")
    stop = order.size - 1 if k is None else min(k, order.size - 1)
    return order[:stop], order[1 : stop + 1]


@dataclass
class _LazyScores:
    """Scores of the candidate pairs under a changing covariance, kept lazily (Minoux 1978):
    a fantasy update only shrinks variances, which only lowers a pair's information, so stale
    values are upper bounds and only the leading ones are recomputed until the best is
    fresh. Same picks as recomputing everything (a test checks it), much cheaper. For goal
    information the bound is approximate (a shrinking target variance can also move the
    target's own entropy), which can only change which near-tied pair is picked."""

    score: Callable[[np.ndarray], np.ndarray]
    stale: np.ndarray

    @classmethod
    def start(
        cls, score: Callable[[np.ndarray], np.ndarray], size: int, candidates: np.ndarray
    ) -> _LazyScores:
        stale = np.full(size, -np.inf)
        stale[candidates] = score(candidates)
        return cls(score, stale)

    def best(self) -> int:
        """The pair of highest information now; ties go to the lower pair index."""
        while True:
            top = _leading(self.stale, _LAZY)
            top = top[np.isfinite(self.stale[top])]
            self.stale[top] = self.score(top)
            k = int(np.argmax(self.stale))
            if k in top:
                return k


def _leading(values: np.ndarray, k: int) -> np.ndarray:
    """``np.argsort(-values, kind="stable")[:k]``, the same indices in the same order, without
    sorting all ~45 k pairs of a 300-model board each time: only the values down to the k-th
    largest are sorted. Their indices are taken in ascending order, so the stable sort breaks
    ties by index as the full one does. NaN (sorted last, unordered) takes the full sort."""
    key = -values
    if key.size <= k or np.isnan(key).any():
        return np.argsort(key, kind="stable")[:k]
    kth = np.partition(key, k - 1)[k - 1]
    near = np.flatnonzero(key <= kth)
    return near[np.argsort(key[near], kind="stable")[:k]]


@dataclass(frozen=True)
class Batch:
    """A planned batch: pair indices into ``PairSet.of(n)``, each pick's information when it
    was picked, how it was picked, and the covariance after every pick's fantasy update."""

    picks: list[int]
    infos: list[float]
    kinds: list[str]
    """"goal", "board" or "random" per pick (see :func:`plan_batch`)."""
    cov: np.ndarray

    @property
    def explored(self) -> list[bool]:
        return [k == "random" for k in self.kinds]


def _kind(u: float, explore: float, board: float, goal: bool) -> str:
    """How a pick is made from one uniform draw ``u``: random below ``explore``, then board
    order below ``explore + board``, the goal otherwise (board order when there is no goal)."""
    if u < explore:
        return "random"
    return "board" if u < explore + board or not goal else "goal"


@dataclass
class _Fantasy:
    """The posterior of a batch being planned: means fixed, covariance fantasy-updated."""

    mean: np.ndarray
    cov: np.ndarray
    beta: float
    eps: float
    measure: str

    def scorer(self, goal: Targets | None) -> Callable[[np.ndarray], np.ndarray]:
        """Information of pairs ``idx`` about ``goal``'s order (or by ``measure``), now."""
        pairs = PairSet.of(len(self.mean))

        def score(idx: np.ndarray) -> np.ndarray:
            if goal is not None:
                return goal_information(self.mean, self.cov, pairs, idx, goal, self.beta, self.eps)
            m, v = difference_moments(self.mean, self.cov, pairs, idx)
            return pair_information(m, v, self.beta, self.eps, self.measure)

        return score

    def observe(self, i: int, j: int) -> None:
        self.cov = fantasy_update(self.cov, i, j, self.mean, self.beta, self.eps)


def plan_batch(
    mean: np.ndarray,
    cov: np.ndarray,
    beta: float,
    eps: float,
    size: int,
    explore: float,
    rng: np.random.Generator,
    allowed: np.ndarray | None = None,
    measure: str = "order",
    distinct: bool = False,
    targets: Targets | None = None,
    board: float = 0.0,
) -> Batch:
    """``size`` picks, each the pair of highest information under the fantasy-updated
    covariance, or with probability ``explore`` a uniformly random pair.

    With ``targets`` (the goal's (upper, lower) model indices) a share ``board`` of the picks
    is scored by :func:`goal_information` about *every* adjacent pair of the board, the rest
    about the targets; without, by ``measure`` on each pair's own order (or skills). One
    uniform draw per pick decides its kind (:func:`_kind`). ``allowed`` masks pairs out;
    ``distinct`` plans each pair at most once (a queue for people to read)."""
    pairs = PairSet.of(len(mean))
    ok = np.ones(pairs.size, dtype=bool) if allowed is None else allowed.copy()
    candidates = np.flatnonzero(ok)
    out = Batch([], [], [], cov.copy())
    state = _Fantasy(mean, out.cov, beta, eps, measure)
    if candidates.size == 0:
        return out
    lazy = {"goal": _LazyScores.start(state.scorer(targets), pairs.size, candidates)}
    if targets is not None and board > 0:
        whole = state.scorer(adjacent_pairs(mean))
        lazy["board"] = _LazyScores.start(whole, pairs.size, candidates)
    for _ in range(min(size, candidates.size) if distinct else size):
        kind = _kind(float(rng.random()), explore, board, targets is not None)
        scores = lazy.get(kind, lazy["goal"])
        random_pick = kind == "random"
        k = int(candidates[rng.integers(0, candidates.size)]) if random_pick else scores.best()
        out.picks.append(k)
        out.infos.append(float(scores.score(np.array([k]))[0]))
        out.kinds.append(kind)
        state.observe(int(pairs.i[k]), int(pairs.j[k]))
        if distinct:
            candidates = candidates[candidates != k]
            for lazy_scores in lazy.values():
                lazy_scores.stale[k] = -np.inf
    return Batch(out.picks, out.infos, out.kinds, state.cov)
