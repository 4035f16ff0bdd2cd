"""Codes, published values and sample rows of battle-level slices (`level = "battle"`).

A battle slice's value comes from the battle's own column (its prompt's category, say), not from
the participant, so its codes are read per battle. Everything downstream (tournaments, the
pooled group fits of rating/group_tables.py, the tables) then treats it like a participant group:
the values are the groups, pooled around each model's overall skill with their spread (tau)
estimated from the data. It never enters post-stratification (config rejects that).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from prefboard.config import Config
from prefboard.standings.model import SampleShare


def code_dtype(n_values: int) -> type[np.signedinteger[Any]]:
    """The narrowest type of a slice's value codes (-1 .. n_values - 1): int16 for any slice
    the config accepts (at most MAX_SLICE_VALUES values), a quarter of an int64 code per
    battle per slice. Arithmetic on codes (strata.cell_of) is done in int64."""
    return np.int16 if n_values <= np.iinfo(np.int16).max else np.int32


def battle_codes(config: Config, battles: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per battle slice, each battle's value index (-1 where the cell is blank)."""
    return {
        s.attribute: pd.Index(s.values)
        .get_indexer(pd.Index(battles[s.attribute].astype(str)))
        .astype(code_dtype(len(s.values)))
        for s in config.battle_slices
    }


def distinct_voters(battles: pd.DataFrame, code: np.ndarray, n_values: int) -> np.ndarray:
    """Distinct participants among the battles of each value."""
    known = code >= 0
    pairs = pd.DataFrame({"v": code[known], "p": battles["participant_id"].to_numpy()[known]})
    per = pairs.drop_duplicates().groupby("v").size()
    out = np.zeros(n_values, dtype=np.int64)
    out[per.index.to_numpy(np.int64)] = per.to_numpy()
    return out


def published_battle_values(
    config: Config, battles: pd.DataFrame, codes: dict[str, np.ndarray]
) -> dict[str, set[str]]:
    """Values judged by at least `privacy.min_participants` distinct people: a category only a
    handful of people voted in would show those people's votes, as a small group would."""
    limit = config.privacy.min_participants
    out = {}
    for s in config.battle_slices:
        voters = distinct_voters(battles, codes[s.attribute], len(s.values))
        out[s.attribute] = {v for v, n in zip(s.values, voters, strict=True) if n >= limit}
    return out


def battle_samples(
    config: Config,
    battles: pd.DataFrame,
    codes: dict[str, np.ndarray],
    published: dict[str, set[str]],
) -> list[SampleShare]:
    """Per battle slice value: its battles, their distinct participants and its share of the
    battles that give a value (no population: a category mix is a choice, not a sample)."""
    out = []
    for s in config.battle_slices:
        c = codes[s.attribute]
        per_value = np.bincount(c[c >= 0], minlength=len(s.values))
        voters = distinct_voters(battles, c, len(s.values))
        known = int(per_value.sum())
        for i, v in enumerate(s.values):
            ok = v in published[s.attribute]
            out.append(
                SampleShare(
                    attribute=s.attribute,
                    value=v,
                    participants=int(voters[i]) if ok else 0,
                    battles=int(per_value[i]) if ok else 0,
                    sample_share=(per_value[i] / known if known else 0.0) if ok else 0.0,
                    population_share=None,
                    published=ok,
                )
            )
    return out


def blank_battles(config: Config, codes: dict[str, np.ndarray]) -> dict[str, int]:
    """Per battle slice, accepted battles that give no value (in the headline, in no table)."""
    return {s.attribute: int((codes[s.attribute] < 0).sum()) for s in config.battle_slices}
