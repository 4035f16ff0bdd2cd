"""Groups with partial pooling: group skills around a population skill, in closed form.

Model, per dimension, for n models and groups g = 1..G (demographic cells):
    s ~ N(m0·1, σ0² I)            population skill, the config's TrueSkill prior
    θ_g = s + δ_g, δ_g ~ N(0, τ² I)  group skill; δ_g independent across groups
    p(y_g | θ) ∝ exp(−½ θᵀL_gθ + h_gᵀθ)   the group's battles, Laplace-approximated (L_g ⪰ 0,
    singular for models absent from g and along 1, since outcomes depend on differences only).
Everything is then Gaussian. With C_g = (I + τ²L_g)⁻¹ (no inverse of L_g needed):
 1. Integrating δ_g out, y_g informs s with precision K_g = L_g C_g and shift k_g = C_g h_g.
 2. Population posterior: P = σ0⁻² I + Σ K_g, Σ_s = P⁻¹, μ_s = Σ_s (σ0⁻² m0·1 + Σ k_g).
 3. Given s, θ_g depends on y_g alone: θ_g | s, y ~ N(C_g s + τ² C_g h_g, τ² C_g). So
    θ_g = C_g s + τ²C_g h_g + ε_g with independent ε_g ~ N(0, τ²C_g), hence
    E θ_g = C_g μ_s + τ²C_g h_g and Cov(θ_g, θ_j) = C_g Σ_s C_jᵀ + [g = j] τ² C_g.
 4. A post-stratified headline H = Σ w_g θ_g, with M = Σ w_g C_g:
    E H = M μ_s + τ² Σ w_g C_g h_g,  Cov H = M Σ_s Mᵀ + τ² Σ w_g² C_g  (linear in the cells).
    A cell without battles has L_g = 0, C_g = I: it gets s, with τ² more variance per model.
 5. Empirical Bayes for τ (Gaussian integrals over θ_g, then s):
    log p(y | τ) = Σ_g [−½ log|I + τ²L_g| + ½ τ² h_gᵀC_g h_g] − ½ log|I + σ0² Σ K_g|
                   + ½ ηᵀP⁻¹η + const,  η = σ0⁻² m0·1 + Σ k_g,
    maximised over log τ (bounded 1-D search); its interval is the set of τ whose log marginal
    likelihood is within χ²₁(level)/2 of the maximum (profile-likelihood interval).
 6. Groups are pooled completely (τ = 0) unless the data reject "no group differences": the
    likelihood ratio LR = max log p(y | τ) − log p(y | 0) is tested against its boundary null
    distribution ½χ²₀ + ½χ²₁ (Self & Liang 1987; τ = 0 sits on the edge of the parameter space),
    p = ½ P(χ²₁ > 2 LR), at 1 − level. Why: the maximiser is ≥ 0, so when the truth is 0 it is
    biased upward, and a positive τ then widens every group's band by τ²C_g around a deviation
    that is exactly 0: measured on the no-group-difference calibration boards, group bands
    covered 97.1–97.8 % with the plain maximiser. With the test they sit with the pooled
    table's, and real differences (sd 0.8 on those boards) were detected on all 20 boards
    checked (p <= 3e-5). The cost: a true τ too small to detect is set to 0, and its
    groups' bands are then too narrow by that τ.
Limits: τ → 0 gives C_g = I and P = σ0⁻² I + Σ L_g, the pooled fit; τ → ∞ gives K_g → 0 and
each θ_g its own fit. With L_g = U Λ Uᵀ every τ-dependent matrix is U f(Λ) Uᵀ, so the search
eigendecomposes each group once; the cost is O(G·n³) per evaluation (G cells, n models).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import brentq, minimize_scalar

from prefboard.rating.marginal import Factor, Spectrum, Stack, population_precision
from prefboard.rating.marginal import Marginal as Marginal
from prefboard.rating.marginal import log_marginal as log_marginal
from prefboard.rating.marginal import spectrum as _spectrum

# Search range for τ relative to the prior sigma: below 1e-4·σ0 groups are indistinguishable
# from the pooled fit, above 10·σ0 the groups are effectively independent.
TAU_MIN_FACTOR = 1e-4
TAU_MAX_FACTOR = 10.0


@dataclass(frozen=True)
class Likelihood:
    """One group's battles in information form: log p(y | θ) ≈ −½ θᵀ precision θ + shift·θ."""

    precision: np.ndarray
    shift: np.ndarray

    @cached_property
    def empty(self) -> bool:
        """No battles (a zero precision); asked per search and per pooling, so scanned once."""
        return not np.any(self.precision)

    @cached_property
    def spectrum(self) -> Spectrum:
        """Its eigendecomposition, computed once: the τ search and `pool` both need it, and
        at 300 models each is tens of milliseconds."""
        return _spectrum(self)


def likelihood_from_posterior(
    mean: np.ndarray, precision: np.ndarray, prior_mean: float, prior_sigma: float
) -> Likelihood:
    """Remove the N(prior_mean, prior_sigma²) prior from a Gaussian posterior (Laplace fit).

    posterior precision = σ0⁻² I + L and posterior precision · mean = σ0⁻² m0·1 + h.
    """
    n = len(mean)
    prior_precision = prior_sigma**-2
    lik = precision - prior_precision * np.eye(n)
    lik = (lik + lik.T) / 2  # exact symmetry, so eigh's clipping below is the only rounding
    shift = precision @ mean - prior_precision * prior_mean
    return Likelihood(lik, shift)


def empty_likelihood(n_models: int) -> Likelihood:
    return Likelihood(np.zeros((n_models, n_models)), np.zeros(n_models))


@dataclass(frozen=True)
class TauEstimate:
    tau: float
    lower: float
    upper: float
    groups: int = 0
    p_value: float = 1.0  # of the test of τ = 0 (item 6 of the module docstring)


def zero_test(ratio: float) -> float:
    """p-value of τ = 0 given the log likelihood ratio ``ratio`` = max − value at 0, against
    the boundary null ½χ²₀ + ½χ²₁ (module docstring, item 6)."""
    # Imported where called (here and in fit_tau): scipy.stats takes ~1.5 s to import, which
    # every process importing this module paid, whether it pooled groups or not.
    from scipy.stats import chi2

    return 1.0 if ratio <= 0 else float(0.5 * chi2.sf(2.0 * ratio, 1))


def fit_tau(
    groups: list[Likelihood],
    prior_mean: float,
    prior_sigma: float,
    level: float = 0.95,
    interval: bool = True,
    marginal: Marginal | None = None,
    start: float | None = None,
) -> TauEstimate:
    """Empirical-Bayes τ: maximise the marginal likelihood over log τ, with its interval
    (skipped when `interval` is False: lower = upper = τ); τ = 0 unless the test of τ = 0
    rejects at 1 − level (module docstring, item 6). `marginal`, when given, is the
    `Marginal` of these very groups, with what earlier searches evaluated. `start`, a log τ
    near the maximiser (the previous re-linearisation pass's), lets the search begin there.

    Fewer than two groups with battles say nothing about how groups differ: τ = 0 then.
    """
    objective = marginal or Marginal(groups, prior_mean, prior_sigma)
    spectra = objective.spectra
    if len(spectra) < 2:
        return TauEstimate(0.0, 0.0, 0.0, len(spectra))
    lo, hi = np.log(TAU_MIN_FACTOR * prior_sigma), np.log(TAU_MAX_FACTOR * prior_sigma)
    x_hat = _maximiser(objective, lo, hi, start)
    top = objective(x_hat)
    # The bounded search stops within xatol of an edge; the edge itself may be better.
    at_zero = objective(lo)  # 1e-4 σ0: indistinguishable from τ = 0
    for edge, value in ((lo, at_zero), (hi, objective(hi))):
        if value > top:
            x_hat, top = edge, value
    p_value = zero_test(top - at_zero)
    # Not rejected (or at the lower edge): report 0, the pooled fit.
    tau = 0.0 if x_hat <= lo + 1e-6 or p_value >= 1 - level else float(np.exp(x_hat))
    if not interval:
        return TauEstimate(tau, tau, tau, len(spectra), p_value)
    from scipy.stats import chi2

    cut = top - chi2.ppf(level, 1) / 2

    def above(x: float) -> float:
        return objective(x) - cut

    lower = 0.0 if above(lo) >= 0 else _crossing(objective, cut, x_hat, lo)
    upper = float(np.exp(hi)) if above(hi) >= 0 else _crossing(objective, cut, x_hat, hi)
    return TauEstimate(tau, lower, upper, len(spectra), p_value)


# The bounded search's tolerance in log τ (scipy's default, which the whole-range search uses).
XATOL = 1e-5
# Newton steps a warm start may take before the whole-range search takes over.
POLISH_STEPS = 4


def _maximiser(objective: Marginal, lo: float, hi: float, start: float | None) -> float:
    """log τ maximising `objective` on [lo, hi]: from `start` when it settles there
    (`_polish`), else by the bounded search over the whole range."""
    if start is not None:
        found = _polish(objective, lo, hi, start)
        if found is not None:
            return found
    best = minimize_scalar(lambda x: -objective(x), bounds=(lo, hi), method="bounded")
    return float(best.x)


def _polish(objective: Marginal, lo: float, hi: float, x: float) -> float | None:
    """A maximiser of `objective` to within XATOL, by Newton from `x` on difference quotients
    over x ± XATOL; None when it does not settle in POLISH_STEPS, leaves (lo, hi) or meets
    a region that is not concave.

    Why: each re-linearisation pass moves the maximiser little (1e-3 to 1e-7 in log τ on the
    300-model board) but the bounded search starts over the whole range each time: 11
    evaluations, where Newton from the last pass's maximiser needs 1 to 3 steps of 3. The
    result is certified, not estimated: f(x) ≥ f(x ± XATOL) puts the maximum of a unimodal f
    within XATOL of x, the bounded search's own tolerance."""
    for _ in range(POLISH_STEPS):
        if not lo < x - XATOL < x + XATOL < hi:
            return None
        left, mid, right = objective(x - XATOL), objective(x), objective(x + XATOL)
        if mid >= left and mid >= right:
            return x
        bend = left - 2.0 * mid + right  # XATOL² f''
        if not bend < 0:
            return None
        x -= XATOL * (right - left) / (2.0 * bend)  # the vertex of the parabola through them
    return None


def _crossing(objective: Marginal, cut: float, inside: float, outside: float) -> float:
    """τ where the log marginal crosses `cut` between log τ `inside` (above it) and `outside`
    (below it), by brentq to xtol 1e-4 in log τ.

    The bracket is the narrowest the values already computed give (the maximisation's points
    and the other end's root finding): the one computed point below the cut nearest `inside`
    and the point above it nearest that. At 300 models each evaluation is milliseconds and
    brentq from the whole range [edge, maximum] took ~11 of them per end; the root is the
    same one to brentq's own tolerance."""
    sign = 1.0 if outside > inside else -1.0
    _probe(objective, cut, inside, sign * abs(outside - inside))
    known = objective.known()
    below = [x for x, v in known if v < cut and sign * (x - inside) > 0]
    far = min(below, key=lambda x: sign * (x - inside), default=outside)
    above = [x for x, v in known if v >= cut and 0 <= sign * (x - inside) < sign * (far - inside)]
    near = max(above, key=lambda x: sign * (x - inside), default=inside)
    root = brentq(lambda x: objective(x) - cut, near, far, xtol=1e-4)
    return float(np.exp(root))


# The probes' first step from the predicted crossing, as a fraction of the predicted reach
# (the quadratic's error there was 1-2 % on the 300-model board), and how many they take.
PROBE_STEP = 0.03
PROBES = 4
# Evaluated points this close to the maximiser (in log τ), and no closer, measure its
# curvature: closer, the rounding of the values (~1e-11) swamps their differences.
NEAR = 1e-2
NOT_NEAR = 1e-6


def _probe(objective: Marginal, cut: float, peak: float, room: float) -> None:
    """Evaluate where the log marginal should cross `cut` on the side of `peak` (a maximiser)
    `room` points to (signed, up to the edge): the crossing of the quadratic with the
    curvature measured at the peak, then steps towards the crossing until it is bracketed.

    Why: the maximisation's points bracket each end ~0.5 (in log τ) wide, and brentq took
    ~6 evaluations per end from there; from a bracket a few % of the reach wide it takes
    2-3. A wrong prediction costs evaluations, never the root: `_crossing` brackets from
    whatever was evaluated."""
    curvature = _curvature(objective, peak)
    if curvature is None:
        return
    reach = float(np.sqrt(2.0 * (objective(peak) - cut) / -curvature))
    x, step = peak + np.copysign(reach, room), np.copysign(PROBE_STEP * reach, room)
    outside = objective(x) < cut if abs(x - peak) < abs(room) else True
    for _ in range(PROBES):
        x += -step if outside else step  # towards the crossing
        if not 0 < (x - peak) / room < 1 or (objective(x) < cut) != outside:
            return
        step *= 2


def _curvature(objective: Marginal, peak: float) -> float | None:
    """The second derivative at `peak` from it and the nearest evaluated point on each side
    (NOT_NEAR to NEAR away); None without such points or when it is not negative."""
    values = dict(objective.known())
    left = max((x for x in values if peak - NEAR < x <= peak - NOT_NEAR), default=None)
    right = min((x for x in values if peak + NOT_NEAR <= x < peak + NEAR), default=None)
    if left is None or right is None or peak not in values:
        return None
    slopes = (
        (values[peak] - values[left]) / (peak - left),
        (values[right] - values[peak]) / (right - peak),
    )
    curvature = 2.0 * (slopes[1] - slopes[0]) / (right - left)
    return curvature if curvature < 0 else None


@dataclass(frozen=True)
class Pooled:
    """The joint Gaussian posterior of s and every θ_g (items 2–4 of the module docstring)."""

    tau: float
    population_mean: np.ndarray
    population_cov: np.ndarray
    maps: list[np.ndarray]  # C_g
    offsets: list[np.ndarray]  # τ² C_g h_g

    def group_mean(self, g: int) -> np.ndarray:
        return np.asarray(self.maps[g] @ self.population_mean + self.offsets[g])

    def cross_cov(self, g: int, j: int) -> np.ndarray:
        """Cov(θ_g, θ_j)."""
        out = self.maps[g] @ self.population_cov @ self.maps[j].T
        if g == j:
            out = out + self.tau**2 * self.maps[g]
        return np.asarray(out)

    def group_cov(self, g: int) -> np.ndarray:
        return self.cross_cov(g, g)

    def combine(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and covariance of Σ w_g θ_g (zero weights cost nothing)."""
        n = len(self.population_mean)
        m = np.zeros((n, n))
        mean = np.zeros(n)
        own = np.zeros((n, n))
        for w, c, off in zip(weights, self.maps, self.offsets, strict=True):
            if w == 0:
                continue
            m += w * c
            mean += w * off
            own += w * w * c
        mean += m @ self.population_mean
        cov = m @ self.population_cov @ m.T + self.tau**2 * own
        return mean, (cov + cov.T) / 2


def pool(
    groups: list[Likelihood],
    prior_mean: float,
    prior_sigma: float,
    tau: float,
    marginal: Marginal | None = None,
) -> Pooled:
    """Population and group posteriors for a given τ. `marginal`, the `Marginal` of these
    groups, lends the factor of the population precision when its search evaluated `tau`."""
    n = len(groups[0].shift)
    t2 = tau * tau
    factor = _factor(groups, prior_sigma, tau, marginal)
    eta = np.full(n, prior_mean / prior_sigma**2)
    maps, offsets = [], []
    for g in groups:
        if g.empty:
            c = np.eye(n)
        else:
            sp = g.spectrum
            c = (sp.vectors / (1.0 + t2 * sp.values)) @ sp.vectors.T
        ch = c @ g.shift
        eta += ch
        maps.append(c)
        offsets.append(t2 * ch)
    cov = cho_solve(factor, np.eye(n))
    return Pooled(tau, cho_solve(factor, eta), (cov + cov.T) / 2, maps, offsets)


def group_means(
    groups: list[Likelihood],
    prior_mean: float,
    prior_sigma: float,
    tau: float,
    marginal: Marginal | None = None,
) -> list[np.ndarray]:
    """E θ_g of every group at τ: `pool(...).group_mean(g)` to rounding, all a re-linearisation
    pass needs. From each group's spectrum, C_g v = U_g (c ⊙ U_gᵀv), two matrix-vector
    products per group instead of forming C_g (n³ each) and the population covariance (n³):
    at 300 models ~10 ms saved per pass and dimension."""
    t2 = tau * tau
    factor = _factor(groups, prior_sigma, tau, marginal)
    shrunk = [_shrink(g, t2, g.shift) for g in groups]  # C_g h_g
    mu = cho_solve(factor, prior_mean / prior_sigma**2 + np.sum(shrunk, axis=0))
    return [_shrink(g, t2, mu) + t2 * ch for g, ch in zip(groups, shrunk, strict=True)]


def _shrink(g: Likelihood, t2: float, v: np.ndarray) -> np.ndarray:
    """C_g v = U_g (c ⊙ U_gᵀv) with c = 1 / (1 + τ²λ); v itself for a group without battles."""
    if g.empty:
        return v
    sp = g.spectrum
    return np.asarray(sp.vectors @ ((sp.vectors.T @ v) / (1.0 + t2 * sp.values)))


def _factor(
    groups: list[Likelihood], prior_sigma: float, tau: float, marginal: Marginal | None
) -> Factor:
    """Cholesky factor of the population precision at τ: the search's when it has it."""
    factor = marginal.factor_at(tau) if marginal is not None else None
    if factor is None:
        factor = cho_factor(_population(groups, tau * tau, prior_sigma), lower=True)
    return factor


def _population(groups: list[Likelihood], t2: float, prior_sigma: float) -> np.ndarray:
    """P at τ² = t2, with Σ K_g as log_marginal forms it (one syrk, not a product L_g C_g per
    group); empty groups add nothing to it."""
    spectra = [g.spectrum for g in groups if not g.empty]
    if not spectra:
        return np.eye(len(groups[0].shift)) / prior_sigma**2
    st = Stack.of(spectra)
    return population_precision(st, 1.0 / (1.0 + t2 * st.values), prior_sigma)
