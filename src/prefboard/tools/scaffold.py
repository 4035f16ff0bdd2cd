"""`prefboard init DIR`: a new leaderboard repository that validates and builds immediately."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import jinja2

from prefboard import __version__
from prefboard.config import load_config
from prefboard.errors import PrefboardError
from prefboard.io.files import create_new, ensure_folder, packaged_text, refuse_symlink

# source name in the package -> path in the new board
FILES = {
    "leaderboard.toml": "leaderboard.toml",
    "gitignore": ".gitignore",
    "index.md": "site_src/index.md",
    "workflows/pull-request.yml": ".github/workflows/pull-request.yml",
    "workflows/publish.yml": ".github/workflows/publish.yml",
    "workflows/pr-comment.yml": ".github/workflows/pr-comment.yml",
    "pr_comment.py": ".github/scripts/pr_comment.py",
}


@dataclass(frozen=True)
class Requirement:
    """The requirements.txt line that installs the prefboard running `init`, and a note when
    that line cannot work elsewhere yet."""

    line: str
    note: str | None = None


_GIT_URL = re.compile(r"https://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[A-Za-z0-9._~/-]*)?")


def requirement_for(version: str, direct_url: dict[str, Any] | None) -> Requirement:
    """From PEP 610's direct_url.json (None when installed from an index): a git install is
    pinned to its commit, anything else to the version, with a note for a local install."""
    info = direct_url or {}
    url = str(info.get("url", ""))
    vcs = info.get("vcs_info") or {}
    commit = str(vcs.get("commit_id", ""))
    if vcs.get("vcs") == "git" and re.fullmatch(r"[0-9a-f]{40}", commit):
        # credentials in the URL stay on this machine
        public = re.sub(r"^https://[^/@]*@", "https://", url)
        if _GIT_URL.fullmatch(public):
            return Requirement(f"prefboard @ git+{public}@{commit}")
    line = f"prefboard=={version}"
    if direct_url is None:
        return Requirement(line)
    note = (
        f"note: prefboard was installed from a local folder or file, so requirements.txt pins "
        f"{line}; until {version} is on PyPI, point that line at a source CI can reach, e.g. "
        f"prefboard @ git+https://github.com/OWNER/prefboard@v{version}"
    )
    return Requirement(line, note)


def installed_requirement() -> Requirement:
    try:
        raw = metadata.distribution("prefboard").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        raw = None
    try:
        direct_url = json.loads(raw) if raw else None
    except json.JSONDecodeError:
        direct_url = None
    return requirement_for(__version__, direct_url if isinstance(direct_url, dict) else None)


def _scaffold(name: str) -> str:
    return packaged_text("scaffold", name)


def init_board(target: Path) -> list[Path]:
    """Write the scaffold into `target` (which must be empty or absent); returns the files."""
    refuse_symlink(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise PrefboardError(f"{target} is not empty; prefboard init only writes into a new folder")
    written = []
    for source, dest in FILES.items():
        written.append(_create(target, dest, _scaffold(source)))
    config = load_config(target / "leaderboard.toml")
    participants = ["participant_id", *[s.attribute for s in config.participant_slices], "strikes"]
    battles = ["battle_id", "timestamp", "participant_id", "model_a", "model_b", "turns"]
    battles += [d.key for d in config.battle_dimensions]
    battles += [s.attribute for s in config.battle_slices]
    ratings = ["rating_id", "timestamp", "participant_id", "model"]
    ratings += [d.key for d in config.likert_dimensions]
    headers = {
        "results/participants.csv": participants,
        "results/battles/battles.csv": battles,
        "results/ratings/ratings.csv": ratings,
    }
    for rel, columns in headers.items():
        written.append(_create(target, rel, ",".join(columns) + "\n"))
    pin = installed_requirement()
    requirements = jinja2.Template(_scaffold("requirements.txt.j2"), autoescape=False).render(
        version=__version__, requirement=pin.line
    )
    written.append(_create(target, "requirements.txt", requirements + "\n"))
    readme = jinja2.Template(_scaffold("README.md.j2"), autoescape=False).render(
        title=config.leaderboard.title,
        participant_columns=", ".join(f"`{c}`" for c in participants),
        battle_columns=", ".join(f"`{c}`" for c in battles),
        rating_columns=", ".join(f"`{c}`" for c in ratings),
    )
    written.append(_create(target, "README.md", readme))
    return written


def _create(target: Path, rel: str, text: str) -> Path:
    """A new file: created exclusively, never through a symlink (something planted in the
    folder while init runs would make it fail, not write elsewhere)."""
    path = target / rel
    ensure_folder(path.parent, target)
    with create_new(path) as fh:
        fh.write(text.encode("utf-8"))
    return path
