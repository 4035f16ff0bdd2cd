"""Versioned publishing with mike into a throw-away local git repository (no network)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from prefboard.cli import cli

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


def test_two_versions_with_latest_alias_and_changes_page(repo: Path) -> None:
    assert publish(repo, "--version", "v1", "--alias", "latest") == (
        "published v1 as latest to gh-pages\n"
    )
    battles = repo / "results" / "battles" / "battles.csv"
    # b000002 flips from delta-mini to cobalt-large: a known rank change
    battles.write_text(battles.read_text().replace("delta-mini,4,b,b", "delta-mini,4,a,b"))
    out = publish(repo, "--version", "v2", "--alias", "latest")
    assert out == "published v2 as latest to gh-pages, compared with v1\n"

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
    assert '"version": {"default": "latest", "provider": "mike"}' in page


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
