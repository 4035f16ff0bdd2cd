"""The accepted battles' ids handed to rating as Categoricals (ingest/compact.py): every way
rating reads them gives what the strings gave. The expected values are the same calls made on
the plain string column, so the tests hold whatever the values are."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prefboard.config import load_config
from prefboard.ingest import csvstream, rules
from prefboard.ingest.compact import id_categories
from prefboard.ingest.validate import ingest, rows_kept

# Non-ASCII, empty, and values only in dropped rows ("gone"): the orders that can differ.
IDS = ["p3", "p1", "gone", "p3", "", "p2", "é", "p1", "a", "Z", "gone", ""]
KEEP = np.array([v != "gone" for v in IDS])


def strings() -> pd.Series:
    return pd.Series(IDS, dtype="str", name="participant_id")


def test_codes_factorize_sort_and_look_up_as_the_strings_did() -> None:
    kept = strings()[KEEP].reset_index(drop=True)
    coded = id_categories(strings(), np.flatnonzero(KEEP))
    assert isinstance(coded.dtype, pd.CategoricalDtype)
    # only the kept rows' values, sorted by code point ("Z" < "a" < "p1" < "é")
    assert list(coded.cat.categories) == ["", "Z", "a", "p1", "p2", "p3", "é"]
    assert coded.tolist() == kept.tolist()
    for sort in (False, True):  # rating/inputs.py: people (first seen), clusters (sorted)
        want_codes, want_uniques = pd.factorize(kept, sort=sort)
        got_codes, got_uniques = pd.factorize(coded, sort=sort)
        assert got_codes.tolist() == want_codes.tolist()
        assert list(got_uniques) == list(want_uniques)
    index = pd.Index(["p1", "p2", "p3", "a", "é"])  # participants.index.get_indexer
    assert index.get_indexer(pd.Index(coded)).tolist() == index.get_indexer(kept).tolist()
    assert coded.astype(str).tolist() == kept.astype(str).tolist()  # usage.py, judges.py
    assert (coded != "").tolist() == (kept != "").tolist()
    assert coded.to_numpy().tolist() == kept.to_numpy().tolist()  # battle_slices.py
    assert sorted(coded.unique()) == sorted(kept.unique())  # privacy.py
    half = {p: len(p) % 2 for p in coded.unique()}  # judges.py's split into halves
    assert coded.map(half).to_numpy(np.int64).tolist() == kept.map(half).tolist()


def test_rows_kept_codes_the_ids_and_copies_the_rest() -> None:
    frame = pd.DataFrame(
        {
            "battle_id": pd.Series([f"b{i}" for i in range(len(IDS))], dtype="str"),
            "participant_id": strings(),
            "prompt_id": strings(),
            "turns": np.arange(len(IDS), dtype=np.int32),
        }
    )
    out = rows_kept(frame.copy(), KEEP)
    assert list(out.columns) == ["battle_id", "participant_id", "prompt_id", "turns"]
    assert out["battle_id"].dtype == "str"
    assert isinstance(out["prompt_id"].dtype, pd.CategoricalDtype)
    for col in frame.columns:
        assert out[col].tolist() == frame[col][KEEP].tolist()


def test_nothing_kept_gives_an_empty_column() -> None:
    coded = id_categories(strings(), np.empty(0, dtype=np.int64))
    assert len(coded) == 0 and len(coded.cat.categories) == 0


def test_ingest_hands_over_coded_ids_and_a_coded_ledger(tiny: Path) -> None:
    result = ingest(load_config(tiny / "leaderboard.toml"), tiny)
    battles = result.battles
    assert isinstance(battles["participant_id"].dtype, pd.CategoricalDtype)
    # shared/examples: b000003 (p0003, 3 strikes) is excluded; its participant is not a value
    assert list(battles["participant_id"].cat.categories) == sorted(
        set(battles["participant_id"].astype(str))
    )
    excluded = result.ledger.excluded
    assert isinstance(excluded["reason"].dtype, pd.CategoricalDtype)
    assert result.ledger.reasons()["battles"] == {"participant-strikes": 1}


def test_ids_ascending_in_each_block_but_repeated_across_blocks_are_found(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each block says whether its ids ascend (on its thread); the column ascends only when
    every block's does and each block's first id follows the last before. Here every block
    ascends but the second starts again from y001: the repeats are found, on their lines."""
    header = (
        "battle_id,timestamp,participant_id,model_a,model_b,turns,"
        "overall,helpfulness,communication,adaptiveness,trust_safety,personality\n"
    )

    def row(i: int) -> str:
        return f"y{i:03d},2026-09-01T10:00:00Z,p0001,aurora-7b,cobalt-large,5,a,a,tie,a,tie,b\n"

    body = "".join(row(i) for i in range(1, 9)) + "".join(row(i) for i in range(1, 3))
    (tiny / "results" / "battles" / "extra.csv").write_text(header + body)
    # the first block ends right after y008 (its last line), the second holds y001 and y002
    monkeypatch.setattr(csvstream, "BLOCK_BYTES", len(header) + 8 * len(row(1)))
    seen: list[object] = []
    real = rules.id_ends
    monkeypatch.setattr(rules, "id_ends", lambda cells: seen.append(real(cells)) or seen[-1])
    result = ingest(load_config(tiny / "leaderboard.toml"), tiny)
    found = [(p.line, p.rule, p.message) for p in result.problems if p.file.endswith("extra.csv")]
    assert found == [
        (10, "duplicate-id", "battle_id 'y001' already used at results/battles/extra.csv:2"),
        (11, "duplicate-id", "battle_id 'y002' already used at results/battles/extra.csv:3"),
    ]
    # both blocks of extra.csv ascended on their own (seen in the order the threads finish)
    ends = [e.to_pylist() for e in seen if e is not None]
    assert ["y001", "y008"] in ends and ["y001", "y002"] in ends
    # in order throughout, in blocks or not: no repeat, and every row kept
    (tiny / "results" / "battles" / "extra.csv").write_text(header + "".join(map(row, range(9))))
    result = ingest(load_config(tiny / "leaderboard.toml"), tiny)
    assert not [p for p in result.problems if p.file.endswith("extra.csv")]
    assert result.ledger.totals()["battles"]["rows"] == 3 + 9
