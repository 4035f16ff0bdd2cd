"""prefboard import: sources in every format become boards that validate, rate, and re-import
idempotently; every source row is accounted for."""

from __future__ import annotations

import csv
import dataclasses
import difflib
import json
import re
import tomllib
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from prefboard import pipeline
from prefboard.config import KEY_PATTERN
from prefboard.tools.importers import (
    ARENA,
    ImportReport,
    ImportSourceError,
    PairwiseMapping,
    import_pairwise,
    normalise_key,
    parse_timestamps,
    read_source,
)
from tests.conftest import copy_board

FIXTURES = Path(__file__).parent / "fixtures"
ARENA_LANG = dataclasses.replace(ARENA, slices=("language",))
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$")

# Arena-style records: 8 rows, 6 importable (one "tie (bothbad)"), one same-model, one unknown
# winner value. Judge 1 votes in English twice and German once.
ARENA_ROWS: list[dict[str, object]] = [
    {"model_a": "GPT-4", "model_b": "claude-v1", "winner": "model_a", "judge": "arena_user_1",
     "tstamp": 1682351591.1322, "language": "English",
     "conversation_a": [{"role": "user", "content": "hi, \"there\"\nfriend"}]},
    {"model_a": "claude-v1", "model_b": "vicuna-13b", "winner": "tie (bothbad)",
     "judge": "arena_user_2", "tstamp": 1682351600.5, "language": "German",
     "conversation_a": []},
    {"model_a": "vicuna-13b", "model_b": "GPT-4", "winner": "model_b", "judge": "arena_user_1",
     "tstamp": 1682351700, "language": "English", "conversation_a": []},
    {"model_a": "vicuna-13b", "model_b": "vicuna-13b", "winner": "tie", "judge": "arena_user_3",
     "tstamp": 1682351800, "language": "English", "conversation_a": []},
    {"model_a": "GPT-4", "model_b": "claude-v1", "winner": "left", "judge": "arena_user_3",
     "tstamp": 1682351900, "language": "English", "conversation_a": []},
    {"model_a": "GPT-4", "model_b": "claude-v1", "winner": "tie", "judge": "arena_user_1",
     "tstamp": 1682352100, "language": "German", "conversation_a": []},
    {"model_a": "claude-v1", "model_b": "GPT-4", "winner": "model_b", "judge": "arena_user_4",
     "tstamp": 1682352200, "language": "English", "conversation_a": []},
    {"model_a": "vicuna-13b", "model_b": "claude-v1", "winner": "model_a", "judge": "arena_user_4",
     "tstamp": 1682352300, "language": "English", "conversation_a": []},
]  # fmt: skip


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_json(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return path


def write_parquet(path: Path, rows: list[dict[str, object]]) -> Path:
    flat = [{k: v for k, v in r.items() if k != "conversation_a"} for r in rows]
    pq.write_table(pa.Table.from_pylist(flat), path)
    return path


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def validate(board: Path) -> pipeline.Ingested:
    config, root = pipeline.load(board / "leaderboard.toml")
    return pipeline.validate(config, root)


def accepted(board: Path, kind: str = "battles") -> int:
    return validate(board).ledger.totals()[kind]["accepted"]


def battles(board: Path, stem: str) -> pd.DataFrame:
    return pd.read_csv(
        board / "results" / "battles" / f"imported-{stem}.csv", dtype=str, keep_default_na=False
    )


def snapshot(board: Path) -> dict[str, bytes]:
    return {
        p.relative_to(board).as_posix(): p.read_bytes()
        for p in sorted(board.rglob("*"))
        if p.is_file() and "import-ledger" not in p.name
    }


def only_insertions(before: str, after: str) -> bool:
    """`after` is `before` with lines inserted and none changed or removed."""
    ops = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines()).get_opcodes()
    return all(tag in ("equal", "insert") for tag, *_ in ops)


def accounted(report: ImportReport) -> bool:
    return report.imported + report.duplicates + report.skipped_total == report.source_rows


# --- Arena sources --------------------------------------------------------------------------


def test_arena_jsonl_starts_a_board_that_validates(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "arena.jsonl", ARENA_ROWS)
    board = tmp_path / "board"
    report = import_pairwise(source, board, ARENA_LANG)

    assert report.source_rows == 8
    assert report.imported == 6
    assert report.skipped == {"same-model": 1, "unknown-winner-value": 1}
    assert report.duplicates == 0
    assert report.bothbad_ties == 1
    assert report.models_added == ["claude-v1", "gpt-4", "vicuna-13b"]
    assert report.participants_added == 3
    assert accounted(report)
    assert any("several values" in n for n in report.notes)

    result = validate(board)
    assert result.ok, [p.format() for p in result.problems]
    totals = result.ledger.totals()
    assert totals["battles"]["accepted"] == 6 and totals["battles"]["excluded"] == 0
    assert totals["participants"]["accepted"] == 3

    raw = tomllib.loads((board / "leaderboard.toml").read_text())
    assert [d["key"] for d in raw["dimensions"]] == ["overall"]
    assert {m["key"]: m.get("name") for m in raw["models"]} == {
        "claude-v1": None,
        "gpt-4": "GPT-4",
        "vicuna-13b": None,
    }
    assert raw["slices"] == [{"attribute": "language", "values": ["English", "German"]}]
    assert raw["quality"]["min_turns"] == 0

    text = (board / "results" / "battles" / "imported-arena.csv").read_text()
    assert '"' not in text  # nothing needs quoting: ingest's fast unquoted path reads it
    assert '"' not in report.ledger_path.read_text()
    b = battles(board, "arena")
    assert list(b.columns) == [
        "battle_id", "timestamp", "participant_id", "model_a", "model_b", "turns", "overall"
    ]  # fmt: skip
    assert b["overall"].tolist() == ["a", "tie", "b", "tie", "b", "a"]
    assert b["timestamp"].iloc[0] == "2023-04-24T15:53:11.132200Z"
    assert b["timestamp"].iloc[2] == "2023-04-24T15:55:00.000000Z"
    assert b["timestamp"].str.match(ISO_Z).all()
    assert b["battle_id"].str.fullmatch(r"i[0-9a-f]{16}").all() and b["battle_id"].is_unique

    people = pd.read_csv(board / "results" / "participants.csv", dtype=str)
    # judge 1: English twice, German once -> English; judge 4 only English.
    assert people.set_index("participant_id")["language"].to_dict() == {
        "arena_user_1": "English",
        "arena_user_2": "German",
        "arena_user_4": "English",
    }
    assert (people["strikes"] == "0").all()

    ledger = pd.read_csv(report.ledger_path, dtype=str, keep_default_na=False)
    assert list(ledger.columns) == ["source_row", "battle_id", "status", "reason"]
    assert ledger["source_row"].tolist() == [str(i) for i in range(1, 9)]
    assert ledger["status"].value_counts().to_dict() == {"imported": 6, "skipped": 2}
    assert ledger.loc[3, "reason"] == "same-model" and ledger.loc[4, "reason"] == (
        "unknown-winner-value"
    )
    assert set(ledger.loc[ledger["status"] == "imported", "battle_id"]) == set(b["battle_id"])


@pytest.mark.parametrize("writer", [write_json, write_parquet], ids=["json", "parquet"])
def test_arena_json_and_parquet_import_like_jsonl(tmp_path: Path, writer) -> None:  # type: ignore[no-untyped-def]
    ref = import_pairwise(
        write_jsonl(tmp_path / "ref.jsonl", ARENA_ROWS), tmp_path / "ref", ARENA_LANG
    )
    suffix = ".json" if writer is write_json else ".parquet"
    source = writer(tmp_path / f"arena{suffix}", ARENA_ROWS)
    board = tmp_path / "board"
    report = import_pairwise(source, board, ARENA_LANG)
    assert (report.imported, report.skipped, report.bothbad_ties) == (
        ref.imported,
        ref.skipped,
        ref.bothbad_ties,
    )
    assert validate(board).ok
    cols = ["timestamp", "participant_id", "model_a", "model_b", "overall"]
    pd.testing.assert_frame_equal(
        battles(board, "arena")[cols], battles(tmp_path / "ref", "ref")[cols]
    )
    assert (board / "leaderboard.toml").read_text().replace(source.name, "X") == (
        (tmp_path / "ref" / "leaderboard.toml").read_text().replace("ref.jsonl", "X")
    )


def test_imported_board_rates(tmp_path: Path) -> None:
    board = tmp_path / "board"
    import_pairwise(write_jsonl(tmp_path / "arena.jsonl", ARENA_ROWS), board, ARENA_LANG)
    config_path = board / "leaderboard.toml"
    config, root = pipeline.load(config_path)
    data, standings = pipeline.rate(config, root, config_path)
    assert len(data.battles) == 6
    assert len(standings.models) == 3


# --- Generic pairwise CSV, no timestamps ------------------------------------------------------


GENERIC = PairwiseMapping(
    model_a="left_model",
    model_b="right_model",
    winner="answer",
    winner_values=("left", "right", "same"),
    participant="worker",
    dimension="helpfulness",
)


def test_generic_csv_without_timestamps(tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "Crowd Export.csv",
        ["task", "left_model", "right_model", "answer", "worker"],
        [
            ["t1", "Model A", "Model B", "left", "w-17"],
            ["t2", "Model B", "Model C", "right", "w-18"],
            ["t3", "Model C", "Model A", "same", "w-17"],
            ["t4", "Model A", "Model C", "left", "w-19"],
        ],
    )
    board = tmp_path / "board"
    report = import_pairwise(source, board, GENERIC)
    assert report.imported == 4 and report.skipped == {} and accounted(report)
    assert report.models_added == ["model-a", "model-b", "model-c"]

    result = validate(board)
    assert result.ok, [p.format() for p in result.problems]
    b = battles(board, "crowd-export")
    assert b["helpfulness"].tolist() == ["a", "b", "tie", "a"]
    assert b["timestamp"].tolist() == [
        "2000-01-01T00:00:00Z",
        "2000-01-01T00:00:01Z",
        "2000-01-01T00:00:02Z",
        "2000-01-01T00:00:03Z",
    ]
    assert b["participant_id"].tolist() == ["w-17", "w-18", "w-17", "w-19"]
    assert (b["turns"] == "1").all()
    raw = tomllib.loads((board / "leaderboard.toml").read_text())
    assert raw["dimensions"][0]["key"] == "helpfulness"
    assert [(m["key"], m["name"]) for m in raw["models"]] == [
        ("model-a", "Model A"),
        ("model-b", "Model B"),
        ("model-c", "Model C"),
    ]
    assert "slices" not in raw


def test_no_participant_column_uses_one_synthetic_participant(tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "votes.csv",
        ["model_a", "model_b", "winner"],
        [["x", "y", "model_a"], ["y", "z", "tie"], ["z", "x", "model_b"]],
    )
    board = tmp_path / "board"
    report = import_pairwise(source, board, PairwiseMapping())
    assert report.imported == 3 and report.participants_added == 1
    assert (board / "results" / "participants.csv").read_text() == (
        "participant_id,strikes\nimported,0\n"
    )
    assert battles(board, "votes")["participant_id"].eq("imported").all()
    assert accepted(board) == 3


# --- Bad and hostile rows ---------------------------------------------------------------------


def test_bad_rows_are_skipped_with_reasons_and_counted(tmp_path: Path) -> None:
    long_name = "m" * 101
    rows = [
        ["gpt-4", "claude", "model_a", "u1", "1682351591", "en"],  # ok
        ["gpt-4", "claude", "model_c", "u1", "1682351592", "en"],  # unknown winner value
        ["gpt-4", "gpt-4", "tie", "u1", "1682351593", "en"],  # same model
        ["gpt-4", "", "tie", "u1", "1682351594", "en"],  # missing model_b
        ["gpt-4", "claude", "", "u1", "1682351595", "en"],  # missing winner
        ["gpt-4", "claude", "tie", "", "1682351596", "en"],  # missing participant
        ["gpt-4", "claude", "tie", "u2", "", "en"],  # missing timestamp
        ["gpt-4", "claude", "tie", "u2", "yesterday", "en"],  # bad timestamp
        ["gpt-4", "claude", "tie", "u2", "1682351597000", "en"],  # epoch ms: ok
        [long_name, "claude", "tie", "u2", "1682351598", "en"],  # model name too long
        ["GPT-4 ", "claude", "tie", "u2", "1682351599", "en"],  # same as gpt-4 once trimmed: ok
        ["gpt\u202e-4", "gpt-4", "tie", "u2", "1682351600", "en"],  # bidi override: same model
        ["  ", "claude", "tie", "u2", "1682351601", "en"],  # blank is missing
        ["gpt-4", "claude", "model_b", "u3", "2023-04-24T15:53:11+02:00", "de"],  # ISO: ok
    ]
    source = write_csv(
        tmp_path / "mixed.csv", ["model_a", "model_b", "winner", "judge", "ts", "lang"], rows
    )
    mapping = dataclasses.replace(ARENA, timestamp="ts", slices=("lang",))
    board = tmp_path / "board"
    report = import_pairwise(source, board, mapping)
    assert report.skipped == {
        "bad-timestamp": 1,
        "field-too-long": 1,
        "missing-field": 5,
        "same-model": 2,
        "unknown-winner-value": 1,
    }
    assert report.imported == 4 and accounted(report)
    assert accepted(board) == 4
    ledger = pd.read_csv(report.ledger_path, dtype=str, keep_default_na=False)
    assert ledger["reason"].tolist() == [
        "", "unknown-winner-value", "same-model", "missing-field", "missing-field",
        "missing-field", "missing-field", "bad-timestamp", "", "field-too-long", "",
        "same-model", "missing-field", "",
    ]  # fmt: skip
    b = battles(board, "mixed")
    assert b["timestamp"].tolist() == [
        "2023-04-24T15:53:11Z",
        "2023-04-24T15:53:17Z",
        "2023-04-24T15:53:19Z",
        "2023-04-24T13:53:11Z",
    ]
    assert set(b["model_a"]) == {"gpt-4"}


def test_hostile_cells_never_break_the_csv(tmp_path: Path) -> None:
    rows = [
        {"model_a": "evil,\"model\"\r\nx", "model_b": "=HYPERLINK(\"x\")", "winner": "model_a",
         "judge": "j,1 \"quoted\"\n", "tstamp": 1700000000, "language": "Eng\x00lish\u200b"},
        {"model_a": "=HYPERLINK(\"x\")", "model_b": "plain", "winner": "model_b",
         "judge": "j\u202e2", "tstamp": 1700000001, "language": "x" * 101},
        {"model_a": "\x07", "model_b": "plain", "winner": "tie", "judge": "j3",
         "tstamp": 1700000002, "language": "English"},
    ]  # fmt: skip
    board = tmp_path / "board"
    report = import_pairwise(write_jsonl(tmp_path / "evil.jsonl", rows), board, ARENA_LANG)
    assert report.imported == 2 and report.skipped == {"missing-field": 1}
    result = validate(board)
    assert result.ok, [p.format() for p in result.problems]
    raw = tomllib.loads((board / "leaderboard.toml").read_text())
    assert {m["key"] for m in raw["models"]} == {"evil-model-x", "hyperlink-x", "plain"}
    assert {m.get("name") for m in raw["models"]} == {'evil,"model"x', '=HYPERLINK("x")', None}
    assert raw["slices"][0]["values"] == ["English"]
    people = pd.read_csv(board / "results" / "participants.csv", dtype=str, keep_default_na=False)
    assert people["participant_id"].tolist() == ['j,1 "quoted"', "j2"]
    assert people["language"].tolist() == ["English", ""]  # over 100 characters: empty


# --- Idempotency and growing boards ----------------------------------------------------------


def test_reimport_adds_nothing(tmp_path: Path) -> None:
    """A re-run is a no-op: no file written, the first run's ledger included."""
    source = write_jsonl(tmp_path / "arena.jsonl", ARENA_ROWS)
    board = tmp_path / "board"
    first = import_pairwise(source, board, ARENA_LANG)
    before = {p: p.read_bytes() for p in board.rglob("*") if p.is_file()}
    again = import_pairwise(source, board, ARENA_LANG)
    assert again.imported == 0
    assert again.duplicates == first.imported == 6
    assert again.skipped == first.skipped
    assert again.models_added == [] and again.participants_added == 0
    assert again.files_written == [] and again.ledger_path is None
    assert again.notes[-1] == (
        "nothing new: all 6 importable rows are already in the board "
        "(results/battles/imported-arena.csv); no file was written"
    )
    assert {p: p.read_bytes() for p in board.rglob("*") if p.is_file()} == before
    assert accepted(board) == 6


def test_grown_source_appends_only_new_rows(tmp_path: Path) -> None:
    source = tmp_path / "arena.jsonl"
    board = tmp_path / "board"
    write_jsonl(source, ARENA_ROWS[:5])
    first = import_pairwise(source, board, ARENA_LANG)
    ids = set(battles(board, "arena")["battle_id"])
    write_jsonl(source, ARENA_ROWS)
    second = import_pairwise(source, board, ARENA_LANG)
    assert second.duplicates == first.imported == 3
    assert second.imported == 3
    after = battles(board, "arena")
    assert ids < set(after["battle_id"]) and len(after) == 6 and after["battle_id"].is_unique
    assert second.participants_added == 1  # arena_user_4
    assert accepted(board) == 6


def test_second_source_appends_to_existing_config_keeping_comments(tmp_path: Path) -> None:
    board = tmp_path / "board"
    import_pairwise(write_jsonl(tmp_path / "arena.jsonl", ARENA_ROWS), board, ARENA_LANG)
    toml = board / "leaderboard.toml"
    text = toml.read_text()
    text = text.replace(
        '[[models]]\nkey = "gpt-4"',
        '# maintainer: GPT-4 is the March snapshot\n[[models]]\nkey = "gpt-4"',
    )
    text = text.replace(
        'values = ["English", "German"]',
        'values = [\n  "English",  # most of the data\n  "German"  # some\n]',
    )
    text = text.replace('key = "vicuna-13b"\n', 'key = "vicuna-13b"\n# maintainer: vicuna note\n')
    text += "\n# maintainer's closing remark\n"
    toml.write_text(text)

    more = [
        {"model_a": "gpt-4", "model_b": "Llama 2 70B", "winner": "model_b", "judge": "arena_user_9",
         "tstamp": 1690000000, "language": "French"},
        {"model_a": "Llama 2 70B", "model_b": "Claude-V1", "winner": "tie", "judge": "arena_user_1",
         "tstamp": 1690000001, "language": "English"},
    ]  # fmt: skip
    report = import_pairwise(write_jsonl(tmp_path / "more.jsonl", more), board, ARENA_LANG)
    assert report.imported == 2
    assert report.models_added == ["llama-2-70b"]  # gpt-4 and Claude-V1 match existing keys
    assert report.slice_values_added == {"language": ["French"]}
    assert report.slice_values_pending == {}
    assert report.participants_added == 1

    new_text = toml.read_text()
    assert only_insertions(text, new_text.replace('"German",  # some', '"German"  # some'))
    for comment in ("# maintainer: GPT-4 is the March snapshot", "# most of the data", "# some",
                    "# maintainer's closing remark"):  # fmt: skip
        assert comment in new_text
    # the new block goes after the last model's own trailing comments
    assert new_text.index("# maintainer: vicuna note") < new_text.index('key = "llama-2-70b"')
    raw = tomllib.loads(new_text)
    assert [m["key"] for m in raw["models"]] == ["claude-v1", "gpt-4", "vicuna-13b", "llama-2-70b"]
    assert raw["models"][-1]["name"] == "Llama 2 70B"
    assert raw["slices"][0]["values"] == ["English", "German", "French"]
    # the new block sits with the other models, before the slices
    assert new_text.index('key = "llama-2-70b"') < new_text.index("[[slices]]")

    result = validate(board)
    assert result.ok, [p.format() for p in result.problems]
    assert result.ledger.totals()["battles"]["accepted"] == 8
    b = battles(board, "more")
    assert b["model_b"].tolist() == ["llama-2-70b", "claude-v1"]


def test_new_slice_on_existing_board_adds_column(tmp_path: Path) -> None:
    board = tmp_path / "board"
    # the arena preset would keep `language` as a battle-level slice (a category): not here
    no_categories = dataclasses.replace(ARENA, categories=())
    import_pairwise(write_jsonl(tmp_path / "arena.jsonl", ARENA_ROWS), board, no_categories)
    assert "slices" not in tomllib.loads((board / "leaderboard.toml").read_text())
    # new votes (later times): the same votes again would be duplicates, and import nothing
    more = [{**r, "judge": "arena_user_1" if i == 0 else "arena_user_8", "tstamp": 1682360000 + i}
            for i, r in enumerate(ARENA_ROWS[:2])]  # fmt: skip
    report = import_pairwise(write_jsonl(tmp_path / "more.jsonl", more), board, ARENA_LANG)
    assert report.slice_values_added == {"language": ["English", "German"]}
    people = pd.read_csv(board / "results" / "participants.csv", dtype=str, keep_default_na=False)
    assert list(people.columns) == ["participant_id", "language", "strikes"]
    lang = people.set_index("participant_id")["language"].to_dict()
    assert lang == {"arena_user_1": "English", "arena_user_2": "", "arena_user_4": "",
                    "arena_user_8": "German"}  # fmt: skip
    assert validate(board).ok


def test_existing_handwritten_board(tmp_path: Path) -> None:
    board = tmp_path / "tiny"
    copy_board(FIXTURES / "tiny", board)
    before = (board / "leaderboard.toml").read_text()
    rows = [
        {"model_a": "Aurora-7B", "model_b": "delta-mini", "winner": "model_a", "judge": "q1",
         "tstamp": 1780000000, "country": "US"},
        {"model_a": "cobalt-large", "model_b": "Echo 2", "winner": "tie", "judge": "q2",
         "tstamp": 1780000001, "country": "FR"},
    ]  # fmt: skip
    mapping = dataclasses.replace(ARENA, slices=("country",))
    report = import_pairwise(write_jsonl(tmp_path / "extra.jsonl", rows), board, mapping)
    assert report.models_added == ["echo-2"]
    # country has population shares: a new value cannot be declared without one.
    assert report.slice_values_pending == {"country": ["FR"]}
    assert any("min_turns is 3" in n for n in report.notes)
    after = (board / "leaderboard.toml").read_text()
    assert only_insertions(before, after)
    b = battles(board, "extra")
    # every battle dimension of the board gets a column; only `overall` is answered
    assert list(b.columns)[6:] == ["overall", "helpfulness", "communication", "adaptiveness",
                                   "trust_safety", "personality"]  # fmt: skip
    assert (b["helpfulness"] == "").all()
    result = validate(board)
    assert not result.ok
    assert {p.rule for p in result.problems} == {"slice-value", "unknown-participant"}

    # Once the maintainer declares FR, the board validates; min_turns = 3 excludes the imports.
    text = after.replace('values = ["US", "UK"]', 'values = ["US", "UK", "FR"]').replace(
        "population = { US = 0.8, UK = 0.2 }", "population = { US = 0.7, UK = 0.2, FR = 0.1 }"
    )
    (board / "leaderboard.toml").write_text(text)
    result = validate(board)
    assert result.ok, [p.format() for p in result.problems]
    assert result.ledger.reasons()["battles"]["too-few-turns"] == 2


def test_unknown_dimension_on_existing_board_is_refused(tmp_path: Path) -> None:
    board = tmp_path / "board"
    source = write_jsonl(tmp_path / "arena.jsonl", ARENA_ROWS)
    import_pairwise(source, board, ARENA)
    before = snapshot(board)
    with pytest.raises(ImportSourceError, match="dimension 'safety'"):
        import_pairwise(source, board, dataclasses.replace(ARENA, dimension="safety"))
    assert snapshot(board) == before


def test_too_few_models_for_a_new_board(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "one.csv", ["model_a", "model_b", "winner"], [["x", "x", "tie"]])
    with pytest.raises(ImportSourceError, match="at least 2 models"):
        import_pairwise(source, tmp_path / "board", PairwiseMapping())
    assert not (tmp_path / "board" / "leaderboard.toml").exists()
    assert (tmp_path / "board" / "results" / "import-ledger-one.csv").exists()


def test_progress_is_reported_per_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import prefboard.tools.importers.rows as rows

    monkeypatch.setattr(rows, "CHUNK_ROWS", 3)
    calls: list[tuple[int, int]] = []
    source = write_jsonl(tmp_path / "arena.jsonl", ARENA_ROWS)
    report = import_pairwise(
        source, tmp_path / "board", ARENA_LANG, progress=lambda d, t: calls.append((d, t))
    )
    assert calls == [(3, 8), (6, 8), (8, 8)]
    assert report.imported == 6 and accepted(tmp_path / "board") == 6


# --- Reading sources and helpers -------------------------------------------------------------


def test_read_source_gives_strings(tmp_path: Path) -> None:
    rows = [{"a": 1, "b": 2.5, "c": None, "d": True, "e": [1, {"x": "y"}]},
            {"a": 2, "b": 3.0, "c": "z", "d": False, "e": []}]  # fmt: skip
    expected = {"a": ["1", "2"], "b": ["2.5", "3"], "c": ["", "z"], "d": ["true", "false"]}
    for path in (write_jsonl(tmp_path / "s.jsonl", rows), write_json(tmp_path / "s.json", rows)):
        frame = read_source(path)
        assert {c: frame[c].tolist() for c in "abcd"} == expected
        assert frame["e"].tolist() == ['[1,{"x":"y"}]', "[]"]
    pq.write_table(pa.Table.from_pylist([{k: v for k, v in r.items() if k != "e"} for r in rows]),
                   tmp_path / "s.parquet")  # fmt: skip
    frame = read_source(tmp_path / "s.parquet")
    assert {c: frame[c].tolist() for c in "abcd"} == expected
    write_csv(tmp_path / "s.csv", ["a", "b"], [["001", ""], ["NA", "x,y"]])
    frame = read_source(tmp_path / "s.csv", ["b", "a"])
    assert frame.to_dict("list") == {"b": ["", "x,y"], "a": ["001", "NA"]}


def test_jsonl_with_changing_types_falls_back(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"judge": 17, "x": 1}\n\n{"judge": "u-18", "x": 2.0}\n')
    assert read_source(path, ["judge", "x"]).to_dict("list") == {
        "judge": ["17", "u-18"],
        "x": ["1", "2"],
    }


def test_read_source_errors(tmp_path: Path) -> None:
    with pytest.raises(ImportSourceError, match="unknown source format"):
        read_source(tmp_path / "x.xlsx")
    path = write_csv(tmp_path / "s.csv", ["a"], [["1"]])
    with pytest.raises(ImportSourceError, match=r"no column.*'judge'"):
        read_source(path, ["a", "judge"])
    (tmp_path / "bad.jsonl").write_text('{"a": 1}\n{"a": \n')
    with pytest.raises(ImportSourceError, match=r"bad\.jsonl:2"):
        read_source(tmp_path / "bad.jsonl")


@given(st.text(max_size=120))
def test_normalised_keys_are_valid(name: str) -> None:
    key = normalise_key(name)
    assert re.match(KEY_PATTERN, key) and len(key) <= 100


def test_normalise_key_examples() -> None:
    assert normalise_key("GPT-4 (0613)") == "gpt-4-0613"
    assert normalise_key("Élan_v1.5") == "elan_v1.5"
    assert normalise_key("--claude") == "claude"
    assert normalise_key("模型").startswith("model-")


def test_parse_timestamps() -> None:
    import numpy as np

    values = np.array(
        [
            "1682351591.1322",  # epoch seconds
            "1682351591132",  # epoch milliseconds
            "2023-04-24T15:53:11Z",
            "2023-04-24 17:53:11+02:00",
            "2023-04-24T15:53:11",  # zone-less: UTC
            "tomorrow",
            "",
            "-5",
            "2150-01-01T00:00:00Z",
        ],
        dtype=object,
    )
    us = parse_timestamps(values)
    base = 1682351591 * 1_000_000
    assert us.tolist() == [base + 132200, base + 132000, base, base, base, -1, -1, -1, -1]


def test_parquet_with_native_timestamps_and_categories(tmp_path: Path) -> None:
    times = ["2024-01-01 10:00:00.5", "2024-01-01 11:00:00", "2024-01-02 00:00:00"]
    frame = pd.DataFrame(
        {
            "model_a": pd.Categorical(["x", "y", "z"]),
            "model_b": ["y", "z", "x"],
            "winner": ["model_a", "tie", "model_b"],
            "ts": pd.to_datetime(times, utc=True, format="ISO8601"),
        }
    )
    frame.to_parquet(tmp_path / "native.parquet")
    board = tmp_path / "board"
    report = import_pairwise(tmp_path / "native.parquet", board, PairwiseMapping(timestamp="ts"))
    assert report.imported == 3
    assert battles(board, "native")["timestamp"].tolist() == [
        "2024-01-01T10:00:00.500000Z",
        "2024-01-01T11:00:00.000000Z",
        "2024-01-02T00:00:00.000000Z",
    ]
    assert accepted(board) == 3


def test_single_line_values_are_extended_keeping_their_comment(tmp_path: Path) -> None:
    board = tmp_path / "board"
    import_pairwise(write_jsonl(tmp_path / "arena.jsonl", ARENA_ROWS), board, ARENA_LANG)
    toml = board / "leaderboard.toml"
    toml.write_text(
        toml.read_text().replace(
            'values = ["English", "German"]', 'values = ["English", "German"]  # keep "this"'
        )
    )
    more = [{**ARENA_ROWS[0], "judge": "arena_user_7", "language": "Welsh"}]
    report = import_pairwise(write_jsonl(tmp_path / "more.jsonl", more), board, ARENA_LANG)
    assert report.slice_values_added == {"language": ["Welsh"]}
    assert 'values = ["English", "German", "Welsh"]  # keep "this"' in toml.read_text()
    assert validate(board).ok
    before = snapshot(board)
    again = import_pairwise(write_jsonl(tmp_path / "more.jsonl", more), board, ARENA_LANG)
    assert (again.imported, again.duplicates) == (0, 1) and snapshot(board) == before
