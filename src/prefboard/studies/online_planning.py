"""The first planning study: policies replayed against known skills with the online
(single-pass TrueSkill) filter as the estimator.

Imported only by tests and benchmarks. It motivated planning on the batch posterior: with the
online filter as the estimator, greedy gain (`matchmaking.online.expected_gain`) needed about
random's number of battles and left the bands over-confident (4-23 % coverage).

`simulate_policy`:

Outcomes follow TrueSkill's own generative (Thurstone) model with the true skills: each
model performs at ``skill + N(0, beta^2)`` and a battle is a tie when the performances are
within the draw margin of ``params.draw_probability``. The posterior is what a build would
publish: the timestamp-order pass of the engine from the prior (``mu``, ``sigma``), and, with
``permutations > 0``, ``mu`` replaced by its average over that pass and ``permutations``
seeded shuffles (`replay_tournaments`, as the rating stage's ``mu_mean``), sigma kept.

Policies:

* ``"infogain"``: battles are chosen in batches of ``batch`` (a plan is published, battles
  are run, the board is rebuilt). Within a batch each pick is the pair of maximal
  `expected_gain` under the current means and the *expected* sigmas after the picks
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

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from prefboard.matchmaking.online import expected_gain_array, outcome_probabilities
from prefboard.rating import ranks
from prefboard.rating import trueskill as ts
from prefboard.studies.planning import kendall_tau

__all__ = ["simulate_policy"]

_POLICIES = ("infogain", "random", "skewed")


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
) -> dict[str, Any]:
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
        "kendall_tau": kendall_tau(mu, truth),
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
) -> list[dict[str, Any]]:
    """Run ``battles`` simulated battles chosen by ``policy`` and score the posteriors, one
    dict per checkpoint (the module docstring says what each policy does and each key means)."""
    truth = np.asarray(true_skills, dtype=np.float64)
    marks = _checked(policy, truth, battles, batch, permutations, explore, checkpoints)
    n = truth.shape[0]
    noise_rng = np.random.default_rng([seed, 0])
    policy_rng = np.random.default_rng([seed, 1])
    # Performance difference minus skill difference; symmetric, so orientation does not matter.
    noise = noise_rng.standard_normal(battles) * (math.sqrt(2.0) * params.beta)
    fixed = _fixed_pairs(policy, n, battles, zipf, policy_rng)
    state = _Online.start(params, n, battles, seed, permutations)
    out: list[dict[str, Any]] = []
    mark_iter = iter(marks)
    next_mark = next(mark_iter, None)
    while next_mark == 0:
        out.append(_snapshot(0, state.mu, state.sigma, truth, state.seen, z, top))
        next_mark = next(mark_iter, None)
    while state.played < battles:
        if fixed is not None:
            picks = fixed[state.played : state.played + batch]
        else:
            size = min(batch, battles - state.played)
            picks = _infogain_batch(state, size, explore, policy_rng)
        for k in picks:
            state.play(int(k), truth, float(noise[state.played]))
            while next_mark == state.played:
                mu = state.posterior_mu()
                out.append(_snapshot(state.played, mu, state.sigma, truth, state.seen, z, top))
                next_mark = next(mark_iter, None)
    return out


def _checked(
    policy: str,
    truth: np.ndarray,
    battles: int,
    batch: int,
    permutations: int,
    explore: float,
    checkpoints: Iterable[int],
) -> list[int]:
    """The sorted checkpoints, once every argument is known to be usable."""
    if policy not in _POLICIES:
        raise ValueError(f"policy must be one of {', '.join(_POLICIES)}; got {policy!r}")
    if truth.ndim != 1 or truth.shape[0] < 2:
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
    return marks


def _fixed_pairs(
    policy: str, n: int, battles: int, zipf: float, rng: np.random.Generator
) -> np.ndarray | None:
    """Every battle's pair index for the policies that do not look at the estimates."""
    ii, jj = np.triu_indices(n, k=1)
    if policy == "random":
        return rng.integers(0, ii.size, size=battles)
    if policy == "skewed":
        w = 1.0 / (rng.permutation(n) + 1.0) ** zipf
        pw = w[ii] * w[jj]
        return rng.choice(ii.size, size=battles, p=pw / pw.sum())
    return None


@dataclass
class _Online:
    """The timestamp-order pass, advanced battle by battle, and the battles played so far."""

    params: ts.TrueSkillParams
    seed: int
    permutations: int
    mu: np.ndarray
    sigma: np.ndarray
    history: np.ndarray
    """(battles, 3): model a, model b, outcome."""
    seen: np.ndarray
    played: int = 0

    @classmethod
    def start(
        cls, params: ts.TrueSkillParams, n: int, battles: int, seed: int, permutations: int
    ) -> _Online:
        pairs = n * (n - 1) // 2
        return cls(
            params,
            seed,
            permutations,
            np.full(n, params.mu),
            np.full(n, params.sigma),
            np.empty((battles, 3), dtype=np.int64),
            np.zeros(pairs, dtype=bool),
        )

    @property
    def n(self) -> int:
        return int(self.mu.shape[0])

    def play(self, k: int, truth: np.ndarray, noise: float) -> None:
        """Battle ``k`` (a pair index) with TrueSkill's outcome model, rated at once."""
        ii, jj = np.triu_indices(self.n, k=1)
        i, j = int(ii[k]), int(jj[k])
        eps = ts.draw_margin(self.params.draw_probability, self.params.beta)
        diff = truth[i] - truth[j] + noise
        outcome = ts.DRAW if abs(diff) <= eps else (ts.A_WINS if diff > 0 else ts.B_WINS)
        mu, sigma = self.mu, self.sigma
        mu[i], sigma[i], mu[j], sigma[j] = ts.rate_1vs1(
            mu[i], sigma[i], mu[j], sigma[j], outcome, self.params
        )
        self.history[self.played] = (i, j, outcome)
        self.seen[k] = True
        self.played += 1

    def posterior_mu(self) -> np.ndarray:
        """What a build publishes: mu, or its average over the pass and seeded shuffles."""
        if self.permutations == 0 or self.played == 0:
            return self.mu.copy()
        h = self.history[: self.played]
        runs, _ = ts.replay_tournaments(
            self.n,
            np.ascontiguousarray(h[:, 0]),
            np.ascontiguousarray(h[:, 1]),
            h[:, 2].astype(np.int8),
            np.array([0, self.played]),
            np.arange(self.played),
            self.permutations,
            self.seed,
            self.params,
        )
        return np.asarray(runs[0].mean(axis=0), dtype=np.float64)


def _infogain_batch(
    state: _Online, size: int, explore: float, rng: np.random.Generator
) -> np.ndarray:
    """A batch of greedy expected-gain picks under fantasy sigmas (means stay: no outcome is
    known yet), each replaced by a random pair with probability ``explore``."""
    params, n = state.params, state.n
    ii, jj = np.triu_indices(n, k=1)
    centre = state.posterior_mu()
    fantasy = state.sigma.copy()
    picks = np.empty(size, dtype=np.int64)
    explore_at = rng.random(size) < explore
    gain = expected_gain_array(centre[ii], fantasy[ii], centre[jj], fantasy[jj], params)
    for q in range(size):
        # argmax takes the first maximum, so ties go to the lower pair index.
        k = int(rng.integers(0, ii.size)) if explore_at[q] else int(np.argmax(gain))
        picks[q] = k
        i, j = ii[k], jj[k]
        fantasy[i], fantasy[j] = _expected_sigmas(centre, fantasy, i, j, params)
        # Only the pairs of the two models whose sigmas moved need new gains.
        touched = np.flatnonzero((ii == i) | (jj == i) | (ii == j) | (jj == j))
        gain[touched] = expected_gain_array(
            centre[ii[touched]],
            fantasy[ii[touched]],
            centre[jj[touched]],
            fantasy[jj[touched]],
            params,
        )
    return picks
