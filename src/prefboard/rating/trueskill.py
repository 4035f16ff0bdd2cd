"""Fast two-player TrueSkill, numerically identical to the ``trueskill`` package.

TrueSkill is from Herbrich, Minka & Graepel, "TrueSkill: A Bayesian Skill Rating System"
(NIPS 2006). For a game between two single players the factor graph has one truncated
performance-difference factor and no loop, so message passing reaches its fixed point in one
sweep and the posterior has a closed form. With ``c**2 = 2*beta**2 + s_a**2 + s_b**2``,
``t = (mu_a - mu_b) / c`` and ``e = epsilon / c`` the update for "a beat b" is::

    mu_a  += s_a**2 / c * v(t, e)          mu_b  -= s_b**2 / c * v(t, e)
    s_a**2 *= 1 - s_a**2 / c**2 * w(t, e)  s_b**2 *= 1 - s_b**2 / c**2 * w(t, e)

where ``v`` and ``w`` are the mean and variance corrections of a Gaussian truncated to
``diff > epsilon`` (a win) or ``|diff| <= epsilon`` (a draw), and ``s**2`` already includes the
dynamics noise ``tau**2``. This is exactly what ``trueskill.rate_1vs1`` computes through its
generic factor graph, minus the object overhead.

The ``v``/``w`` kernels stay accurate where the textbook ratios of ``pdf`` and ``cdf`` break down:
far in the lower tail they are written in terms of the inverse Mills ratio, evaluated by its
continued fraction, so neither overflow nor catastrophic cancellation occurs for any finite gap;
draws with a narrow draw window (small draw probabilities) take their moments from quadrature
over the window. Against 50-digit mpmath the kernels are within a few 1e-13 relative everywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

import numba
import numpy as np
from numba import njit, prange

__all__ = [
    "TrueSkillParams",
    "draw_margin",
    "rate_1vs1",
    "replay",
    "replay_history",
    "replay_tournaments",
    "v_draw",
    "v_win",
    "w_draw",
    "w_win",
    "win_probabilities",
    "win_probabilities_array",
]

A_WINS = 0
B_WINS = 1
DRAW = 2

_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)

# Below x = -_TAIL the win kernel switches from pdf/cdf to the continued fraction. At s = 6 the
# fraction needs 21 levels to reach double precision (fewer further out, measured against
# mpmath), so _CF_DEPTH = 24 leaves margin; above -6 the direct form loses at most ~40 ulp to the
# cancellation in v * (v + x).
_TAIL = 6.0
_CF_DEPTH = 24

# Draws with a narrow window (e < _NARROW after scaling, i.e. small draw probabilities) would
# lose about log10(1/e) digits in the pdf/cdf differences, so their moments come from 8-point
# Gauss-Legendre quadrature over the window instead. The integrand exp(|t|*y - y*y/2) is smooth
# on the window's scale while e * |t| <= _NARROW_TILT, where the rule is exact to rounding.
# Only the non-negative half of the symmetric rule is kept.
_NARROW = 0.05
_NARROW_TILT = 0.3
_GL_NODES, _GL_WEIGHTS = (
    np.ascontiguousarray(arr[4:]) for arr in np.polynomial.legendre.leggauss(8)
)

_SM64_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_SM64_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_SM64_MUL2 = np.uint64(0x94D049BB133111EB)
_U64_MASK = (1 << 64) - 1


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


def _constants(params: TrueSkillParams) -> tuple[float, float, float]:
    """The three numbers the kernels need: 2*beta^2, tau^2 and epsilon."""
    eps = draw_margin(params.draw_probability, params.beta)
    return 2.0 * params.beta * params.beta, params.tau * params.tau, eps


# --------------------------------------------------------------------------------------------
# Scalar kernels
# --------------------------------------------------------------------------------------------


@njit(cache=True, fastmath=False)
def _pdf(x: float) -> float:
    return _INV_SQRT_2PI * math.exp(-0.5 * x * x)


@njit(cache=True, fastmath=False)
def _cdf(x: float) -> float:
    # erfc rather than 1 + erf keeps full relative precision in the lower tail.
    return 0.5 * math.erfc(-x * _INV_SQRT2)


@njit(cache=True, fastmath=False)
def _mills_excess(s: float) -> float:
    """``1 / R(s) - s`` for s >= _TAIL, where R is Mills' ratio ``(1 - Phi(s)) / phi(s)``.

    Laplace's continued fraction ``R(s) = 1/(s + 1/(s + 2/(s + 3/(s + ...))))`` gives the excess
    directly as ``1/(s + 2/(s + 3/(s + ...)))``, so it never forms the difference of two nearly
    equal large numbers, which is what makes ``w`` collapse in the naive form.
    """
    acc = 0.0
    for k in range(_CF_DEPTH, 1, -1):
        acc = k / (s + acc)
    return 1.0 / (s + acc)


@njit(cache=True, fastmath=False)
def _vw_win(t: float, eps: float) -> tuple[float, float]:
    x = t - eps
    if x >= -_TAIL:
        v = _pdf(x) / _cdf(x)
        return v, v * (v + x)
    # v = 1/R(-x) = -x + k, and v + x = k exactly: w = k * v without cancellation.
    k = _mills_excess(-x)
    v = k - x
    # w -> 1 from below as x -> -inf; the cap only absorbs a final rounding step past 1.
    return v, min(k * v, 1.0)


@njit(cache=True, fastmath=False)
def _vw_draw_narrow(s: float, eps: float) -> tuple[float, float]:
    """Draw corrections for s = |t| from the moments of the draw window itself.

    Given a draw, the scaled difference y lies in [-eps, eps] with density proportional to
    exp(s*y - y*y/2). Then v = E[y] - s and w = 1 - Var[y]; both come from moments of a
    distribution of width eps, so nothing of size 1 is subtracted from anything of size 1.
    """
    m0 = 0.0
    m1 = 0.0
    m2 = 0.0
    for i in range(_GL_NODES.shape[0]):
        y = eps * _GL_NODES[i]
        g = _GL_WEIGHTS[i] * math.exp(-0.5 * y * y)
        # Node pairs +-y fold into cosh/sinh; sinh keeps E[y] exact when s*y is tiny.
        even = g * math.cosh(s * y)
        m0 += even
        m1 += g * y * math.sinh(s * y)
        m2 += even * y * y
    mean = m1 / m0
    return mean - s, 1.0 - (m2 / m0 - mean * mean)


@njit(cache=True, fastmath=False)
def _vw_draw(t: float, eps: float) -> tuple[float, float]:
    # Both corrections are odd/even in t, so work with |t| and restore the sign of v at the end.
    s = abs(t)
    u1 = s - eps
    u2 = s + eps
    if eps < _NARROW and s * eps <= _NARROW_TILT:
        v, w = _vw_draw_narrow(s, eps)
    elif u1 < _TAIL:
        p1 = _pdf(u1)
        p2 = _pdf(u2)
        # Phi(e - s) - Phi(-e - s) via upper-tail erfc terms: no 1 - 1 cancellation for large s.
        d = 0.5 * (math.erfc(u1 * _INV_SQRT2) - math.erfc(u2 * _INV_SQRT2))
        v = (p2 - p1) / d
        w = v * v + (u2 * p2 - u1 * p1) / d
    else:
        # Far tail: both cdf terms underflow and v*v nearly cancels the second term. Divide
        # everything by phi(u1) and express it through inverse Mills ratios g = 1/R.
        k1 = _mills_excess(u1)
        k2 = _mills_excess(u2)
        g1 = u1 + k1
        g2 = u2 + k2
        r = math.exp(-2.0 * s * eps)  # phi(u2) / phi(u1)
        one_minus_r = -math.expm1(-2.0 * s * eps)
        # g2 > g1 (g is increasing with slope w < 1) so every term below is positive.
        g_gap = 2.0 * eps - (k1 - k2)
        one_minus_rho = (g_gap + one_minus_r * g1) / g2  # rho = r * g1 / g2
        v = -one_minus_r * g1 / one_minus_rho
        # w = w_win(u1) + correction from the upper end of the interval, which carries a factor
        # r and stays O(r * u1 * eps) <= 1 in size, so its rounding error is absolute ~1e-16.
        two_minus_r_rho = one_minus_r + one_minus_rho
        first = g1 * g1 * (-g_gap) * two_minus_r_rho / (one_minus_rho * one_minus_rho)
        second = g1 * ((u1 * k1 - u2 * k2) - 4.0 * s * eps) / one_minus_rho
        w = min(k1 * g1 + (r / g2) * (first - second), 1.0)
    if t < 0.0:
        v = -v
    return v, w


@njit(cache=True, fastmath=False)
def v_win(t: float, eps: float) -> float:
    """Mean correction for a win: ``phi(t - eps) / Phi(t - eps)`` (t, eps already divided by c)."""
    return _vw_win(t, eps)[0]


@njit(cache=True, fastmath=False)
def w_win(t: float, eps: float) -> float:
    """Variance correction for a win: ``v * (v + t - eps)``, in (0, 1)."""
    return _vw_win(t, eps)[1]


@njit(cache=True, fastmath=False)
def v_draw(t: float, eps: float) -> float:
    """Mean correction for a draw (odd in t); t, eps already divided by c."""
    return _vw_draw(t, eps)[0]


@njit(cache=True, fastmath=False)
def w_draw(t: float, eps: float) -> float:
    """Variance correction for a draw (even in t), in (0, 1)."""
    return _vw_draw(t, eps)[1]


@njit(cache=True, fastmath=False)
def _rate(
    mu_a: float,
    sigma_a: float,
    mu_b: float,
    sigma_b: float,
    outcome: int,
    two_beta_sq: float,
    tau_sq: float,
    eps: float,
) -> tuple[float, float, float, float]:
    # tau enters before the game, as the package's PriorFactor does: skills drift between games.
    var_a = sigma_a * sigma_a + tau_sq
    var_b = sigma_b * sigma_b + tau_sq
    c_sq = two_beta_sq + var_a + var_b
    c = math.sqrt(c_sq)
    t = (mu_a - mu_b) / c
    e = eps / c
    if outcome == A_WINS:
        v, w = _vw_win(t, e)
    elif outcome == B_WINS:
        v, w = _vw_win(-t, e)
        v = -v
    else:
        v, w = _vw_draw(t, e)
    new_mu_a = mu_a + var_a / c * v
    new_mu_b = mu_b - var_b / c * v
    new_sigma_a = math.sqrt(var_a * (1.0 - var_a / c_sq * w))
    new_sigma_b = math.sqrt(var_b * (1.0 - var_b / c_sq * w))
    return new_mu_a, new_sigma_a, new_mu_b, new_sigma_b


# --------------------------------------------------------------------------------------------
# Loops
# --------------------------------------------------------------------------------------------


# The three replay loops below repeat the same four-line body on purpose: routing it through a
# shared helper function cost ~8 ns per battle (~40% of the update), even with inline="always".


@njit(cache=True, fastmath=False)
def _play(
    mu: np.ndarray,
    sigma: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    order: np.ndarray,
    two_beta_sq: float,
    tau_sq: float,
    eps: float,
) -> None:
    for k in range(order.shape[0]):
        i = order[k]
        ia = a[i]
        ib = b[i]
        mu_a, sigma_a, mu_b, sigma_b = _rate(
            mu[ia], sigma[ia], mu[ib], sigma[ib], outcome[i], two_beta_sq, tau_sq, eps
        )
        mu[ia] = mu_a
        sigma[ia] = sigma_a
        mu[ib] = mu_b
        sigma[ib] = sigma_b


@njit(cache=True, fastmath=False)
def _play_in_order(
    mu: np.ndarray,
    sigma: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    two_beta_sq: float,
    tau_sq: float,
    eps: float,
) -> None:
    # _play with order = arange(n), minus an index array as large as the battle list.
    for i in range(a.shape[0]):
        ia = a[i]
        ib = b[i]
        mu_a, sigma_a, mu_b, sigma_b = _rate(
            mu[ia], sigma[ia], mu[ib], sigma[ib], outcome[i], two_beta_sq, tau_sq, eps
        )
        mu[ia] = mu_a
        sigma[ia] = sigma_a
        mu[ib] = mu_b
        sigma[ib] = sigma_b


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


@njit(cache=True, fastmath=False)
def _fisher_yates(buf: np.ndarray, state: np.uint64) -> None:
    for i in range(buf.shape[0] - 1, 0, -1):
        state, bits = _splitmix64(state)
        # Modulo bias is below (i + 1) / 2**64: irrelevant for any feasible battle count.
        j = np.int64(bits % np.uint64(i + 1))
        tmp = buf[i]
        buf[i] = buf[j]
        buf[j] = tmp


# A battle packed into one int64: a in bits 0-29, b in bits 30-59, outcome in bits 60-61.
# Shuffling packed battles and then reading them sequentially is ~2x faster than shuffling
# indices, whose replay gathers a, b and outcome from three arrays at random addresses.
_MODEL_BITS = 30
_MODEL_MASK = (1 << _MODEL_BITS) - 1
MAX_MODELS_TOURNAMENTS = 1 << _MODEL_BITS


@njit(cache=True, fastmath=False)
def _pack_battles(
    a: np.ndarray, b: np.ndarray, outcome: np.ndarray, battles: np.ndarray
) -> np.ndarray:
    packed = np.empty(battles.shape[0], dtype=np.int64)
    for k in range(battles.shape[0]):
        i = battles[k]
        packed[k] = a[i] | (b[i] << _MODEL_BITS) | (np.int64(outcome[i]) << (2 * _MODEL_BITS))
    return packed


@njit(cache=True, fastmath=False)
def _play_packed(
    mu: np.ndarray,
    sigma: np.ndarray,
    packed: np.ndarray,
    two_beta_sq: float,
    tau_sq: float,
    eps: float,
) -> None:
    for k in range(packed.shape[0]):
        x = packed[k]
        ia = x & _MODEL_MASK
        ib = (x >> _MODEL_BITS) & _MODEL_MASK
        o = x >> (2 * _MODEL_BITS)
        mu_a, sigma_a, mu_b, sigma_b = _rate(
            mu[ia], sigma[ia], mu[ib], sigma[ib], o, two_beta_sq, tau_sq, eps
        )
        mu[ia] = mu_a
        sigma[ia] = sigma_a
        mu[ib] = mu_b
        sigma[ib] = sigma_b


@njit(cache=True, fastmath=False, parallel=True)
def _tournaments_kernel(
    mu: np.ndarray,
    sigma: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    t_offsets: np.ndarray,
    t_battles: np.ndarray,
    seed: np.uint64,
    two_beta_sq: float,
    tau_sq: float,
    eps: float,
) -> None:
    n_tournaments = mu.shape[0]
    n_runs = mu.shape[1]
    # Tournament varies fastest so that any contiguous block of jobs mixes large and small
    # tournaments; the results do not depend on the order in which jobs run.
    for job in prange(n_tournaments * n_runs):
        t = job % n_tournaments
        p = job // n_tournaments
        # The job's only scratch memory: one packed copy of its tournament, freed at the end.
        packed = _pack_battles(a, b, outcome, t_battles[t_offsets[t] : t_offsets[t + 1]])
        if p > 0:
            _fisher_yates(packed, _job_state(seed, t, p))
        _play_packed(mu[t, p], sigma[t, p], packed, two_beta_sq, tau_sq, eps)


@njit(cache=True, fastmath=False)
def _history_kernel(
    mu: np.ndarray,
    sigma: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    battle_idx: np.ndarray,
    steps: np.ndarray,
    two_beta_sq: float,
    tau_sq: float,
    eps: float,
) -> None:
    cur_mu = mu[0].copy()
    cur_sigma = sigma[0].copy()
    done = 0
    for h in range(steps.shape[0]):
        _play(
            cur_mu, cur_sigma, a, b, outcome, battle_idx[done : steps[h]], two_beta_sq, tau_sq, eps
        )
        done = steps[h]
        mu[h] = cur_mu
        sigma[h] = cur_sigma


@njit(cache=True, fastmath=False)
def _win_probs(
    mu_a: float, sigma_a: float, mu_b: float, sigma_b: float, two_beta_sq: float, eps: float
) -> tuple[float, float, float]:
    c = math.sqrt(two_beta_sq + sigma_a * sigma_a + sigma_b * sigma_b)
    t = (mu_a - mu_b) / c
    e = eps / c
    s = abs(t)
    # The draw mass written with upper-tail erfc terms stays accurate when it is tiny.
    p_draw = 0.5 * (math.erfc((s - e) * _INV_SQRT2) - math.erfc((s + e) * _INV_SQRT2))
    return _cdf(t - e), _cdf(-t - e), p_draw


@njit(cache=True, fastmath=False)
def _win_probs_loop(
    mu_a: np.ndarray,
    sigma_a: np.ndarray,
    mu_b: np.ndarray,
    sigma_b: np.ndarray,
    two_beta_sq: float,
    eps: float,
    out: np.ndarray,
) -> None:
    for i in range(mu_a.shape[0]):
        out[0, i], out[1, i], out[2, i] = _win_probs(
            mu_a[i], sigma_a[i], mu_b[i], sigma_b[i], two_beta_sq, eps
        )


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
    batch): equal 1-D shapes, model codes in range, no self-battles, outcomes 0/1/2."""
    if n_models < 0:
        raise ValueError(f"n_models must be non-negative, got {n_models}")
    a = np.ascontiguousarray(a, dtype=np.int64)
    b = np.ascontiguousarray(b, dtype=np.int64)
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
    return a, b, outcome


def _index_array(idx: np.ndarray, n_battles: int, name: str) -> np.ndarray:
    idx = np.ascontiguousarray(idx, dtype=np.int64)
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
    mu, sigma = _priors((n_models,), params)
    _play_in_order(mu, sigma, a, b, outcome, *_constants(params))
    return mu, sigma


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
    a, b, outcome = _battle_arrays(n_models, a, b, outcome, params)
    t_offsets = np.ascontiguousarray(t_offsets, dtype=np.int64)
    t_battles = _index_array(t_battles, a.shape[0], "t_battles")
    if passes < 0:
        raise ValueError(f"passes must be non-negative, got {passes}")
    if t_offsets.ndim != 1 or t_offsets.size < 1:
        raise ValueError("t_offsets must be 1-D with T + 1 entries")
    if t_offsets[0] < 0 or np.any(np.diff(t_offsets) < 0) or t_offsets[-1] > t_battles.shape[0]:
        raise ValueError("t_offsets must be non-decreasing and within t_battles")
    if n_models > MAX_MODELS_TOURNAMENTS:
        raise ValueError(f"replay_tournaments supports at most {MAX_MODELS_TOURNAMENTS} models")
    n_tournaments = t_offsets.size - 1
    mu, sigma = _priors((n_tournaments, 1 + passes, n_models), params)
    seed_u64 = np.uint64(int(seed) & _U64_MASK)
    # Chunks of one job let an idle thread pick up the next job instead of waiting behind a
    # statically assigned block of large tournaments.
    with numba.parallel_chunksize(1):
        _tournaments_kernel(
            mu, sigma, a, b, outcome, t_offsets, t_battles, seed_u64, *_constants(params)
        )
    return mu, sigma


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
    n = battle_idx.shape[0]
    steps = np.arange(every, n + 1, every, dtype=np.int64)
    if steps.size == 0 or steps[-1] != n:
        steps = np.append(steps, np.int64(n))
    mu, sigma = _priors((steps.size, n_models), params)
    _history_kernel(mu, sigma, a, b, outcome, battle_idx, steps, *_constants(params))
    return steps, mu, sigma
