"""What `prefboard validate` tells a contributor: the cause first, its consequences folded into
it, and for each mistake how to fix it (issue 17)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from prefboard.cli import cli

B_HEADER = (
    "battle_id,timestamp,participant_id,model_a,model_b,turns,"
    "overall,helpfulness,communication,adaptiveness,trust_safety,personality"
)
SUMMARY_TAIL = "ratings: 1 file(s), 0 rows, 0 accepted, 0 excluded"


def validate(board: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(cli, ["validate", "--config", str(board / "leaderboard.toml")])
    assert "Traceback" not in result.output
    return result.exit_code, result.output.splitlines()


def imported_init_board(tmp_path: Path) -> Path:
    """`init` then `import` as before the placeholders were marked: Model A/B and the empty
    age_group slice with population shares stay (a maintainer who deleted the markers)."""
    board = tmp_path / "board"
    assert CliRunner().invoke(cli, ["init", str(board)]).exit_code == 0
    toml = board / "leaderboard.toml"
    toml.write_text(
        "\n".join(
            line.split("  # prefboard:placeholder")[0] for line in toml.read_text().split("\n")
        )
    )
    source = tmp_path / "votes.jsonl"
    rows = [
        {"model_a": a, "model_b": b, "winner": "model_a", "judge": f"j{i % 5}", "tstamp": i + 1e9}
        for i, (a, b) in enumerate([("x", "y"), ("y", "z"), ("x", "z")] * 10)
    ]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = CliRunner().invoke(cli, ["import", "arena", str(source), "--into", str(board)])
    assert result.exit_code == 0, result.output
    return board


def test_headline_with_no_population_behind_it_is_refused(tmp_path: Path) -> None:
    board = imported_init_board(tmp_path)
    code, lines = validate(board)
    assert code == 2
    assert lines[0] == (
        "leaderboard.toml:73:1: population: the headline ranking is post-stratified over "
        "age_group, but no participant who voted has a value with a population share there: it "
        "would rank every model on nothing. Fill the age_group column of "
        "results/participants.csv, or remove the population shares of age_group (or the slice) "
        "in leaderboard.toml"
    )
    assert lines[-1] == "1 problem(s), 0 warning(s)"


def test_stratify_by_without_data_names_the_key_to_change(tmp_path: Path) -> None:
    board = imported_init_board(tmp_path)
    toml = board / "leaderboard.toml"
    toml.write_text(
        toml.read_text().replace("[rating]\n", '[rating]\nstratify_by = ["age_group"]\n')
    )
    code, lines = validate(board)
    assert code == 2
    assert lines[0].endswith(
        "Fill the age_group column of results/participants.csv, or drop age_group from "
        "rating.stratify_by"
    )


def test_empty_slice_outside_the_headline_is_a_warning(tmp_path: Path) -> None:
    board = imported_init_board(tmp_path)
    toml = board / "leaderboard.toml"
    toml.write_text(toml.read_text().split("population = ")[0])  # no shares: not a stratum
    code, lines = validate(board)
    assert code == 0
    assert lines[0] == (
        "leaderboard.toml:73:1: warning: population: no participant has a value for age_group, "
        "so its group pages will be empty: fill the age_group column of "
        "results/participants.csv, or remove the slice from leaderboard.toml"
    )


def test_deleting_the_slice_gives_the_cause_first_in_two_lines(tmp_path: Path) -> None:
    board = imported_init_board(tmp_path)
    toml = board / "leaderboard.toml"
    text = toml.read_text()
    toml.write_text(text[: text.index("[[slices]]")])
    code, lines = validate(board)
    assert code == 2
    assert lines == [
        "results/participants.csv:1:2: header: unknown column 'age_group'",
        "results/participants.csv:1:0: header: 5 data row(s) not checked because of the header "
        "problem above, nor the 30 battle row(s) naming a participant",
        "participants: 1 file(s), 0 rows, 0 accepted, 0 excluded",
        "  excluded        1  invalid:header",
        "battles: 2 file(s), 30 rows, 0 accepted, 30 excluded",
        "  excluded       30  invalid:unknown-participant",
        SUMMARY_TAIL,
        "2 problem(s), 0 warning(s)",
    ]


def test_missing_participants_file_is_one_line(tiny: Path) -> None:
    (tiny / "results/participants.csv").unlink()
    code, lines = validate(tiny)
    assert code == 2
    assert lines[:2] == [
        "results/participants.csv:0:0: missing-file: participants file not found",
        "results/participants.csv:1:0: unknown-participant: 3 battle row(s) and 2 rating row(s) "
        "not checked because of the problem with this file above",
    ]


def test_semicolon_separated_participants(tiny: Path) -> None:
    people = tiny / "results/participants.csv"
    people.write_text(people.read_text().replace(",", ";"))
    code, lines = validate(tiny)
    assert code == 2
    assert lines[:2] == [
        "results/participants.csv:1:0: header: this file looks semicolon-separated; save it as "
        "comma-separated CSV",
        "results/participants.csv:1:0: header: 3 data row(s) not checked because of the header "
        "problem above, nor the 3 battle row(s) and 2 rating row(s) naming a participant",
    ]


def test_row_messages_say_how_to_fix(tiny: Path) -> None:
    battles = tiny / "results/battles/battles.csv"
    battles.write_text(
        battles.read_text()
        + "n1,2026-02-30T10:00:00Z,p0001,aurora-7b,cobalt-large,5,a,,,,,\n"
        + "n2,2024-02-30T10:00:00Z,p0001,aurora-7b,cobalt-large,5,a,,,,,\n"
        + "n3,2026-09-01T25:00:00Z,p0001,aurora-7b,cobalt-large,5,a,,,,,\n"
        + "n4,2026-09-01T10:00:00Z,p0001,aurora-7b,cobalt-large,5,B,2,model_a,left,x,\n"
        + "n5,2026-09-01T10:00:00Z,p9999,aurora-7b,cobalt-large,5,a,,,,,\n"
    )
    code, lines = validate(tiny)
    assert code == 2
    assert lines[:9] == [
        "results/battles/battles.csv:5:2: timestamp: '2026-02-30T10:00:00Z' is not a real date: "
        "February has 28 days in 2026",
        "results/battles/battles.csv:6:2: timestamp: '2024-02-30T10:00:00Z' is not a real date: "
        "February has 29 days in 2024",
        "results/battles/battles.csv:7:2: timestamp: '2026-09-01T25:00:00Z' is not a real time: "
        "hours run 00-23, minutes and seconds 00-59",
        "results/battles/battles.csv:8:7: outcome: 'B' is not one of a, b, tie or empty; a means "
        "model_a was preferred, b model_b, tie neither: write 'b' if that is what it says",
        "results/battles/battles.csv:8:8: outcome: '2' is not one of a, b, tie or empty; a means "
        "model_a was preferred, b model_b, tie neither: write 'b' if that is what it says",
        "results/battles/battles.csv:8:9: outcome: 'model_a' is not one of a, b, tie or empty; a "
        "means model_a was preferred, b model_b, tie neither: write 'a' if that is what it says",
        "results/battles/battles.csv:8:10: outcome: 'left' is not one of a, b, tie or empty; a "
        "means model_a was preferred, b model_b, tie neither: write 'a' if that is what it says",
        "results/battles/battles.csv:8:11: outcome: 'x' is not one of a, b, tie or empty; a means "
        "model_a was preferred, b model_b, tie neither",
        "results/battles/battles.csv:9:3: unknown-participant: participant 'p9999' is not in "
        "results/participants.csv; add a row for them there",
    ]


def test_trailing_blank_rows_are_skipped_not_errors(tiny: Path) -> None:
    battles = tiny / "results/battles/battles.csv"
    battles.write_text(battles.read_text() + ",,,,,,,,,,,\n" * 3)
    code, lines = validate(tiny)
    assert code == 0, lines
    assert lines[-5:-1] == [
        "battles: 1 file(s), 6 rows, 2 accepted, 4 excluded",
        "  excluded        3  blank-row",
        "  excluded        1  participant-strikes",
        "ratings: 1 file(s), 2 rows, 2 accepted, 0 excluded",
    ]


def test_privacy_warnings_wait_for_clean_data(tiny: Path) -> None:
    (tiny / "leaderboard.toml").write_text(
        (tiny / "leaderboard.toml").read_text() + "\n[privacy]\nmin_participants = 2\n"
    )
    battles = tiny / "results/battles/battles.csv"
    battles.write_text(
        battles.read_text() + "n1,2026-02-30T10:00:00Z,p0001,aurora-7b,cobalt-large,5,a,,,,,\n"
    )
    code, lines = validate(tiny)
    # privacy is only judged on clean data: the error stands alone
    assert code == 2
    assert [line.split(": ")[1] for line in lines if ".csv:" in line] == ["timestamp"]


def test_misnamed_column_is_one_header_problem_not_one_per_row(tiny: Path) -> None:
    battles = tiny / "results/battles/battles.csv"
    battles.write_text(battles.read_text().replace(",turns,", ",turn,", 1))
    code, lines = validate(tiny)
    assert code == 2
    assert lines[:3] == [
        "results/battles/battles.csv:1:0: header: missing column(s): turns",
        "results/battles/battles.csv:1:6: header: unknown column 'turn'; did you mean 'turns'?",
        "results/battles/battles.csv:1:0: header: 3 data row(s) not checked because of the header "
        "problem above",
    ]
    assert lines[-1] == "3 problem(s), 0 warning(s)"
