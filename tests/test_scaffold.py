"""`prefboard init`: a fresh board validates, builds, and gets the contributor flow."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from prefboard.cli import cli


def test_fresh_board_validates_and_builds(tmp_path: Path) -> None:
    board = tmp_path / "board"
    result = CliRunner().invoke(cli, ["init", str(board)])
    assert result.exit_code == 0, result.output
    for rel in (
        "leaderboard.toml",
        "results/participants.csv",
        "results/battles/battles.csv",
        "results/ratings/ratings.csv",
        "site_src/index.md",
        ".github/workflows/pull-request.yml",
        ".github/workflows/publish.yml",
        ".github/workflows/pr-comment.yml",
        ".github/scripts/pr_comment.py",
        "README.md",
        "requirements.txt",
    ):
        assert (board / rel).is_file(), rel
    header = (board / "results/battles/battles.csv").read_text()
    assert (
        header == "battle_id,timestamp,participant_id,model_a,model_b,turns,overall,helpfulness\n"
    )
    config = str(board / "leaderboard.toml")
    validated = CliRunner().invoke(cli, ["validate", "--config", config])
    assert validated.exit_code == 0, validated.output
    built = CliRunner().invoke(cli, ["build", "--config", config])
    assert built.exit_code == 0, built.output
    home = (board / "site" / "index.html").read_text()
    assert "This leaderboard ranks models by what people prefer" in home  # site_src intro
    readme = (board / "README.md").read_text()
    assert "## Contributing results" in readme
    assert "`battle_id`, `timestamp`, `participant_id`" in readme


def test_init_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["init", str(tmp_path)])
    assert result.exit_code == 2
    assert "is not empty; prefboard init only writes into a new folder" in result.output
    assert (tmp_path / "x.txt").read_text() == "mine"
