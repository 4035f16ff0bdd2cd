"""Planning study: does choosing battles on the batch posterior beat random pairs?

Imported only by ``benchmarks/bench_matchmaking.py`` and its tests. One run: a board with known
skills, battles in batches; after each batch the batch posterior is refitted from all battles
so far (`rating.batch.fit_counts`) and the policy picks the next batch. Policies:

* ``random``: uniform unordered pairs;
* ``plan``: `matchmaking.information.plan_batch` (pair by mutual information about the order,
  fantasy updates within the batch) with a share ``explore`` of uniform random pairs, as
  ``prefboard plan`` does (but a batch may repeat a pair).

The goal checked after each batch is the ``[plan]`` goal "separate the top k adjacent pairs":
the k pairs of adjacent ranks 1..k+1 by posterior mean each pass the one-sided test on their
difference at the corrected level (`matchmaking.stopping.separation_z`, Bonferroni over the k
pairs and the planned looks). Outcomes are TrueSkill's Thurstone model, or in the
misspecified world a logistic performance difference of the same variance, with a share of
careless votes (a or b at random).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr

from prefboard.matchmaking import information as info
from prefboard.matchmaking.stopping import separation_z
from prefboard.rating import batch

__all__ = ["Board", "RunResult", "World", "kendall_tau", "leaders_board", "run"]

Z95 = 1.959963984540054


@dataclass(frozen=True)
class World:
    """How outcomes are generated. ``logistic``: logistic performance noise (same variance as
    the Thurstone model's); ``careless``: share of votes that are a or b at random."""

    logistic: bool = False
    careless: float = 0.0


@dataclass(frozen=True)
class Board:
    truth: np.ndarray
    beta: float = 25.0 / 6.0
    draw_probability: float = 0.10
    prior_mean: float = 25.0
    prior_sigma: float = 25.0 / 3.0

    @property
    def eps(self) -> float:
        from prefboard.rating.trueskill import draw_margin

        return draw_margin(self.draw_probability, self.beta)


def leaders_board(models: int, leaders: int = 5, gap: float = 4.0, spacing: float = 0.5) -> Board:
    """``leaders`` models ``gap`` apart above a crowded middle ``spacing`` apart (best first),
    centred on the prior mean; the best of the middle is ``gap`` below the last leader."""
    rest = models - leaders
    top = gap * np.arange(leaders, 0, -1, dtype=float)
    middle = -spacing * np.arange(rest, dtype=float)
    truth = np.concatenate([top, middle])
    return Board(truth=25.0 + truth - truth.mean())


@dataclass
class RunResult:
    separated_at: int | None
    """Battles after which the goal was first met (None: not within the budget)."""
    wrong: int
    """Adjacent top pairs declared separated in the wrong order at that point."""
    coverage_skills: float
    coverage_diffs: float
    """At the end of the run (the stop, or the budget)."""
    mean_coverage_skills: float
    mean_coverage_diffs: float
    """Averaged over every look of the run."""
    tau: float
    """Kendall tau between posterior means and true skills at the end of the budget."""
    taus: list[float] = field(default_factory=list)
    """Kendall tau after each batch (to compare arms at equal battles)."""


def kendall_tau(x: np.ndarray, y: np.ndarray) -> float:
    i, j = np.triu_indices(x.shape[0], k=1)
    return float(np.mean(np.sign(x[i] - x[j]) * np.sign(y[i] - y[j])))


def _outcomes(
    board: Board, world: World, a: np.ndarray, b: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    c = math.sqrt(2.0) * board.beta
    diff = board.truth[a] - board.truth[b]
    if world.logistic:
        # Logistic noise with standard deviation c: scale c * sqrt(3) / pi.
        noise = rng.logistic(0.0, c * math.sqrt(3.0) / math.pi, a.size)
    else:
        noise = rng.standard_normal(a.size) * c
    d = diff + noise
    out = np.where(d > board.eps, 0, np.where(d < -board.eps, 1, 2))
    careless = rng.random(a.size) < world.careless
    return np.where(careless, rng.integers(0, 2, a.size), out).astype(np.int8)


def _fit(board: Board, counts: np.ndarray, pairs: info.PairSet) -> batch.Posterior:
    pc = batch.PairCounts(board.truth.size, pairs.i, pairs.j, counts)
    return batch.fit_counts(
        pc,
        prior_mean=board.prior_mean,
        prior_sigma=board.prior_sigma,
        beta=board.beta,
        draw_margin=board.eps,
        method="laplace",
    )


def _goal_met(post: batch.Posterior, k: int, z: float) -> tuple[bool, np.ndarray, np.ndarray]:
    """(met, upper models, lower models) of the k adjacent pairs by posterior rank."""
    order = np.argsort(-post.mean, kind="stable")
    hi, lo = order[:k], order[1 : k + 1]
    p = ndtr(
        (post.mean[hi] - post.mean[lo])
        / np.sqrt(post.cov[hi, hi] + post.cov[lo, lo] - 2 * post.cov[hi, lo])
    )
    return bool(np.all(p >= ndtr(z))), hi, lo


def _coverage(post: batch.Posterior, truth: np.ndarray) -> tuple[float, float]:
    """Share of true skills inside the 95 % band relative to the average skill (the level is
    not identified by comparisons), and of true adjacent differences inside theirs."""
    m = truth.size
    centre = np.eye(m) - 1.0 / m
    rel_cov = centre @ post.cov @ centre
    est = post.mean - post.mean.mean()
    true = truth - truth.mean()
    skills = np.abs(est - true) <= Z95 * np.sqrt(np.diag(rel_cov))
    order = np.argsort(-truth, kind="stable")
    hi, lo = order[:-1], order[1:]
    sd = np.sqrt(post.cov[hi, hi] + post.cov[lo, lo] - 2 * post.cov[hi, lo])
    diffs = np.abs((post.mean[hi] - post.mean[lo]) - (truth[hi] - truth[lo])) <= Z95 * sd
    return float(skills.mean()), float(diffs.mean())


def run(
    board: Board,
    world: World,
    policy: str,
    seed: int,
    *,
    budget: int,
    batch_size: int = 100,
    explore: float = 0.5,
    k: int = 5,
    alpha: float = 0.05,
) -> RunResult:
    """One simulated study; outcome noise depends on ``seed`` only (common random numbers
    across policies for the first batch, which is random for every policy)."""
    n = board.truth.size
    pairs = info.PairSet.of(n)
    looks = budget // batch_size
    z = separation_z(alpha, k, looks)
    out_rng = np.random.default_rng([seed, 0])
    pick_rng = np.random.default_rng([seed, 1])
    counts = np.zeros((pairs.size, 3))
    true_order = np.argsort(-board.truth, kind="stable")
    result = RunResult(None, 0, 0.0, 0.0, 0.0, 0.0, 0.0)
    cov_s: list[float] = []
    cov_d: list[float] = []
    post: batch.Posterior | None = None
    for look in range(looks):
        if post is None or policy == "random":
            picks = pick_rng.integers(0, pairs.size, batch_size)
        else:
            order = np.argsort(-post.mean, kind="stable")
            chosen, _, _, _ = info.plan_batch(
                post.mean,
                post.cov,
                board.beta,
                board.eps,
                batch_size,
                explore,
                pick_rng,
                targets=(order[:k], order[1 : k + 1]),
            )
            picks = np.array(chosen, dtype=np.int64)
        a, b = pairs.i[picks], pairs.j[picks]
        outcome = _outcomes(board, world, a, b, out_rng)
        np.add.at(counts, (picks, outcome), 1.0)
        post = _fit(board, counts, pairs)
        s, d = _coverage(post, board.truth)
        result.taus.append(kendall_tau(post.mean, board.truth))
        cov_s.append(s)
        cov_d.append(d)
        met, hi, lo = _goal_met(post, k, z)
        if met and result.separated_at is None:
            result.separated_at = (look + 1) * batch_size
            rank = np.empty(n, dtype=np.int64)
            rank[true_order] = np.arange(n)
            result.wrong = int(np.sum(rank[hi] > rank[lo]))
            result.coverage_skills, result.coverage_diffs = s, d
            result.tau = kendall_tau(post.mean, board.truth)
            break
    assert post is not None
    if result.separated_at is None:
        result.coverage_skills, result.coverage_diffs = cov_s[-1], cov_d[-1]
    result.mean_coverage_skills = float(np.mean(cov_s))
    result.mean_coverage_diffs = float(np.mean(cov_d))
    if result.separated_at is None:
        result.tau = kendall_tau(post.mean, board.truth)
    return result


def bootstrap_ratio(
    plan: np.ndarray, random: np.ndarray, seed: int = 0, draws: int = 2000
) -> tuple[float, float, float]:
    """Median(plan) / median(random) over paired seeds, with a 95 % percentile interval from
    resampling the seeds (both arms together, so the pairing is kept)."""
    rng = np.random.default_rng(seed)
    n = plan.size
    idx = rng.integers(0, n, (draws, n))
    ratios = np.median(plan[idx], axis=1) / np.median(random[idx], axis=1)
    lo, hi = np.percentile(ratios, [2.5, 97.5])
    return float(np.median(plan) / np.median(random)), float(lo), float(hi)
