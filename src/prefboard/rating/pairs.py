"""Pair predictions from the pooled batch posterior, with goodness of fit and position bias
(rating/checks.py)."""

from __future__ import annotations

import numpy as np
from pydantic import TypeAdapter

from prefboard.config import Config
from prefboard.rating import batch, checks
from prefboard.rating import trueskill as ts
from prefboard.rating.board import finite_or_none
from prefboard.rating.tournaments import Result
from prefboard.standings.model import FitCheck, Pair, PositionBias

_ROWS = TypeAdapter(list[Pair])


def pairs_of(
    config: Config,
    dimension: str,
    pooled: Result,
    post: batch.Posterior,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    params: ts.TrueSkillParams,
    fits: checks.PairFits,
) -> list[Pair]:
    """Every pair of models that met in the pooled battles of `dimension`: its counts, its
    predicted outcome from the pooled batch posterior `post` and its fit check (`fits`)."""
    keys = config.model_keys
    m = len(keys)
    idx = pooled.spec.battles
    lo = np.minimum(a[idx], b[idx])
    hi = np.maximum(a[idx], b[idx])
    o = outcome[idx]
    lo_won = ((o == 0) & (a[idx] == lo)) | ((o == 1) & (b[idx] == lo))
    hi_won = ((o == 0) & (a[idx] == hi)) | ((o == 1) & (b[idx] == hi))
    code = lo * m + hi
    n = np.bincount(code, minlength=m * m)
    wl = np.bincount(code[lo_won], minlength=m * m)
    wh = np.bincount(code[hi_won], minlength=m * m)
    tie = np.bincount(code[o == 2], minlength=m * m)
    # Only pairs that met: listing every pair grows with models² whatever the data (44,850
    # per dimension at 300 models); a prediction for any other pair comes from the table's
    # scores on demand (`prefboard plan`, matchmaking.posterior).
    ii, jj = np.triu_indices(m, k=1)
    met = n[ii * m + jj] > 0
    ii, jj = ii[met], jj[met]
    # The predictive difference uses the posterior variance of the *difference* (covariance
    # included), carried on one side: win_probabilities adds the two sides' variances.
    var = post.cov[ii, ii] + post.cov[jj, jj] - 2 * post.cov[ii, jj]
    zero = np.zeros(len(ii))
    p_a, p_b, p_t = ts.win_probabilities_array(
        post.mean[ii], np.sqrt(np.maximum(var, 0.0)), post.mean[jj], zero, params
    )
    cells = ii * m + jj
    rows = [
        {
            "dimension": dimension,
            "model_a": keys[i],
            "model_b": keys[j],
            "battles": nij,
            "wins_a": w_a,
            "wins_b": w_b,
            "ties": t,
            "p_a": pa,
            "p_b": pb,
            "p_tie": pt,
        }
        for i, j, nij, w_a, w_b, t, pa, pb, pt in zip(
            ii.tolist(),
            jj.tolist(),
            n[cells].tolist(),
            wl[cells].tolist(),
            wh[cells].tolist(),
            tie[cells].tolist(),
            p_a.tolist(),
            p_b.tolist(),
            p_t.tolist(),
            strict=True,
        )
    ]
    _add_fits(rows, cells, m, fits)
    # Validated once, as plain dicts: one model per pair, then a copy per checked pair, took
    # seconds per dimension at 300 models.
    return _ROWS.validate_python(rows)


def _add_fits(
    rows: list[dict[str, object]], cells: np.ndarray, m: int, fits: checks.PairFits
) -> None:
    """The fit check's columns on the rows of the pairs it tested (the others keep none)."""
    at = np.full(m * m, -1, dtype=np.int64)
    at[fits.i * m + fits.j] = np.arange(fits.i.size)
    expected = fits.expected.tolist()
    p, adjusted, flagged = fits.p_value.tolist(), fits.p_adjusted.tolist(), fits.flagged.tolist()
    for row, k in zip(rows, at[cells].tolist(), strict=True):
        if k >= 0:
            row["expected_a"], row["expected_b"], row["expected_tie"] = expected[k]
            row["fit_p"], row["fit_p_adjusted"], row["misfit"] = p[k], adjusted[k], flagged[k]


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
    predictions from the pooled batch posterior mean `score` and the dimension's draw margin.
    The pairs' own columns are filled by :func:`pairs_of`."""
    keys = config.model_keys
    fits = checks.pair_fits(len(keys), a[idx], b[idx], outcome[idx], score, params.beta, margin)
    pos = checks.position_bias(
        len(keys), a[idx], b[idx], outcome[idx], params.beta, margin, params.sigma
    )
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
