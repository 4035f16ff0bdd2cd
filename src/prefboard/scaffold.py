"""`prefboard init DIR`: a new leaderboard repository that validates and builds immediately."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import jinja2

from prefboard.config import load_config
from prefboard.errors import PrefboardError
from prefboard.io.files import create_new, ensure_folder, refuse_symlink

# source name in the package -> path in the new board
FILES = {
    "leaderboard.toml": "leaderboard.toml",
    "gitignore": ".gitignore",
    "requirements.txt": "requirements.txt",
    "index.md": "site_src/index.md",
    "workflows/pull-request.yml": ".github/workflows/pull-request.yml",
    "workflows/publish.yml": ".github/workflows/publish.yml",
}


def _scaffold(name: str) -> str:
    return resources.files("prefboard").joinpath("templates", "scaffold", name).read_text("utf-8")


def init_board(target: Path) -> list[Path]:
    """Write the scaffold into `target` (which must be empty or absent); returns the files."""
    refuse_symlink(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise PrefboardError(f"{target} is not empty; prefboard init only writes into a new folder")
    written = []
    for source, dest in FILES.items():
        written.append(_create(target, dest, _scaffold(source)))
    config = load_config(target / "leaderboard.toml")
    participants = ["participant_id", *[s.attribute for s in config.slices], "strikes"]
    battles = ["battle_id", "timestamp", "participant_id", "model_a", "model_b", "turns"]
    battles += [d.key for d in config.battle_dimensions]
    ratings = ["rating_id", "timestamp", "participant_id", "model"]
    ratings += [d.key for d in config.likert_dimensions]
    headers = {
        "results/participants.csv": participants,
        "results/battles/battles.csv": battles,
        "results/ratings/ratings.csv": ratings,
    }
    for rel, columns in headers.items():
        written.append(_create(target, rel, ",".join(columns) + "\n"))
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
