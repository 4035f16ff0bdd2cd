"""Batch TrueSkill: the posterior of TrueSkill's static model given all battles of a table at once.

Model (Herbrich, Minka & Graepel 2006, with static skills as in TrueSkill Through Time,
Dangauthier et al. 2007): skill ``s_i ~ N(mu0_i, sigma0_i^2)`` independently; in a battle the
performance difference is ``d = s_a - s_b + N(0, 2 beta^2)``; the outcome is "a" if
``d > eps``, "b" if ``d < -eps`` and a tie if ``|d| <= eps`` (``eps`` is the draw margin,
``trueskill.draw_margin(p, beta)`` for a draw probability ``p``). With ``c = sqrt(2) beta`` and
``x = (s_a - s_b) / c`` the likelihood of one battle is ``Phi(x - eps/c)``, ``Phi(-x - eps/c)``
or ``Phi(eps/c - x) - Phi(-eps/c - x)``: log-concave in the skills, so the posterior has one mode.

Fit: Laplace approximation, refined by expectation propagation (the default). Battles are
first aggregated into counts per (unordered pair, outcome), so a step costs O(pairs) for the
likelihood terms plus O(M^3) for a Cholesky solve, whatever the number of battles. Newton with
backtracking on the log posterior finds the mode; the Laplace covariance is the inverse Hessian
there. EP then replaces each (pair, outcome)'s Laplace message by the moment-matched one, with
the full covariance kept (no factorisation between skills), in damped parallel sweeps to
convergence. The result does not depend on the order of the battles at all (counts are
order-free; weighted counts are summed in a sorted order), unlike the one-pass online update in
:mod:`prefboard.rating.trueskill`. The v/w functions of that module are reused: they are the
first and (minus) second derivatives of the log-likelihood of one battle in ``x``, and the EP
moment corrections, computed stably far into the tails.

Laplace vs expectation propagation: EP (what ``trueskillthroughtime`` runs) matches the
posterior's first two moments per factor; Laplace matches its mode and curvature. With few
battles, or a model that loses nearly every battle, the truncated likelihoods make the posterior
skewed and the mode sits up to ~1 sd from the mean (one battle: 24 % of the gap); EP gets the
moments (exact for one battle). With many battles both converge to the same Gaussian.

Public API (stable; other modules build on it):

- :class:`PairCounts`, :func:`aggregate` - battles -> (pair, outcome) counts.
- :class:`Posterior` - ``mean (M,)``, ``cov (M, M)``, ``precision (M, M)``, the likelihood
  in information form (``info_h``, ``info_precision``; EP's summed sites, or Laplace's expansion
  at the mode), ``log_likelihood``, ``draw_margin``, ``inflation``.
- :func:`fit` (from battle arrays) and :func:`fit_counts` (from counts), keyword-only prior and
  model constants; outcome coding 0 = a wins, 1 = b wins, 2 = tie, as everywhere in prefboard.
- :func:`likelihood_information` - the likelihood alone as ``(h, L)`` with
  ``log p(y | s) ~ const + h.s - s.L.s / 2`` (valid when ``L`` is singular, as it always is:
  the likelihood cannot see the overall level of the skills).
- :func:`learn_draw_margin` - ``eps`` by maximum profile likelihood with a likelihood-ratio
  interval, also as draw probabilities.
- :func:`cluster_inflation` - cluster-robust (sandwich) variance by participant and/or prompt and
  the per-model widening of the posterior it implies (:func:`relative_widening`, relative to
  the table's average, as the pooled tables widen theirs).
- :class:`Battles`, :func:`aggregate_index`, :func:`cluster_inflation_index` - the same for
  tables that are subsets of one validated set of battle arrays (no per-table copies).
"""

from __future__ import annotations

# The parts, in the order a fit uses them; this module is the stable import path.
from prefboard.rating.batch_cluster import (
    cluster_inflation,
    cluster_inflation_index,
    relative_widening,
    score_table,
)
from prefboard.rating.batch_fit import Posterior, fit, fit_counts, likelihood_information
from prefboard.rating.batch_terms import (
    A_WINS,
    B_WINS,
    TIE,
    Battles,
    PairCounts,
    aggregate,
    aggregate_groups,
    aggregate_index,
)
from prefboard.rating.batch_ties import (
    P_MAX,
    P_MIN,
    DrawMarginFit,
    draw_probability_of,
    learn_draw_margin,
)

__all__ = [
    "A_WINS",
    "B_WINS",
    "P_MAX",
    "P_MIN",
    "TIE",
    "Battles",
    "DrawMarginFit",
    "PairCounts",
    "Posterior",
    "aggregate",
    "aggregate_groups",
    "aggregate_index",
    "cluster_inflation",
    "cluster_inflation_index",
    "draw_probability_of",
    "fit",
    "fit_counts",
    "learn_draw_margin",
    "likelihood_information",
    "relative_widening",
    "score_table",
]
