"""Pair predictions from the pooled batch posterior, with goodness of fit and position bias
(rating/checks.py)."""

from __future__ import annotations

import numpy as np
from pydantic import TypeAdapter

from prefboard.config import Config
from prefboard.rating import batch, checks
from prefboard.rating import trueskill as ts
from prefboard.rating.board import finite_or_none
from prefboard.standings.model import FitCheck, Pair, PositionBias

_ROWS = TypeAdapter(list[Pair])
# Pair's fields in the order pairs_of lists them.
_COLUMNS = (
    "dimension",
    "model_a",
    "model_b",
    "battles",
    "wins_a",
    "wins_b",
    "ties",
    "p_a",
    "p_b",
    "p_tie",
    "expected_a",
    "expected_b",
    "expected_tie",
    "fit_p",
    "fit_p_adjusted",
    "misfit",
)


def pairs_of(
    config: Config,
    dimension: str,
    post: batch.Posterior,
    params: ts.TrueSkillParams,
    fits: checks.PairFits,
) -> list[Pair]:
    """Every pair of models that met in the pooled battles of `dimension`: its counts and fit
    check (`fits`, from :func:`fit_check` on those battles) and its predicted outcome from the
    pooled batch posterior `post`."""
    keys = config.model_keys
    # Only pairs that met: listing every pair grows with models² whatever the data (44,850
    # per dimension at 300 models); a prediction for any other pair comes from the table's
    # scores on demand (`prefboard plan`, matchmaking.posterior).
    ii, jj = fits.i, fits.j
    # The predictive difference uses the posterior variance of the *difference* (covariance
    # included), carried on one side: win_probabilities adds the two sides' variances.
    var = post.cov[ii, ii] + post.cov[jj, jj] - 2 * post.cov[ii, jj]
    zero = np.zeros(len(ii))
    p_a, p_b, p_t = ts.win_probabilities_array(
        post.mean[ii], np.sqrt(np.maximum(var, 0.0)), post.mean[jj], zero, params
    )
    columns = (
        [keys[i] for i in ii.tolist()],
        [keys[j] for j in jj.tolist()],
        fits.observed.sum(axis=1).tolist(),
        *fits.observed.T.tolist(),
        p_a.tolist(),
        p_b.tolist(),
        p_t.tolist(),
        *fits.expected.T.tolist(),
        fits.p_value.tolist(),
        fits.p_adjusted.tolist(),
        fits.flagged.tolist(),
    )
    # Validated once, as plain dicts: one model per pair, then a copy per checked pair, took
    # seconds per dimension at 300 models.
    return _ROWS.validate_python(
        [dict(zip(_COLUMNS, (dimension, *row), strict=True)) for row in zip(*columns, strict=True)]
    )


def fit_check(
    config: Config,
    dimension: str,
    idx: np.ndarray,
    score: np.ndarray,
    margin: float,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    params: ts.TrueSkillParams,
) -> tuple[checks.PairFits, FitCheck]:
    """Goodness of fit per pair and position bias on the pooled battles `idx` (rating/checks.py);
    predictions from the pooled batch posterior mean `score` and the dimension's draw margin
    (`score` also starts the position fit). The fits are the pairs' rows too (:func:`pairs_of`)."""
    keys = config.model_keys
    # the pooled battles read through idx: no gathered copies (~40 MB each at 10M battles)
    m, beta, sigma = len(keys), params.beta, params.sigma
    fits = checks.pair_fits(m, a, b, outcome, score, beta, margin, idx=idx)
    pos = checks.position_bias(m, a, b, outcome, beta, margin, sigma, skills=score, idx=idx)
    check = FitCheck(
        dimension=dimension,
        test=checks.TEST,
        adjustment=checks.ADJUSTMENT,
        alpha=checks.ALPHA,
        pairs_tested=int(fits.i.size),
        misfits=[
            f"{keys[i]} vs {keys[j]}"
            for i, j in zip(fits.i[fits.flagged], fits.j[fits.flagged], strict=True)
        ],
        position=PositionBias(
            decided=pos.decided,
            wins_a=pos.wins_a,
            share_a=finite_or_none(pos.share_a),
            share_p=pos.share_p,
            h=pos.h,
            h_se=pos.h_se,
            p_value=pos.p_value,
            enough=pos.enough,
            flagged=pos.flagged,
        ),
    )
    return fits, check
