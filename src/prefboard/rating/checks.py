"""Fit and bias checks of the fitted TrueSkill model, per dimension on the pooled battles.

The model (Herbrich, Minka & Graepel 2006): in a battle the performance gap of model_a over
model_b is N(d, 2 beta^2) with d = s_a - s_b (+ h with a position effect); a tie when the gap is
within +-margin. So P(a) = Phi((d - margin) / c), P(b) = Phi((-d - margin) / c) and P(tie) the
rest, c = sqrt(2) beta.

* **Goodness of fit per pair.** Observed a/b/tie counts against the counts the fitted model
  predicts from the posterior mean scores (plug-in: the uncertainty of the scores is ignored,
  which makes the test slightly liberal). Pearson's chi-square with 2 degrees of freedom when
  every expected count is at least 5 or the pair has over `EXACT_MAX_N` battles, else the exact
  multinomial test (the p-value sums every outcome no more likely than the one observed).
  P-values are Holm-adjusted over the pairs tested in the dimension (family-wise error rate
  `ALPHA`), so on a board the model fits, a flag is raised by chance in at most about 5 % of
  dimensions.
* **Position bias.** The first-shown side's advantage h (d = s_a - s_b + h), fitted jointly with
  the skills by maximum likelihood (Fisher scoring, the margin held at the fitted model's; a weak
  N(0, prior sigma^2) prior on skills only pins their common level), with its standard error
  from the expected information; beside it, the share of decided battles model_a won with an
  exact two-sided binomial test against 1/2. Reported when a dimension has at least
  `MIN_POSITION_BATTLES` decided battles; flagged when the Wald test of h = 0 has p < `ALPHA`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.special import log_ndtr, ndtr
from scipy.stats import binom, chi2, norm

from prefboard.jit import njit

# The exact test lives in its own module; its names stay importable from here.
from prefboard.rating.batch_terms import count_all
from prefboard.rating.exact_test import EXACT_MAX_N, exact_multinomial, exact_multinomials

__all__ = [
    "ADJUSTMENT",
    "ALPHA",
    "EXACT_MAX_N",
    "MIN_POSITION_BATTLES",
    "TEST",
    "PairFit",
    "PairFits",
    "PositionFit",
    "exact_multinomial",
    "exact_multinomials",
    "holm",
    "outcome_probabilities",
    "pair_fit",
    "pair_fits",
    "pearson",
    "position_bias",
    "sign_test",
]

ALPHA = 0.05
MIN_EXPECTED = 5.0  # below this the chi-square approximation is poor (Cochran's rule)
MIN_POSITION_BATTLES = 200
TEST = (
    "Pearson chi-square, 2 degrees of freedom (exact multinomial test when an expected count is "
    "below 5 and the pair has at most 200 battles)"
)
ADJUSTMENT = "Holm"


def outcome_probabilities(
    d: np.ndarray, beta: float, margin: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P(a), P(b), P(tie) for performance-gap means `d` under TrueSkill's model."""
    c = np.sqrt(2.0) * beta
    p_a = ndtr((d - margin) / c)
    p_b = ndtr((-d - margin) / c)
    return p_a, p_b, np.clip(1.0 - p_a - p_b, 0.0, 1.0)


def pearson(observed: np.ndarray, expected: np.ndarray) -> tuple[float, float]:
    """Pearson's chi-square statistic over the cells and its p-value with len - 1 df."""
    stat = float(np.sum((observed - expected) ** 2 / expected))
    return stat, float(chi2.sf(stat, observed.size - 1))


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error rate; Holm 1979)."""
    p = np.asarray(p, dtype=float)
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.maximum.accumulate(scaled)
    return out


@dataclass(frozen=True)
class PairFit:
    """One unordered pair (i < j, model indexes); "a" means model i preferred."""

    i: int
    j: int
    observed: tuple[int, int, int]  # i won, j won, tie
    expected: tuple[float, float, float]
    statistic: float | None  # chi-square; None for the exact test
    p_value: float
    method: str  # "chi-square" or "exact"
    p_adjusted: float
    flagged: bool


@dataclass(frozen=True)
class PairFits:
    """:func:`pair_fits`: one row per pair that met (i < j, in code order i * n + j), as
    arrays; a 300-model board has ~45,000 pairs per dimension, one object each took seconds."""

    i: np.ndarray
    j: np.ndarray
    observed: np.ndarray  # (pairs, 3): i won, j won, tie
    expected: np.ndarray  # (pairs, 3)
    statistic: np.ndarray  # chi-square (also computed where the exact test was used)
    p_value: np.ndarray
    exact: np.ndarray  # the exact test was used
    p_adjusted: np.ndarray
    flagged: np.ndarray

    def rows(self) -> list[PairFit]:
        obs, exp = self.observed.tolist(), self.expected.tolist()
        return [
            PairFit(
                i=int(self.i[k]),
                j=int(self.j[k]),
                observed=(obs[k][0], obs[k][1], obs[k][2]),
                expected=(exp[k][0], exp[k][1], exp[k][2]),
                statistic=None if self.exact[k] else float(self.statistic[k]),
                p_value=float(self.p_value[k]),
                method="exact" if self.exact[k] else "chi-square",
                p_adjusted=float(self.p_adjusted[k]),
                flagged=bool(self.flagged[k]),
            )
            for k in range(self.i.size)
        ]


def pair_fit(
    n_models: int,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    score: np.ndarray,
    beta: float,
    margin: float,
    alpha: float = ALPHA,
) -> list[PairFit]:
    """Observed vs predicted a/b/tie per pair that met (outcome 0 = a, 1 = b, 2 = tie)."""
    return pair_fits(n_models, a, b, outcome, score, beta, margin, alpha).rows()


def pair_fits(
    n_models: int,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    score: np.ndarray,
    beta: float,
    margin: float,
    alpha: float = ALPHA,
    idx: np.ndarray | None = None,
) -> PairFits:
    """:func:`pair_fit` as arrays (``idx``: of the battles ``idx`` of them, read in place)."""
    # (i won, j won, tie) per pair that met, in code order: one compiled pass (six masks and
    # three masked bincounts took ~12 temporaries per battle); whole counts, the same numbers.
    pc = count_all(n_models, a, b, outcome, idx)
    ii, jj = pc.i, pc.j
    probs = np.stack(outcome_probabilities(score[ii] - score[jj], beta, margin), axis=1)
    obs = pc.counts.astype(np.int64)
    exp = obs.sum(axis=1, keepdims=True) * probs
    # Pearson for every pair at once; the exact test only where the approximation is poor.
    exact = (exp.min(axis=1) < MIN_EXPECTED) & (obs.sum(axis=1) <= EXACT_MAX_N)
    stat = np.sum((obs - exp) ** 2 / np.maximum(exp, 1e-300), axis=1)
    p = chi2.sf(stat, 2)
    p[exact] = exact_multinomials(obs[exact], probs[exact])
    adjusted = holm(p)
    return PairFits(ii, jj, obs, exp, stat, p, exact, adjusted, adjusted < alpha)


def sign_test(wins_a: int, decided: int) -> float:
    """Exact two-sided binomial p-value of `wins_a` out of `decided` against 1/2 (symmetric, so
    twice the smaller tail, capped at 1)."""
    if decided == 0:
        return 1.0
    tail = min(binom.cdf(wins_a, decided, 0.5), binom.sf(wins_a - 1, decided, 0.5))
    return float(min(1.0, 2.0 * tail))


@dataclass(frozen=True)
class PositionFit:
    decided: int  # battles won by either side (ties left out of the share)
    wins_a: int
    share_a: float  # share of decided battles won by the first-shown model
    share_p: float  # exact two-sided binomial test of share_a = 1/2
    h: float  # first-shown advantage on the skill scale (maximum likelihood)
    h_se: float
    p_value: float  # Wald test of h = 0
    enough: bool  # at least MIN_POSITION_BATTLES decided battles
    flagged: bool


def position_bias(
    n_models: int,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    beta: float,
    margin: float,
    prior_sigma: float,
    alpha: float = ALPHA,
    skills: np.ndarray | None = None,
    idx: np.ndarray | None = None,
) -> PositionFit:
    """Fit d = s_a - s_b + h to the battles (``idx``: the battles ``idx`` of them) and test
    h = 0 (see the module docstring). `skills`, the skills fitted without h (the pooled
    posterior mean), start the scoring."""
    cells = _ordered_counts(n_models, a, b, outcome, idx)
    wins_a = int(cells[:, 0].sum())
    decided = wins_a + int(cells[:, 1].sum())
    h, se = _fit_position(n_models, cells, beta, margin, prior_sigma, skills)
    p = float(2.0 * norm.sf(abs(h) / se)) if se > 0 else 1.0
    enough = decided >= MIN_POSITION_BATTLES and math.isfinite(se)
    return PositionFit(
        decided=decided,
        wins_a=wins_a,
        share_a=wins_a / decided if decided else float("nan"),
        share_p=sign_test(wins_a, decided),
        h=h,
        h_se=se,
        p_value=p,
        enough=enough,
        flagged=bool(enough and p < alpha),
    )


def _ordered_counts(
    n_models: int,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    idx: np.ndarray | None = None,
) -> np.ndarray:
    """Battles per ordered pair (a * n + b) and outcome (a won, b won, tie), of the battles
    ``idx`` (None: all), counted in one compiled pass: the integers a bincount of the int64
    key (a * n + b) * 3 + outcome gave, without that key, its temporaries and the battles'
    gathered copies (~170 MB at 10M battles, at the stage's peak)."""
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    outcome = np.ascontiguousarray(outcome, dtype=np.int8)
    every = idx is None
    at = np.empty(0, dtype=np.int64) if idx is None else np.ascontiguousarray(idx)
    return _ordered_kernel(a, b, outcome, at, n_models, every)


@njit(cache=True, nogil=True)
def _ordered_kernel(
    a: np.ndarray, b: np.ndarray, outcome: np.ndarray, idx: np.ndarray, n: int, every: bool
) -> np.ndarray:
    out = np.zeros((n * n, 3), dtype=np.int64)
    for k in range(a.shape[0] if every else idx.shape[0]):
        i = k if every else idx[k]
        out[a[i] * n + b[i], outcome[i]] += 1
    return out


def _fit_position(
    n_models: int,
    cells: np.ndarray,
    beta: float,
    margin: float,
    prior_sigma: float,
    skills: np.ndarray | None = None,
    iterations: int = 100,
) -> tuple[float, float]:
    """(h, standard error) by Fisher scoring on counts per ordered pair and outcome
    (`_ordered_counts`), from `_start`."""
    used = np.flatnonzero(cells.sum(axis=1) > 0)
    if not used.size:
        return 0.0, float("inf")
    n = cells[used].astype(float)
    ca, cb = np.divmod(used, n_models)
    c = np.sqrt(2.0) * beta
    e = margin / c
    theta = _start(n_models, skills)  # skills, then h
    prior = np.full(n_models + 1, 1.0 / prior_sigma**2)
    # h's prior is all but flat (sd 1,000 prior sigmas): it only keeps the system solvable when
    # the battles say nothing about h (none decided, or every gap far in the tails).
    prior[-1] = 1.0 / (1e3 * prior_sigma) ** 2
    info = np.diag(prior)
    factor: tuple[np.ndarray, bool] | None = None
    for _ in range(iterations):
        x = (theta[ca] - theta[cb] + theta[-1]) / c
        grad_x, info_x = _score_and_information(x, e, n)
        # np.add.at over a, then b, is one bincount of both: each model's entries are added
        # from zero in the same order (the same bits, without add.at's slow loop)
        grad: np.ndarray = np.bincount(
            np.concatenate([ca, cb]),
            weights=np.concatenate([grad_x / c, -grad_x / c]),
            minlength=n_models + 1,
        )
        grad[-1] = grad_x.sum() / c
        grad -= prior * theta
        info = _design_information(ca, cb, info_x / c**2, n_models) + np.diag(prior)
        if not (np.isfinite(info).all() and np.isfinite(grad).all()):
            # Far in the tails (a tiny or one-sided board) the scoring can overflow: the
            # battles then say nothing usable about h, which is reported as untested.
            return 0.0, float("inf")
        # Positive definite: the prior covers every parameter.
        factor = cho_factor(info)
        step = cho_solve(factor, grad)
        # Damped: a full scoring step from a flat start can overshoot into the tails.
        step *= min(1.0, prior_sigma / max(float(np.max(np.abs(step))), 1e-300))
        theta += step
        if np.max(np.abs(step)) < 1e-10:
            break
    unit = np.zeros(n_models + 1)
    unit[-1] = 1.0
    # `factor` is the last step's factorisation of this very `info`: the same bits as
    # factorising it again (one (n+1)² Cholesky saved per dimension).
    var_h = float(cho_solve(factor or cho_factor(info), unit)[-1])
    return float(theta[-1]), float(np.sqrt(max(var_h, 0.0)))


def _start(n_models: int, skills: np.ndarray | None) -> np.ndarray:
    """The scoring's first (skills, h): 0 without `skills`; else `skills` centred and h = 0.

    Why: only differences of skills enter the battles, and the prior's mean is 0, so the mode
    has skills summing to 0 and, h being small, near the pooled fit's centred. From there the
    scoring takes ~4 steps instead of ~9 from 0 (300 models: ~35 ms each); the mode is the
    same to its tolerance (h within ~1e-12)."""
    theta = np.zeros(n_models + 1)
    if skills is not None:
        theta[:-1] = skills - np.mean(skills)
    return theta


# scipy.stats.norm's own formulas (scipy/stats/_continuous_distns.py), without the argument
# handling of the frozen-distribution call: the same bits (tests/rating/test_checks.py), a
# fifth of the position fit's time.
_NORM_PDF_C = np.sqrt(2 * np.pi)
_NORM_PDF_LOG_C = np.log(_NORM_PDF_C)


def _norm_pdf(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.exp(-(x**2) / 2.0) / _NORM_PDF_C
    return out


def _norm_logpdf(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = -(x**2) / 2.0 - _NORM_PDF_LOG_C
    return out


def _score_and_information(x: np.ndarray, e: float, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per cell: d loglik / dx and the expected information in x, for counts n (a, b, tie)."""
    log_pa, log_pb = log_ndtr(x - e), log_ndtr(-x - e)
    p_t = np.maximum(ndtr(e - x) - ndtr(-e - x), 1e-300)
    phi_lo, phi_hi = _norm_pdf(x - e), _norm_pdf(x + e)
    # dP_a/dx = phi(x - e), dP_b/dx = -phi(x + e), dP_tie/dx = phi(x + e) - phi(x - e)
    grad = (
        n[:, 0] * np.exp(np.log(np.maximum(phi_lo, 1e-300)) - log_pa)
        - n[:, 1] * np.exp(np.log(np.maximum(phi_hi, 1e-300)) - log_pb)
        + n[:, 2] * (phi_hi - phi_lo) / p_t
    )
    total = n.sum(axis=1)
    # phi^2 / P in log space: P underflows to 0 long before phi^2 / P does
    log_lo, log_hi = _norm_logpdf(x - e), _norm_logpdf(x + e)
    info = total * (
        np.exp(2 * log_lo - log_pa) + np.exp(2 * log_hi - log_pb) + (phi_hi - phi_lo) ** 2 / p_t
    )
    return grad, info


def _design_information(ca: np.ndarray, cb: np.ndarray, w: np.ndarray, m: int) -> np.ndarray:
    """J' diag(w) J for rows x = s_a - s_b + h (columns: m skills, then h)."""
    h = np.full(len(ca), m)  # the position column, as an index array like the others
    # One weighted bincount over the cells of eight np.add.at calls, in their order: each cell
    # sums its entries from zero in the order add.at would (the same bits, far faster).
    rows = np.concatenate([ca, cb, ca, cb, ca, h, cb, h])
    cols = np.concatenate([ca, cb, cb, ca, h, ca, h, cb])
    weights = np.concatenate([w, w, -w, -w, w, w, -w, -w])
    size = m + 1
    info = np.bincount(rows * size + cols, weights=weights, minlength=size * size)
    info = info.reshape(size, size)
    info[m, m] = w.sum()
    return info
