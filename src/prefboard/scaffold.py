"""`prefboard init DIR`: a new leaderboard repository that validates and builds immediately."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import jinja2

from prefboard.config import load_config
from prefboard.errors import PrefboardError

# source name in the package -> path in the new board
FILES = {
    "leaderboard.toml": "leaderboard.toml",
    "gitignore": ".gitignore",
    "requirements.txt": "requirements.txt",
    "index.md": "site_src/index.md",
    "workflows/pull-request.yml": ".github/workflows/pull-request.yml",
    "workflows/publish.yml": ".github/workflows/publish.yml",
    "workflows/pr-comment.yml": ".github/workflows/pr-comment.yml",
    "pr_comment.py": ".github/scripts/pr_comment.py",
}


def _scaffold(name: str) -> str:
    return resources.files("prefboard").joinpath("templates", "scaffold", name).read_text("utf-8")


def init_board(target: Path) -> list[Path]:
    """Write the scaffold into `target` (which must be empty or absent); returns the files."""
    if target.exists() and any(target.iterdir()):
        raise PrefboardError(f"{target} is not empty; prefboard init only writes into a new folder")
    written = []
    for source, dest in FILES.items():
        path = target / dest
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_scaffold(source), encoding="utf-8", newline="\n")
        written.append(path)
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
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(",".join(columns) + "\n", encoding="utf-8", newline="\n")
        written.append(path)
    readme = jinja2.Template(_scaffold("README.md.j2"), autoescape=False).render(
        title=config.leaderboard.title,
        participant_columns=", ".join(f"`{c}`" for c in participants),
        battle_columns=", ".join(f"`{c}`" for c in battles),
        rating_columns=", ".join(f"`{c}`" for c in ratings),
    )
    (target / "README.md").write_text(readme, encoding="utf-8", newline="\n")
    written.append(target / "README.md")
    return written
