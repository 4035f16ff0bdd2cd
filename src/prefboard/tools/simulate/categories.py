"""Battle-level slices in a simulated board (`[[slices]]` with `level = "battle"`): each battle's
value (say its prompt's category) and a per-value skill effect, so some models really are better
at some categories and the category tables have something true to find.

Drawn from streams of their own, so a board without battle slices is byte-for-byte the same as
before they existed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from prefboard.config import Config
from prefboard.tools.simulate.spec import DEFAULT_BETA, SimulationSpec, rng_for

# A category departs from a model's overall skill by more than a demographic group does (GROUP_SD
# 0.8): a coding model can be much worse at creative writing, while people mostly agree.
CATEGORY_SD = 1.5
# Share of battles whose category cell is left blank (a source that did not label them).
BLANK_SHARE = 0.02
STREAM_CATEGORY_EFFECTS = 3_000
STREAM_CATEGORY_VALUES = 4_000  # + batch


def category_effects(config: Config, seed: int) -> list[np.ndarray]:
    """Per battle slice, a (values, models) effect on performance, mean 0 over values per model
    (so a model's skill is its average over categories)."""
    rng = rng_for(seed, STREAM_CATEGORY_EFFECTS)
    unit = config.rating.beta / DEFAULT_BETA
    out = []
    for sl in config.battle_slices:
        g = rng.normal(0.0, CATEGORY_SD * unit, (len(sl.values), len(config.models)))
        out.append(g - g.mean(axis=0))
    return out


def category_codes(
    config: Config, spec: SimulationSpec, prompt: np.ndarray, batch: int
) -> list[np.ndarray]:
    """Per battle slice, each battle's value index (-1 blank), one per prompt: every vote on a
    prompt shares its category. Uneven shares, as real category mixes are."""
    rng = rng_for(spec.seed, STREAM_CATEGORY_VALUES + batch)
    n_prompts = int(prompt.max()) + 1 if prompt.size else 0
    out = []
    for sl in config.battle_slices:
        shares = rng.dirichlet(np.full(len(sl.values), 2.0))
        per_prompt = rng.choice(len(sl.values), size=n_prompts, p=shares)
        per_prompt[rng.random(n_prompts) < BLANK_SHARE] = -1
        out.append(per_prompt[prompt])
    return out


def category_gap(
    effects: list[np.ndarray], codes: list[np.ndarray], a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """Per battle, the summed category effects on model a minus model b (0 when blank)."""
    total = np.zeros(a.size)
    for g, c in zip(effects, codes, strict=True):
        known = c >= 0
        total[known] += g[c[known], a[known]] - g[c[known], b[known]]
    return total


def category_cells(config: Config, codes: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Per battle slice, the column as text ("" where blank)."""
    out = {}
    for sl, c in zip(config.battle_slices, codes, strict=True):
        values = np.asarray([*sl.values, ""], dtype=object)
        out[sl.attribute] = values[c]  # -1 reads the trailing "" (blank)
    return out


def effects_json(config: Config, effects: list[np.ndarray]) -> dict[str, Any]:
    """`category_effects[attribute][value][model]`, for hidden_skills.json."""
    models = config.model_keys
    return {
        sl.attribute: {
            v: {mk: round(float(g[vi, mi]), 6) for mi, mk in enumerate(models)}
            for vi, v in enumerate(sl.values)
        }
        for sl, g in zip(config.battle_slices, effects, strict=True)
    }
