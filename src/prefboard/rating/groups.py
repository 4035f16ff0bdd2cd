"""Pooled group posteriors of one dimension: battles split by group -> partial pooling.

Each group's battles are fitted alone (batch Laplace fit with the config prior) and enter the
hierarchical model of `pooling` through their likelihood in information form. Battles whose
participant did not give the attribute form one more group: they inform the population skill and
τ like any other group, and no table or population cell uses it on its own.

Re-linearisation: a group's likelihood is a Gaussian expanded at its own fit, which for a small
group sits away from where pooling puts it. Each pass re-expands every group's likelihood at its
pooled posterior mean and pools again, until no group mean moves by more than RELINEARISE_TOL.
Measured on the example board (20,000 battles, 4 attributes, 3 dimensions): it moved group means
by at most 0.08 posterior sd and tau by at most 2 %, in 3-4 passes that reuse the pair counts,
so it is cheap and kept. Group fits are Laplace, not EP: on the same board the two differ by at
most 0.007 sd per group, and Laplace's expansion is what re-linearisation repeats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from prefboard.rating import batch, pooling

# Skills are on TrueSkill's 0-50 scale with posterior sds of tenths: 1e-4 is far below them.
RELINEARISE_TOL = 1e-4
RELINEARISE_MAX = 10
# A pass after one that moved no group mean by this much has always been the last: passes
# shrank the largest move by 1e-2 or more (300-model and golden boards: 4e-4 to 2e-2).
LAST_PASS_SHIFT = 1e-2


@dataclass(frozen=True)
class GroupFit:
    """Groups 0..n-1 as given, then the "not given" group last."""

    estimate: pooling.TauEstimate
    pooled: pooling.Pooled
    counts: list[batch.PairCounts]
    passes: int

    def group(self, g: int) -> tuple[np.ndarray, np.ndarray]:
        return self.pooled.group_mean(g), self.pooled.group_cov(g)


@dataclass(frozen=True)
class Model:
    """The constants of TrueSkill's static model for one dimension."""

    prior_mean: float
    prior_sigma: float
    beta: float
    draw_margin: float


def fit_groups(
    n_models: int,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    model: Model,
    level: float = 0.95,
    relinearise: bool = True,
    tau: float | None = None,
) -> GroupFit:
    """Pool the groups of the battles given (`group` per battle in 0..n_groups-1, -1 = not
    given); τ by empirical Bayes, reported with its `level` interval, unless `tau` fixes it."""
    slot = np.where(group >= 0, group, n_groups)
    counts = batch.aggregate_groups(n_models, a, b, outcome, slot, n_groups + 1)
    likelihoods = _own_fits(counts, model)

    search = _Search(model, level, tau)
    estimate = search.tau(likelihoods, interval=not relinearise)
    passes = 0
    if relinearise:
        # A pass needs only the group means, not the whole posterior (`pooling.group_means`).
        means = search.means(likelihoods, estimate.tau)
        shift = np.inf
        while passes < RELINEARISE_MAX:
            passes += 1
            likelihoods = [
                _expanded(pc, means[g], model) if pc.counts.size else lik
                for g, (pc, lik) in enumerate(zip(counts, likelihoods, strict=True))
            ]
            # A pass likely to be the last searches the whole range at once: its τ is
            # published, and a warm start's search would be wasted (`_Search`).
            estimate = search.tau(likelihoods, interval=False, warm=shift >= LAST_PASS_SHIFT)
            moved, means = means, search.means(likelihoods, estimate.tau)
            shift = max(float(np.abs(m - o).max()) for m, o in zip(means, moved, strict=True))
            if shift < RELINEARISE_TOL:
                break
        # The interval only for the final expansion: each costs dozens of evaluations. Its τ
        # by the whole-range search, as every published τ: a warm start's maximiser is as
        # good to the search's tolerance, yet on small boards a τ 5e-7 (in log τ) away moved
        # group bands by more than the golden standings' 1e-6.
        estimate = search.tau(likelihoods, interval=True)
    return GroupFit(estimate, search.pool(likelihoods, estimate.tau), counts, passes)


class _Search:
    """The τ searches and poolings of one `fit_groups`, sharing what they computed.

    Each set of likelihoods has one `Marginal`: searching it again (the final pass's τ with
    its interval) reuses the values already computed. A `warm` search starts from the last τ
    found, which a re-linearisation pass moves little (1e-3 to 1e-7 in log τ on the 300-model
    board): 3-8 evaluations instead of the whole-range search's 13. Pooling at the τ found
    (and its group means) reuses the search's factor of the population precision."""

    def __init__(self, model: Model, level: float, fixed: float | None) -> None:
        self.model, self.level, self.fixed = model, level, fixed
        self.liks: list[pooling.Likelihood] | None = None
        self.marginal: pooling.Marginal | None = None
        self.found: float = 0.0  # the last τ found

    def tau(
        self, liks: list[pooling.Likelihood], interval: bool, warm: bool = False
    ) -> pooling.TauEstimate:
        m = self.model
        if self.fixed is not None:
            return pooling.TauEstimate(self.fixed, self.fixed, self.fixed, _with_battles(liks))
        if self.marginal is None or self.liks is not liks:
            self.liks, self.marginal = liks, pooling.Marginal(liks, m.prior_mean, m.prior_sigma)
        start = float(np.log(self.found)) if warm and self.found > 0 else None
        est = pooling.fit_tau(
            liks, m.prior_mean, m.prior_sigma, self.level, interval, self.marginal, start
        )
        self.found = est.tau
        return est

    def pool(self, liks: list[pooling.Likelihood], tau: float) -> pooling.Pooled:
        marginal = self.marginal if self.liks is liks else None
        return pooling.pool(liks, self.model.prior_mean, self.model.prior_sigma, tau, marginal)

    def means(self, liks: list[pooling.Likelihood], tau: float) -> list[np.ndarray]:
        marginal = self.marginal if self.liks is liks else None
        m = self.model
        return pooling.group_means(liks, m.prior_mean, m.prior_sigma, tau, marginal)


def _with_battles(liks: list[pooling.Likelihood]) -> int:
    return sum(not g.empty for g in liks)


def _own_fits(counts: list[batch.PairCounts], model: Model) -> list[pooling.Likelihood]:
    """Each group's likelihood expanded at its own Laplace mode. Each Newton starts from the
    previous group's mode: the groups rank the same models alike, so it is nearer than the
    prior mean (300 models: 104 Newton iterations instead of 127 over one dimension's 19
    groups); the mode is the same to Newton's tolerance (measured 7e-11)."""
    out: list[pooling.Likelihood] = []
    start = None
    for pc in counts:
        if not pc.counts.size:
            out.append(pooling.empty_likelihood(pc.n_models))
            continue
        post = batch.fit_counts(
            pc,
            prior_mean=model.prior_mean,
            prior_sigma=model.prior_sigma,
            beta=model.beta,
            draw_margin=model.draw_margin,
            start=start,
            # Laplace, not EP: its expansion is what re-linearisation repeats at the pooled
            # mean, so at tau = 0 the fixed point is exactly the Laplace fit of all battles.
            method="laplace",
        )
        out.append(pooling.Likelihood(post.info_precision, post.info_h))
        start = post.mean
    return out


def _expanded(pc: batch.PairCounts, at: np.ndarray, model: Model) -> pooling.Likelihood:
    h, lik = batch.likelihood_information(pc, at, beta=model.beta, draw_margin=model.draw_margin)
    return pooling.Likelihood(lik, h)
