"""The online (single-pass TrueSkill) expected gain, groups in need, and the first planning study.

Kept for comparison and for the study that motivated planning on the batch posterior:
``expected_gain`` scores a pair by the expected entropy drop of TrueSkill's one-pass update;
``simulate_policy`` replays policies against known skills with that filter as the estimator.
With it, greedy gain needed about random's number of battles and left the bands
over-confident (4-23 % coverage), because the filter keeps no correlations between models.
`prefboard plan` now scores pairs on the batch posterior (:mod:`.information`, :mod:`.queue`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numba import njit

from prefboard.rating import ranks
from prefboard.rating import trueskill as ts

# `_rate` is the compiled body of `rate_1vs1` (the public wrapper only validates and looks up
# constants); calling it from the vectorised kernel keeps the hypothetical updates bit-identical
# to `rate_1vs1` without reimplementing any TrueSkill formula here.
from prefboard.rating.trueskill import _rate
from prefboard.standings.model import (
    POOLED,
    POSTSTRATIFIED,
    SampleShare,
    Standings,
    Table,
)

__all__ = [
    "CERTAIN",
    "GroupNeed",
    "expected_gain",
    "expected_gain_array",
    "groups_in_need",
    "outcome_probabilities",
    "params_from",
    "simulate_policy",
]

#: A pair whose likelier decisive outcome has at least this probability is "nearly certain".
CERTAIN = 0.95

_MEASURES = ("entropy", "variance")
_POLICIES = ("infogain", "random", "skewed")


# --------------------------------------------------------------------------------------------
# Expected gain
# --------------------------------------------------------------------------------------------


def params_from(standings: Standings, dimension: str | None = None) -> ts.TrueSkillParams:
    """The TrueSkill constants the standings were computed with. When ties were learnt per
    dimension, the draw probability is that of ``dimension`` (default: the first one)."""
    p = standings.parameters
    draw = p.draw_probability
    if draw is None:
        learnt = [t for t in standings.ties if dimension in (None, t.dimension)]
        draw = learnt[0].draw_probability if learnt else 0.10
    return ts.TrueSkillParams(mu=p.mu, sigma=p.sigma, beta=p.beta, tau=p.tau, draw_probability=draw)


def _measure_code(measure: str) -> int:
    if measure not in _MEASURES:
        raise ValueError(f"measure must be one of {', '.join(_MEASURES)}; got {measure!r}")
    return _MEASURES.index(measure)


def outcome_probabilities(
    mu_a: np.ndarray | float,
    sigma_a: np.ndarray | float,
    mu_b: np.ndarray | float,
    sigma_b: np.ndarray | float,
    params: ts.TrueSkillParams,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predicted ``(P(a), P(b), P(tie))`` of the *next* battle, element-wise.

    The next battle is rated after the engine's dynamics step (variance ``sigma^2 + tau^2``), so
    the prediction uses the same drifted sigmas as the update it is averaged over: the three
    weights are then exactly the marginal likelihoods of the outcomes under the prior that
    `rate_1vs1` conditions. (This differs from `Pair.p_a` in the standings, which uses the
    sigmas as they are, by O(tau^2 / beta^2), i.e. ~1e-4 with the defaults.)
    """
    tau_sq = params.tau * params.tau
    sa = np.sqrt(np.asarray(sigma_a, dtype=np.float64) ** 2 + tau_sq)
    sb = np.sqrt(np.asarray(sigma_b, dtype=np.float64) ** 2 + tau_sq)
    return ts.win_probabilities_array(mu_a, sa, mu_b, sb, params)


def expected_gain(
    mu_a: float,
    sigma_a: float,
    mu_b: float,
    sigma_b: float,
    params: ts.TrueSkillParams,
    measure: str = "entropy",
) -> float:
    """Expected reduction of the two models' posterior uncertainty from one more battle.

    ``measure="entropy"`` (the default) is the expected drop of the pair's Gaussian differential
    entropy, ``sum(log sigma)`` up to a constant, in nats::

        gain = sum over o in {a, b, tie} of P(o) * [log s_a - log s'_a(o) + log s_b - log s'_b(o)]

    where ``s = sqrt(sigma^2 + tau^2)`` is the sigma the engine starts the battle from and
    ``s'(o)`` what `rate_1vs1` leaves after outcome ``o``. Entropy rather than variance because
    (1) the expected entropy drop of the posterior is the mutual information between the
    outcome and the skills (Lindley 1956), the textbook "expected information gain", here in
    TrueSkill's Gaussian approximation; (2) it is invariant to the skill scale (beta, units),
    so the numbers mean the same on any board; and (3) it values halving a small sigma as much
    as halving a large one, which is what ranking the top needs, while a variance drop is
    dominated by whichever models are still at the prior. ``measure="variance"`` (sum of
    ``s^2 - s'^2``) is available for comparison.

    The gain is measured from ``s``, not from ``sigma``: the tau drift is added whether or not a
    battle brings information, so it is not something the battle can reduce. Since the engine's
    variance factor ``1 - s^2 w / c^2`` lies in (0, 1], the gain is never negative.
    """
    code = _measure_code(measure)
    p = outcome_probabilities(mu_a, sigma_a, mu_b, sigma_b, params)
    tau_sq = params.tau * params.tau
    sa = math.sqrt(sigma_a * sigma_a + tau_sq)
    sb = math.sqrt(sigma_b * sigma_b + tau_sq)
    gain = 0.0
    for outcome in (ts.A_WINS, ts.B_WINS, ts.DRAW):
        prob = float(p[outcome])
        if prob <= 0.0:
            continue  # includes draws when draw_probability == 0
        _, sa_post, _, sb_post = ts.rate_1vs1(mu_a, sigma_a, mu_b, sigma_b, outcome, params)
        if code == 0:
            gain += prob * (math.log(sa / sa_post) + math.log(sb / sb_post))
        else:
            gain += prob * ((sa * sa - sa_post * sa_post) + (sb * sb - sb_post * sb_post))
    return gain


@njit(cache=True, fastmath=False)
def _gain_kernel(
    mu_a: np.ndarray,
    sigma_a: np.ndarray,
    mu_b: np.ndarray,
    sigma_b: np.ndarray,
    probs: np.ndarray,
    two_beta_sq: float,
    tau_sq: float,
    eps: float,
    measure: int,
    out: np.ndarray,
) -> None:
    for i in range(mu_a.shape[0]):
        sa = math.sqrt(sigma_a[i] * sigma_a[i] + tau_sq)
        sb = math.sqrt(sigma_b[i] * sigma_b[i] + tau_sq)
        gain = 0.0
        for o in range(3):
            prob = probs[o, i]
            if prob <= 0.0:
                continue
            _, sa_post, _, sb_post = _rate(
                mu_a[i], sigma_a[i], mu_b[i], sigma_b[i], o, two_beta_sq, tau_sq, eps
            )
            if measure == 0:
                gain += prob * (math.log(sa / sa_post) + math.log(sb / sb_post))
            else:
                gain += prob * ((sa * sa - sa_post * sa_post) + (sb * sb - sb_post * sb_post))
        out[i] = gain


def expected_gain_array(
    mu_a: np.ndarray,
    sigma_a: np.ndarray,
    mu_b: np.ndarray,
    sigma_b: np.ndarray,
    params: ts.TrueSkillParams,
    measure: str = "entropy",
) -> np.ndarray:
    """Element-wise :func:`expected_gain` over broadcastable arrays (compiled; same numbers)."""
    code = _measure_code(measure)
    arrays = np.broadcast_arrays(
        *(np.asarray(x, dtype=np.float64) for x in (mu_a, sigma_a, mu_b, sigma_b))
    )
    shape = arrays[0].shape
    flat = [np.ascontiguousarray(x).ravel() for x in arrays]
    probs = np.stack(outcome_probabilities(*flat, params))
    out = np.empty(flat[0].size)
    eps = ts.draw_margin(params.draw_probability, params.beta)
    two_beta_sq = 2.0 * params.beta * params.beta
    _gain_kernel(*flat, probs, two_beta_sq, params.tau * params.tau, eps, code, out)
    return out.reshape(shape)


# --------------------------------------------------------------------------------------------
# Plan: the ranked queue of next battles
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plannable:
    dimension: str
    table: Table


def _battle_dimensions(standings: Standings) -> list[str]:
    return [d.key for d in standings.dimensions if d.battles]


def _slice_labels(standings: Standings, dimension: str) -> str:
    labels = [
        f"{t.slice_attribute}={t.slice_value}"
        for t in standings.tables
        if t.dimension == dimension and t.slice_attribute != POSTSTRATIFIED
    ]
    return ", ".join(labels) if labels else "(none)"


def _select_tables(
    standings: Standings, dimension: str | None, attribute: str, value: str
) -> list[_Plannable]:
    battle_dims = _battle_dimensions(standings)
    if attribute == POSTSTRATIFIED:
        raise ValueError(
            "the post-stratified table combines several groups and cannot be battled directly; "
            f"plan on the pooled table ({POOLED}={POOLED}) or on one group"
        )
    if dimension is not None:
        if dimension not in battle_dims:
            known = ", ".join(battle_dims) or "(none)"
            if any(d.key == dimension for d in standings.dimensions):
                raise ValueError(
                    f"dimension {dimension!r} is rated on a scale only and has no battles; "
                    f"battle dimensions: {known}"
                )
            raise ValueError(f"unknown dimension {dimension!r}; battle dimensions: {known}")
        dims = [dimension]
    else:
        if not battle_dims:
            raise ValueError("the standings have no battle dimensions to plan for")
        dims = battle_dims
    found = [
        _Plannable(d, t) for d in dims if (t := standings.table(d, attribute, value)) is not None
    ]
    if found:
        return found
    where = f"dimension {dims[0]!r}" if len(dims) == 1 else "any battle dimension"
    for s in standings.slices:
        if s.attribute == attribute and value in s.values and value not in s.published:
            raise ValueError(
                f"group {attribute}={value} is not published (fewer participants than the "
                "privacy threshold), so it has no table to plan on"
            )
    raise ValueError(
        f"no table for slice {attribute}={value} in {where}; "
        f"available in {dims[0]!r}: {_slice_labels(standings, dims[0])}"
    )


def _pair_counts(standings: Standings) -> dict[tuple[str, str, str], int]:
    counts: dict[tuple[str, str, str], int] = {}
    for p in standings.pairs:
        counts[(p.dimension, *sorted((p.model_a, p.model_b)))] = p.battles
    return counts


# --------------------------------------------------------------------------------------------
# Groups in need of participants
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupNeed:
    """One demographic group's sample share against its population share."""

    attribute: str
    value: str
    participants: int
    sample_share: float
    population_share: float
    needed: int | None
    """More participants of this group that would lift its sample share to the population share
    (others unchanged); 0 if it is already at or above it; None if unreachable (share 1)."""
    published: bool
    """False: the group is below the privacy threshold and its count shows as 0 (so `needed`
    is an upper bound)."""


def _attribute_totals(samples: Iterable[SampleShare]) -> dict[str, int]:
    """Participants with a known value per attribute, recovered from count / share."""
    totals: dict[str, int] = {}
    sums: dict[str, int] = {}
    for s in samples:
        sums[s.attribute] = sums.get(s.attribute, 0) + s.participants
        if s.sample_share > 0 and s.participants > 0:
            # Unpublished groups show 0 participants, so their sum would undercount; any
            # published group's count / share gives the true total.
            totals.setdefault(s.attribute, round(s.participants / s.sample_share))
    return {a: max(totals.get(a, 0), total) for a, total in sums.items()}


def groups_in_need(standings: Standings) -> list[GroupNeed]:
    """Groups with a population share, most in need of participants first.

    For a group with ``n`` of ``N`` participants (of its attribute) and population share ``p``,
    adding ``x`` participants of the group gives share ``(n + x) / (N + x)``, which reaches
    ``p`` at ``x = ceil((p N - n) / (1 - p))``. Sorted by `needed` (descending; unreachable
    first), then attribute and value.
    """
    totals = _attribute_totals(standings.samples)
    out = []
    for s in standings.samples:
        if s.population_share is None:
            continue
        p = float(s.population_share)
        n_total = totals.get(s.attribute, 0)
        n = s.participants
        needed: int | None
        if p >= 1.0:
            needed = 0 if n >= n_total else None
        else:
            # The small slack keeps exact hits (e.g. 0.3 * 10 - 3) from rounding up to 1.
            needed = max(0, math.ceil((p * n_total - n) / (1.0 - p) - 1e-9))
        out.append(
            GroupNeed(
                attribute=s.attribute,
                value=s.value,
                participants=n,
                sample_share=s.sample_share,
                population_share=p,
                needed=needed,
                published=s.published,
            )
        )
    out.sort(key=lambda g: (g.needed is not None, -(g.needed or 0), g.attribute, g.value))
    return out


# --------------------------------------------------------------------------------------------
# Simulation study
# --------------------------------------------------------------------------------------------


def _kendall_tau(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-a of two score vectors (tau-b when neither has ties)."""
    n = x.shape[0]
    if n < 2:
        return 1.0
    i, j = np.triu_indices(n, k=1)
    return float(np.sum(np.sign(x[i] - x[j]) * np.sign(y[i] - y[j])) / i.size)


def _expected_sigmas(
    mu: np.ndarray, sigma: np.ndarray, i: int, j: int, params: ts.TrueSkillParams
) -> tuple[float, float]:
    """sqrt of the expected posterior variances of i and j after one battle between them."""
    probs = outcome_probabilities(mu[i], sigma[i], mu[j], sigma[j], params)
    var_i = var_j = 0.0
    for o in (ts.A_WINS, ts.B_WINS, ts.DRAW):
        prob = float(probs[o])
        if prob <= 0.0:
            continue
        _, si, _, sj = ts.rate_1vs1(mu[i], sigma[i], mu[j], sigma[j], o, params)
        var_i += prob * si * si
        var_j += prob * sj * sj
    return math.sqrt(var_i), math.sqrt(var_j)


def _snapshot(
    played: int,
    mu: np.ndarray,
    sigma: np.ndarray,
    truth: np.ndarray,
    pair_seen: np.ndarray,
    z: float,
    top: int,
) -> dict:
    n = mu.shape[0]
    keys = [f"{i:06d}" for i in range(n)]
    # Marginal rank intervals from draws of the (independent) online posteriors.
    summary = ranks.summarize(
        mu, np.diag(sigma**2), keys, math.erf(z / math.sqrt(2)), seed=played, draws=1000
    )
    rank, rank_lo, rank_hi = summary.rank, summary.rank_lower, summary.rank_upper
    k = min(top, n)
    top_idx = np.argsort(rank)[:k]
    separated = bool(np.all(rank_lo[top_idx] == rank_hi[top_idx]))
    true_top = np.argsort(-truth, kind="stable")[:k]
    # Identifiability: outcomes depend on skill differences only, so the data cannot fix the
    # level of the scale (the prior does, loosely, and TrueSkill's updates are not exactly
    # zero-sum when sigmas differ). The true skills are therefore shifted so that their mean
    # equals the posterior mean of mu before checking coverage: one fitted offset, costing one
    # of n degrees of freedom (coverage is biased up by at most ~1/n).
    centred = truth - truth.mean() + mu.mean()
    covered = np.abs(centred - mu) <= z * sigma
    spread = truth - truth.mean()
    denom = float(spread @ spread)
    return {
        "battles": played,
        "kendall_tau": _kendall_tau(mu, truth),
        "top_separated": separated,
        "top_correct": bool(np.array_equal(top_idx, true_top)),
        "coverage": float(covered.mean()),
        "scale": float(spread @ (mu - mu.mean()) / denom) if denom > 0 else float("nan"),
        "mean_sigma": float(sigma.mean()),
        "pairs_compared": float(pair_seen.mean()),
    }


def simulate_policy(
    policy: str,
    true_skills: np.ndarray,
    battles: int,
    params: ts.TrueSkillParams,
    seed: int,
    checkpoints: Iterable[int],
    *,
    batch: int = 50,
    permutations: int = 0,
    explore: float = 0.0,
    zipf: float = 1.0,
    z: float = 1.959963984540054,
    top: int = 5,
) -> list[dict]:
    """Run ``battles`` simulated battles chosen by ``policy`` and score the posteriors.

    Outcomes follow TrueSkill's own generative (Thurstone) model with the true skills: each
    model performs at ``skill + N(0, beta^2)`` and a battle is a tie when the performances are
    within the draw margin of ``params.draw_probability``. The posterior is what a build would
    publish: the timestamp-order pass of the engine from the prior (``mu``, ``sigma``), and, with
    ``permutations > 0``, ``mu`` replaced by its average over that pass and ``permutations``
    seeded shuffles (`replay_tournaments`, as the rating stage's ``mu_mean``), sigma kept.

    Policies:

    * ``"infogain"``: battles are chosen in batches of ``batch`` (a plan is published, battles
      are run, the board is rebuilt). Within a batch each pick is the pair of maximal
      :func:`expected_gain` under the current means and the *expected* sigmas after the picks
      already in the batch (outcomes are not yet known, so means stay put); this spreads a
      batch over pairs instead of repeating one. ``batch=1`` is fully sequential. With
      ``explore > 0`` each pick is instead a uniformly random pair with that probability.
    * ``"random"``: uniform over unordered pairs.
    * ``"skewed"``: pair (i, j) with probability proportional to ``w_i * w_j``, where
      ``w = 1 / popularity_rank ** zipf`` and popularity is a seeded random order independent
      of skill, as on crowd-sourced arenas where a few models draw most votes.

    Random streams: the outcome noise of the k-th battle comes from ``seed`` alone, so policies
    run with the same seed see common random numbers. Returns one dict per checkpoint (sorted,
    each in ``[0, battles]``) with keys:

    * ``battles``: battles played so far;
    * ``kendall_tau``: Kendall's tau between posterior mu and the true skills;
    * ``top_separated``: the ``top`` highest-mu models each have a rank range of one rank, i.e.
      their ``mu ± z sigma`` bands overlap no other model's band that would swap their order;
    * ``top_correct``: the posterior's top ``top`` equal the true top ``top``, in order;
    * ``coverage``: share of models whose ``mu ± z sigma`` covers the true skill, after shifting
      the true skills to the posterior's mean level (see the identifiability note in code);
    * ``scale``: least-squares slope of posterior mu on the true skills (1 = right spread;
      below 1 the posterior compresses the field, above 1 it stretches it);
    * ``mean_sigma``; ``pairs_compared``: share of unordered pairs played at least once.
    """
    if policy not in _POLICIES:
        raise ValueError(f"policy must be one of {', '.join(_POLICIES)}; got {policy!r}")
    truth = np.asarray(true_skills, dtype=np.float64)
    n = truth.shape[0]
    if truth.ndim != 1 or n < 2:
        raise ValueError("true_skills must be a 1-D array of at least two models")
    if battles < 0:
        raise ValueError(f"battles must be non-negative, got {battles}")
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    if permutations < 0:
        raise ValueError(f"permutations must be non-negative, got {permutations}")
    if not 0.0 <= explore <= 1.0:
        raise ValueError(f"explore must be in [0, 1], got {explore}")
    marks = sorted(set(int(c) for c in checkpoints))
    if marks and (marks[0] < 0 or marks[-1] > battles):
        raise ValueError(f"checkpoints must lie in [0, {battles}]")

    ii, jj = np.triu_indices(n, k=1)
    n_pairs = ii.size
    touching = [np.flatnonzero((ii == m) | (jj == m)) for m in range(n)]
    noise_rng = np.random.default_rng([seed, 0])
    policy_rng = np.random.default_rng([seed, 1])
    # Performance difference minus skill difference; symmetric, so orientation does not matter.
    noise = noise_rng.standard_normal(battles) * (math.sqrt(2.0) * params.beta)
    eps = ts.draw_margin(params.draw_probability, params.beta)

    if policy == "random":
        fixed = policy_rng.integers(0, n_pairs, size=battles)
    elif policy == "skewed":
        w = 1.0 / (policy_rng.permutation(n) + 1.0) ** zipf
        pw = w[ii] * w[jj]
        fixed = policy_rng.choice(n_pairs, size=battles, p=pw / pw.sum())
    else:
        fixed = None

    # The timestamp-order pass, advanced battle by battle, and the battles played so far.
    mu = np.full(n, params.mu)
    sigma = np.full(n, params.sigma)
    hist_a = np.empty(battles, dtype=np.int64)
    hist_b = np.empty(battles, dtype=np.int64)
    hist_o = np.empty(battles, dtype=np.int8)
    seen = np.zeros(n_pairs, dtype=bool)

    def posterior_mu(played: int) -> np.ndarray:
        if permutations == 0 or played == 0:
            return mu.copy()
        runs, _ = ts.replay_tournaments(
            n,
            hist_a[:played],
            hist_b[:played],
            hist_o[:played],
            np.array([0, played]),
            np.arange(played),
            permutations,
            seed,
            params,
        )
        return runs[0].mean(axis=0)

    out: list[dict] = []
    mark_iter = iter(marks)
    next_mark = next(mark_iter, None)
    while next_mark == 0:
        out.append(_snapshot(0, mu, sigma, truth, seen, z, top))
        next_mark = next(mark_iter, None)

    played = 0
    while played < battles:
        if fixed is not None:
            picks = fixed[played : played + batch]
        else:
            size = min(batch, battles - played)
            centre = posterior_mu(played)
            fantasy = sigma.copy()
            picks = np.empty(size, dtype=np.int64)
            explore_at = policy_rng.random(size) < explore
            gain = expected_gain_array(centre[ii], fantasy[ii], centre[jj], fantasy[jj], params)
            for q in range(size):
                # argmax takes the first maximum, so ties go to the lower pair index.
                k = int(policy_rng.integers(0, n_pairs)) if explore_at[q] else int(np.argmax(gain))
                picks[q] = k
                i, j = ii[k], jj[k]
                fantasy[i], fantasy[j] = _expected_sigmas(centre, fantasy, i, j, params)
                # Only the pairs of the two models whose sigmas moved need new gains.
                touched = np.union1d(touching[i], touching[j])
                gain[touched] = expected_gain_array(
                    centre[ii[touched]],
                    fantasy[ii[touched]],
                    centre[jj[touched]],
                    fantasy[jj[touched]],
                    params,
                )
        for k in picks:
            i, j = int(ii[k]), int(jj[k])
            diff = truth[i] - truth[j] + noise[played]
            outcome = ts.DRAW if abs(diff) <= eps else (ts.A_WINS if diff > 0 else ts.B_WINS)
            mu[i], sigma[i], mu[j], sigma[j] = ts.rate_1vs1(
                mu[i], sigma[i], mu[j], sigma[j], outcome, params
            )
            hist_a[played], hist_b[played], hist_o[played] = i, j, outcome
            seen[k] = True
            played += 1
            while next_mark == played:
                out.append(_snapshot(played, posterior_mu(played), sigma, truth, seen, z, top))
                next_mark = next(mark_iter, None)
    return out
