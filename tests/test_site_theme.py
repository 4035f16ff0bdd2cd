"""What the built site takes from leaderboard.toml besides pages: its public address, the
repository link and edit buttons (hand-written pages only)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from prefboard.cli import cli


def build(board: Path, leaderboard: str) -> Path:
    toml = board / "leaderboard.toml"
    text = toml.read_text().replace('title = "Tiny board"', f'title = "Tiny board"\n{leaderboard}')
    toml.write_text(text + "\n[privacy]\nmin_participants = 1\n")
    (board / "site_src").mkdir()
    (board / "site_src" / "guide.md").write_text("# Guide\n\nHow to contribute.\n")
    result = CliRunner().invoke(cli, ["build", "--config", str(toml)])
    assert result.exit_code == 0, result.output
    return board / "site"


def test_github_repository_gives_address_repo_link_and_edit_buttons(tiny: Path) -> None:
    site = build(tiny, 'repo_url = "https://github.com/Example-Org/tiny-board.git"')
    # no leaderboard.url: the GitHub Pages address of the repository, which the version
    # selector needs to keep the page (it looks pages up in sitemap.xml)
    sitemap = (site / "sitemap.xml").read_text()
    assert "<loc>https://example-org.github.io/tiny-board/guide.html</loc>" in sitemap
    home = (site / "index.html").read_text()
    assert 'href="https://github.com/Example-Org/tiny-board"' in home  # the web page, no .git
    # the hand-written page can be edited where it lives; generated pages have no source
    guide = (site / "guide.html").read_text()
    edit = "https://github.com/Example-Org/tiny-board/edit/main/site_src/guide.md"
    assert f'href="{edit}"' in guide and 'rel="edit"' in guide
    assert 'rel="edit"' not in home
    assert 'rel="edit"' not in (site / "models" / "aurora-7b.html").read_text()


def test_repo_url_that_is_not_a_web_address_is_not_linked(tiny: Path) -> None:
    site = build(tiny, 'repo_url = "javascript:alert(1)"')
    home = (site / "index.html").read_text()
    assert "javascript:" not in home
    assert "md-source" not in home  # Material's repository widget
    assert not (site / "sitemap.xml").read_text().count("<loc>")  # no address to guess
