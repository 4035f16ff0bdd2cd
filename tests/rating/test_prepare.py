"""rating/inputs.prepare's per-battle codes, computed per distinct participant since issue 18:
each must equal, bit for bit and dtype for dtype, what the per-battle formula it replaced gave
(the expected values below are those formulas, copied from rating/inputs.py at 5f30cb4)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prefboard.config import load_config
from prefboard.rating import inputs
from prefboard.rating.battle_slices import code_dtype
from tests.conftest import REPO

# Ids whose UTF-8 byte order and str order must agree: accents, a non-BMP letter, digits.
IDS = ["p10", "p9", "é1", "e2", "Z", "𝔞x", "ß", "p1", "a"]


def _battles(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = np.array([*IDS, "ghost"], dtype=object)  # "ghost": in no participants table
    return pd.DataFrame(
        {
            "battle_id": pd.array([f"b{k:05d}" for k in range(n)], dtype="str"),
            "participant_id": pd.array(ids[rng.integers(0, len(ids), n)], dtype="str"),
            "prompt_id": pd.array(np.where(rng.random(n) < 0.3, "", "q1"), dtype="str"),
        }
    )


def test_slice_codes_equal_the_per_battle_lookup() -> None:
    config = load_config(REPO / "leaderboard.toml")
    battles = _battles(3_000, 1)
    rng = np.random.default_rng(2)
    participants = pd.DataFrame(
        {
            s.attribute: [s.values[k] for k in rng.integers(0, len(s.values), len(IDS))]
            for s in config.participant_slices
        },
        index=pd.Index(IDS[::-1], name="participant_id"),
    )
    people, uniques = pd.factorize(battles["participant_id"])
    got = inputs.slice_codes(config, people.astype(np.int32), uniques, participants)
    # The formula before: every battle's id looked up in the participants' index.
    where = participants.index.get_indexer(pd.Index(battles["participant_id"]))
    assert (where < 0).any()  # the unknown participant's battles are covered
    for s in config.participant_slices:
        values = pd.Index(s.values).get_indexer(pd.Index(participants[s.attribute].astype(str)))
        want = np.where(where >= 0, values[np.maximum(where, 0)], -1)
        want = want.astype(code_dtype(len(s.values)))
        assert got[s.attribute].dtype == want.dtype
        assert np.array_equal(got[s.attribute], want)


def test_participant_clusters_equal_the_sorted_factorize() -> None:
    battles = _battles(3_000, 3)
    people, uniques = pd.factorize(battles["participant_id"])
    got = inputs.cluster_codes(battles, people.astype(np.int32), uniques)
    # The formula before: a sorted factorize of every battle's id.
    want = pd.factorize(battles["participant_id"], sort=True)[0].astype(np.int32)
    assert len(got) == 2  # participant and prompt clusterings
    assert got[0].dtype == want.dtype and np.array_equal(got[0], want)


def test_prompt_clusters_give_each_battle_without_an_id_its_own_cluster() -> None:
    """The same codes whether prompt_id is text or a Categorical (as ingest hands it over):
    battles without an id each a cluster of their own after the ids' sorted codes."""
    battles = _battles(3_000, 4)
    people, uniques = pd.factorize(battles["participant_id"])
    # The formula before: blank cells found on an object copy of the column.
    codes, uniq = pd.factorize(battles["prompt_id"], sort=True)
    none = np.flatnonzero(battles["prompt_id"].to_numpy(dtype=object) == "")
    codes[none] = len(uniq) + pd.factorize(battles["battle_id"].to_numpy()[none], sort=True)[0]
    coded = battles.assign(prompt_id=battles["prompt_id"].astype("category"))
    for frame in (battles, coded):
        got = inputs.cluster_codes(frame, people.astype(np.int32), uniques)[1]
        assert np.array_equal(got, codes.astype(np.int32))
    assert len(none) > 0 and len(np.unique(codes[none])) == len(none)


@pytest.mark.parametrize("seed", range(6))
def test_canonical_order_check_agrees_with_python_str_order(seed: int) -> None:
    """Equal timestamps, ids drawn from IDS in a random order: the Arrow comparison must say
    what comparing the ids as Python strings said (the check before)."""
    rng = np.random.default_rng(seed)
    n = 6
    ids = [IDS[k] for k in rng.permutation(len(IDS))[:n]]
    if seed % 2:
        ids.sort()  # half the cases are in order
    battles = pd.DataFrame(
        {
            "battle_id": pd.array(ids, dtype="str"),
            "timestamp": pd.to_datetime(
                ["2026-01-01T00:00:00Z"] * 3 + ["2026-01-02T00:00:00Z"] * 3
            ),
        }
    )
    ts = battles["timestamp"].astype("int64").to_numpy()
    tied = np.flatnonzero(np.diff(ts) == 0)
    want = bool((np.array(ids, dtype=object)[tied] < np.array(ids, dtype=object)[tied + 1]).all())
    assert inputs._in_canonical_order(battles) is want
