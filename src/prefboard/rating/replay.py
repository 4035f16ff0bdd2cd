"""Online TrueSkill replays: one pass in a given order, many seeded shuffled passes in
parallel, and a pass with snapshots (the rating history).

Every replay plays battles packed into one integer each (:func:`_fill_packed`) through one
loop, :func:`_play_group` (several passes of a tournament interleaved; a single pass is a
group of one), and the one update of :mod:`prefboard.rating.update`. Inputs are checked by
the wrappers in :mod:`prefboard.rating.trueskill`; these kernels trust them.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np

from prefboard.jit import njit
from prefboard.rating.prefetch import prefetch
from prefboard.rating.update import _rate

_SM64_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_SM64_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_SM64_MUL2 = np.uint64(0x94D049BB133111EB)


@njit(cache=True, fastmath=False)
def _splitmix64(state: np.uint64) -> tuple[np.uint64, np.uint64]:
    """One step of Vigna's splitmix64: returns (next state, 64 random bits)."""
    # Mixing int64 and uint64 would silently promote to float64 in numba: pin the type.
    state = np.uint64(state) + _SM64_GAMMA
    z = state
    z = (z ^ (z >> np.uint64(30))) * _SM64_MUL1
    z = (z ^ (z >> np.uint64(27))) * _SM64_MUL2
    return state, z ^ (z >> np.uint64(31))


@njit(cache=True, fastmath=False)
def _job_state(seed: np.uint64, tournament: int, pass_no: int) -> np.uint64:
    # Each splitmix output is a bijection of its input, so distinct (seed, t, pass) triples get
    # distinct streams, and a job's stream depends on nothing but its own triple.
    _, h = _splitmix64(seed)
    _, h = _splitmix64(h ^ np.uint64(tournament))
    _, h = _splitmix64(h ^ np.uint64(pass_no))
    return h


# Swaps whose random partner is known ahead (a power of two). Each swap's partner j is
# drawn from the stream alone, not from the data, so it can be drawn this many swaps early and
# its cache line fetched meanwhile: at 10M battles a swap took ~31 ns, nearly all of it
# waiting for buf[j] (~4 ns when buf fits in cache), and ~7 ns with the partners fetched 64
# swaps ahead (the same swaps, so the same permutation).
_AHEAD = 64


@njit(cache=True, fastmath=False)
def _fisher_yates(buf: np.ndarray, state: np.uint64) -> None:
    """Shuffle ``buf`` in place: for i = n - 1 down to 1, swap buf[i] with buf[j], j the next
    splitmix64 output modulo i + 1 (modulo bias below (i + 1) / 2**64: irrelevant for any
    feasible battle count)."""
    n = buf.shape[0]
    partner = np.empty(_AHEAD, dtype=np.int64)  # partner[i % _AHEAD]: the j of swap i
    lead = n - 1  # the next swap whose partner is drawn
    while lead > 0 and n - 1 - lead < _AHEAD:
        state, lead = _draw_partner(buf, state, lead, partner)
    for i in range(n - 1, 0, -1):
        j = partner[i % _AHEAD]  # read before swap i - _AHEAD's partner takes its place
        if lead > 0:
            state, lead = _draw_partner(buf, state, lead, partner)
        tmp = buf[i]
        buf[i] = buf[j]
        buf[j] = tmp


@njit(cache=True, fastmath=False, inline="always")
def _draw_partner(
    buf: np.ndarray, state: np.uint64, lead: int, partner: np.ndarray
) -> tuple[np.uint64, int]:
    state, bits = _splitmix64(state)
    j = np.int64(bits % np.uint64(lead + 1))
    partner[lead % _AHEAD] = j
    prefetch(buf, j)
    return state, lead - 1


# A battle packed into one int64: a in bits 0-29, b in bits 30-59, outcome in bits 60-61.
# Shuffling packed battles and then reading them sequentially is ~2x faster than shuffling
# indices, whose replay gathers a, b and outcome from three arrays at random addresses.
_MODEL_BITS = 30
MAX_MODELS_TOURNAMENTS = 1 << _MODEL_BITS
# Boards of fewer than 2**13 models (every board the config accepts: MAX_MODELS) pack a
# battle into an int32 (a in bits 0-12, b in 13-25, outcome in 26-27) for the shuffled
# replays, boards of at most 2**7 into a uint16 (a in bits 0-6, b in 7-13, outcome in 14-15):
# each pass's copy of its tournament takes a half or a quarter of the memory (at 10M battles
# and 12 models two passes played together take what one int32 copy took). The shuffle and
# the play order are those of the int64 packing, so every replay gives the same bits.
_NARROW_BITS = 13
MAX_MODELS_NARROW = 1 << _NARROW_BITS
_SMALL_BITS = 7
MAX_MODELS_SMALL = 1 << _SMALL_BITS


@njit(cache=True, fastmath=False)
def _fill_packed(
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    battles: np.ndarray,
    packed: np.ndarray,
    bits: int,
) -> None:
    """Pack the battles ``battles`` into ``packed`` (int32 or int64), ``bits`` per model."""
    for k in range(battles.shape[0]):
        i = battles[k]
        packed[k] = np.int64(a[i]) | (np.int64(b[i]) << bits) | (np.int64(outcome[i]) << (2 * bits))


@njit(cache=True, fastmath=False)
def _pack_battles(
    a: np.ndarray, b: np.ndarray, outcome: np.ndarray, battles: np.ndarray
) -> np.ndarray:
    packed = np.empty(battles.shape[0], dtype=np.int64)
    _fill_packed(a, b, outcome, battles, packed, _MODEL_BITS)
    return packed


@njit(cache=True, fastmath=False)
def _play_group(
    mu: np.ndarray,
    sigma: np.ndarray,
    packed: np.ndarray,
    bits: int,
    constants: tuple[float, float, float],
) -> None:
    """Play the K passes ``packed[j]`` (uint16, int32 or int64 rows) interleaved, pass j on
    ``mu[j]``/``sigma[j]``: battle k of every pass, then battle k + 1. The passes are
    independent dependency chains, so the CPU overlaps their updates (12 models: ~33 ns instead
    of ~40 per update at K = 2); each pass sees its own battles in its own order: same bits."""
    two_beta_sq, tau_sq, eps = constants
    mask = (np.int64(1) << bits) - 1
    for k in range(packed.shape[1]):
        for j in range(packed.shape[0]):
            x = packed[j, k]  # uint16, int32 or int64: numba widens the shifts and masks to int64
            ia = x & mask
            ib = (x >> bits) & mask
            o = x >> (2 * bits)
            mu_a, sigma_a, mu_b, sigma_b = _rate(
                mu[j, ia], sigma[j, ia], mu[j, ib], sigma[j, ib], o, two_beta_sq, tau_sq, eps
            )
            mu[j, ia] = mu_a
            sigma[j, ia] = sigma_a
            mu[j, ib] = mu_b
            sigma[j, ib] = sigma_b


@njit(cache=True, fastmath=False)
def _play_packed(
    mu: np.ndarray,
    sigma: np.ndarray,
    packed: np.ndarray,
    two_beta_sq: float,
    tau_sq: float,
    eps: float,
    bits: int,
) -> None:
    """One pass: the group of one (``mu``, ``sigma`` contiguous, updated in place)."""
    n = packed.shape[0]
    _play_group(
        mu.reshape((1, mu.shape[0])),
        sigma.reshape((1, sigma.shape[0])),
        packed.reshape((1, n)),
        bits,
        (two_beta_sq, tau_sq, eps),
    )


@njit(cache=True, fastmath=False)
def _fill_group(
    battles: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    packed: np.ndarray,
    bits: int,
    stream: tuple[np.uint64, int, int],
) -> None:
    """Row j of ``packed``: pass p0 + j of the tournament (``stream`` = (seed, t, p0)), i.e.
    its canonical order (p = 0) or its own splitmix64 shuffle of it (p > 0)."""
    a, b, outcome, idx = battles
    seed, t, p0 = stream
    _fill_packed(a, b, outcome, idx, packed[0], bits)
    # Copying the first row is a sequential memcpy; packing again would gather a, b, outcome.
    for j in range(1, packed.shape[0]):
        packed[j] = packed[0]
    for j in range(packed.shape[0]):
        if p0 + j > 0:
            _fisher_yates(packed[j], _job_state(seed, t, p0 + j))


@njit(cache=True, fastmath=False, nogil=True)
def _group_kernel(
    mu: np.ndarray,
    sigma: np.ndarray,
    battles: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    stream: tuple[np.uint64, int, int],
    constants: tuple[float, float, float],
) -> None:
    """Passes p0 .. p0 + K - 1 (K = ``mu.shape[0]``, ``stream`` = (seed, t, p0)) of the
    tournament ``battles[3]`` (indices into a, b, outcome: ``battles[:3]``) from ``mu`` and
    ``sigma`` (the prior, one row per pass) in place, played together (:func:`_play_group`).
    nogil: several groups run at once (:func:`run_jobs`)."""
    n = battles[3].shape[0]
    k = mu.shape[0]
    # The group's only scratch memory: one packed copy of its tournament per pass, freed at the
    # end, in the narrowest packing the board allows (each dtype is its own type to numba).
    if mu.shape[1] <= MAX_MODELS_SMALL:
        packed16 = np.empty((k, n), dtype=np.uint16)
        _fill_group(battles, packed16, _SMALL_BITS, stream)
        _play_group(mu, sigma, packed16, _SMALL_BITS, constants)
    elif mu.shape[1] <= MAX_MODELS_NARROW:
        packed32 = np.empty((k, n), dtype=np.int32)
        _fill_group(battles, packed32, _NARROW_BITS, stream)
        _play_group(mu, sigma, packed32, _NARROW_BITS, constants)
    else:
        packed64 = np.empty((k, n), dtype=np.int64)
        _fill_group(battles, packed64, _MODEL_BITS, stream)
        _play_group(mu, sigma, packed64, _MODEL_BITS, constants)


# Battles packed at a time by the history pass: its scratch memory (512 KiB), where a packed
# copy of the whole tournament took 8 bytes a battle (70 MB per dimension at 10M battles).
_HISTORY_CHUNK = 1 << 16


@njit(cache=True, fastmath=False)
def _history_kernel(
    mu: np.ndarray,
    sigma: np.ndarray,
    battles: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    steps: np.ndarray,
    two_beta_sq: float,
    tau_sq: float,
    eps: float,
) -> None:
    """The battles ``battles[3]`` (indices into a, b, outcome: ``battles[:3]``) played in
    order, packed a chunk at a time: the same updates in the same order as one packed copy."""
    a, b, outcome, idx = battles
    cur_mu = mu[0].copy()
    cur_sigma = sigma[0].copy()
    packed = np.empty(min(_HISTORY_CHUNK, idx.shape[0]), dtype=np.int64)
    done = 0
    for h in range(steps.shape[0]):
        while done < steps[h]:
            end = min(done + _HISTORY_CHUNK, steps[h])
            part = packed[: end - done]
            _fill_packed(a, b, outcome, idx[done:end], part, _MODEL_BITS)
            _play_packed(cur_mu, cur_sigma, part, two_beta_sq, tau_sq, eps, _MODEL_BITS)
            done = end
        mu[h] = cur_mu
        sigma[h] = cur_sigma


@dataclass(frozen=True)
class Jobs:
    """Tournaments to replay, each in its canonical order and ``passes[t]`` seeded shuffles.

    Tournament ``t`` is the battles ``battles[offsets[t]:offsets[t + 1]]`` with outcomes from row
    ``row[t]`` of the outcome matrix (one row per dimension) and draw margin ``eps[t]``. Shuffle
    ``p`` of it is driven by splitmix64 seeded from ``(seed[t], stream[t], p)`` only, so every
    output is bit-identical whatever the thread count or the order the jobs run in.
    """

    offsets: np.ndarray
    battles: np.ndarray
    row: np.ndarray
    eps: np.ndarray
    seed: np.ndarray
    stream: np.ndarray
    passes: np.ndarray

    def schedule(self, together: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(tournament, first pass, passes) of every group of passes played together, longest
        first: a core that finishes a short group takes the next one instead of waiting behind
        a long one started last (LPT rule). Tournament t's 1 + passes[t] passes are cut into
        ceil((1 + passes[t]) / together) groups of sizes that differ by at most one."""
        jobs = self.passes + 1
        n_groups = -(-jobs // max(1, together))
        group_t = np.repeat(np.arange(jobs.size, dtype=np.int64), n_groups)
        # Group g of tournament t: passes [g * jobs // n, (g + 1) * jobs // n).
        g = np.arange(group_t.size, dtype=np.int64) - np.repeat(
            np.cumsum(n_groups) - n_groups, n_groups
        )
        n_t, jobs_t = n_groups[group_t], jobs[group_t]
        first = g * jobs_t // n_t
        count = (g + 1) * jobs_t // n_t - first
        order = np.argsort(-np.diff(self.offsets)[group_t] * count, kind="stable")
        return group_t[order], first[order], count[order]


# Passes of one tournament played together (_play_group). Thread CPU per update, 1M battles
# among 12 models (medians, busy machine): K = 1 40.5 ns, 2 33 ns, 3 33 ns, 4 33 ns; among 300
# models ~32 ns whatever K (battles in a row seldom share a model there, so the CPU already
# overlaps them within one pass). K = 2: two uint16 copies per thread take the memory one
# int32 copy took, where 3 or 4 would add 17.5 MB per thread and pass at 10M battles.
PASSES_TOGETHER = 2


def run_jobs(
    n_models: int,
    a: np.ndarray,
    b: np.ndarray,
    outcomes: np.ndarray,
    jobs: Jobs,
    mu0: float,
    sigma0: float,
    two_beta_sq: float,
    tau_sq: float,
    together: int = PASSES_TOGETHER,
) -> tuple[np.ndarray, np.ndarray]:
    """``mu`` and ``sigma`` of shape ``(T, 1 + max passes, n_models)`` from the prior; index 0
    of the second axis is the canonical order, passes a tournament does not run keep the prior.
    Arrays are trusted (checked by :mod:`prefboard.rating.trueskill`).

    The passes of a tournament are played ``together`` at a time (:func:`_play_group`), each
    group one job. The jobs are played by numba's number of threads
    (``numba.get_num_threads()``: the machine's cores unless set lower), the executor's threads
    each taking the next job, longest first, from its one queue. A prange over the jobs was
    split by numba's OpenMP layer into one contiguous block of jobs per thread, so the
    longest-first list gave one thread the twenty shuffles of the pooled table and the other
    the short group tables (2M battles: 246 against 55 CPU ticks), and the long block ran alone
    on one core. Each pass's result depends on its (t, p) alone, whatever the grouping."""
    n_t = jobs.passes.size
    width = 1 + int(jobs.passes.max(initial=0))
    mu = np.full((n_t, width, n_models), float(mu0))
    sigma = np.full((n_t, width, n_models), float(sigma0))
    group_t, group_p, group_k = jobs.schedule(together)

    def play_group(t: int, p: int, k: int) -> None:
        battles = (a, b, outcomes[jobs.row[t]], jobs.battles[jobs.offsets[t] : jobs.offsets[t + 1]])
        stream = (jobs.seed[t], int(jobs.stream[t]), p)
        constants = (two_beta_sq, tau_sq, float(jobs.eps[t]))
        _group_kernel(mu[t, p : p + k], sigma[t, p : p + k], battles, stream, constants)

    threads = max(1, min(numba.get_num_threads(), group_t.size))
    with ThreadPoolExecutor(max_workers=threads) as pool:
        # list() waits for every group and re-raises the first exception here
        list(pool.map(play_group, group_t.tolist(), group_p.tolist(), group_k.tolist()))
    return mu, sigma


def pack(a: np.ndarray, b: np.ndarray, outcome: np.ndarray, battles: np.ndarray) -> np.ndarray:
    """The battles ``battles`` (indices into the arrays) packed, in that order."""
    return _pack_battles(a, b, outcome, battles)


def play(
    mu: np.ndarray, sigma: np.ndarray, packed: np.ndarray, constants: tuple[float, ...]
) -> None:
    """Play packed battles (:func:`pack`) in order, updating ``mu`` and ``sigma`` in place."""
    two_beta_sq, tau_sq, eps = constants
    _play_packed(mu, sigma, packed, two_beta_sq, tau_sq, eps, _MODEL_BITS)


def history(
    mu: np.ndarray,
    sigma: np.ndarray,
    battles: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    steps: np.ndarray,
    constants: tuple[float, ...],
) -> None:
    """Play the battles ``idx`` of ``battles = (a, b, outcome, idx)`` in that order; row
    ``h`` of ``mu``/``sigma`` (row 0 holds the prior on entry) becomes the state after
    ``steps[h]`` battles."""
    _history_kernel(mu, sigma, battles, steps, *constants)
