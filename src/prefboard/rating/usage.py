"""How much of the board each model saw: its battles and its distinct prompts, counted from the
accepted battles for the Disclosure page (`standings.disclosure`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from prefboard.ingest.rules import PROMPT_COLUMN


def prompt_codes(battles: pd.DataFrame) -> np.ndarray:
    """Each battle's prompt as an integer: one per prompt id, and one of its own for a battle
    without an id (a vote without an id is about an item of its own, never shared with another
    vote). Integers, not strings: a million keys as text took seconds to build and compare."""
    ids = battles[PROMPT_COLUMN].astype(str)
    codes, uniques = pd.factorize(ids)
    codes = codes.astype(np.int64)
    own = (codes < 0) | (ids == "").to_numpy(dtype=bool)
    codes[own] = len(uniques) + np.arange(int(own.sum()))
    return codes


def model_usage(battles: pd.DataFrame, n_models: int) -> tuple[np.ndarray, np.ndarray]:
    """Per model index: accepted battles it took part in, and distinct prompts among them."""
    a = battles["model_a"].to_numpy(dtype=np.int64)
    b = battles["model_b"].to_numpy(dtype=np.int64)
    counts = np.bincount(a, minlength=n_models) + np.bincount(b, minlength=n_models)
    prompt = prompt_codes(battles)
    width = int(prompt.max()) + 1 if prompt.size else 1
    prompts = np.bincount(
        _distinct(np.concatenate([a, b]) * width + np.concatenate([prompt] * 2)) // width,
        minlength=n_models,
    )
    return counts[:n_models], prompts[:n_models]


def board_prompts(battles: pd.DataFrame) -> int:
    """Distinct prompts on the board; 0 when no battle carries a prompt id (shares are then
    counted in battles)."""
    if not (battles[PROMPT_COLUMN].astype(str) != "").any():
        return 0
    return int(_distinct(prompt_codes(battles)).size)


def _distinct(keys: np.ndarray) -> np.ndarray:
    """The distinct values of ``keys``, sorted (np.unique, hashing, took seconds on a million
    keys here; a sort takes a tenth of one)."""
    ordered = np.sort(keys)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if ordered.size else ordered
