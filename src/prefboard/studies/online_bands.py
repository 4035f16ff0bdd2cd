"""Coverage study of the skill bands: do "95 %" bands cover the true skill 95 % of the time?

Battles are simulated from known skills with the model TrueSkill itself assumes (Thurstone:
performance = skill + N(0, beta²), a tie when the performance gap is within the draw margin), the
battles are rated exactly as the product rates them (one timestamp-order pass plus
``permutations`` seeded shuffled passes, averaged), and each candidate band construction is scored
by the share of models whose band contains the true skill.

Scale alignment. TrueSkill only ever sees skill *differences*, so its mu scale is identified up to
an additive offset (pinned loosely by the prior mean, and in practice drifting from pass to pass).
Before counting, the true skills are therefore shifted by ``mean(mu_mean) - mean(true_skill)``.
The multiplicative scale needs no alignment when the simulation uses the same beta as the
engine: both then measure skill in the same units (a factor beta_engine / beta_sim otherwise).

Every band construction has the signature of ``tournaments.BANDS`` entries,
``band(mu_mean, sigma, spread, z) -> (lower, upper)``, where ``mu_mean`` is mu averaged over the
passes, ``sigma`` the sigma averaged over the passes and ``spread`` the standard deviation of mu
across the passes. A construction is studied under each engine ``tau`` given to :func:`study`:
``tau = 0`` is a separate replay (a config choice: skills assumed static), not a band formula.

Findings (``benchmarks/bench_online_bands.py``, 12 and 30 models, 2k–200k battles):

- Default tau = 25/300: sigma stops shrinking at ~0.8 (tau² is added before every battle) while
  the error of the order-averaged mu keeps falling to ~0.15, so ``mu_mean ± z·sigma`` covers
  98.6–100 %. No construction from (mu_mean, sigma, spread) plus a constant fixes that across
  sizes: sigma and spread are both roughly constant in n, the error is not.
- tau = 0: TrueSkill's sigma tracks the actual error (rmse / sigma 0.9–1.0) at every size and
  model count. The plain band ``mu_mean ± z·sigma`` covers 94.8–97.0 %, a little wide for 12
  models because sigma also carries the uncertainty of the board's overall level, which the
  offset alignment (like any comparison between models) removes. ``mu_mean ±
  z·sigma·sqrt(1 - 1/M)`` ("sigma-contrast") takes that share out and covers 94.4–96.3 %: the
  recommended default, together with ``[rating] tau = 0`` (:data:`RECOMMENDED`).
- Adding the order spread makes any band far too wide: the raw spread of mu across passes
  (0.4–0.7) is almost all a common offset that drifts from pass to pass; after centring each
  pass it is 0.003–0.15.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from prefboard.rating import trueskill as ts
from prefboard.rating.tournaments import Band, band_sigma, band_sigma_spread, z_score

__all__ = [
    "CANDIDATES",
    "DEFAULT_TAU",
    "RECOMMENDED",
    "band_sem",
    "band_sigma_contrast",
    "coverage",
    "make_sigma_sem",
    "make_spread_scaled",
    "rate_orders",
    "simulate_battles",
    "study",
    "true_skills",
]

DEFAULT_TAU = ts.TrueSkillParams().tau
PERMUTATIONS = 20  # as the product's default [rating] permutations

# --------------------------------------------------------------------------------------------
# Simulation and scoring
# --------------------------------------------------------------------------------------------


def simulate_battles(
    true_skill: np.ndarray, n: int, beta: float, draw_margin: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` battles between uniformly random distinct pairs, in "timestamp" order.

    Each side performs at its skill plus N(0, beta²) noise; the battle is a tie
    (``ts.DRAW``) when the performance gap is at most ``draw_margin`` in absolute value, else
    the better performance wins (``ts.A_WINS`` / ``ts.B_WINS``). With
    ``draw_margin = ts.draw_margin(p, beta)`` two equally skilled models tie with probability p.
    Deterministic in ``seed``.
    """
    skill = np.asarray(true_skill, dtype=np.float64)
    m = skill.shape[0]
    if skill.ndim != 1 or m < 2:
        raise ValueError("true_skill must be 1-D with at least two models")
    if n < 0 or beta <= 0 or draw_margin < 0:
        raise ValueError("need n >= 0, beta > 0 and draw_margin >= 0")
    rng = np.random.default_rng(seed)
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m  # uniform over the other m - 1 models
    gap = skill[a] - skill[b] + rng.normal(0.0, beta, n) - rng.normal(0.0, beta, n)
    outcome = np.where(gap > 0, ts.A_WINS, ts.B_WINS)
    outcome[np.abs(gap) <= draw_margin] = ts.DRAW
    return a, b, outcome.astype(np.int8)


def coverage(
    true_skill: np.ndarray, lower: np.ndarray, upper: np.ndarray, mu_mean: np.ndarray
) -> float:
    """Share of models whose band [lower, upper] contains its true skill, on the mu scale.

    TrueSkill's mu is identified only up to an additive offset, so the true skills are first
    shifted by ``mean(mu_mean) - mean(true_skill)``; no multiplicative rescaling is done (the
    simulation and the engine share beta, so the scale factor is 1).
    """
    skill = np.asarray(true_skill, dtype=np.float64)
    mu_mean = np.asarray(mu_mean, dtype=np.float64)
    lower = np.asarray(lower, dtype=np.float64)
    upper = np.asarray(upper, dtype=np.float64)
    if not (skill.shape == mu_mean.shape == lower.shape == upper.shape) or skill.ndim != 1:
        raise ValueError("true_skill, lower, upper and mu_mean must be 1-D of equal length")
    if skill.size == 0:
        raise ValueError("no models")
    aligned = skill + (mu_mean.mean() - skill.mean())
    return float(np.mean((lower <= aligned) & (aligned <= upper)))


def true_skills(n_models: int, layout: str, rng: np.random.Generator) -> np.ndarray:
    """Skills spread like real boards: ``normal`` N(25, 3²) or ``spaced`` evenly over 20..32."""
    if layout == "normal":
        return rng.normal(25.0, 3.0, n_models)
    if layout == "spaced":
        return rng.permutation(np.linspace(20.0, 32.0, n_models))
    raise ValueError(f"unknown layout {layout!r}")


# --------------------------------------------------------------------------------------------
# Candidate bands (same signature as tournaments.BANDS entries)
# --------------------------------------------------------------------------------------------


def band_sem(
    mu_mean: np.ndarray, sigma: np.ndarray, spread: np.ndarray, z: float
) -> tuple[np.ndarray, np.ndarray]:
    """mu_mean ± z·spread/sqrt(1 + PERMUTATIONS): only the standard error of the order average."""
    half = z * spread / np.sqrt(1 + PERMUTATIONS)
    return mu_mean - half, mu_mean + half


def band_sigma_contrast(
    mu_mean: np.ndarray, sigma: np.ndarray, spread: np.ndarray, z: float
) -> tuple[np.ndarray, np.ndarray]:
    """mu_mean ± z·sigma·sqrt(1 - 1/M): sigma minus the common-offset share of its variance.

    TrueSkill's per-model sigma also carries the uncertainty of the board's overall level, which
    no comparison between models depends on; for M exchangeable models that is 1/M of it.
    """
    m = max(mu_mean.shape[0], 2)
    half = z * sigma * np.sqrt(1.0 - 1.0 / m)
    return mu_mean - half, mu_mean + half


def make_spread_scaled(c: float) -> Band:
    """mu_mean ± z·sqrt(spread² + (c·sigma)²)."""

    def band(
        mu_mean: np.ndarray, sigma: np.ndarray, spread: np.ndarray, z: float
    ) -> tuple[np.ndarray, np.ndarray]:
        half = z * np.sqrt(spread**2 + (c * sigma) ** 2)
        return mu_mean - half, mu_mean + half

    band.__doc__ = f"mu_mean ± z·sqrt(spread² + ({c:g}·sigma)²)"
    return band


def make_sigma_sem(passes: int = 1 + PERMUTATIONS) -> Band:
    """mu_mean ± z·sqrt(sigma² + spread²/passes): sigma plus the order average's standard error."""

    def band(
        mu_mean: np.ndarray, sigma: np.ndarray, spread: np.ndarray, z: float
    ) -> tuple[np.ndarray, np.ndarray]:
        half = z * np.sqrt(sigma**2 + spread**2 / passes)
        return mu_mean - half, mu_mean + half

    band.__doc__ = f"mu_mean ± z·sqrt(sigma² + spread²/{passes})"
    return band


CANDIDATES: dict[str, Band] = {
    "sigma": band_sigma,
    "sigma+spread": band_sigma_spread,
    "sigma+spread/√21": make_sigma_sem(1 + PERMUTATIONS),
    "spread/√21": band_sem,
    "spread-scaled c=0.5": make_spread_scaled(0.5),
    "sigma-contrast": band_sigma_contrast,
}

# The construction the study supports: (band name, engine tau). tau = 0 is a config choice.
# ("sigma", 0.0), the existing band with only the config changed, is a close second.
RECOMMENDED: tuple[str, float] = ("sigma-contrast", 0.0)


# --------------------------------------------------------------------------------------------
# Rating as the product does, and the study
# --------------------------------------------------------------------------------------------


def rate_orders(
    n_models: int,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    sizes: Sequence[int],
    permutations: int,
    seed: int,
    params: ts.TrueSkillParams,
) -> dict[str, np.ndarray]:
    """Rate the first ``n`` battles for every ``n`` in ``sizes`` as ``run_tournaments`` does.

    Each prefix is one tournament, replayed in order and ``permutations`` times shuffled. Returns
    arrays of shape (len(sizes), n_models): ``mu_mean``, ``sigma`` (mean over passes),
    ``spread`` (sd of mu over passes, as the product computes it) and ``spread_centred`` (the
    same after subtracting each pass's mean mu, i.e. without the pass-to-pass offset drift).
    """
    counts = np.asarray(sizes, dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    flat = np.concatenate([np.arange(n, dtype=np.int64) for n in counts])
    mu, sigma = ts.replay_tournaments(
        n_models, a, b, outcome, offsets, flat, permutations, seed, params
    )
    ddof = 1 if permutations else 0
    centred = mu - mu.mean(axis=2, keepdims=True)
    return {
        "mu_mean": mu.mean(axis=1),
        "sigma": sigma.mean(axis=1),
        "spread": mu.std(axis=1, ddof=ddof),
        "spread_centred": centred.std(axis=1, ddof=ddof),
    }


def study(
    models: Iterable[int],
    sizes: Sequence[int],
    seeds: Iterable[int],
    *,
    taus: Iterable[float] = (DEFAULT_TAU, 0.0),
    bands: dict[str, Band] | None = None,
    permutations: int = PERMUTATIONS,
    interval: float = 0.95,
    layout: str = "normal",
    params: ts.TrueSkillParams | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Coverage and mean width of each band construction, per engine tau, model count and size.

    For every seed and model count a fresh set of true skills (``layout``) and one stream of
    ``max(sizes)`` battles are simulated; each size rates the first ``n`` battles of that stream
    (so sizes within a seed are nested). ``params`` gives beta, draw probability and the prior;
    its tau is replaced by each value in ``taus``. Returns one dict per (tau, band, models, size)
    with ``coverage`` (pooled over all models and seeds), ``coverage_se`` (from the spread of the
    per-seed coverages), ``width`` (mean upper - lower), ``rmse`` (error of the aligned mu_mean),
    the mean ``sigma``, ``spread`` and ``spread_centred``, and the counts behind them.
    """
    base = params or ts.TrueSkillParams()
    bands = CANDIDATES if bands is None else bands
    sizes = [int(n) for n in sizes]
    seed_list = [int(s) for s in seeds]
    model_list = [int(m) for m in models]
    tau_list = [float(t) for t in taus]
    if not sizes or not seed_list or not model_list or not tau_list:
        raise ValueError("models, sizes, seeds and taus must be non-empty")
    tally = _Tally()
    margin = ts.draw_margin(base.draw_probability, base.beta)
    for m in model_list:
        for seed in seed_list:
            rng = np.random.default_rng([seed, m, 1])
            skill = true_skills(m, layout, rng)
            sim_seed = int(rng.integers(0, 2**63))
            a, b, outcome = simulate_battles(skill, max(sizes), base.beta, margin, sim_seed)
            for tau in tau_list:
                params_t = ts.TrueSkillParams(
                    mu=base.mu,
                    sigma=base.sigma,
                    beta=base.beta,
                    tau=tau,
                    draw_probability=base.draw_probability,
                )
                r = rate_orders(m, a, b, outcome, sizes, permutations, seed, params_t)
                tally.add(r, skill, (tau, m), sizes, bands, z_score(interval))
            if progress:
                progress(f"models={m} seed={seed}")
    return tally.rows(layout, len(seed_list))


Key = tuple[float, str, int, int]
"""(tau, band construction, models, battles)."""


@dataclass
class _Tally:
    """Per-seed figures of every (tau, band, models, size) cell, then their summary rows."""

    cov: dict[Key, list[float]] = field(default_factory=dict)
    width: dict[Key, list[float]] = field(default_factory=dict)
    diag: dict[tuple[float, int, int], list[np.ndarray]] = field(default_factory=dict)

    def add(
        self,
        r: dict[str, np.ndarray],
        skill: np.ndarray,
        where: tuple[float, int],
        sizes: Sequence[int],
        bands: dict[str, Band],
        z: float,
    ) -> None:
        """One seed's rated orders (`rate_orders`) scored for every size and band."""
        tau, m = where
        for k, n in enumerate(sizes):
            mu_mean, sigma, spread = r["mu_mean"][k], r["sigma"][k], r["spread"][k]
            err = mu_mean - (skill + mu_mean.mean() - skill.mean())
            self.diag.setdefault((tau, m, n), []).append(
                np.stack([err**2, sigma, spread, r["spread_centred"][k]])
            )
            for name, band in bands.items():
                lower, upper = band(mu_mean, sigma, spread, z)
                key = (tau, name, m, n)
                self.cov.setdefault(key, []).append(coverage(skill, lower, upper, mu_mean))
                self.width.setdefault(key, []).append(float(np.mean(upper - lower)))

    def rows(self, layout: str, seeds: int) -> list[dict[str, Any]]:
        rows = []
        for (tau, name, m, n), per_seed in self.cov.items():
            d = np.concatenate(self.diag[(tau, m, n)], axis=1)
            c = np.asarray(per_seed)
            rows.append(
                {
                    "construction": name,
                    "tau": tau,
                    "models": m,
                    "battles": n,
                    "layout": layout,
                    "seeds": seeds,
                    "intervals": seeds * m,
                    "coverage": float(c.mean()),
                    "coverage_se": float(c.std(ddof=1) / np.sqrt(c.size)) if c.size > 1 else np.nan,
                    "width": float(np.mean(self.width[(tau, name, m, n)])),
                    "rmse": float(np.sqrt(d[0].mean())),
                    "sigma": float(d[1].mean()),
                    "spread": float(d[2].mean()),
                    "spread_centred": float(d[3].mean()),
                }
            )
        return rows
