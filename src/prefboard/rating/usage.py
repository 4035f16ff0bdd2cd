"""How much of the board each model saw: its battles and its distinct prompts, counted from the
accepted battles for the Disclosure page (`standings.disclosure`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit

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
    a = battles["model_a"].to_numpy()
    b = battles["model_b"].to_numpy()
    prompt = prompt_codes(battles)
    width = max(n_models, int(max(a.max(), b.max())) + 1 if a.size else 0)
    n_prompts = int(prompt.max()) + 1 if prompt.size else 0
    counts, prompts = _per_model(a, b, prompt, n_prompts, width)
    return counts[:n_models], prompts[:n_models]


@njit(cache=True, nogil=True)
def _per_model(
    a: np.ndarray, b: np.ndarray, prompt: np.ndarray, n_prompts: int, n_models: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per model, its battles and the distinct prompts among them: the battles bucketed by
    prompt (a counting sort), each model marked with the last prompt it was counted for.
    Sorting every (model, prompt) key took ~0.1 s per million battles; this is a few passes."""
    start = np.zeros(n_prompts + 1, dtype=np.int64)
    for k in range(prompt.shape[0]):
        start[prompt[k] + 1] += 1
    start = np.cumsum(start)
    order = np.empty(prompt.shape[0], dtype=np.int64)
    fill = start[:-1].copy()
    for k in range(prompt.shape[0]):
        order[fill[prompt[k]]] = k
        fill[prompt[k]] += 1
    last = np.full(n_models, -1, dtype=np.int64)
    battles = np.zeros(n_models, dtype=np.int64)
    prompts = np.zeros(n_models, dtype=np.int64)
    for p in range(n_prompts):
        for i in range(start[p], start[p + 1]):
            for x in (a[order[i]], b[order[i]]):
                battles[x] += 1
                if last[x] != p:
                    last[x] = p
                    prompts[x] += 1
    return battles, prompts


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
