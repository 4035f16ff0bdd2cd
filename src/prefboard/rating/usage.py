"""How much of the board each model saw: its battles and its distinct prompts, counted from the
accepted battles for the Disclosure page (`standings.disclosure`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from prefboard.ingest.rules import PROMPT_COLUMN


def prompt_keys(battles: pd.DataFrame) -> np.ndarray:
    """Each battle's prompt: its prompt id, or the battle itself when it has none (a vote
    without an id is about an item of its own, never shared with another vote)."""
    ids = battles[PROMPT_COLUMN].astype(str).to_numpy(dtype=object)
    own = np.array([f"\x00{i}" for i in range(len(ids))], dtype=object)
    return np.where(ids == "", own, "p" + ids)


def model_usage(battles: pd.DataFrame, n_models: int) -> tuple[np.ndarray, np.ndarray]:
    """Per model index: accepted battles it took part in, and distinct prompts among them."""
    a = battles["model_a"].to_numpy(dtype=np.int64)
    b = battles["model_b"].to_numpy(dtype=np.int64)
    counts = np.bincount(a, minlength=n_models) + np.bincount(b, minlength=n_models)
    prompt = prompt_keys(battles)
    seen = pd.DataFrame({"model": np.concatenate([a, b]), "prompt": np.concatenate([prompt] * 2)})
    distinct = seen.drop_duplicates().groupby("model").size()
    prompts = np.zeros(n_models, dtype=np.int64)
    prompts[distinct.index.to_numpy(dtype=np.int64)] = distinct.to_numpy()
    return counts[:n_models], prompts


def board_prompts(battles: pd.DataFrame) -> int:
    """Distinct prompts on the board; 0 when no battle carries a prompt id (shares are then
    counted in battles)."""
    if not (battles[PROMPT_COLUMN].astype(str) != "").any():
        return 0
    return int(pd.unique(prompt_keys(battles)).size)
