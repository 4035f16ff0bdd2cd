"""Fast two-player TrueSkill, numerically identical to the ``trueskill`` package: the public
functions, with their input checks.

The model and its update (Herbrich, Minka & Graepel, NIPS 2006), with the v/w corrections kept
accurate far into the tails, are stated once in :mod:`prefboard.rating.update`; the compiled
replay loops (one pass, seeded shuffled passes in parallel, history) are in
:mod:`prefboard.rating.replay`. Both are trusted kernels: every check on user-facing input is
made here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist
from typing import Any

import numpy as np

from prefboard.rating import replay as kernels
from prefboard.rating.replay import MAX_MODELS_TOURNAMENTS, Jobs

# The math lives in rating/update.py; these names are re-exported for the modules and tests
# that reach them through this module (batch, matchmaking, tests).
from prefboard.rating.update import (
    A_WINS,
    B_WINS,
    DRAW,
    _mills_excess,
    _rate,
    _vw_draw,
    _vw_win,
    _win_probs,
    _win_probs_loop,
    v_draw,
    v_win,
    w_draw,
    w_win,
)

__all__ = [
    "A_WINS",
    "B_WINS",
    "DRAW",
    "MAX_MODELS_TOURNAMENTS",
    "Jobs",
    "TrueSkillParams",
    "_mills_excess",
    "_rate",
    "_vw_draw",
    "_vw_win",
    "check_battle_arrays",
    "draw_margin",
    "model_dtype",
    "rate_1vs1",
    "replay",
    "replay_history",
    "replay_jobs",
    "replay_tournaments",
    "v_draw",
    "v_win",
    "w_draw",
    "w_win",
    "win_probabilities",
    "win_probabilities_array",
]


@dataclass(frozen=True)
class TrueSkillParams:
    """Model constants; the defaults are those of the paper and of the ``trueskill`` package."""

    mu: float = 25.0
    sigma: float = 25.0 / 3
    beta: float = 25.0 / 6
    tau: float = 25.0 / 300
    draw_probability: float = 0.10

    def __post_init__(self) -> None:
        if not math.isfinite(self.mu):
            raise ValueError(f"mu must be finite, got {self.mu!r}")
        if not (self.sigma > 0 and math.isfinite(self.sigma)):
            raise ValueError(f"sigma must be positive and finite, got {self.sigma!r}")
        if not (self.beta > 0 and math.isfinite(self.beta)):
            raise ValueError(f"beta must be positive and finite, got {self.beta!r}")
        if not (self.tau >= 0 and math.isfinite(self.tau)):
            raise ValueError(f"tau must be non-negative and finite, got {self.tau!r}")
        if not 0.0 <= self.draw_probability < 1.0:
            raise ValueError(f"draw_probability must be in [0, 1), got {self.draw_probability!r}")


@lru_cache(maxsize=64)
def draw_margin(draw_probability: float, beta: float) -> float:
    """Draw margin epsilon of a 1v1 game: ``Phi^-1((p + 1) / 2) * sqrt(2) * beta``.

    Same quantity as ``trueskill.calc_draw_margin(p, size=2)``: the performance difference of two
    equally skilled players falls inside ``[-epsilon, epsilon]`` with probability ``p``.
    """
    return NormalDist().inv_cdf((draw_probability + 1.0) / 2.0) * math.sqrt(2.0) * beta


_U64_MASK = (1 << 64) - 1


def _constants(params: TrueSkillParams) -> tuple[float, float, float]:
    """The three numbers the kernels need: 2*beta^2, tau^2 and epsilon."""
    eps = draw_margin(params.draw_probability, params.beta)
    return 2.0 * params.beta * params.beta, params.tau * params.tau, eps


# --------------------------------------------------------------------------------------------
# Public wrappers: validation in Python, work in the kernels
# --------------------------------------------------------------------------------------------


def _check_outcome_allowed(has_draw: bool, params: TrueSkillParams) -> None:
    if has_draw and params.draw_probability == 0.0:
        raise ValueError("a draw has probability zero when params.draw_probability == 0")


def _battle_arrays(
    n_models: int, a: np.ndarray, b: np.ndarray, outcome: np.ndarray, params: TrueSkillParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, b, outcome = check_battle_arrays(n_models, a, b, outcome)
    if a.size:
        _check_outcome_allowed(bool(np.any(outcome == DRAW)), params)
    return a, b, outcome


def check_battle_arrays(
    n_models: int, a: np.ndarray, b: np.ndarray, outcome: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contiguous typed copies of battle arrays, checked once for both engines (online and
    batch): equal 1-D shapes, model codes in range, no self-battles, outcomes 0/1/2. The
    model codes come back in :func:`model_dtype` (no copy when they already are)."""
    if n_models < 0:
        raise ValueError(f"n_models must be non-negative, got {n_models}")
    a, b = (_integers(x) for x in (a, b))
    outcome = np.ascontiguousarray(outcome, dtype=np.int8)
    if a.ndim != 1 or a.shape != b.shape or a.shape != outcome.shape:
        raise ValueError("a, b and outcome must be 1-D arrays of equal length")
    if a.size:
        if min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= n_models:
            raise ValueError(f"model indices must lie in [0, {n_models})")
        if np.any(a == b):
            raise ValueError("a model cannot battle itself (a[i] == b[i])")
        if outcome.min() < 0 or outcome.max() > DRAW:
            raise ValueError("outcome must be 0 (a wins), 1 (b wins) or 2 (draw)")
    kind = model_dtype(n_models)
    return np.ascontiguousarray(a, dtype=kind), np.ascontiguousarray(b, dtype=kind), outcome


def _integers(x: np.ndarray) -> np.ndarray:
    """Model codes as integers before their range is checked (a float or wider code is
    checked as int64, as it always was, so a wrap into a narrow type cannot hide it)."""
    x = np.asarray(x)
    return x if x.dtype.kind == "i" else x.astype(np.int64)


def model_dtype(n_models: int) -> type[np.signedinteger[Any]]:
    """The model codes' type for a board of ``n_models``: int16 while a pair's outcome key
    ``(lo * n + hi) * 3 + o`` fits in it (n <= 104), else int32 (n <= 26,754), else int64.
    At 10M battles the two code arrays and their per-dimension subsets then hold a quarter
    of the int64 memory (~200 MB); the compiled kernels widen what they compute with, and
    NumPy arithmetic on codes stays within the key's range by this choice."""
    for kind in (np.int16, np.int32):
        if 3 * n_models * n_models + 3 <= np.iinfo(kind).max:
            return kind
    return np.int64


def _index_array(idx: np.ndarray, n_battles: int, name: str) -> np.ndarray:
    # int32 lists (rating/inputs.py at fewer than 2**31 battles) are read as they are: the
    # kernels compile for either width, and an int64 copy would double their memory.
    idx = np.asarray(idx)
    wide = idx.dtype if idx.dtype in (np.int32, np.int64) else np.int64
    idx = np.ascontiguousarray(idx, dtype=wide)
    if idx.ndim != 1:
        raise ValueError(f"{name} must be 1-D")
    if idx.size and (idx.min() < 0 or idx.max() >= n_battles):
        raise ValueError(f"{name} must index battles in [0, {n_battles})")
    return idx


def _priors(shape: tuple[int, ...], params: TrueSkillParams) -> tuple[np.ndarray, np.ndarray]:
    return np.full(shape, float(params.mu)), np.full(shape, float(params.sigma))


def rate_1vs1(
    mu_a: float,
    sigma_a: float,
    mu_b: float,
    sigma_b: float,
    outcome: int,
    params: TrueSkillParams,
) -> tuple[float, float, float, float]:
    """Posterior ``(mu_a, sigma_a, mu_b, sigma_b)`` after one game.

    ``outcome`` is 0 if a won, 1 if b won, 2 for a draw.
    """
    if outcome not in (A_WINS, B_WINS, DRAW):
        raise ValueError(f"outcome must be 0, 1 or 2, got {outcome!r}")
    _check_outcome_allowed(outcome == DRAW, params)
    two_beta_sq, tau_sq, eps = _constants(params)
    return _rate(
        float(mu_a),
        float(sigma_a),
        float(mu_b),
        float(sigma_b),
        int(outcome),
        two_beta_sq,
        tau_sq,
        eps,
    )


def win_probabilities(
    mu_a: float, sigma_a: float, mu_b: float, sigma_b: float, params: TrueSkillParams
) -> tuple[float, float, float]:
    """Predicted ``(P(a wins), P(b wins), P(draw))`` for one game between the two posteriors.

    The performance difference is ``N(mu_a - mu_b, 2 beta^2 + sigma_a^2 + sigma_b^2)`` and a draw
    is ``|difference| <= epsilon``. The given sigmas are used as they are (no tau is added).
    """
    two_beta_sq, _, eps = _constants(params)
    return _win_probs(float(mu_a), float(sigma_a), float(mu_b), float(sigma_b), two_beta_sq, eps)


def win_probabilities_array(
    mu_a: np.ndarray,
    sigma_a: np.ndarray,
    mu_b: np.ndarray,
    sigma_b: np.ndarray,
    params: TrueSkillParams,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Element-wise :func:`win_probabilities` over broadcastable arrays."""
    arrays = np.broadcast_arrays(
        *(np.asarray(x, dtype=np.float64) for x in (mu_a, sigma_a, mu_b, sigma_b))
    )
    shape = arrays[0].shape
    flat = [np.ascontiguousarray(x).ravel() for x in arrays]
    out = np.empty((3, flat[0].size))
    two_beta_sq, _, eps = _constants(params)
    _win_probs_loop(flat[0], flat[1], flat[2], flat[3], two_beta_sq, eps, out)
    return out[0].reshape(shape), out[1].reshape(shape), out[2].reshape(shape)


def replay(
    n_models: int,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    params: TrueSkillParams,
) -> tuple[np.ndarray, np.ndarray]:
    """One sequential pass over the battles in the given order, from the prior.

    Returns the final ``mu`` and ``sigma``, each of length ``n_models``.
    """
    a, b, outcome = _battle_arrays(n_models, a, b, outcome, params)
    _check_model_count(n_models)
    mu, sigma = _priors((n_models,), params)
    packed = kernels.pack(a, b, outcome, np.arange(a.shape[0], dtype=np.int64))
    kernels.play(mu, sigma, packed, _constants(params))
    return mu, sigma


def _check_model_count(n_models: int) -> None:
    if n_models > MAX_MODELS_TOURNAMENTS:
        raise ValueError(f"the online replays support at most {MAX_MODELS_TOURNAMENTS} models")


def replay_tournaments(
    n_models: int,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    t_offsets: np.ndarray,
    t_battles: np.ndarray,
    passes: int,
    seed: int,
    params: TrueSkillParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Replay each tournament once in canonical order and ``passes`` times shuffled.

    Tournament ``t`` is the battles ``t_battles[t_offsets[t]:t_offsets[t + 1]]``. Returns ``mu``
    and ``sigma`` of shape ``(T, 1 + passes, n_models)``; index 0 on the second axis is the
    canonical order. Pass ``p >= 1`` uses a Fisher-Yates shuffle driven by splitmix64 seeded
    from ``(seed, t, p)`` only, so the output is bit-identical for any thread count. Models
    that do not play in a tournament keep the prior.
    """
    if passes < 0:
        raise ValueError(f"passes must be non-negative, got {passes}")
    n_t = max(np.asarray(t_offsets).size - 1, 0)
    eps = draw_margin(params.draw_probability, params.beta)
    jobs = Jobs(
        offsets=np.ascontiguousarray(t_offsets, dtype=np.int64),
        battles=np.asarray(t_battles),
        row=np.zeros(n_t, dtype=np.int64),
        eps=np.full(n_t, eps),
        seed=np.full(n_t, np.uint64(int(seed) & _U64_MASK), dtype=np.uint64),
        stream=np.arange(n_t, dtype=np.int64),
        passes=np.full(n_t, passes, dtype=np.int64),
    )
    return replay_jobs(n_models, a, b, np.asarray(outcome)[None, :], jobs, params)


def replay_jobs(
    n_models: int,
    a: np.ndarray,
    b: np.ndarray,
    outcomes: np.ndarray,
    jobs: Jobs,
    params: TrueSkillParams,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`replay_tournaments` for tournaments of several dimensions at once (one row of
    ``outcomes`` each) with their own draw margins, seeds and numbers of shuffled passes
    (:class:`prefboard.rating.replay.Jobs`): one balanced parallel run over all of them.
    ``params.draw_probability`` is not used (each tournament has its ``jobs.eps``)."""
    outcomes = np.ascontiguousarray(outcomes, dtype=np.int8)
    if outcomes.ndim != 2:
        raise ValueError("outcomes must be 2-D: one row per dimension")
    for row in outcomes:
        a, b, _ = check_battle_arrays(n_models, a, b, row)
    jobs = _checked_jobs(jobs, a.shape[0], outcomes)
    _check_model_count(n_models)
    two_beta_sq, tau_sq, _ = _constants(params)
    return kernels.run_jobs(
        n_models, a, b, outcomes, jobs, params.mu, params.sigma, two_beta_sq, tau_sq
    )


def _checked_jobs(jobs: Jobs, n_battles: int, outcomes: np.ndarray) -> Jobs:
    offsets = np.ascontiguousarray(jobs.offsets, dtype=np.int64)
    battles = _index_array(jobs.battles, n_battles, "t_battles")
    if offsets.ndim != 1 or offsets.size < 1:
        raise ValueError("t_offsets must be 1-D with T + 1 entries")
    if offsets[0] < 0 or np.any(np.diff(offsets) < 0) or offsets[-1] > battles.shape[0]:
        raise ValueError("t_offsets must be non-decreasing and within t_battles")
    n_t = offsets.size - 1
    fields = (jobs.row, jobs.eps, jobs.seed, jobs.stream, jobs.passes)
    if any(np.shape(f) != (n_t,) for f in fields):
        raise ValueError("every per-tournament array needs one entry per tournament")
    row = np.ascontiguousarray(jobs.row, dtype=np.int64)
    if n_t and (row.min() < 0 or row.max() >= outcomes.shape[0]):
        raise ValueError("row must name a row of outcomes")
    passes = np.ascontiguousarray(jobs.passes, dtype=np.int64)
    if n_t and passes.min() < 0:
        raise ValueError("passes must be non-negative")
    eps = np.ascontiguousarray(jobs.eps, dtype=np.float64)
    if not (np.all(np.isfinite(eps)) and np.all(eps >= 0)):
        raise ValueError("draw margins must be finite and non-negative")
    for t in range(n_t):
        if eps[t] == 0 and np.any(outcomes[row[t], battles[offsets[t] : offsets[t + 1]]] == DRAW):
            raise ValueError("a draw has probability zero when params.draw_probability == 0")
    return Jobs(
        offsets=offsets,
        battles=battles,
        row=row,
        eps=eps,
        seed=np.ascontiguousarray(jobs.seed, dtype=np.uint64),
        stream=np.ascontiguousarray(jobs.stream, dtype=np.int64),
        passes=passes,
    )


def replay_history(
    n_models: int,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    battle_idx: np.ndarray,
    every: int,
    params: TrueSkillParams,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One pass in the order of ``battle_idx`` with snapshots along the way.

    Snapshots are taken after every ``every``-th battle and after the last one. Returns
    ``steps[H]`` (battles played at each snapshot), ``mu[H, n_models]``, ``sigma[H, n_models]``.
    With no battles there is a single snapshot of the prior at step 0.
    """
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    a, b, outcome = _battle_arrays(n_models, a, b, outcome, params)
    battle_idx = _index_array(battle_idx, a.shape[0], "battle_idx")
    _check_model_count(n_models)
    n = battle_idx.shape[0]
    steps = np.arange(every, n + 1, every, dtype=np.int64)
    if steps.size == 0 or steps[-1] != n:
        steps = np.append(steps, np.int64(n))
    mu, sigma = _priors((steps.size, n_models), params)
    kernels.history(mu, sigma, (a, b, outcome, battle_idx), steps, _constants(params))
    return steps, mu, sigma
