"""Each contract rule fed a bad file: the exact file, line, column and rule must come back."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prefboard.config import load_config
from prefboard.ingest.validate import ingest

B_HEADER = (
    "battle_id,timestamp,participant_id,model_a,model_b,turns,"
    "overall,helpfulness,communication,adaptiveness,trust_safety,personality\n"
)
GOOD = "b1,2026-09-01T10:00:00Z,p0001,aurora-7b,cobalt-large,5,a,a,tie,a,tie,b\n"
R_HEADER = (
    "rating_id,timestamp,participant_id,model,helpfulness,communication,adaptiveness,"
    "trust_safety,personality,background_culture\n"
)


def run(board: Path):
    return ingest(load_config(board / "leaderboard.toml"), board)


def add_battles(board: Path, text: str, name: str = "extra.csv") -> Path:
    path = board / "results" / "battles" / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def located(board: Path) -> list[tuple[str, int, int, str]]:
    return [(p.file, p.line, p.column, p.rule) for p in run(board).problems]


def test_example_files_are_clean_and_accounted_for(tiny: Path) -> None:
    result = run(tiny)
    assert result.problems == []
    totals = result.ledger.totals()
    assert totals["battles"] == {"files": 1, "rows": 3, "accepted": 2, "excluded": 1}
    assert totals["participants"]["excluded"] == 1
    # shared/examples/README.md: p0003 has 3 strikes, so b000003 goes with the reason.
    assert result.ledger.reasons()["battles"] == {"participant-strikes": 1}
    assert list(result.battles["battle_id"]) == ["b000001", "b000002"]
    # b000002 left adaptiveness unanswered: -1; b000001 overall "a": 0; "tie": 2.
    assert list(result.battles["adaptiveness"]) == [0, -1]
    assert list(result.battles["communication"]) == [2, 1]


def test_too_few_turns_excluded_with_reason(tiny: Path) -> None:
    add_battles(tiny, B_HEADER + GOOD.replace(",5,", ",2,"))
    result = run(tiny)
    assert result.problems == []
    excluded = result.ledger.excluded
    row = excluded[excluded["row_id"] == "b1"].iloc[0]
    assert (row["file"], row["line"], row["reason"]) == (
        "results/battles/extra.csv",
        2,
        "too-few-turns",
    )


@pytest.mark.parametrize(
    ("row", "column", "rule"),
    [
        (GOOD.replace("cobalt-large", "cobalt-lrage"), 5, "unknown-model"),
        (GOOD.replace("cobalt-large", "aurora-7b"), 5, "self-battle"),
        (GOOD.replace(",a,a,tie,", ",a,x,tie,"), 8, "outcome"),
        ("b1,2026-09-01T10:00:00Z,p0001,aurora-7b,cobalt-large,5,,,,,,\n", 7, "no-answer"),
        (GOOD.replace("p0001", "p9999"), 3, "unknown-participant"),
        (GOOD.replace("2026-09-01T10:00:00Z", "2026-09-01T10:00:00"), 2, "timestamp"),
        (GOOD.replace("2026-09-01T10:00:00Z", "yesterday"), 2, "timestamp"),
        (GOOD.replace("2026-09-01T10:00:00Z", "2026-13-01T10:00:00Z"), 2, "timestamp"),
        (GOOD.replace(",5,", ",,"), 6, "required"),
        (GOOD.replace(",5,", ",-3,"), 6, "turns"),
        (GOOD.replace("b1,", ",", 1), 1, "required"),
    ],
)
def test_battle_rule_located(tiny: Path, row: str, column: int, rule: str) -> None:
    add_battles(tiny, B_HEADER + GOOD.replace("b1,", "b0,") + row)
    assert located(tiny) == [("results/battles/extra.csv", 3, column, rule)]
    result = run(tiny)
    assert f"invalid:{rule}" in result.ledger.reasons()["battles"]


def test_unknown_model_suggests_declared_key(tiny: Path) -> None:
    add_battles(tiny, B_HEADER + GOOD.replace("cobalt-large", "cobalt-lrage"))
    (problem,) = run(tiny).problems
    assert problem.message == (
        "unknown model 'cobalt-lrage'; did you mean 'cobalt-large'? (declare it under [[models]])"
    )


def test_duplicate_battle_id_across_files(tiny: Path) -> None:
    add_battles(tiny, B_HEADER + GOOD.replace("b1,", "b000001,"), name="zz.csv")
    (problem,) = run(tiny).problems
    assert (problem.file, problem.line, problem.column, problem.rule) == (
        "results/battles/zz.csv",
        2,
        1,
        "duplicate-id",
    )
    assert problem.message == "battle_id 'b000001' already used at results/battles/battles.csv:2"


def test_header_unknown_missing_and_duplicated_columns(tiny: Path) -> None:
    add_battles(tiny, B_HEADER.replace("overall", "overal").rstrip("\n") + ",turns\n" + GOOD)
    found = located(tiny)
    assert ("results/battles/extra.csv", 1, 7, "header") in found
    assert ("results/battles/extra.csv", 1, 13, "header") in found
    assert ("results/battles/extra.csv", 1, 0, "header") in found
    messages = [p.message for p in run(tiny).problems]
    assert "unknown column 'overal'; did you mean 'overall'?" in messages
    assert "duplicated column 'turns'" in messages
    assert "missing column(s): overall" in messages


def test_quoted_newline_keeps_physical_line_numbers(tiny: Path) -> None:
    quoted = GOOD.replace("b1,", '"b\n1",')  # the record spans lines 2-3
    bad = GOOD.replace("b1,", "b2,").replace("cobalt-large", "nope")
    add_battles(tiny, B_HEADER + quoted + bad)
    assert located(tiny) == [("results/battles/extra.csv", 4, 5, "unknown-model")]


def test_blank_lines_and_crlf_keep_line_numbers(tiny: Path) -> None:
    bad = GOOD.replace("b1,", "b2,").replace("cobalt-large", "nope")
    add_battles(tiny, (B_HEADER + "\n" + GOOD + "\n" + bad).replace("\n", "\r\n"))
    assert located(tiny) == [("results/battles/extra.csv", 5, 5, "unknown-model")]


def test_field_count(tiny: Path) -> None:
    add_battles(tiny, B_HEADER + GOOD.rstrip("\n") + ",extra\n")
    assert located(tiny) == [("results/battles/extra.csv", 2, 0, "field-count")]


def test_non_utf8_file(tiny: Path) -> None:
    path = tiny / "results" / "battles" / "latin1.csv"
    path.write_bytes(B_HEADER.encode() + GOOD.replace("b1", "b\xe9").encode("latin-1"))
    assert located(tiny) == [("results/battles/latin1.csv", 2, 1, "encoding")]
    assert run(tiny).ledger.reasons()["battles"]["invalid:encoding"] == 1


def test_bom_is_fine(tiny: Path) -> None:
    path = tiny / "results" / "battles" / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (B_HEADER + GOOD).encode())
    assert located(tiny) == []


def test_file_over_size_limit(tiny: Path) -> None:
    toml = tiny / "leaderboard.toml"
    toml.write_text(toml.read_text() + "\n[data]\nmax_file_mb = 0.0002\n")
    found = run(tiny).problems
    # 200 bytes: participants.csv (176 B) passes, battles (358 B) and ratings (238 B) do not.
    assert [(p.file, p.rule) for p in found] == [
        ("results/battles/battles.csv", "file-too-large"),
        ("results/ratings/ratings.csv", "file-too-large"),
    ]
    assert "over the configured limit of 0.0002 MB (data.max_file_mb)" in found[0].message


def test_participant_slice_value_and_strikes(tiny: Path) -> None:
    path = tiny / "results" / "participants.csv"
    path.write_text(
        path.read_text() + "p0004,FR,25-34,White,Democrat,0\np0005,US,25-34,White,Democrat,x\n"
    )
    assert located(tiny) == [
        ("results/participants.csv", 5, 2, "slice-value"),
        ("results/participants.csv", 6, 6, "integer"),
    ]
    assert run(tiny).problems[0].message == "'FR' is not a declared value of country (US, UK)"


def test_likert_out_of_scale_and_not_integer(tiny: Path) -> None:
    path = tiny / "results" / "ratings" / "ratings.csv"
    path.write_text(
        path.read_text()
        + "r3,2026-09-02T09:00:00Z,p0001,aurora-7b,8,5,5,7,4,3\n"
        + "r4,2026-09-02T09:00:00Z,p0001,aurora-7b,4.5,5,5,7,4,3\n"
        + "r000001,2026-09-02T09:00:00Z,p0001,aurora-7b,4,5,5,7,4,3\n"
    )
    found = located(tiny)
    assert ("results/ratings/ratings.csv", 4, 5, "likert") in found
    assert ("results/ratings/ratings.csv", 5, 5, "likert") in found
    assert ("results/ratings/ratings.csv", 6, 1, "duplicate-id") in found
    message = next(p.message for p in run(tiny).problems if p.line == 4)
    assert message == "'8' is not a whole number from 1 to 7"


def test_data_glob_outside_board_refused(tiny: Path) -> None:
    toml = tiny / "leaderboard.toml"
    toml.write_text(toml.read_text() + '\n[data]\nbattles = ["../*.csv", "/etc/*.csv"]\n')
    rules = [p.rule for p in run(tiny).problems]
    assert rules == ["data-path", "data-path"]


def test_problems_capped_but_counted(tiny: Path) -> None:
    rows = "".join(
        GOOD.replace("b1,", f"x{i},").replace("cobalt-large", "nope") for i in range(300)
    )
    add_battles(tiny, B_HEADER + rows)
    result = run(tiny)
    assert len([p for p in result.problems if p.rule == "unknown-model"]) == 201
    assert result.ledger.reasons()["battles"]["invalid:unknown-model"] == 300


CELL = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30
) | st.sampled_from(["a", "b", "tie", "", "=1+1", "<script>", '"', ",", "\n", "\r\n"])


# Up to eight rows an example: a whole ingest is ~0.2 s of fixed cost on the tiny board, so 30
# examples of several rows read more arbitrary rows (and rows beside each other: repeated ids,
# one bad row among good ones) than 120 single-row examples did, in a quarter of the time.
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.lists(CELL, min_size=12, max_size=12), min_size=1, max_size=8))
def test_arbitrary_cells_never_crash(tiny: Path, rows: list[list[str]]) -> None:
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    add_battles(tiny, B_HEADER + buf.getvalue(), name="fuzz.csv")
    result = run(tiny)
    totals = result.ledger.totals()["battles"]
    assert totals["accepted"] + totals["excluded"] == totals["rows"]
    for p in result.problems:
        assert p.file.startswith("results/") and p.rule


def test_parquet_and_jsonl_battle_files(tiny: Path) -> None:
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    toml = tiny / "leaderboard.toml"
    toml.write_text(
        toml.read_text()
        + '\n[data]\nbattles = ["results/battles/*.csv", "results/battles/*.parquet",'
        ' "results/battles/*.jsonl"]\n'
    )
    columns = B_HEADER.strip().split(",")
    row = GOOD.strip().split(",")
    pq.write_table(
        pa.table({c: [v.replace("b1", "pq1")] for c, v in zip(columns, row, strict=True)}),
        tiny / "results" / "battles" / "more.parquet",
    )
    records = [
        dict(zip(columns, row, strict=True)) | {"battle_id": "js1", "turns": 7},
        dict(zip(columns, row, strict=True)) | {"battle_id": "js2", "model_b": "nope"},
    ]
    (tiny / "results" / "battles" / "more.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records)
    )
    result = run(tiny)
    # the JSON line with an unknown model is reported on its line, column of model_b
    assert [(p.file, p.line, p.column, p.rule) for p in result.problems] == [
        ("results/battles/more.jsonl", 2, 5, "unknown-model")
    ]
    accepted = set(result.battles["battle_id"])
    assert {"pq1", "js1"} <= accepted
    assert result.battles.loc[result.battles["battle_id"] == "js1", "turns"].item() == 7
