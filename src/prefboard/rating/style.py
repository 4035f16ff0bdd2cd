"""Style control per battle dimension: the ranking with the declared covariates' effects taken
out, beside the same model fitted on the same battles without them.

Anchor: Chatbot Arena's style control (Li, Angelopoulos & Chiang, "Does style matter?",
lmsys blog, Aug 2024) fits Bradley–Terry by logistic regression with extra columns, one per style
feature: ``normalize((f_a - f_b) / (f_a + f_b))``, the relative difference standardised over the
battles (answer tokens, markdown headers, lists, bold). A model's coefficient is then its strength
at equal style. prefboard does the same inside its own model, and differs in:

- the likelihood: TrueSkill's Thurstone (probit) model with ties as a draw margin (held at the
  dimension's learnt value), not a logistic model of "a won" that has no tie outcome;
- the feature: the difference of the transformed values (log1p: ``log((1 + f_a) / (1 + f_b))``,
  scale-free like Arena's ratio; or linear), divided by its root mean square over the fitted
  battles but not centred: centring would let two answers of equal style still shift the odds
  (an intercept in disguise, which belongs to the position-bias check);
- the intervals: the joint Laplace covariance (model-based), where Arena bootstraps battles;
- the prior: the skills keep TrueSkill's prior (sigma0), the coefficients a flat one.

Battles missing a covariate on either side are left out of both fits (and counted).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr

from prefboard.config import Config
from prefboard.config.covariates import Covariate
from prefboard.ingest.covariates import complete_rows
from prefboard.rating import batch, ranks
from prefboard.rating.inputs import Dimension, Inputs
from prefboard.rating.style_fit import StyleFit, fit_style
from prefboard.rating.tables import _relative
from prefboard.rating.tournaments import z_score
from prefboard.standings.style import StyleCoefficient, StyleControl, StyleEntry

Moments = tuple[np.ndarray, np.ndarray]  # posterior mean and covariance of the skills


def style_control(config: Config, inputs: Inputs, dim: Dimension) -> StyleControl | None:
    """The dimension's style control, or None when the config declares no covariates."""
    if not config.covariates:
        return None
    complete = complete_rows(inputs.battles, config)
    idx = dim.pooled[complete[dim.pooled]]
    beta = dim.batch_config.rating.beta
    eps = dim.ties.draw_margin
    values = [_transformed(inputs, c, idx) for c in config.covariates]
    diffs = np.column_stack([va - vb for va, vb in values]) if len(idx) else None
    scale = np.sqrt(np.mean(diffs**2, axis=0)) if diffs is not None else None
    out = StyleControl(
        dimension=dim.key,
        battles=len(idx),
        battles_without=len(dim.pooled) - len(idx),
        draw_margin=eps,
        beta=beta,
    )
    if diffs is None or scale is None:
        return out
    differs = scale > 0
    z = diffs[:, differs] / scale[differs]
    controlled = _fit(config, inputs, dim, idx, z)
    coefficients = _coefficients(config, inputs, idx, controlled, scale, differs, beta, eps)
    entries = _entries(config, inputs, dim.key, idx, _raw(config, dim, idx), controlled)
    return out.model_copy(update={"coefficients": coefficients, "entries": entries})


def _transformed(inputs: Inputs, c: Covariate, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both sides' values of one covariate for the battles ``idx``, transformed."""
    sides = [inputs.battles[col].to_numpy(np.float64)[idx] for col in c.columns]
    if c.transform == "log1p":
        return np.log1p(sides[0]), np.log1p(sides[1])
    return sides[0], sides[1]


def _fit(
    config: Config, inputs: Inputs, dim: Dimension, idx: np.ndarray, z: np.ndarray
) -> StyleFit:
    r = config.rating
    return fit_style(
        len(config.model_keys),
        inputs.a[idx],
        inputs.b[idx],
        dim.outcome[idx],
        z,
        prior_mean=r.mu,
        prior_sigma=r.sigma,
        beta=dim.batch_config.rating.beta,
        draw_margin=dim.ties.draw_margin,
    )


def _raw(config: Config, dim: Dimension, idx: np.ndarray) -> Moments:
    """The same battles without covariates: the batch model's Laplace fit from pair counts
    (what the joint fit gives with no covariates, tested equal, at a fraction of the cost)."""
    r = config.rating
    post = batch.fit_counts(
        batch.aggregate_index(dim.arrays, idx),
        prior_mean=r.mu,
        prior_sigma=r.sigma,
        beta=dim.batch_config.rating.beta,
        draw_margin=dim.ties.draw_margin,
        method="laplace",
    )
    return post.mean, post.cov


def preferred_share(gap: float, beta: float, eps: float) -> float:
    """P(a preferred) with a tie counting half, at performance gap ``gap`` (TrueSkill model)."""
    c = math.sqrt(2.0) * beta
    win = float(ndtr((gap - eps) / c))
    tie = float(ndtr((eps - gap) / c) - ndtr((-eps - gap) / c))
    return win + 0.5 * tie


def _step(config_cov: Covariate, both_sides: np.ndarray) -> tuple[float, str]:
    """The change the plain-words effect describes: a doubling (log1p), one unit (linear)."""
    name = config_cov.name
    if config_cov.transform == "linear":
        return 1.0, f"a {name} higher by 1 than the other answer's"
    x = float(np.median(both_sides)) if both_sides.size else 0.0
    # log1p(2x) - log1p(x) at the median: log 2 for large x, less near 0.
    return math.log1p(2 * x) - math.log1p(x), f"each doubling of {name}"


def _coefficients(
    config: Config,
    inputs: Inputs,
    idx: np.ndarray,
    fit: StyleFit,
    scale: np.ndarray,
    differs: np.ndarray,
    beta: float,
    eps: float,
) -> list[StyleCoefficient]:
    z = z_score(config.rating.interval)
    out = []
    k = 0
    for c, rms, varies in zip(config.covariates, scale, differs, strict=True):
        raw = np.concatenate([inputs.battles[col].to_numpy(np.float64)[idx] for col in c.columns])
        step, step_text = _step(c, raw)
        est, sd = (float(fit.gamma[k]), float(fit.gamma_sd[k])) if varies else (0.0, 0.0)
        k += int(varies)
        lower, upper = est - z * sd, est + z * sd
        # Effect of `step` in transformed units: gamma per rms unit times step / rms.
        per_step = step / rms if varies else 0.0
        effects = [preferred_share(g * per_step, beta, eps) - 0.5 for g in (est, lower, upper)]
        out.append(
            StyleCoefficient(
                covariate=c.key,
                label=c.name,
                description=c.description,
                transform=c.transform,
                scale=float(rms),
                estimate=est,
                lower=lower,
                upper=upper,
                sd=sd,
                step=step,
                step_text=step_text,
                effect=effects[0],
                effect_lower=effects[1],
                effect_upper=effects[2],
                matters=bool(varies and (lower > 0 or upper < 0)),
                differs=bool(varies),
            )
        )
    return out


def _entries(
    config: Config, inputs: Inputs, key: str, idx: np.ndarray, raw: Moments, ctl: StyleFit
) -> list[StyleEntry]:
    keys = config.model_keys
    m = len(keys)
    played = np.bincount(inputs.a[idx], minlength=m) + np.bincount(inputs.b[idx], minlength=m)
    z = z_score(config.rating.interval)
    summary = []
    for name, (mean, cov) in (("raw", raw), ("style", (ctl.skills, ctl.skill_cov))):
        sd = np.sqrt(np.diag(_relative(cov, played > 0)))
        seed = ranks.rank_seed(config.rating.seed, key, "style", name)
        rk = ranks.summarize(mean, cov, keys, config.rating.interval, seed)
        summary.append((mean, *ranks.band(mean, sd, z), rk))
    (rs, rl, ru, rr), (cs, cl, cu, cr) = summary
    entries = [
        StyleEntry(
            model=keys[i],
            battles=int(played[i]),
            raw_score=float(rs[i]),
            raw_lower=float(rl[i]),
            raw_upper=float(ru[i]),
            raw_rank=int(rr.rank[i]),
            raw_rank_lower=int(rr.rank_lower[i]),
            raw_rank_upper=int(rr.rank_upper[i]),
            score=float(cs[i]),
            lower=float(cl[i]),
            upper=float(cu[i]),
            rank=int(cr.rank[i]),
            rank_lower=int(cr.rank_lower[i]),
            rank_upper=int(cr.rank_upper[i]),
            rank_change=int(rr.rank[i] - cr.rank[i]),
        )
        for i in range(m)
    ]
    return sorted(entries, key=lambda e: e.rank)
