"""How much of the board each model saw: its battles and its distinct prompts, counted from the
accepted battles for the Disclosure page (`standings.disclosure`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from prefboard.ingest.rules import PROMPT_COLUMN
from prefboard.jit import njit


def _own_codes(codes: np.ndarray, own: np.ndarray, known: int) -> np.ndarray:
    """`codes` with each battle without an id given a code of its own after the `known` ones."""
    # int32 where every code fits (8 bytes a battle less at 10M, here and in the bucket sort)
    wide = known + len(codes) >= 2**31
    out = codes.astype(np.int64 if wide else np.int32)
    out[own] = known + np.arange(int(own.sum()), dtype=out.dtype)
    return out


def _shared_codes(ids: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """A code per battle shared by the battles whose ids read the same as text, which battles
    have no id (blank or missing: their codes mean nothing), and how many codes there are.

    A Categorical (what ingest hands over) is read through its codes and its categories' text:
    the ids as text were 8.8M strings at 10M battles, hashed again (board_prompts 0.7 s and
    +80 MiB, model_usage 1.8 s and +380 MiB, at the end of the rating stage)."""
    if isinstance(ids.dtype, pd.CategoricalDtype):
        text = ids.cat.categories.astype(str)
        shared, uniques = pd.factorize(text)  # categories reading the same share a code
        raw = ids.cat.codes.to_numpy()
        at = np.maximum(raw, 0)
        if not len(text):
            return np.zeros(len(raw), np.int32), np.ones(len(raw), bool), 0
        own = (raw < 0) | np.asarray(text == "", dtype=bool)[at]
        return shared.astype(np.int32)[at], own, len(uniques)
    cells = ids.astype(str)
    codes, uniques = pd.factorize(cells)
    own = (codes < 0) | (cells == "").to_numpy(dtype=bool)
    return codes, own, len(uniques)


def model_usage(battles: pd.DataFrame, n_models: int) -> tuple[np.ndarray, np.ndarray]:
    """Per model index: accepted battles it took part in, and distinct prompts among them."""
    a = battles["model_a"].to_numpy()
    b = battles["model_b"].to_numpy()
    width = max(n_models, int(max(a.max(), b.max())) + 1 if a.size else 0)
    codes, own, known = _shared_codes(battles[PROMPT_COLUMN])
    if own.all():
        # no battle carries an id: each is a prompt of its own, so a model's prompts are its
        # battles, counted in one pass instead of bucketing every battle as a prompt of one
        counts, prompts = _own_prompts(a, b, width)
        return counts[:n_models], prompts[:n_models]
    prompt = _own_codes(codes, own, known)
    del codes
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
    order = np.empty(prompt.shape[0], dtype=prompt.dtype)  # positions fit the codes' width
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


@njit(cache=True, nogil=True)
def _own_prompts(a: np.ndarray, b: np.ndarray, n_models: int) -> tuple[np.ndarray, np.ndarray]:
    """`_per_model` when every battle is a prompt of its own: the same counts (a battle of a
    model with itself, invalid in the data, counted once among its prompts)."""
    battles = np.zeros(n_models, dtype=np.int64)
    prompts = np.zeros(n_models, dtype=np.int64)
    for k in range(a.shape[0]):
        battles[a[k]] += 1
        battles[b[k]] += 1
        prompts[a[k]] += 1
        if b[k] != a[k]:
            prompts[b[k]] += 1
    return battles, prompts


def board_prompts(battles: pd.DataFrame) -> int:
    """Distinct prompts on the board; 0 when no battle carries a prompt id, blank or missing
    (shares are then counted in battles; a missing id, which ingest never hands over, used to
    make this count its battles as prompts instead of 0)."""
    codes, own, known = _shared_codes(battles[PROMPT_COLUMN])
    if own.all():
        return 0
    # the ids in use, and each battle without one a prompt of its own
    used = np.count_nonzero(np.bincount(codes[~own], minlength=known))
    return int(used + np.count_nonzero(own))
