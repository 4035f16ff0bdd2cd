"""TrueSkill's two-player update and its v/w corrections: the math, stated once.

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

Everything else calls these kernels: the online replays (:mod:`prefboard.rating.replay`), the
batch posterior's likelihood and EP moments (:mod:`prefboard.rating.batch`), and the public
wrappers with their input checks (:mod:`prefboard.rating.trueskill`).
"""

from __future__ import annotations

import math

import numpy as np

from prefboard.jit import njit

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
    if outcome == DRAW:
        v, w = _vw_draw(t, e)
    else:
        # A win of b is a win of a mirrored: t and v change sign. Multiplying by +-1 is exact,
        # and it spares the replays a branch on who won, which the CPU cannot predict.
        sign = 1.0 - 2.0 * outcome
        v, w = _vw_win(sign * t, e)
        v = sign * v
    new_mu_a = mu_a + var_a / c * v
    new_mu_b = mu_b - var_b / c * v
    new_sigma_a = math.sqrt(var_a * (1.0 - var_a / c_sq * w))
    new_sigma_b = math.sqrt(var_b * (1.0 - var_b / c_sq * w))
    return new_mu_a, new_sigma_a, new_mu_b, new_sigma_b


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
