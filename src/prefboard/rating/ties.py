"""How often equally skilled models tie: pinned by the config, or learnt from the battles.

The draw margin of each battle dimension is estimated by maximum profile likelihood on the
pooled battles (:func:`prefboard.rating.batch.learn_draw_margin`). The estimate is always made:
when the config pins `rating.draw_probability`, a validation warning says if the data's 95 %
likelihood-ratio interval excludes the pinned value.
"""

from __future__ import annotations

import hashlib
import threading

import numpy as np
import pandas as pd

from prefboard.config import Config
from prefboard.errors import Problem
from prefboard.rating import batch, prompts
from prefboard.rating import trueskill as ts
from prefboard.rating.threads import one_blas_thread
from prefboard.standings.model import TieModel

# With no battles at all there is nothing to learn from: TrueSkill's own default is used.
FALLBACK_DRAW_PROBABILITY = 0.10


# Learnt margins by their inputs: validation (pinned_tie_warnings) and the rating stage fit the
# same pooled battles, and each fit is dozens of full batch fits (most of a 100-model board's
# rating time). A digest of the pair counts keys it, so a hit is the very same computation.
_LEARNT: dict[bytes, batch.DrawMarginFit] = {}
_LEARNT_MAX = 32  # dimensions of the last board or two; the entries are a few numbers each
_LEARNT_LOCK = threading.Lock()


def _learnt(pc: batch.PairCounts, mu: float, sigma: float, beta: float) -> batch.DrawMarginFit:
    """`batch.learn_draw_margin` of the pair counts, computed once per distinct input."""
    digest = hashlib.blake2b(digest_size=32)
    for part in (pc.i, pc.j, pc.counts, np.array([pc.n_models, mu, sigma, beta])):
        digest.update(str((part.dtype, part.shape)).encode())
        digest.update(np.ascontiguousarray(part).tobytes())
    key = digest.digest()
    with _LEARNT_LOCK:
        hit = _LEARNT.get(key)
    if hit is not None:
        return hit
    # One BLAS thread here too: validation (pinned_tie_warnings) runs it outside the rating
    # stage's limit, and OpenBLAS's threads made it several times slower on 2 cores.
    with one_blas_thread():
        fit = batch.learn_draw_margin(pc, prior_mean=mu, prior_sigma=sigma, beta=beta)
    with _LEARNT_LOCK:
        if len(_LEARNT) >= _LEARNT_MAX:
            _LEARNT.pop(next(iter(_LEARNT)))  # the oldest
        _LEARNT[key] = fit
    return fit


def tie_model(config: Config, dimension: str, battles: batch.Battles, idx: np.ndarray) -> TieModel:
    """The draw probability a dimension is rated with, from its pooled battles ``idx``."""
    r = config.rating
    pinned = r.draw_probability
    share = float(np.mean(battles.outcome[idx] == batch.TIE)) if len(idx) else 0.0
    fit = None
    if len(idx):
        fit = _learnt(batch.aggregate_index(battles, idx), r.mu, r.sigma, r.beta)
    if pinned is not None:
        p, source = pinned, "pinned"
    elif fit is not None:
        p, source = fit.draw_probability, "learnt"
    else:
        p, source = FALLBACK_DRAW_PROBABILITY, "pinned"
    return TieModel(
        dimension=dimension,
        source=source,
        draw_probability=float(p),
        draw_margin=float(ts.draw_margin(p, r.beta)),
        mle=None if fit is None else fit.draw_probability,
        lower=None if fit is None else fit.probability_lower,
        upper=None if fit is None else fit.probability_upper,
        tie_share=share,
        at_bound=False if fit is None else fit.at_bound,
    )


def with_prompt_noise(
    config: Config,
    ties: TieModel,
    battles: batch.Battles,
    idx: np.ndarray,
    clusters: list[np.ndarray],
) -> tuple[TieModel, Config]:
    """The dimension's tie model and the config its batch fits use, once the share of noise
    that votes on one prompt share is known (rating/prompts.py; ``clusters[1]``: prompt codes,
    when the battles name prompts). With none the config is returned as it is; otherwise its
    beta is beta / sqrt(1 - rho) and the draw margin follows (the draw probability is scale-free).
    The online pass keeps the configured beta: it must stay equal to the `trueskill` package."""
    r = config.rating
    noise = prompts.prompt_noise(
        battles,
        idx,
        clusters[1] if len(clusters) > 1 else None,
        prior_mean=r.mu,
        prior_sigma=r.sigma,
        beta=r.beta,
        draw_margin=ties.draw_margin,
        level=r.interval,
    )
    update: dict[str, float | int | None] = {
        "prompt_correlation": noise.rho,
        "prompt_vote_pairs": noise.vote_pairs,
    }
    if noise.vote_pairs:
        update |= {"prompt_correlation_lower": noise.lower, "prompt_correlation_upper": noise.upper}
    if noise.rho == 0.0:
        return ties.model_copy(update=update), config
    update["batch_beta"] = noise.beta
    update["draw_margin"] = float(ts.draw_margin(ties.draw_probability, noise.beta))
    rating = r.model_copy(update={"beta": noise.beta})
    return ties.model_copy(update=update), config.model_copy(update={"rating": rating})


def pinned_tie_warnings(config: Config, battles: pd.DataFrame) -> list[Problem]:
    """A warning per dimension whose pinned draw probability the data's interval excludes."""
    if config.rating.draw_probability is None:
        return []
    out = []
    a = battles["model_a"].to_numpy(np.int64)
    b = battles["model_b"].to_numpy(np.int64)
    for d in config.battle_dimensions:
        o = battles[d.key].to_numpy(np.int8)
        asked = np.flatnonzero(o >= 0)
        arrays = batch.Battles.of(len(config.models), a, b, np.maximum(o, 0))
        t = tie_model(config, d.key, arrays, asked)
        if t.lower is None or t.upper is None or t.lower <= t.draw_probability <= t.upper:
            continue
        out.append(
            Problem(
                "leaderboard.toml",
                0,
                0,
                "draw-probability",
                f"rating.draw_probability = {t.draw_probability:g} is outside the 95 % interval "
                f"{t.lower:.3g}–{t.upper:.3g} that the {d.key} battles give (maximum likelihood "
                f"{t.mle:.3g}); remove it to learn ties from the data",
                severity="warning",
            )
        )
    return out
