"""Per-model usage for the Disclosure page: battles and distinct prompts per model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from prefboard.rating import usage


def _battles(a: list[int], b: list[int], prompts: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"model_a": a, "model_b": b, "prompt_id": pd.Series(prompts, dtype="str")})


def test_a_shared_prompt_counts_once_and_a_battle_without_one_counts_alone() -> None:
    # model 0 meets prompt x twice and has one battle without an id: 2 prompts; model 1: x, y
    # and two battles without an id (4); model 2: x, y and one without (3); model 3 never played.
    frame = _battles([0, 0, 1, 0, 2], [1, 2, 2, 1, 1], ["x", "x", "y", "", ""])
    battles, prompts = usage.model_usage(frame, 4)
    assert battles.tolist() == [3, 4, 3, 0]
    assert prompts.tolist() == [2, 4, 3, 0]
    assert usage.board_prompts(frame) == 4  # x, y and the two battles without an id


def test_no_prompt_ids_means_no_prompt_count() -> None:
    frame = _battles([0, 1], [1, 0], ["", ""])
    assert usage.board_prompts(frame) == 0
    assert usage.model_usage(frame, 2)[1].tolist() == [2, 2]
    assert usage.model_usage(frame.iloc[:0], 2)[1].tolist() == [0, 0]
    assert np.array_equal(usage.model_usage(frame, 2)[0], [2, 2])


def test_counts_equal_the_sorted_key_formula() -> None:
    # Reference: model_usage at 1a92afd (distinct (model, prompt) keys by a sort), on random
    # battles with shared, repeated and missing prompt ids and int16 model codes as ingest
    # gives them; model 6 never plays.
    rng = np.random.default_rng(12)
    a = rng.integers(0, 6, 3000)
    b = (a + rng.integers(1, 6, 3000)) % 6
    ids = np.where(rng.random(3000) < 0.3, "", rng.integers(0, 400, 3000).astype(str))
    frame = _battles(a.astype(np.int16).tolist(), b.tolist(), ids.tolist())
    frame[["model_a", "model_b"]] = frame[["model_a", "model_b"]].astype(np.int16)
    # each id a prompt, each battle without one a prompt of its own
    prompt, known = pd.factorize(ids)
    prompt[ids == ""] = len(known) + np.arange(int((ids == "").sum()))
    keys = np.unique(np.concatenate([a, b]) * (prompt.max() + 1) + np.concatenate([prompt] * 2))
    battles, prompts = usage.model_usage(frame, 7)
    assert battles.tolist() == (np.bincount(a, minlength=7) + np.bincount(b, minlength=7)).tolist()
    assert prompts.tolist() == np.bincount(keys // (prompt.max() + 1), minlength=7).tolist()


def test_ids_as_a_categorical_count_as_the_same_ids_as_text() -> None:
    """Ingest hands the ids over as a Categorical: read through its codes, they must give what
    the ids as text give (blank ids, a missing one, categories no battle uses, two categories
    that read the same as text, no id at all)."""
    rng = np.random.default_rng(5)
    a = rng.integers(0, 5, 2000).astype(np.int16)
    b = ((a + rng.integers(1, 5, 2000)) % 5).astype(np.int16)
    ids = np.where(rng.random(2000) < 0.25, "", rng.integers(0, 300, 2000).astype(str))
    cases = [ids.tolist(), [""] * 2000, ["only"] * 2000]
    for cells in cases:
        text = _battles(a.tolist(), b.tolist(), cells)
        text[["model_a", "model_b"]] = text[["model_a", "model_b"]].astype(np.int16)
        categories = sorted(set(cells) | {"unused"}, reverse=True)
        coded = text.assign(prompt_id=pd.Categorical(cells, categories=categories))
        assert usage.board_prompts(coded) == usage.board_prompts(text)
        for got, want in zip(usage.model_usage(coded, 6), usage.model_usage(text, 6), strict=True):
            assert got.tolist() == want.tolist()
    # a missing id is a battle without one; 1 and "1" read the same as text
    mixed = _battles([0, 1, 0, 1], [1, 2, 2, 0], ["1", "x", "", ""])
    mixed["prompt_id"] = pd.Categorical([1, "1", None, "x"], categories=[1, "1", "x"])
    as_text = mixed.assign(prompt_id=pd.Series(["1", "1", None, "x"], dtype="str"))
    assert usage.board_prompts(mixed) == usage.board_prompts(as_text) == 3
    for got, want in zip(usage.model_usage(mixed, 3), usage.model_usage(as_text, 3), strict=True):
        assert got.tolist() == want.tolist()
