"""Planning study: does choosing battles on the batch posterior beat random pairs?

Imported only by ``benchmarks/bench_matchmaking.py`` and its tests. One run: a board with known
skills, battles in batches; after each batch the batch posterior is refitted from all battles
so far (`rating.batch.fit_counts`) and the policy picks the next batch. Policies:

* ``random``: uniform unordered pairs;
* ``plan``: `matchmaking.batches.plan_batch` (pair by mutual information about the order,
  fantasy updates within the batch) with a share ``explore`` of uniform random pairs and a
  share ``board_share`` aimed at the order of the whole board, as ``prefboard plan`` does
  (but a batch may repeat a pair).

The goal checked after each batch is the ``[plan]`` goal "separate the top k adjacent pairs":
the k pairs of adjacent ranks 1..k+1 by posterior mean each pass the one-sided test on their
difference at the corrected level (`matchmaking.stopping.separation_z`, Bonferroni over the k
pairs and the planned looks). Outcomes are TrueSkill's Thurstone model, or in the
misspecified world a logistic performance difference of the same variance, with a share of
careless votes (a or b at random).

Kendall tau is compared at equal battles: each seed's plan run at its stop against the random
run with the same seed after as many battles, the mean paired difference with a bootstrap
interval over seeds (:func:`compare`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr

from prefboard.matchmaking import batches
from prefboard.matchmaking import information as info
from prefboard.matchmaking.stopping import separation_z
from prefboard.rating import batch, btd

__all__ = [
    "Board",
    "Comparison",
    "Policy",
    "RunResult",
    "World",
    "bootstrap_difference",
    "bootstrap_ratio",
    "compare",
    "kendall_tau",
    "leaders_board",
    "run",
    "taus_at_stop",
]

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


def kendall_tau(estimate: np.ndarray, truth: np.ndarray) -> float:
    """Kendall's tau-b of the estimated and true skills (`rating.btd.kendall_tau`); 0 while the
    estimates are all equal (the prior orders nobody)."""
    tau = btd.kendall_tau(estimate, truth)
    return 0.0 if math.isnan(tau) else tau


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
    hi, lo = batches.adjacent_pairs(post.mean, k)
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


def _next_batch(
    post: batch.Posterior | None,
    board: Board,
    policy: Policy,
    pairs: info.PairSet,
    size: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """The pair indices of the next batch: random pairs before the first fit or for random."""
    if post is None or policy.name == "random":
        return rng.integers(0, pairs.size, size)
    chosen = batches.plan_batch(
        post.mean,
        post.cov,
        board.beta,
        board.eps,
        size,
        policy.explore,
        rng,
        targets=batches.adjacent_pairs(post.mean, policy.k),
        board=policy.board,
    )
    return np.array(chosen.picks, dtype=np.int64)


@dataclass(frozen=True)
class Policy:
    """``name``: "plan" or "random"; the plan's random share, board-order share and goal."""

    name: str
    explore: float = 0.5
    board: float = 0.0
    k: int = 5


def run(
    board: Board,
    world: World,
    policy: str,
    seed: int,
    *,
    budget: int,
    batch_size: int = 100,
    explore: float = 0.5,
    board_share: float = 0.0,
    k: int = 5,
    alpha: float = 0.05,
) -> RunResult:
    """One simulated study; outcome noise depends on ``seed`` only (common random numbers
    across policies for the first batch, which is random for every policy). Stops when the
    goal is met or at the budget."""
    rule = Policy(policy, explore, board_share, k)
    pairs = info.PairSet.of(board.truth.size)
    z = separation_z(alpha, k, budget // batch_size)
    out_rng = np.random.default_rng([seed, 0])
    pick_rng = np.random.default_rng([seed, 1])
    counts = np.zeros((pairs.size, 3))
    result = RunResult(None, 0, 0.0, 0.0, 0.0, 0.0, 0.0)
    looks: list[tuple[float, float]] = []
    post: batch.Posterior | None = None
    for look in range(budget // batch_size):
        picks = _next_batch(post, board, rule, pairs, batch_size, pick_rng)
        outcome = _outcomes(board, world, pairs.i[picks], pairs.j[picks], out_rng)
        np.add.at(counts, (picks, outcome), 1.0)
        post = _fit(board, counts, pairs)
        looks.append(_coverage(post, board.truth))
        result.taus.append(kendall_tau(post.mean, board.truth))
        met, hi, lo = _goal_met(post, k, z)
        if met:
            result.separated_at = (look + 1) * batch_size
            result.wrong = _wrong(board.truth, hi, lo)
            break
    if post is None:
        raise ValueError(f"budget {budget} is less than one batch of {batch_size}")
    result.coverage_skills, result.coverage_diffs = looks[-1]
    result.mean_coverage_skills = float(np.mean([s for s, _ in looks]))
    result.mean_coverage_diffs = float(np.mean([d for _, d in looks]))
    result.tau = result.taus[-1]
    return result


def _wrong(truth: np.ndarray, hi: np.ndarray, lo: np.ndarray) -> int:
    """Pairs declared separated (hi above lo) whose true order is the other way."""
    return int(np.sum(truth[hi] < truth[lo]))


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


def bootstrap_difference(
    plan: np.ndarray, random: np.ndarray, seed: int = 0, draws: int = 2000
) -> tuple[float, float, float]:
    """Mean of the paired differences plan - random over seeds, with a 95 % percentile
    interval from resampling the seeds."""
    diff = plan - random
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, diff.size, (draws, diff.size))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(diff.mean()), float(lo), float(hi)


def taus_at_stop(
    planned: list[RunResult], rand: list[RunResult], batch_size: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """Kendall tau of each seed's plan run at its stop and of the random run with the same
    seed after as many battles (seeds where random stopped sooner or plan never stopped are
    left out: they have no common budget)."""
    mine, theirs = [], []
    for p, r in zip(planned, rand, strict=True):
        look = (p.separated_at or 0) // batch_size - 1
        if p.separated_at is not None and look < len(r.taus):
            mine.append(p.taus[look])
            theirs.append(r.taus[look])
    return np.array(mine), np.array(theirs)


@dataclass(frozen=True)
class Comparison:
    """Plan against random pairs on one board and world, over paired seeds."""

    board: str
    world: str
    seeds: int
    budget: int
    plan_battles: float
    random_battles: float
    plan_censored: int
    random_censored: int
    """Runs that did not meet the goal within the budget (counted as the budget)."""
    ratio: float
    ratio_lower: float
    ratio_upper: float
    coverage_skills: float
    coverage_diffs: float
    run_coverage_skills: float
    run_coverage_diffs: float
    random_coverage_skills: float
    random_coverage_diffs: float
    wrong: int
    tau_plan: float
    tau_random: float
    tau_difference: float
    tau_lower: float
    tau_upper: float
    tau_seeds: int


def _mean(results: list[RunResult], field_name: str) -> float:
    return float(np.mean([getattr(r, field_name) for r in results]))


def compare(
    label: tuple[str, str],
    planned: list[RunResult],
    rand: list[RunResult],
    budget: int,
) -> Comparison:
    """Battles to the goal (median, ratio with a paired bootstrap interval), coverage, wrong
    separations, and Kendall tau at equal battles (:func:`taus_at_stop`, paired interval)."""
    battles = [np.array([r.separated_at or budget for r in x], float) for x in (planned, rand)]
    ratio = bootstrap_ratio(battles[0], battles[1])
    tau_plan, tau_random = taus_at_stop(planned, rand)
    tau = bootstrap_difference(tau_plan, tau_random) if tau_plan.size else (math.nan,) * 3
    return Comparison(
        board=label[0],
        world=label[1],
        seeds=len(planned),
        budget=budget,
        plan_battles=float(np.median(battles[0])),
        random_battles=float(np.median(battles[1])),
        plan_censored=sum(r.separated_at is None for r in planned),
        random_censored=sum(r.separated_at is None for r in rand),
        ratio=ratio[0],
        ratio_lower=ratio[1],
        ratio_upper=ratio[2],
        coverage_skills=_mean(planned, "coverage_skills"),
        coverage_diffs=_mean(planned, "coverage_diffs"),
        run_coverage_skills=_mean(planned, "mean_coverage_skills"),
        run_coverage_diffs=_mean(planned, "mean_coverage_diffs"),
        random_coverage_skills=_mean(rand, "coverage_skills"),
        random_coverage_diffs=_mean(rand, "coverage_diffs"),
        wrong=sum(r.wrong for r in planned),
        tau_plan=float(np.mean(tau_plan)) if tau_plan.size else math.nan,
        tau_random=float(np.mean(tau_random)) if tau_random.size else math.nan,
        tau_difference=tau[0],
        tau_lower=tau[1],
        tau_upper=tau[2],
        tau_seeds=int(tau_plan.size),
    )
