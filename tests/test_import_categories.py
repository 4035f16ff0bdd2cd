"""`prefboard import --category COL --prompt-id COL` and the arena preset's category, language
and question_id fields (issue 16 part 1), through the CLI."""

from __future__ import annotations

import csv
import json
import tomllib
from pathlib import Path

import pandas as pd
from click.testing import CliRunner, Result

from prefboard.cli import cli

HEADER = ["model_a", "model_b", "winner", "judge", "tstamp", "category", "language", "question_id"]
MODELS = [("gpt-x", "claude-y"), ("claude-y", "llama-z"), ("llama-z", "gpt-x")]
WINNERS = ["model_a", "model_b", "tie", "model_a"]
CATEGORIES = ["coding", "coding", "creative, writing", 'maths "hard"', ""]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def arena_rows(n: int) -> list[list[str]]:
    """Deterministic arena-style rows: three votes per question, categories cycling (one in
    five blank, one with a comma, one with quotes)."""
    rows = []
    for i in range(n):
        a, b = MODELS[i % 3]
        q = i // 3
        language = "German" if i % 4 == 0 else "English"
        when = str(1_700_000_000 + 60 * i)
        rows.append([a, b, WINNERS[i % 4], f"judge{i % 12}", when, CATEGORIES[q % 5], language,
                     f"q{q}"])  # fmt: skip
    return rows


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_arena_import_keeps_category_language_and_question_id(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "arena.csv", HEADER, arena_rows(60))
    board = tmp_path / "board"
    result = invoke("import", "arena", str(source), "--into", str(board))
    assert result.exit_code == 0, result.output
    raw = tomllib.loads((board / "leaderboard.toml").read_text("utf-8"))
    # values most used first; ties by value
    assert raw["slices"] == [
        {"attribute": "category", "level": "battle",
         "values": ["coding", "creative, writing", 'maths "hard"']},
        {"attribute": "language", "level": "battle", "values": ["English", "German"]},
    ]  # fmt: skip
    battles = pd.read_csv(
        board / "results/battles/imported-arena.csv", dtype=str, keep_default_na=False
    )
    assert list(battles.columns)[6:] == ["overall", "prompt_id", "category", "language"]
    assert battles["prompt_id"].tolist() == [f"q{i // 3}" for i in range(60)]
    assert battles["category"].tolist() == [CATEGORIES[(i // 3) % 5] for i in range(60)]
    people = pd.read_csv(board / "results/participants.csv", dtype=str)
    assert list(people.columns) == ["participant_id", "strikes"]  # battle columns stay there

    check = invoke("validate", "--config", str(board / "leaderboard.toml"))
    assert check.exit_code == 0, check.output
    assert (
        "results/battles/imported-arena.csv:0:9: warning: blank-slice: 12 battle(s) with no "
        "category: they count in every ranking but in no category table"
    ) in check.output

    again = invoke("import", "arena", str(source), "--into", str(board))
    assert "60 source rows: 0 imported, 60 already present, 0 skipped" in again.output


def test_arena_source_without_the_fields_imports_as_before(tmp_path: Path) -> None:
    rows = [r[:5] for r in arena_rows(12)]
    source = write_csv(tmp_path / "plain.csv", HEADER[:5], rows)
    board = tmp_path / "board"
    assert invoke("import", "arena", str(source), "--into", str(board)).exit_code == 0
    assert "slices" not in tomllib.loads((board / "leaderboard.toml").read_text("utf-8"))
    with (board / "results/battles/imported-plain.csv").open(encoding="utf-8") as fh:
        header = fh.readline().strip().split(",")
    assert header == ["battle_id", "timestamp", "participant_id", "model_a", "model_b",
                      "turns", "overall"]  # fmt: skip


def test_pairwise_category_and_prompt_id_options_rate_per_topic(tmp_path: Path) -> None:
    header = ["left", "right", "pick", "worker", "topic", "item"]
    rows = [[r[0], r[1], r[2], r[3], ["code", "poems"][i % 2], f"item-{i // 2}"]
            for i, r in enumerate(arena_rows(120))]  # fmt: skip
    source = write_csv(tmp_path / "votes.csv", header, rows)
    board = tmp_path / "board"
    result = invoke(
        "import", "pairwise", str(source), "--into", str(board), "--model-a", "left",
        "--model-b", "right", "--winner", "pick", "--participant", "worker",
        "--category", "topic", "--prompt-id", "item",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    raw = tomllib.loads((board / "leaderboard.toml").read_text("utf-8"))
    assert raw["slices"] == [{"attribute": "topic", "level": "battle", "values": ["code", "poems"]}]
    (board / "leaderboard.toml").write_text(
        (board / "leaderboard.toml").read_text("utf-8") + "\n[privacy]\nmin_participants = 2\n"
    )
    rated = tmp_path / "rated"
    result = invoke("rate", "--config", str(board / "leaderboard.toml"), "--out", str(rated))
    assert result.exit_code == 0, result.output
    s = json.loads((rated / "standings.json").read_text("utf-8"))
    topic = next(x for x in s["slices"] if x["attribute"] == "topic")
    assert topic["level"] == "battle" and topic["published"] == ["code", "poems"]
    tables = [t for t in s["tables"] if t["slice_attribute"] == "topic"]
    assert [t["slice_value"] for t in tables] == ["code", "poems"]
    # the item ids came along: votes sharing one are clustered when the bands are computed
    assert {t["clustering"] for t in tables} == {"participant+prompt"}


def test_second_import_extends_the_category_values(tmp_path: Path) -> None:
    board = tmp_path / "board"
    first = write_csv(tmp_path / "one.csv", HEADER, arena_rows(15))
    assert invoke("import", "arena", str(first), "--into", str(board)).exit_code == 0
    rows = arena_rows(6)
    for r in rows:
        r[5] = "safety"
    second = write_csv(tmp_path / "two.csv", HEADER, rows)
    result = invoke("import", "arena", str(second), "--into", str(board))
    assert result.exit_code == 0, result.output
    raw = tomllib.loads((board / "leaderboard.toml").read_text("utf-8"))
    category = next(s for s in raw["slices"] if s["attribute"] == "category")
    assert category["values"][-1] == "safety" and category["level"] == "battle"


def test_category_clashing_with_a_slice_is_refused(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "arena.csv", HEADER, arena_rows(6))
    result = invoke(
        "import", "pairwise", str(source), "--into", str(tmp_path / "b"), "--winner", "winner",
        "--participant", "judge", "--slice", "language", "--category", "language",
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.output == (
        "Error: category column 'language' gives attribute 'language', which is taken (by "
        "another category, a --slice, the dimension or a battle column) or too long\n"
    )
    assert not (tmp_path / "b").exists()
