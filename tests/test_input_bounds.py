"""Inputs that once crashed, hung or were wrongly refused, through the CLI: each now ends in a
located problem or a one-line `Error: ...` with exit 2, or is accepted as it should be.

The validate side of most of these is in the hostile corpus (tests/fixtures/hostile/
cases-crash.toml); here are `rate`, `build`, `serve` and `import`, which the corpus does not run.
"""

from __future__ import annotations

import json
import socket
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from prefboard.cli import cli
from prefboard.errors import listed
from tests.hostile_inputs import (
    deep_json_line,
    parquet_bomb,
    parquet_duplicated_column,
    strata_bomb_config,
)

ARENA_HEADER = ["model_a", "model_b", "winner", "judge", "tstamp"]


def run(*args: str | Path) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def error_line(result: Result) -> str:
    """The whole output of a refused command: exactly one `Error: ...` line, exit 2."""
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def arena_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def vote(a: str, b: str, judge: str = "u1", tstamp: object = 1_700_000_000) -> dict[str, object]:
    return {"model_a": a, "model_b": b, "winner": "model_a", "judge": judge, "tstamp": tstamp}


# -- rate, build and serve --------------------------------------------------------------------


def test_rate_refuses_a_negative_seed_before_rating(tiny: Path, tmp_path: Path) -> None:
    toml = tiny / "leaderboard.toml"
    toml.write_text(toml.read_text() + "\n[rating]\nseed = -1\n")
    line = error_line(run("rate", "--config", toml, "--out", tmp_path / "out"))
    assert line == (
        "Error: leaderboard.toml:63:0: invalid-value: rating.seed: "
        "Input should be greater than or equal to 0"
    )
    assert not (tmp_path / "out").exists()


def test_rate_refuses_a_million_strata_cells_up_front(tiny: Path, tmp_path: Path) -> None:
    toml = tiny / "leaderboard.toml"
    text = toml.read_text() + "\n" + strata_bomb_config()
    toml.write_text(text)
    assert len(text.encode()) < 12_000  # no bigger than the report's 12 KB config
    line = error_line(run("rate", "--config", toml, "--out", tmp_path / "out"))
    assert line == (
        "Error: leaderboard.toml:63:0: invalid-value: rating.stratify_by: s0 (100) x s1 (100) x "
        "s2 (100) make 1,000,000 joint cells (limit 1,000); stratify by fewer or coarser slices"
    )


def test_build_refuses_a_battle_after_2099_as_a_timestamp_problem(
    tiny: Path, tmp_path: Path
) -> None:
    battles = tiny / "results" / "battles" / "battles.csv"
    row = "late,2107-01-01T00:00:00Z,p0001,aurora-7b,delta-mini,5,a,a,a,a,a,a\n"
    battles.write_text(battles.read_text() + row)
    toml = tiny / "leaderboard.toml"
    result = run("build", "--config", toml, "--out", tmp_path / "site")
    assert result.exit_code == 2
    assert result.output.endswith(
        "Error: 1 problem(s) in the result files; run `prefboard validate` to see them\n"
    )
    assert not (tmp_path / "site").exists()
    assert (
        "results/battles/battles.csv:5:2: timestamp: '2107-01-01T00:00:00Z': "
        "year 2107 is outside 1970–2099"
    ) in run("validate", "--config", toml).output


def test_serve_on_a_busy_port_is_a_one_line_error(tiny: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("serve", "--config", tiny / "leaderboard.toml", "--port", str(port))
    assert error_line(result) == (
        f"Error: cannot serve on 127.0.0.1:{port}: Address already in use; "
        "stop the other server or pass --port"
    )
    assert not (tiny / "site").exists()  # refused before building anything


# -- import: sources bounded before they are parsed --------------------------------------------


@pytest.mark.parametrize("depth", [5_000, 50_000])
def test_import_refuses_deep_json_lines_at_their_line(tmp_path: Path, depth: int) -> None:
    source = tmp_path / "deep.jsonl"
    good = json.dumps(vote("a", "b")) + "\n\n"
    source.write_text(good + deep_json_line(depth))
    result = run("import", "arena", source, "--into", tmp_path / "board")
    assert error_line(result) == (
        "Error: deep.jsonl:3: JSON nested more than 64 levels deep; records are flat"
    )
    assert not (tmp_path / "board").exists()


def test_import_refuses_a_deep_json_array(tmp_path: Path) -> None:
    source = tmp_path / "deep.json"
    source.write_text("[\n" + json.dumps(vote("a", "b")) + ",\n" + deep_json_line(3_000) + "]\n")
    line = error_line(run("import", "arena", source, "--into", tmp_path / "board"))
    assert line == "Error: deep.json:3: JSON nested more than 64 levels deep; records are flat"


def test_brackets_inside_strings_do_not_count_as_nesting(tmp_path: Path) -> None:
    rows = [dict(vote("a", "b"), note="[" * 500 + "{" * 500), vote("b", "a", "u2")]
    result = run("import", "arena", arena_jsonl(tmp_path / "s.jsonl", rows), "--into", tmp_path)
    assert result.exit_code == 0, result.output
    assert "2 source rows: 2 imported, 0 already present, 0 skipped" in result.output


def test_import_of_100k_columns_is_refused_at_once(tmp_path: Path) -> None:
    source = tmp_path / "wide.csv"
    header = ARENA_HEADER + [f"extra{i}" for i in range(100_000 - len(ARENA_HEADER))]
    source.write_text(",".join(header) + "\n" + ",".join(["a", "b", "model_a", "u", "1"]) + "\n")
    line = error_line(run("import", "arena", source, "--into", tmp_path / "board"))
    assert line == "Error: wide.csv:1: 100,000 columns (limit 1,000)"


def test_duplicated_csv_column_is_found_linearly_and_named_once(tmp_path: Path) -> None:
    source = tmp_path / "dup.csv"
    header = [*ARENA_HEADER, *(f"c{i}" for i in range(900)), "winner"]
    source.write_text(",".join(header) + "\n")
    line = error_line(run("import", "arena", source, "--into", tmp_path / "board"))
    assert line == "Error: dup.csv:1: duplicated column 'winner' (2 times)"


def test_parquet_with_a_duplicated_column_is_one_line(tmp_path: Path) -> None:
    parquet_duplicated_column(tmp_path / "dup.parquet")
    line = error_line(run("import", "arena", tmp_path / "dup.parquet", "--into", tmp_path / "b"))
    assert line == "Error: dup.parquet: duplicated column 'overall' (2 times)"


def test_parquet_that_decodes_to_gigabytes_is_refused_before_it_does(tmp_path: Path) -> None:
    source = tmp_path / "bomb.parquet"
    parquet_bomb(source, rows=5_000_000, width=1_000)  # 5 GB of text once decoded
    assert source.stat().st_size < 1_000_000
    line = error_line(run("import", "pairwise", source, "--model-a", "battle_id",
                          "--model-b", "battle_id", "--winner", "battle_id",
                          "--into", tmp_path / "board"))  # fmt: skip
    assert line.startswith("Error: bomb.parquet: decodes to over 4,0")
    assert line.endswith("MB, over the limit of 4,000 MB")


# -- import: valid data kept as written ----------------------------------------------------------


def test_jsonl_iso_timestamps_keep_their_zone(tmp_path: Path) -> None:
    rows = [
        vote("a", "b", tstamp="2026-09-02T10:00:00Z"),
        vote("b", "a", tstamp="2026-09-02T11:30:00+01:00"),
    ]
    board = tmp_path / "board"
    result = run("import", "arena", arena_jsonl(tmp_path / "iso.jsonl", rows), "--into", board)
    assert result.exit_code == 0, result.output
    written = pd.read_csv(board / "results/battles/imported-iso.csv", dtype=str)
    assert written["timestamp"].tolist() == [
        "2026-09-02T10:00:00Z",
        "2026-09-02T10:30:00Z",
    ]
    assert run("validate", "--config", board / "leaderboard.toml").exit_code == 0


# -- import: one participant, one model, however the text was written -----------------------------


def test_judges_in_two_normal_forms_are_one_participant(tmp_path: Path) -> None:
    nfc, nfd = (unicodedata.normalize(form, "josé") for form in ("NFC", "NFD"))
    assert nfc != nfd
    rows = [vote("a", "b", nfc), vote("b", "a", nfd)]
    board = tmp_path / "board"
    result = run("import", "arena", arena_jsonl(tmp_path / "s.jsonl", rows), "--into", board)
    assert result.exit_code == 0, result.output
    people = pd.read_csv(board / "results/participants.csv", dtype=str)["participant_id"]
    assert people.tolist() == [nfc]


def test_a_look_alike_model_name_is_imported_with_a_warning_naming_both(tmp_path: Path) -> None:
    board = tmp_path / "board"
    first = arena_jsonl(tmp_path / "first.jsonl", [vote("aurora-7b", "cobalt-large")])
    assert run("import", "arena", first, "--into", board).exit_code == 0
    rows = [
        vote("\u0430urora-7b", "cobalt-large"),  # Cyrillic а
        vote("ｃｏｂａｌｔ-large", "aurora-7b"),  # fullwidth
        vote("Cobalt-Large", "aurora-7b"),  # only case: the declared model, no warning
    ]
    result = run("import", "arena", arena_jsonl(tmp_path / "more.jsonl", rows), "--into", board)
    assert result.exit_code == 0, result.output
    warnings = [line.strip() for line in result.output.splitlines() if "warning:" in line]
    assert warnings == [
        "warning: model 'аurora-7b' (added as 'urora-7b') looks like 'aurora-7b' but differs by "
        "U+0430 CYRILLIC SMALL LETTER A; if they are one model, fix the name in the source",
        "warning: model 'ｃｏｂａｌｔ-large' (added as 'cobalt-large-2') looks like "
        "'cobalt-large' but differs by U+FF41 FULLWIDTH LATIN SMALL LETTER A, U+FF42 FULLWIDTH "
        "LATIN SMALL LETTER B, U+FF43 FULLWIDTH LATIN SMALL LETTER C; if they are one model, fix "
        "the name in the source",
    ]


# -- messages stay short ------------------------------------------------------------------------


def test_long_lists_in_messages_are_cut() -> None:
    assert listed(["a", "b"]) == "a, b"
    assert listed(range(60_000), limit=3) == "0, 1, 2, ... and 59997 more"
    assert listed(["x" * 500]) == "x" * 60 + "…"
