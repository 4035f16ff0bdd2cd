"""The hidden truth a simulated board is drawn from: skills, group effects and the tie margin."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr

from prefboard.config import Config, Slice
from prefboard.tools.simulate.categories import category_effects
from prefboard.tools.simulate.spec import (
    BASE_SKILL_SD,
    DEFAULT_BETA,
    DIMENSION_SD,
    GROUP_SD,
    HALO,
    LOW_EFFORT_NOISE,
    STREAM_TRUTH,
    TIE_SHARE,
    SimulationSpec,
    rng_for,
)


@dataclass(frozen=True)
class Truth:
    skill: np.ndarray  # (models, dimensions) population-level mean performance
    base: np.ndarray  # (models,)
    groups: list[np.ndarray]  # per slice: (values, models) effects, population-weighted mean 0
    weights: list[np.ndarray]  # per slice: the weights the effects are centred with
    beta: float
    margin: float
    likert_centre: np.ndarray = field(repr=False)  # (dimensions,) mean skill across models
    likert_scale: np.ndarray = field(repr=False)  # (dimensions,) sd of skill across models


def centring_weights(sl: Slice) -> np.ndarray:
    if sl.population:
        return np.array([sl.population[v] for v in sl.values], dtype=float)
    return np.full(len(sl.values), 1.0 / len(sl.values))


def draw_truth(
    config: Config, seed: int, group_scale: float = 1.0, tie_share: float = TIE_SHARE
) -> Truth:
    rng = rng_for(seed, STREAM_TRUTH)
    m, d = len(config.models), len(config.dimensions)
    beta = config.rating.beta
    unit = beta / DEFAULT_BETA
    base = config.rating.mu + rng.normal(0.0, BASE_SKILL_SD * unit, m)
    skill = base[:, None] + rng.normal(0.0, DIMENSION_SD * unit, (m, d))
    groups, weights = [], []
    for sl in config.participant_slices:
        g = rng.normal(0.0, GROUP_SD * unit, (len(sl.values), m)) * group_scale
        w = centring_weights(sl)
        # Centre each model's effects on the population, so `skill` is what the whole population
        # (not our skewed sample) thinks: the target a post-stratified ranking should recover.
        g -= (w @ g) / w.sum()
        groups.append(g)
        weights.append(w)
    dims = [i for i, dim in enumerate(config.dimensions) if dim.battles] or list(range(d))
    # Category effects (battle-level slices) widen the performance gap too; their own stream,
    # so the draws above are the same with or without them.
    spread = groups + category_effects(config, seed)
    spread_w = weights + [np.full(len(sl.values), 1.0) for sl in config.battle_slices]
    margin = _tie_margin(skill[:, dims], spread, spread_w, beta, rng, tie_share)
    centre = skill.mean(axis=0)
    scale = skill.std(axis=0)
    scale = np.where(scale > 1e-12, scale, unit)
    return Truth(skill, base, groups, weights, beta, margin, centre, scale)


def _tie_margin(
    skill: np.ndarray,
    groups: list[np.ndarray],
    weights: list[np.ndarray],
    beta: float,
    rng: np.random.Generator,
    tie_share: float = TIE_SHARE,
) -> float:
    """The margin at which `tie_share` of uniformly drawn battles end in a tie.

    The performance difference of a pair is normal with the skill gap as mean and, as variance,
    both models' noise plus the spread of the pair's group effects over the population; the tie
    share is the average probability mass within +-margin, solved for the margin.
    """
    m = skill.shape[0]
    if m <= 300:
        i, j = np.triu_indices(m, 1)
    else:  # for big boards a sample of pairs pins the average down just as well
        i = rng.integers(0, m, 50_000)
        j = (i + rng.integers(1, m, 50_000)) % m
    var = np.full(i.size, 2.0 * beta**2)
    for g, w in zip(groups, weights, strict=True):
        diff = g[:, i] - g[:, j]
        var += (w[:, None] * diff**2).sum(axis=0) / w.sum()
    mean = skill[i] - skill[j]  # (pairs, dims)
    sd = np.sqrt(var)[:, None]

    def excess(margin: float) -> float:
        inside = ndtr((margin - mean) / sd) - ndtr((-margin - mean) / sd)
        return float(inside.mean()) - tie_share

    hi = float(np.abs(mean).max() + 10.0 * sd.max())
    return float(brentq(excess, 0.0, hi, xtol=1e-10))


def hidden_skills(config: Config, seed: int, spec: SimulationSpec | None = None) -> dict[str, Any]:
    """The hidden truth behind `simulate(config, ..., SimulationSpec(seed=seed))`, as JSON data.

    `skills[model][dimension]` is the population-level mean performance (TrueSkill scale);
    `group_effects[attribute][value][model]` is added for a participant holding that value,
    centred so its population-weighted mean is 0. The same numbers drive the Likert answers.
    `spec` (its seed replaced by `seed`) supplies the study conditions (group scale, ties).
    """
    spec = SimulationSpec(seed=seed) if spec is None else spec
    return truth_json(config, seed, spec_truth(config, replace(spec, seed=seed)), spec)


def spec_truth(config: Config, spec: SimulationSpec) -> Truth:
    return draw_truth(config, spec.seed, spec.group_scale, spec.tie_share)


def truth_json(config: Config, seed: int, t: Truth, spec: SimulationSpec) -> dict[str, Any]:
    dims = [d.key for d in config.dimensions]
    models = config.model_keys

    def r(x: float) -> float:
        return round(float(x), 6)

    skills = {
        mk: {dk: r(t.skill[i, j]) for j, dk in enumerate(dims)} for i, mk in enumerate(models)
    }
    ranking = {
        dk: [models[i] for i in np.argsort(-t.skill[:, j], kind="stable")]
        for j, dk in enumerate(dims)
    }
    effects = {
        sl.attribute: {
            v: {mk: r(g[vi, mi]) for mi, mk in enumerate(models)} for vi, v in enumerate(sl.values)
        }
        for sl, g in zip(config.participant_slices, t.groups, strict=True)
    }
    equal_draw = 2.0 * ndtr(t.margin / (math.sqrt(2.0) * t.beta)) - 1.0
    return {
        "seed": seed,
        "generator": "prefboard.tools.simulate",
        "beta": r(t.beta),
        "tie_margin": r(t.margin),
        "tie_share_target": spec.tie_share,
        # The TrueSkill draw_probability whose margin equals ours (for equally skilled models).
        "equivalent_draw_probability": r(equal_draw),
        "halo_correlation": HALO,
        "low_effort_noise_factor": LOW_EFFORT_NOISE,
        **_study_conditions(spec),
        "base_skill": {mk: r(t.base[i]) for i, mk in enumerate(models)},
        "skills": skills,
        "ranking": ranking,
        "group_effects": effects,
        "likert": {
            dk: {"centre": r(t.likert_centre[j]), "scale": r(t.likert_scale[j])}
            for j, dk in enumerate(dims)
        },
    }


def _study_conditions(spec: SimulationSpec) -> dict[str, Any]:
    """The non-default study conditions, so the example board's truth file stays as it was."""
    out: dict[str, Any] = {}
    if spec.group_scale != 1.0:
        out["group_scale"] = spec.group_scale
    if spec.votes_per_prompt > 1 or spec.prompt_sd > 0:
        out["votes_per_prompt"] = spec.votes_per_prompt
        out["prompt_sd_beta_units"] = spec.prompt_sd
    return out
