"""Versioned publishing with mike: each version keeps its own standings and site.

`prefboard publish` renders the board with the version selector on, finds the previously
published version on the target branch to fill the "What changed" page, and hands the derived
mkdocs.yml to `mike deploy`. The same command runs locally and in the publish workflow.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from prefboard.errors import BuildError
from prefboard.standings.model import Standings

VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,49}$"


@dataclass(frozen=True)
class PublishReport:
    version: str
    alias: str | None
    previous: str | None
    default: str | None
    pushed: bool


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)


def repo_root(path: Path) -> Path:
    result = _git(path, "rev-parse", "--show-toplevel")
    if result.returncode != 0:
        raise BuildError(f"{path} is not inside a git repository; mike publishes to a branch")
    return Path(result.stdout.strip())


def published_versions(repo: Path, branch: str) -> list[dict[str, object]]:
    """mike's versions.json on `branch` (newest first), or [] before the first publish."""
    result = _git(repo, "show", f"{branch}:versions.json")
    if result.returncode != 0:
        return []
    try:
        versions = json.loads(result.stdout)
    except json.JSONDecodeError:
        return []
    return versions if isinstance(versions, list) else []


def previous_standings(repo: Path, branch: str, version: str) -> tuple[str, Standings] | None:
    """The standings of the newest published version other than `version`."""
    for entry in published_versions(repo, branch):
        name = str(entry.get("version", ""))
        if not name or name == version:
            continue
        result = _git(repo, "show", f"{branch}:{name}/downloads/standings.json")
        if result.returncode != 0:
            continue
        try:
            return name, Standings.model_validate_json(result.stdout)
        except ValueError:
            continue
    return None


def _mike() -> str:
    beside = Path(sys.executable).with_name("mike")
    found = str(beside) if beside.exists() else shutil.which("mike")
    if not found:
        raise BuildError("mike is not installed (pip install 'mike>=2,<3')")
    return found


def run_mike(repo: Path, *args: str) -> None:
    # mike runs `mkdocs` by name: put this environment's scripts first on PATH.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", PATH=path)
    result = subprocess.run(
        [_mike(), *args], cwd=repo, capture_output=True, text=True, env=env, check=False
    )
    if result.returncode != 0:
        raise BuildError(f"mike {args[0]} failed:\n{result.stderr.strip()[-2000:]}")


def publish(
    config_path: Path,
    version: str,
    alias: str | None = None,
    push: bool = False,
    remote: str = "origin",
    branch: str = "gh-pages",
) -> PublishReport:
    import re

    from prefboard import pipeline

    for label, value in (("version", version), ("alias", alias)):
        if value is not None and not re.match(VERSION_PATTERN, value):
            raise BuildError(f"{label} {value!r}: use letters, digits, '.', '_' or '-'")
    repo = repo_root(config_path.resolve().parent)
    previous = previous_standings(repo, branch, version)
    git_args = ["--remote", remote, "--branch", branch] + (["--push"] if push else [])
    with tempfile.TemporaryDirectory(prefix="prefboard-publish-") as tmp:
        # The same stages as `build`, stopped before MkDocs: mike runs it.
        built = pipeline.build(
            config_path, versioned=True, previous=previous, version=version, prepare_in=Path(tmp)
        )
        assert built.mkdocs_config is not None
        config_file = built.mkdocs_config
        deploy = ["deploy", "--config-file", str(config_file), *git_args]
        if alias:
            deploy += ["--update-aliases", version, alias]
        else:
            deploy += [version]
        run_mike(repo, *deploy)
        default = alias
        if default is None and not _has_default(repo, branch):
            default = version
        if default is not None:
            run_mike(repo, "set-default", "--config-file", str(config_file), *git_args, default)
            root_not_found_page(repo, branch, version)
            if push:
                push_branch(repo, remote, branch)
    return PublishReport(
        version=version,
        alias=alias,
        previous=previous[0] if previous else None,
        default=default,
        pushed=push,
    )


def _has_default(repo: Path, branch: str) -> bool:
    return _git(repo, "cat-file", "-e", f"{branch}:index.html").returncode == 0


def root_not_found_page(repo: Path, branch: str, version: str) -> None:
    """Copy `version`'s styled 404 page to the root of `branch`, where GitHub Pages looks for
    it on a missing path anywhere in the site (mike deploys it only inside each version).

    Its links are absolute (MkDocs writes the 404 page against site_url), so it keeps the
    default version's styles and navigation at any depth. One commit on the branch, made with
    git plumbing in a throw-away index, so the working tree is never touched.
    """
    page = _git(repo, "show", f"{branch}:{version}/404.html")
    if page.returncode != 0:
        return
    with tempfile.TemporaryDirectory(prefix="prefboard-index-") as tmp:
        env = dict(os.environ, GIT_INDEX_FILE=str(Path(tmp) / "index"))

        def git(*args: str, data: str | None = None) -> str:
            result = subprocess.run(
                ["git", *args], cwd=repo, env=env, input=data, capture_output=True, text=True
            )
            if result.returncode != 0:
                raise BuildError(f"git {args[0]} failed: {result.stderr.strip()}")
            return result.stdout.strip()

        git("read-tree", branch)
        blob = git("hash-object", "-w", "--stdin", data=page.stdout)
        git("update-index", "--add", "--cacheinfo", f"100644,{blob},404.html")
        tree = git("write-tree")
        if tree == git("rev-parse", f"{branch}^{{tree}}"):
            return  # already there
        message = f"Root 404 page from {version} with prefboard"
        commit = git("commit-tree", tree, "-p", branch, "-m", message)
        git("update-ref", f"refs/heads/{branch}", commit)


def push_branch(repo: Path, remote: str, branch: str) -> None:
    result = _git(repo, "push", remote, branch)
    if result.returncode != 0:
        raise BuildError(f"git push failed:\n{result.stderr.strip()[-2000:]}")
