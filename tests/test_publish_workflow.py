"""The publish workflow's own scripts, run as GitHub would run them but against a local bare
repository: the read-only build commits the site to a local gh-pages and bundles it, the
git-only push job pushes the bundle from a fresh repository, never forced."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).parent.parent
WORKFLOW = REPO / ".github" / "workflows" / "publish.yml"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "prefboard test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "prefboard test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "NO_MKDOCS_2_WARNING": "1",
}


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def scripts(remote: Path) -> tuple[str, str, str]:
    """(fetch, build, push) as the workflow has them; only the push URL points at `remote`."""
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    named = {s.get("name", ""): s["run"] for s in jobs["build"]["steps"] if "run" in s}
    fetch = named["Fetch the published versions (read-only token, git only)"]
    build = named["Build and commit the site to the local gh-pages branch (no push)"]
    push = jobs["push"]["steps"][-1]["run"]
    github = 'remote="https://github.com/$REPOSITORY.git"'
    assert github in push
    return fetch, build, push.replace(github, f'remote="{remote.as_uri()}"')


def bash(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # GitHub runs `run:` with `bash -e`
    return subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def origin(tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    toml = tiny / "leaderboard.toml"
    toml.write_text(toml.read_text() + "\n[privacy]\nmin_participants = 1\n")
    git("init", "-q", "-b", "main", cwd=tiny)
    git("add", "-A", cwd=tiny)
    git("commit", "-qm", "board", cwd=tiny)
    bare = tmp_path / "origin.git"
    git("clone", "-q", "--bare", str(tiny), str(bare), cwd=tmp_path)
    return bare


def build_job(origin: Path, runner: Path, ref_type: str, ref_name: str) -> Path:
    """The build job on a fresh runner; returns the bundle it uploads."""
    temp = runner / "temp"
    temp.mkdir(parents=True)
    work = runner / "work"
    git("clone", "-q", str(origin), str(work), cwd=runner)
    venv_bin = work / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "prefboard").write_text(f'#!/bin/sh\nexec {sys.executable} -m prefboard "$@"\n')
    (venv_bin / "prefboard").chmod(0o755)
    fetch, build, _ = scripts(origin)
    env = {"RUNNER_TEMP": str(temp), "READ_TOKEN": "read-token"}
    for script in (fetch, build):
        result = bash(script, work, **env, REF_TYPE=ref_type, REF_NAME=ref_name)
        assert result.returncode == 0, result.stdout + result.stderr
    return work / "build" / "gh-pages-bundle" / "gh-pages.bundle"


def push_job(origin: Path, runner: Path, bundle: Path) -> subprocess.CompletedProcess[str]:
    """The push job on another fresh runner, given only the downloaded bundle."""
    temp = runner / "temp"
    (temp / "bundle").mkdir(parents=True)
    shutil.copy(bundle, temp / "bundle" / "gh-pages.bundle")
    _, _, push = scripts(origin)
    return bash(push, temp, RUNNER_TEMP=str(temp), WRITE_TOKEN="write-token", REPOSITORY="a/b")


def seed_gh_pages(origin: Path, tmp_path: Path, message: str) -> str:
    """A commit on origin's gh-pages as an earlier publish left it (a v1 in versions.json)."""
    clone = tmp_path / f"seed-{message}"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    if "gh-pages" in git("ls-remote", "--heads", "origin", cwd=clone):
        git("checkout", "-q", "gh-pages", cwd=clone)
    else:
        git("switch", "-q", "--orphan", "gh-pages", cwd=clone)
    versions = '[{"version": "v1", "title": "v1", "aliases": ["latest"]}]'
    (clone / "versions.json").write_text(versions)
    (clone / "note.txt").write_text(message)
    git("add", "-A", cwd=clone)
    git("commit", "-qm", message, cwd=clone)
    git("push", "-q", "origin", "gh-pages", cwd=clone)
    return git("rev-parse", "gh-pages", cwd=origin)


def test_publish_workflow_publishes_through_a_fresh_git_only_push(
    origin: Path, tmp_path: Path
) -> None:
    seed_gh_pages(origin, tmp_path, "earlier publish")
    bundle = build_job(origin, tmp_path / "r1", "tag", "v2")
    pushed = push_job(origin, tmp_path / "r2", bundle)
    assert pushed.returncode == 0, pushed.stderr
    versions = yaml.safe_load(git("show", "gh-pages:versions.json", cwd=origin))
    # v2 was added to what origin had published: the build started from origin's tip
    assert {v["version"]: v["aliases"] for v in versions} == {"v2": ["latest"], "v1": []}
    assert "v2/index.html" in git("ls-tree", "-r", "--name-only", "gh-pages", cwd=origin)
    # the token never reached a git config, a URL or the log
    for config in (tmp_path / "r2" / "temp" / "push" / ".git" / "config", origin / "config"):
        assert "token" not in config.read_text()
    assert "write-token" not in pushed.stdout + pushed.stderr

    # a stale build (gh-pages moved since) is refused, never forced over the newer site
    tip = seed_gh_pages(origin, tmp_path, "someone else's publish")
    stale = push_job(origin, tmp_path / "r3", bundle)
    assert stale.returncode != 0
    assert git("rev-parse", "gh-pages", cwd=origin) == tip
