"""Simulated style covariates (`[[covariates]]`): per battle `<key>_a` and `<key>_b` values
that really move the outcome, so the Style control page has something to find.

Each model has its own typical level of each covariate (some models are verbose, some terse),
and every answer varies around it. A covariate's effect on the performance gap is
``effect * beta * (t(x_a) - t(x_b))`` with ``t`` its declared transform: per unit of log1p for
log1p covariates (so a doubling of answer length is worth about ``0.69 * effect * beta``), per
unit for linear ones. The first covariate has the largest effect, each next one half of it.
Drawn from a stream of their own, so a board without covariates is unchanged.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa

from prefboard.config import Config
from prefboard.config.covariates import Covariate
from prefboard.tools.simulate.spec import SimulationSpec, rng_for

STREAM_STYLE = 3_000  # + batch: covariate values
# Effect of the first covariate per transformed unit, in beta units; each next one halves it.
FIRST_EFFECT = 0.6
# log1p covariates: model medians log-normal around ~300 (answer tokens), answers around them.
LOG_CENTRE, MODEL_LOG_SD, ANSWER_LOG_SD = math.log(300.0), 0.5, 0.4
# linear covariates: scores in [0, 1] (an annotator's sycophancy score), model means spread.
ANSWER_LINEAR_SD = 0.15
# Share of battles whose covariates were not annotated: empty cells (the style fit skips them).
MISSING_SHARE = 0.01


class Style(NamedTuple):
    columns: dict[str, pa.Array]
    gap: np.ndarray  # per battle, the covariates' effect on the performance gap a - b


def effects(config: Config, beta: float, scale: float = 1.0) -> list[float]:
    """Each covariate's true effect per transformed unit, in skill points."""
    return [scale * FIRST_EFFECT * beta / 2**k for k in range(len(config.covariates))]


def style_columns(
    config: Config,
    spec: SimulationSpec,
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray],
    beta: float,
    batch: int = 0,
) -> Style:
    """`<key>_a/_b` columns for battles ``pairs = (a, b, prompt)``; every vote on one prompt
    sees the same two answers. Empty when the config declares no covariates."""
    a, b, prompt = pairs
    gap = np.zeros(a.size)
    columns: dict[str, pa.Array] = {}
    if not config.covariates or a.size == 0:
        return Style(columns, gap)
    rng = rng_for(spec.seed, STREAM_STYLE + batch)
    m = len(config.model_keys)
    n_prompts = int(prompt.max()) + 1
    missing = (rng.random(n_prompts) < MISSING_SHARE)[prompt]
    # Model levels come from a stream of their own, not the batch's: a verbose model stays
    # verbose in a later batch.
    levels = rng_for(spec.seed, STREAM_STYLE - 1)
    for c, effect in zip(config.covariates, effects(config, beta, spec.style_scale), strict=True):
        level = _levels(c, m, levels)
        xa, xb = (
            _answers(c, level[side], rng.standard_normal(n_prompts)[prompt]) for side in (a, b)
        )
        gap += effect * (_transform(c, xa) - _transform(c, xb))
        for col, x in zip(c.columns, (xa, xb), strict=True):
            columns[col] = pa.array(_text(c, x), mask=missing)
    return Style(columns, gap)


def _levels(c: Covariate, m: int, rng: np.random.Generator) -> np.ndarray:
    """Each model's typical value: log of its median (log1p) or its mean score (linear)."""
    if c.transform == "log1p":
        levels: np.ndarray = rng.normal(LOG_CENTRE, MODEL_LOG_SD, m)
        return levels
    levels = rng.uniform(0.2, 0.8, m)
    return levels


def _answers(c: Covariate, level: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """One answer's value per battle: whole numbers (log1p) or scores in [0, 1] (linear)."""
    if c.transform == "log1p":
        out: np.ndarray = np.rint(np.exp(level + ANSWER_LOG_SD * noise))
        return out
    out = np.round(np.clip(level + ANSWER_LINEAR_SD * noise, 0.0, 1.0), 3)
    return out


def _transform(c: Covariate, x: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.log1p(x) if c.transform == "log1p" else x
    return out


def _text(c: Covariate, x: np.ndarray) -> list[str]:
    # Counts as plain integers ("312", not "312.0"), scores with up to three decimals.
    if c.transform == "log1p":
        return [str(int(v)) for v in x]
    return [f"{v:.3f}".rstrip("0").rstrip(".") or "0" for v in x]


def style_truth(config: Config, beta: float, spec: SimulationSpec) -> dict[str, Any]:
    """The true effects, for hidden_skills.json (per transformed unit, skill points)."""
    return {
        c.key: {"transform": c.transform, "effect_per_unit": round(e, 6)}
        for c, e in zip(config.covariates, effects(config, beta, spec.style_scale), strict=True)
    }
