"""The one guard for paths that come from a board (leaderboard.toml, the CLI, the file tree).

A pull request controls leaderboard.toml and can commit symlinks, so every configured path is
checked twice: as text when the config is read (absolute, `..`, `~`, a drive, `.git`, overlaps
between the site folders and the data), and as a resolved path before anything is read from or
written to it (a symlinked parent folder can still lead out of the board).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prefboard.config import Config

GIT = ".git"
# Lock file and build work folders: git-ignored, never a site folder.
WORK_AREA = ".prefboard"
RESERVED = (GIT, WORK_AREA)
_WILDCARDS = "*?["


def leaves_board(value: str) -> bool:
    """An absolute, home-relative, Windows-drive or `..` path, or one with a NUL: as text, not
    a path inside the board folder."""
    posix, windows = PurePosixPath(value), PureWindowsPath(value)
    return (
        "\0" in value
        or posix.is_absolute()
        or windows.is_absolute()
        or bool(windows.drive)
        or ".." in posix.parts
        or ".." in windows.parts
        or value.startswith("~")
    )


def parts(value: str) -> tuple[str, ...]:
    """The folder names of a board-relative path, case-folded: `./Results/` and `results` are
    the same folder on case-insensitive filesystems (macOS, Windows), so compare them as one."""
    return tuple(p.casefold() for p in PurePosixPath(value.replace("\\", "/")).parts)


def reserved_part(value: str) -> str | None:
    """`.git` or `.prefboard` when the path is one of them or lies inside one."""
    names = parts(value)
    return next((r for r in RESERVED if r in names), None)


def overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """One path is the other or holds it."""
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def literal_folder(pattern: str, fold: bool = True) -> tuple[str, ...]:
    """The folders of a glob before its first wildcard (case-folded unless `fold` is False):
    `results/battles/*.csv` reads only under `results/battles`; a plain path is itself."""
    names = parts(pattern) if fold else PurePosixPath(pattern.replace("\\", "/")).parts
    out: list[str] = []
    for name in names:
        if any(ch in name for ch in _WILDCARDS):
            return tuple(out)
        out.append(name)
    return tuple(out)


def site_conflict(folder: str, data: Iterable[tuple[str, str]]) -> str | None:
    """Why a site folder (`[site] output` or `source`, board-relative) may not be used: the
    board itself, `.git`, the work area, or overlapping a data path. `data` is (key, path or
    glob) pairs. None when it is fine.

    A glob rooted at the board (`**/*.csv`) would make every folder overlap it; such a board
    is still safe, because a build only ever replaces a folder it marked as its own."""
    names = parts(folder)
    if not names:
        return "is the board folder itself; name a subfolder"
    reserved = reserved_part(folder)
    if reserved:
        return f"is or lies inside {reserved}, which prefboard never publishes or replaces"
    for key, path in data:
        held = literal_folder(path)
        if held and overlap(names, held):
            return f"overlaps {key} {path!r}; choose a folder apart from it"
    return None


def real_path(path: Path) -> Path | None:
    """`path` with every symlink resolved, or None for a symlink loop (Python 3.11 raises
    RuntimeError for one, not OSError, even with strict=False)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return None


def is_within(path: Path, folder: Path) -> bool:
    """`path`, with every symlink resolved, is `folder` or lies inside it."""
    return path.resolve().is_relative_to(folder.resolve())


def in_git(path: Path, root: Path) -> bool:
    """The resolved path is a `.git` folder or lies inside one (below the board folder; a
    path outside the board counts every folder name)."""
    real, board = path.resolve(), root.resolve()
    names = real.relative_to(board).parts if real.is_relative_to(board) else real.parts
    return any(p.casefold() == GIT for p in names)


def resolved_conflict(
    folder: Path, root: Path, protected: Iterable[tuple[str, Path]], inside_board: bool
) -> str | None:
    """Why the real folder behind `folder` may not be replaced or published, after symlinks:
    outside the board (when it must be inside), the board or a folder holding it, `.git`, or
    overlapping a protected path (config file, data, the other site folder)."""
    real, board = real_path(folder), root.resolve()
    if real is None:
        return "is a symlink loop"
    if inside_board and not real.is_relative_to(board):
        return "leaves the board folder (through a symlink)"
    if board.is_relative_to(real):
        return "is the board folder or holds it"
    if in_git(real, board):
        return f"is or lies inside {GIT}"
    for label, path in protected:
        other = real_path(path) or path
        if real.is_relative_to(other) or other.is_relative_to(real):
            return f"overlaps {label}"
    return None


def protected(config: Config, root: Path, config_path: Path) -> list[tuple[str, Path]]:
    """What no output folder may hold or lie in: the config file, the data, the work area."""
    d = config.data
    out = [("the config file", config_path), (WORK_AREA, root / WORK_AREA)]
    out += [("data.participants", root / d.participants)]
    if d.benchmarks:
        out.append(("data.benchmarks", root / d.benchmarks))
    for key, globs in (("data.battles", d.battles), ("data.ratings", d.ratings)):
        for pattern in globs:
            held = literal_folder(pattern, fold=False)
            if held and not leaves_board(pattern):
                out.append((f"{key} {pattern!r}", root.joinpath(*held)))
    return out


def site_source_files(
    source: Path, root: Path
) -> tuple[list[tuple[str, Path]], list[tuple[str, str]]]:
    """The files of the site source folder to publish, as (name inside it, file to read), and
    (name, reason) for each entry refused.

    Hidden names (`.git`, `.github`, ...) are skipped: MkDocs would not publish them either. A
    symlink is followed only when it stays inside the source folder, so nothing from outside the
    board or from `.git` gets published; a symlinked folder is never walked (no loops)."""
    if source.is_symlink():
        return [], [(".", "the site source folder is a symlink; prefboard does not follow it")]
    if not source.is_dir():
        return [], []
    real_source = source.resolve()
    if not real_source.is_relative_to(root.resolve()) or in_git(real_source, root):
        return [], [(".", "the site source folder leaves the board folder")]
    files: list[tuple[str, Path]] = []
    refused: list[tuple[str, str]] = []
    for dirpath, dirnames, filenames in os.walk(source, followlinks=False):
        here = Path(dirpath)
        names = [n for n in sorted(dirnames + filenames) if not n.startswith(".")]
        dirnames[:] = [n for n in sorted(dirnames) if not n.startswith(".")]
        for name in names:
            path = here / name
            rel = path.relative_to(source).as_posix()
            try:
                rel.encode("utf-8")
            except UnicodeEncodeError:  # os.walk hands such names over with lone surrogates
                shown = rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
                refused.append((shown, "the file name is not valid UTF-8; rename the file"))
                continue
            if path.is_symlink():
                target = real_path(path)
                if target is None:
                    refused.append((rel, "symlink loop"))
                elif target.is_dir():
                    refused.append((rel, "symlinked folders are not followed"))
                elif not target.is_relative_to(real_source):
                    refused.append((rel, "symlink points outside the site source folder"))
                elif target.is_file():
                    files.append((rel, target))
                else:
                    refused.append((rel, "symlink to something that is not a regular file"))
            elif path.is_file():
                files.append((rel, path))
            elif not path.is_dir():
                refused.append((rel, "not a regular file (a FIFO or device?)"))
    return sorted(files), refused


def output_conflict(
    config: Config, root: Path, config_path: Path, output: Path, from_config: bool
) -> str | None:
    """Why `output` (a site or standings folder) may not be written: `resolved_conflict`
    against the config file, the data, the work area and the site source. A folder from
    leaderboard.toml must stay inside the board; one given on the command line is the
    caller's own choice (the pull-request workflow rates a base checkout into a sibling)."""
    guarded = [*protected(config, root, config_path), ("site.source", root / config.site.source)]
    return resolved_conflict(output, root, guarded, inside_board=from_config)
