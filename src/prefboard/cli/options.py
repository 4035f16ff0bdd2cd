"""Options shared by several commands (sqlite-utils' habit: one decorator per repeated option)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

CONFIG_HELP = "Path to leaderboard.toml; the board folder is the folder that holds it."


def config_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """The `--config` option shared by every command that reads a board."""

    @click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=Path("leaderboard.toml"),
        show_default=True,
        help=CONFIG_HELP,
    )
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


def format_option(choices: list[str], help: str) -> Callable[..., Any]:
    """`--format`, shared by the commands that print for people or for machines; the first
    choice is the default."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help=help,
    )


def out_option(help: str, default: Path | None = None) -> Callable[..., Any]:
    """`--out FOLDER` (passed as `out_dir`): where a command writes; None means the board's
    own place for it."""
    return click.option(
        "--out",
        "out_dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=default,
        show_default=default is not None,
        help=help,
    )
