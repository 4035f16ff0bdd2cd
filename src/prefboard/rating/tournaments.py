"""Online tournaments per (dimension, slice): the classic pass and its order sensitivity.
(Score, band and ranks come from rating.batch and rating.ranks; groups and the post-stratified
headline from rating.group_tables.)

A tournament is a list of battle indices in canonical order (timestamp, then battle_id). Slices
are integer codes per battle, so splitting a million battles costs array masks, not string
grouping. Each tournament is replayed once in that order and, when it is permuted (config
`permuted_tables`: the pooled tables by default), `permutations` times in seeded random orders
(the engine shuffles internally): the order-averaged mu and its spread show how much a single
TrueSkill pass depends on the order of battles. The two online band candidates
below are kept for the calibration study of that pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from prefboard.jit import njit
from prefboard.rating import trueskill as ts

Band = Callable[[np.ndarray, np.ndarray, np.ndarray, float], tuple[np.ndarray, np.ndarray]]


def band_sigma(
    mu_mean: np.ndarray, sigma: np.ndarray, spread: np.ndarray, z: float
) -> tuple[np.ndarray, np.ndarray]:
    """mu_mean ± z·sigma: the plain TrueSkill band around the order-averaged mu."""
    return mu_mean - z * sigma, mu_mean + z * sigma


def band_sigma_spread(
    mu_mean: np.ndarray, sigma: np.ndarray, spread: np.ndarray, z: float
) -> tuple[np.ndarray, np.ndarray]:
    """mu_mean ± z·sqrt(sigma² + spread²): adds the order-to-order spread of mu to sigma."""
    half = z * np.sqrt(sigma**2 + spread**2)
    return mu_mean - half, mu_mean + half


@dataclass(frozen=True)
class Spec:
    """One tournament to run: which dimension and slice, and its battles in canonical order."""

    dimension: str
    attribute: str
    value: str
    battles: np.ndarray
    # Shuffled orders replayed besides the timestamp order (config `permuted_tables`).
    passes: int = 0


@dataclass(frozen=True)
class Run:
    """One dimension's tournaments: its outcomes (0/1/2 per battle), the online constants with
    its draw probability, and the seed of its shuffles."""

    outcome: np.ndarray
    specs: list[Spec]
    seed: int
    params: ts.TrueSkillParams


@dataclass
class Result:
    """Per-model arrays of one tournament (length = number of models)."""

    spec: Spec
    mu: np.ndarray
    sigma: np.ndarray
    mu_mean: np.ndarray
    mu_spread: np.ndarray
    sigma_mean: np.ndarray
    battles: np.ndarray
    wins: np.ndarray
    losses: np.ndarray
    ties: np.ndarray
    pass_rank_shift: np.ndarray


def z_score(interval: float) -> float:
    return float(norm.ppf(0.5 + interval / 2))


def run_tournaments(
    n_models: int, a: np.ndarray, b: np.ndarray, runs: list[Run]
) -> list[list[Result]]:
    """Replay every tournament of every dimension in its orders, as one balanced parallel run
    (rating/replay.py); one list of results per run. The compiled replay releases the GIL, so
    this can run in a thread beside the batch fits."""
    specs = [s for r in runs for s in r.specs]
    if not specs:
        return [[] for _ in runs]
    lengths = np.array([len(s.battles) for s in specs], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    flat = tiled(specs)
    if flat is None:
        flat = np.concatenate([s.battles for s in specs])
    row = np.repeat(np.arange(len(runs), dtype=np.int64), [len(r.specs) for r in runs])
    jobs = ts.Jobs(
        offsets=offsets,
        battles=flat,
        row=row,
        eps=np.array(
            [ts.draw_margin(runs[d].params.draw_probability, runs[d].params.beta) for d in row]
        ),
        # Each dimension's shuffles are those of its own seed and tournament index, as when
        # the dimensions were replayed one at a time.
        seed=np.array([np.uint64(runs[d].seed) for d in row], dtype=np.uint64),
        stream=np.concatenate([np.arange(len(r.specs), dtype=np.int64) for r in runs]),
        passes=np.array([s.passes for s in specs], dtype=np.int64),
    )
    # One run (as rate() replays each dimension): a view of its outcomes, not a stacked copy.
    outcomes = runs[0].outcome[None, :] if len(runs) == 1 else np.stack([r.outcome for r in runs])
    mu, sigma = ts.replay_jobs(n_models, a, b, outcomes, jobs, runs[0].params)
    counts = _tally(n_models, a, b, outcomes, row, offsets, flat)
    results = [_result(s, mu[t], sigma[t], counts[t]) for t, s in enumerate(specs)]
    out, start = [], 0
    for r in runs:
        out.append(results[start : start + len(r.specs)])
        start += len(r.specs)
    return out


def tiled(specs: list[Spec]) -> np.ndarray | None:
    """The one buffer the specs' battle lists tile end to end, in order (as
    inputs.specs_of builds them), else None. Replaying that buffer saves a copy of every
    tournament's indices (at 10M battles, hundreds of MiB per dimension)."""
    first = specs[0].battles
    base = first.base
    if not isinstance(base, np.ndarray) or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    at = base.__array_interface__["data"][0]
    for s in specs:
        x = s.battles
        same = x.base is base and x.dtype == base.dtype and x.ndim == 1
        if not same or (x.size > 1 and x.strides[0] != x.itemsize):
            return None
        if x.size and x.__array_interface__["data"][0] != at:
            return None
        at += x.size * x.itemsize
    end = base.__array_interface__["data"][0] + base.size * base.itemsize
    return base if at == end else None


def _result(spec: Spec, mu: np.ndarray, sigma: np.ndarray, counts: np.ndarray) -> Result:
    """Summaries of one tournament's orders; ``mu``/``sigma`` are (1 + max passes, M), of which
    the first 1 + spec.passes rows were played."""
    orders = mu[: 1 + spec.passes]
    played = counts[:, 0] > 0
    # Each order shifts the whole board's level a little; only relative standings matter,
    # so the spread is measured after centring every pass on its played models' mean.
    centred = orders - (orders[:, played].mean(axis=1, keepdims=True) if played.any() else 0)
    ranks = np.argsort(np.argsort(-orders, axis=1, kind="stable"), axis=1)
    n_models = mu.shape[1]
    return Result(
        spec=spec,
        mu=mu[0].copy(),
        sigma=sigma[0].copy(),
        mu_mean=orders.mean(axis=0),
        # NaN = not measured: a table replayed in one order has no spread to show.
        mu_spread=centred.std(axis=0, ddof=1) if spec.passes else np.full(n_models, np.nan),
        sigma_mean=sigma[: 1 + spec.passes].mean(axis=0),
        battles=counts[:, 0].copy(),
        wins=counts[:, 1].copy(),
        losses=counts[:, 2].copy(),
        ties=counts[:, 3].copy(),
        pass_rank_shift=ranks.max(axis=0) - ranks.min(axis=0),
    )


# `_tally`'s columns 1-3 (wins, losses, ties) by outcome (a wins, b wins, tie): a's column,
# and b's, the mirror.
_A_COLUMN = np.array([1, 2, 3], dtype=np.int64)
_B_COLUMN = np.array([2, 1, 3], dtype=np.int64)


@njit(cache=True, fastmath=False)
def _tally(
    n_models: int,
    a: np.ndarray,
    b: np.ndarray,
    outcomes: np.ndarray,
    row: np.ndarray,
    offsets: np.ndarray,
    flat: np.ndarray,
) -> np.ndarray:
    """Per tournament and model: battles, wins, losses, ties (one pass, no gathered copies)."""
    out = np.zeros((row.shape[0], n_models, 4), dtype=np.int64)
    for t in range(row.shape[0]):
        outcome = outcomes[row[t]]
        for k in range(offsets[t], offsets[t + 1]):
            i = flat[k]
            x = a[i]
            y = b[i]
            o = np.int64(outcome[i])
            out[t, x, 0] += 1
            out[t, y, 0] += 1
            # Indexing by outcome spares a branch the CPU would mispredict on every other
            # battle (columns: `_A_COLUMN`, `_B_COLUMN`).
            out[t, x, _A_COLUMN[o]] += 1
            out[t, y, _B_COLUMN[o]] += 1
    return out
