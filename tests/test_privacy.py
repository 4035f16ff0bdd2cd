"""A group smaller than privacy.min_participants never reaches the site or its downloads."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from prefboard import pipeline
from prefboard.cli import cli
from prefboard.standings.files import read_standings
from prefboard.standings.model import Standings


def test_tiny_group_is_suppressed_and_nothing_leaks(tiny: Path, tmp_path: Path) -> None:
    toml = tiny / "leaderboard.toml"
    toml.write_text(toml.read_text() + "\n[privacy]\nmin_participants = 2\n")
    # the accepted participants are p0001 (US, 25-34, White, Democrat) and p0002 (UK, 55-64,
    # Asian, Conservative): every group has one person, so none may be published on its own
    result = CliRunner().invoke(cli, ["validate", "--config", str(toml)])
    assert result.exit_code == 0  # a warning, not an error
    assert (
        "leaderboard.toml:46:1: warning: privacy: country: US (1), UK (1) participant(s): "
        "fewer than privacy.min_participants (2), so not published on their own"
    ) in result.output

    out = tmp_path / "site"
    pipeline.build(toml, out)
    # the standings the build published (rating the board again would only repeat them)
    standings = read_standings(out / "downloads" / "standings.json")
    assert {t.slice_attribute for t in standings.tables} == {"all", "poststratified"}
    assert all(not s.published for s in standings.samples)
    assert all(s.participants == 0 and s.battles == 0 for s in standings.samples)
    assert {r.slice_attribute for r in standings.likert} == {"all"}

    for path in out.rglob("*"):
        if not path.is_file() or path.suffix in (".js", ".png", ".gz", ".css"):
            continue
        text = path.read_text(errors="replace")
        for pid in ("p0001", "p0002", "p0003"):
            assert pid not in text, f"{pid} in {path}"
    groups = (out / "groups" / "country.html").read_text()
    assert "Not published on their own" in groups
    assert "UK" in groups  # the value is declared in the public config; no figures about it


def test_groups_over_the_threshold_are_published(tiny_standings: Standings) -> None:
    # tiny_standings: the tiny board with privacy.min_participants = 1 (conftest.small_board)
    assert tiny_standings.parameters.min_participants == 1
    assert tiny_standings.table("overall", "country", "UK") is not None
