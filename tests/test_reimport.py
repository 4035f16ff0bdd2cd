"""Re-imports never double count (issue 16 part 5), through the CLI as a user runs it: the same
votes imported as CSV and then as JSONL add nothing, and a vote present in two battle files is
counted once with a warning naming both places."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner, Result

from prefboard.cli import cli

VOTES = [
    {"left": "Model A", "right": "Model B", "verdict": "left", "worker": "w1",
     "time": "2026-01-05T10:00:00Z", "item": "q1"},
    {"left": "Model B", "right": "Model C", "verdict": "tie", "worker": "w2",
     "time": "2026-01-05T10:01:00Z", "item": "q2"},
    {"left": "Model C", "right": "Model A", "verdict": "right", "worker": "w1",
     "time": "2026-01-05T10:02:00Z", "item": "q3"},
    {"left": "Model A", "right": "Model A", "verdict": "left", "worker": "w3",
     "time": "2026-01-05T10:03:00Z", "item": "q4"},
]  # fmt: skip
COLUMNS = ["--model-a", "left", "--model-b", "right", "--winner", "verdict"]
WITH_PEOPLE = [*COLUMNS, "--participant", "worker", "--timestamp", "time"]
VALUES = ["--winner-values", "left,right,tie"]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def import_(source: Path, board: Path, *flags: str) -> Result:
    result = invoke("import", "pairwise", str(source), "--into", str(board), *VALUES, *flags)
    assert result.exit_code == 0, result.output
    return result


def files(board: Path) -> dict[str, bytes]:
    return {
        p.relative_to(board).as_posix(): p.read_bytes() for p in board.rglob("*") if p.is_file()
    }


def battle_summary(board: Path) -> list[str]:
    out = invoke("validate", "--config", str(board / "leaderboard.toml")).output.splitlines()
    return [line for line in out if line.startswith(("battles:", "  excluded"))]


def test_csv_then_the_same_votes_as_jsonl_adds_nothing(tmp_path: Path) -> None:
    board = tmp_path / "board"
    first = import_(write_csv(tmp_path / "votes.csv", VOTES), board, *WITH_PEOPLE)
    assert "4 source rows: 3 imported, 0 already present, 1 skipped" in first.output
    before = files(board)
    again = import_(write_jsonl(tmp_path / "export-2026.jsonl", VOTES), board, *WITH_PEOPLE)
    assert again.stdout.splitlines() == [
        "4 source rows: 0 imported, 3 already present, 1 skipped",
        "  skipped        1  same-model",
        "  note: nothing new: all 3 importable rows are already in the board "
        "(results/battles/imported-votes.csv); no file was written",
    ]
    assert files(board) == before  # a no-op: no battle file, no ledger, no config edit
    assert battle_summary(board) == ["battles: 1 file(s), 3 rows, 3 accepted, 0 excluded"]


def test_without_timestamps_or_participants_identical_votes_stay_apart(tmp_path: Path) -> None:
    """Two identical votes in one source are two votes (the occurrence number keeps them
    apart); the same source again, in another format, is still a re-import."""
    board = tmp_path / "board"
    rows = [VOTES[0], VOTES[0], VOTES[1]]
    first = import_(write_csv(tmp_path / "plain.csv", rows), board, *COLUMNS)
    assert "3 source rows: 3 imported, 0 already present, 0 skipped" in first.output
    grown = write_jsonl(tmp_path / "plain-more.jsonl", [*rows, VOTES[0]])
    second = import_(grown, board, *COLUMNS)
    assert "4 source rows: 1 imported, 3 already present, 0 skipped" in second.output
    assert battle_summary(board) == ["battles: 2 file(s), 4 rows, 4 accepted, 0 excluded"]


def test_source_ids_identify_votes(tmp_path: Path) -> None:
    """With `--battle-id`, identical votes the source tells apart by id are two votes, and the
    ids recognise them again in another file."""
    board = tmp_path / "board"
    rows = [{**VOTES[0], "vote": "v1"}, {**VOTES[0], "vote": "v2"}]
    ids = ["--battle-id", "vote"]
    first = import_(write_csv(tmp_path / "ids.csv", rows), board, *WITH_PEOPLE, *ids)
    assert "2 source rows: 2 imported, 0 already present, 0 skipped" in first.output
    more = write_jsonl(tmp_path / "ids.jsonl", [*rows, {**VOTES[0], "vote": "v3"}])
    second = import_(more, board, *WITH_PEOPLE, *ids)
    assert "3 source rows: 1 imported, 2 already present, 0 skipped" in second.output


def test_each_import_run_keeps_its_own_ledger(tmp_path: Path) -> None:
    board = tmp_path / "board"
    import_(write_csv(tmp_path / "votes.csv", VOTES[:2]), board, *WITH_PEOPLE)
    first_ledger = (board / "results" / "import-ledger-votes.csv").read_text()
    second = import_(write_jsonl(tmp_path / "votes.jsonl", VOTES), board, *WITH_PEOPLE)
    assert "4 source rows: 1 imported, 2 already present, 1 skipped" in second.output
    assert second.stdout.splitlines()[-1] == f"ledger: {board}/results/import-ledger-votes-2.csv"
    assert (board / "results" / "import-ledger-votes.csv").read_text() == first_ledger
    ledger = (board / "results" / "import-ledger-votes-2.csv").read_text().splitlines()
    assert ledger[0] == "source_row,battle_id,status,reason"
    assert ledger[1].endswith(",duplicate,already in results/battles/imported-votes.csv")
    assert ledger[3].endswith(",imported,")
    assert ledger[4].endswith(",skipped,same-model")


def test_a_battle_in_two_files_counts_once_with_both_places(tmp_path: Path) -> None:
    """The same votes under other battle ids (an older import, a hand copy): validate warns at
    each copy naming the first, the ledger excludes the copies, build counts each vote once."""
    board = tmp_path / "board"
    import_(write_csv(tmp_path / "votes.csv", VOTES), board, *WITH_PEOPLE)
    battles = board / "results" / "battles"
    text = (battles / "imported-votes.csv").read_text().splitlines()
    copy = [text[0]] + ["old" + line[1:] for line in text[1:]]  # other ids, same votes
    (battles / "older.csv").write_text("\n".join(copy) + "\n")
    result = invoke("validate", "--config", str(board / "leaderboard.toml"))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    warning = (
        "results/battles/older.csv:{0}:1: warning: duplicate-battle: same battle as "
        "results/battles/imported-votes.csv:{0} (participant, time, models, turns, verdicts and "
        "prompt match): counted once, this copy excluded"
    )
    assert [line for line in lines if "duplicate-battle:" in line] == [
        warning.format(n) for n in (2, 3, 4)
    ]
    assert "battles: 2 file(s), 6 rows, 3 accepted, 3 excluded" in lines
    assert "  excluded        3  duplicate-battle" in lines
    built = invoke("build", "--config", str(board / "leaderboard.toml"))
    assert built.exit_code == 0, built.output
    assert warning.format(2) in built.stderr.splitlines()
    rated = invoke(
        "rate", "--config", str(board / "leaderboard.toml"), "--out", str(tmp_path / "s")
    )
    assert rated.exit_code == 0, rated.output
    standings = json.loads((tmp_path / "s" / "standings.json").read_text())
    assert standings["provenance"]["excluded"]["battles"] == {"duplicate-battle": 3}
    overall = next(t for t in standings["tables"] if t["slice_attribute"] == "all")
    assert sum(e["battles"] for e in overall["entries"]) == 2 * 3  # each vote once


def test_the_same_vote_on_another_prompt_is_a_new_judgement(tmp_path: Path) -> None:
    # Without timestamps or people, two votes differing only in the prompt judged used to get
    # one content id: the second import dropped the new prompt's vote as a duplicate.
    board = tmp_path / "board"
    first = [{**VOTES[0], "item": "q1"}, {**VOTES[1], "item": "q2"}]
    later = [{**VOTES[0], "item": "q9"}]
    import_(write_csv(tmp_path / "first.csv", first), board, *COLUMNS, "--prompt-id", "item")
    result = import_(
        write_csv(tmp_path / "later.csv", later), board, *COLUMNS, "--prompt-id", "item"
    )
    assert "nothing new" not in result.output
    battles = [
        row
        for path in sorted((board / "results").rglob("*.csv"))
        if "ledger" not in path.name and path.name != "participants.csv"
        for row in csv.DictReader(path.open(encoding="utf-8"))
    ]
    assert sorted(r["prompt_id"] for r in battles) == ["q1", "q2", "q9"]
    assert len({r["battle_id"] for r in battles}) == 3
    again = import_(
        write_csv(tmp_path / "again.csv", later), board, *COLUMNS, "--prompt-id", "item"
    )
    assert "nothing new" in again.output
