"""First run: `init` then `import` gives a board ranking the imported models, with no placeholder
left; sources without timestamps replay after the board's existing battles."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from click.testing import CliRunner

from prefboard.cli import cli

NOTE_REMOVED = (
    "  note: removed the placeholder model(s) model-a, model-b and slice(s) age_group "
    "(no participant has a value) that `prefboard init` wrote in leaderboard.toml"
)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout


def arena_source(path: Path, n: int = 120) -> Path:
    """Three models with a clear order (gpt-x beats claude-y beats llama-z), no demographics."""
    order = ["gpt-x", "claude-y", "llama-z"]
    with path.open("w") as fh:
        for i in range(n):
            a, b = order[i % 3], order[(i + 1) % 3]
            better = "model_a" if order.index(a) < order.index(b) else "model_b"
            winner = "tie" if i % 10 == 0 else better
            row = {"model_a": a, "model_b": b, "winner": winner, "judge": f"j{i % 40}"}
            fh.write(json.dumps({**row, "tstamp": 1_700_000_000 + i}) + "\n")
    return path


def init_board(tmp_path: Path) -> Path:
    board = tmp_path / "board"
    code, out = run("init", str(board))
    assert code == 0
    assert out.splitlines()[-2] == (
        "the models Model A and Model B and the age_group slice are placeholders: edit them in "
        f"leaderboard.toml, or `prefboard import FORMAT SOURCE --into {board}` replaces them"
    )
    return board


def test_import_into_init_board_replaces_placeholders(tmp_path: Path) -> None:
    board = init_board(tmp_path)
    source = arena_source(tmp_path / "battles.jsonl")
    code, out = run("import", "arena", str(source), "--into", str(board))
    assert code == 0, out
    assert NOTE_REMOVED in out.splitlines()
    toml = (board / "leaderboard.toml").read_text()
    raw = tomllib.loads(toml)
    assert [m["key"] for m in raw["models"]] == ["claude-y", "gpt-x", "llama-z"]
    assert "slices" not in raw
    assert "placeholder" not in toml and "Demographic attributes" not in toml
    # the maintainer-facing comments of the scaffold survive
    assert "# One [[models]] block per model on the board" in toml
    header = (board / "results/participants.csv").read_text().splitlines()[0]
    assert header == "participant_id,strikes"

    code, out = run("validate", "--config", str(board / "leaderboard.toml"))
    assert code == 0, out
    code, out = run(
        "rate", "--config", str(board / "leaderboard.toml"), "--out", str(tmp_path / "s")
    )
    assert code == 0, out
    standings = json.loads((tmp_path / "s" / "standings.json").read_text())
    # no slice is left, so the headline is the pooled ranking
    table = next(
        t
        for t in standings["tables"]
        if (t["dimension"], t["slice_attribute"]) == ("overall", "poststratified")
    )
    assert table["notes"] == ["No population shares configured: this is the pooled ranking."]
    ranked = sorted(table["entries"], key=lambda e: e["rank"])
    assert [e["model"] for e in ranked] == ["gpt-x", "claude-y", "llama-z"]
    assert ranked[0]["mu_mean"] - ranked[-1]["mu_mean"] > 1  # not the all-zero ranking


def test_edited_or_used_placeholders_are_kept(tmp_path: Path) -> None:
    board = init_board(tmp_path)
    toml = board / "leaderboard.toml"
    # the maintainer renamed model-a: it is theirs now; model-b has a battle
    toml.write_text(toml.read_text().replace('name = "Model A"', 'name = "Our model"'))
    battles = board / "results/battles/battles.csv"
    battles.write_text(battles.read_text() + "b1,2026-01-01T00:00:00Z,p1,model-b,gpt-x,3,a,\n")
    (board / "results/participants.csv").write_text("participant_id,age_group,strikes\np1,,0\n")
    source = arena_source(tmp_path / "battles.jsonl")
    code, out = run("import", "arena", str(source), "--into", str(board))
    assert code == 0, out
    assert [line for line in out.splitlines() if "placeholder" in line] == [
        "  note: removed the placeholder slice(s) age_group (no participant has a value) that "
        "`prefboard init` wrote in leaderboard.toml"
    ]
    raw = tomllib.loads(toml.read_text())
    assert [m["key"] for m in raw["models"]][:2] == ["model-a", "model-b"]


def test_slice_with_values_is_kept(tmp_path: Path) -> None:
    board = init_board(tmp_path)
    (board / "results/participants.csv").write_text(
        "participant_id,age_group,strikes\nj0,18-34,0\n"
    )
    source = arena_source(tmp_path / "battles.jsonl")
    code, out = run("import", "arena", str(source), "--into", str(board))
    assert code == 0, out
    raw = tomllib.loads((board / "leaderboard.toml").read_text())
    assert [s["attribute"] for s in raw["slices"]] == ["age_group"]
    assert "models model-a, model-b" not in out


def test_synthetic_timestamps_follow_the_boards_last_battle(tmp_path: Path) -> None:
    flags = ["--model-a", "l", "--model-b", "r", "--winner", "w", "--winner-values", "l,r,t"]
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text("l,r,w\nx,y,l\ny,z,r\nx,z,t\n")
    second.write_text("l,r,w\nx,y,r\ny,z,l\n")
    board = tmp_path / "board"
    code, out = run("import", "pairwise", str(first), "--into", str(board), *flags)
    assert code == 0, out
    assert (
        "  note: the source has no timestamp column: the 3 imported battles got synthetic times "
        "2000-01-01T00:00:00Z to 2000-01-01T00:00:02Z, one second apart in source order; the "
        "site's 'data through' date is theirs, not when people voted"
    ) in out.splitlines()
    assert (
        "# The source had no timestamps: battles carry synthetic times one second apart in\n"
        "# source order, so the site's 'data through' date is not when people voted.\n"
    ) in (board / "leaderboard.toml").read_text()
    # a battle added by hand, later than the synthetic ones
    battles = board / "results/battles/imported-first.csv"
    battles.write_text(battles.read_text() + "h1,2026-03-01T10:00:00.5+01:00,imported,x,y,1,a\n")
    code, out = run("import", "pairwise", str(second), "--into", str(board), *flags)
    assert code == 0, out
    assert (
        "  note: the source has no timestamp column: the 2 imported battles got synthetic times "
        "2026-03-01T09:00:01Z to 2026-03-01T09:00:02Z (after the board's latest battle), one "
        "second apart in source order; the site's 'data through' date is theirs, not when "
        "people voted"
    ) in out.splitlines()
    rows = (board / "results/battles/imported-second.csv").read_text().splitlines()[1:]
    assert [r.split(",")[1] for r in rows] == ["2026-03-01T09:00:01Z", "2026-03-01T09:00:02Z"]
    # re-importing adds nothing and moves nothing
    code, out = run("import", "pairwise", str(second), "--into", str(board), *flags)
    assert out.splitlines()[0] == "2 source rows: 0 imported, 2 already present, 0 skipped"
    assert (board / "results/battles/imported-second.csv").read_text().splitlines()[1:] == rows
