"""Versioned publishing with mike into a throw-away local git repository (no network)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from prefboard.cli import cli
from tests.conftest import Published

GIT_ENV = {
    "GIT_AUTHOR_NAME": "prefboard test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "prefboard test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    toml = tiny / "leaderboard.toml"
    toml.write_text(toml.read_text() + "\n[privacy]\nmin_participants = 1\n")
    git(tiny, "init", "-q", "-b", "main")
    git(tiny, "add", "-A")
    git(tiny, "commit", "-qm", "board")
    return tiny


def publish(repo: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["publish", "--config", str(repo / "leaderboard.toml"), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_two_versions_with_latest_alias_and_changes_page(published_tiny: Published) -> None:
    repo = published_tiny.repo
    assert published_tiny.first == "published v1 as latest to gh-pages\n"
    assert published_tiny.second == "published v2 as latest to gh-pages, compared with v1\n"

    versions = json.loads(git(repo, "show", "gh-pages:versions.json"))
    assert [(v["version"], v["aliases"]) for v in versions] == [("v2", ["latest"]), ("v1", [])]
    tree = git(repo, "ls-tree", "--name-only", "gh-pages").split()
    assert {"v1", "v2", "latest", "index.html", "versions.json"} <= set(tree)
    # the root redirects to the default (latest), and each version carries its own standings
    assert "latest/" in git(repo, "show", "gh-pages:index.html")
    v1 = json.loads(git(repo, "show", "gh-pages:v1/downloads/standings.json"))
    v2 = json.loads(git(repo, "show", "gh-pages:v2/downloads/standings.json"))
    assert (v1["version"], v2["version"]) == ("v1", "v2")
    changes = git(repo, "show", "gh-pages:v2/changes.html")
    assert "compared with the previously published version v1" in changes
    assert "↑1" in changes and "↓1" in changes
    # the version selector is configured in every page
    page = git(repo, "show", "gh-pages:v2/index.html")
    assert '"version": {"alias": true, "default": ["latest", "dev"], "provider": "mike"}' in page


def test_first_publish_without_alias_becomes_default(repo: Path) -> None:
    publish(repo, "--version", "dev")
    assert "dev/" in git(repo, "show", "gh-pages:index.html")
    page = git(repo, "show", "gh-pages:dev/changes.html")
    assert "no earlier published version" in page


def test_bad_version_name_is_refused(repo: Path) -> None:
    result = CliRunner().invoke(
        cli, ["publish", "--config", str(repo / "leaderboard.toml"), "--version", "../x"]
    )
    assert result.exit_code == 2
    assert "version '../x': use letters, digits" in result.output


def test_outside_a_git_repository(tiny: Path) -> None:
    env = dict(os.environ, GIT_CEILING_DIRECTORIES=str(tiny.parent))
    result = CliRunner(env=env).invoke(
        cli, ["publish", "--config", str(tiny / "leaderboard.toml"), "--version", "v1"]
    )
    assert result.exit_code == 2
    assert "is not inside a git repository" in result.output


def test_old_version_banner_page_keeping_selector_and_styled_404(published_tiny: Published) -> None:
    repo = published_tiny.repo  # published with a site_url: v1, then v2 as latest

    # The selector keeps the page: Material looks the current page up in the other version's
    # sitemap.xml, which lists pages only when site_url is set (mike adds the version to it).
    for version in ("v1", "v2"):
        sitemap = git(repo, "show", f"gh-pages:{version}/sitemap.xml")
        assert f"<loc>https://example.org/board/{version}/models/aurora-7b.html</loc>" in sitemap
        assert f"<loc>https://example.org/board/{version}/index.html</loc>" in sitemap
        # ... and its root, which the pages' common prefix must match
        assert f"<loc>https://example.org/board/{version}/</loc>" in sitemap
    # The banner: every page carries it hidden; Material shows it on a version whose name and
    # aliases match none of "default" - v1 once v2 took the latest alias.
    old = git(repo, "show", "gh-pages:v1/models/aurora-7b.html")
    banner = old.split('data-md-component="outdated" hidden>', 1)[1].split("</aside>", 1)[0]
    assert "You are reading an older version of this leaderboard." in banner
    assert "Go to the latest version." in banner
    assert '"default": ["latest", "dev"]' in old
    versions = json.loads(git(repo, "show", "gh-pages:versions.json"))
    assert [(v["version"], v["aliases"]) for v in versions] == [("v2", ["latest"]), ("v1", [])]
    # A styled 404 in every version and at the root, where GitHub Pages looks for it; its
    # stylesheet and links are absolute, so it is styled at any depth.
    for path, version in (("v1/404.html", "v1"), ("404.html", "v2")):
        page = git(repo, "show", f"gh-pages:{path}")
        assert "<h1>Page not found</h1>" in page
        assert f'href="/board/{version}/assets/stylesheets/main.' in page
        assert f'href="/board/{version}/index.html">home page</a>' in page
    # the root page is one commit of its own on gh-pages, after mike's
    assert git(repo, "log", "-1", "--format=%s", "gh-pages").strip() == (
        "Root 404 page from v2 with prefboard"
    )
