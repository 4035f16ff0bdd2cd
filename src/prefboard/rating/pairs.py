"""Pair predictions from the pooled batch posterior, with goodness of fit and position bias
(rating/checks.py)."""

from __future__ import annotations

import numpy as np

from prefboard.config import Config
from prefboard.rating import batch, checks
from prefboard.rating import trueskill as ts
from prefboard.rating.board import finite_or_none
from prefboard.rating.tournaments import Result
from prefboard.standings.model import FitCheck, Pair, PositionBias


def pairs_of(
    config: Config,
    dimension: str,
    pooled: Result,
    post: batch.Posterior,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    params: ts.TrueSkillParams,
) -> list[Pair]:
    """Every pair of models that met in the pooled battles of `dimension`: its counts and its
    predicted outcome from the pooled batch posterior `post`."""
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
    return [
        Pair(
            dimension=dimension,
            model_a=keys[i],
            model_b=keys[j],
            battles=int(n[i * m + j]),
            wins_a=int(wl[i * m + j]),
            wins_b=int(wh[i * m + j]),
            ties=int(tie[i * m + j]),
            p_a=float(p_a[k]),
            p_b=float(p_b[k]),
            p_tie=float(p_t[k]),
        )
        for k, (i, j) in enumerate(zip(ii, jj, strict=True))
    ]


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
    pairs: list[Pair],
) -> tuple[list[Pair], FitCheck]:
    """Goodness of fit per pair and position bias on the pooled battles `idx` (rating/checks.py);
    predictions from the pooled batch posterior mean `score` and the dimension's draw margin."""
    keys = config.model_keys
    fits = checks.pair_fit(len(keys), a[idx], b[idx], outcome[idx], score, params.beta, margin)
    by_pair = {(keys[f.i], keys[f.j]): f for f in fits}
    checked = []
    for p in pairs:
        f = by_pair.get((p.model_a, p.model_b))
        if f is None:
            checked.append(p)
            continue
        update = {
            "expected_a": f.expected[0],
            "expected_b": f.expected[1],
            "expected_tie": f.expected[2],
            "fit_p": f.p_value,
            "fit_p_adjusted": f.p_adjusted,
            "misfit": f.flagged,
        }
        # Validated once when built; model_copy's deep machinery cost seconds per dimension at
        # 300 models (one call per pair).
        checked.append(Pair.model_construct(**{**p.__dict__, **update}))
    pos = checks.position_bias(
        len(keys), a[idx], b[idx], outcome[idx], params.beta, margin, params.sigma
    )
    check = FitCheck(
        dimension=dimension,
        test=checks.TEST,
        adjustment=checks.ADJUSTMENT,
        alpha=checks.ALPHA,
        pairs_tested=len(fits),
        misfits=[f"{keys[f.i]} vs {keys[f.j]}" for f in fits if f.flagged],
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
    return checked, check
