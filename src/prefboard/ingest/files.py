"""Which files the config's `[data]` globs name, refusing any that leave the board folder."""

from __future__ import annotations

import glob
from pathlib import Path

from prefboard.errors import Problem
from prefboard.io.paths import GIT, in_git, is_within, leaves_board, parts


def shown(root: Path, file: Path) -> str:
    try:
        return file.relative_to(root).as_posix()
    except ValueError:
        return file.as_posix()


def resolve_paths(root: Path, patterns: list[str], key: str) -> tuple[list[Path], list[Problem]]:
    """Expand `[data]` globs, refusing anything that resolves outside the board folder."""
    problems: list[Problem] = []
    files: set[Path] = set()
    base = root.resolve()
    for pattern in patterns:
        if "\0" in pattern:
            problems.append(
                Problem("leaderboard.toml", 0, 0, "data-path", f"{key}: contains a NUL character")
            )
            continue
        # A Windows drive/UNC path or "~" would otherwise just match nothing, silently.
        if leaves_board(pattern):
            problems.append(
                Problem(
                    "leaderboard.toml",
                    0,
                    0,
                    "data-path",
                    f"{key}: {pattern!r} leaves the board folder",
                )
            )
            continue
        if GIT in parts(pattern):
            # .git/config can hold a push token, and a CSV reader echoes cells in its messages.
            msg = f"{key}: {pattern!r} reads from {GIT}"
            problems.append(Problem("leaderboard.toml", 0, 0, "data-path", msg))
            continue
        for name in _glob(root, pattern):
            unreadable = _unreadable_name(name)
            if unreadable:
                problems.append(unreadable)
                continue
            path = root / name
            try:
                real = path.resolve(strict=True)
            except RuntimeError:  # Python 3.11 raises this, not OSError, for a symlink loop
                real = None
            except OSError:  # a dangling link, or a loop on Pythons that raise ELOOP
                real = None if path.is_symlink() else path
            if real is None:
                msg = "symlink loop or dangling symlink: the file cannot be read"
                problems.append(Problem(name, 0, 0, "data-path", msg))
            elif not is_within(path, base):
                problems.append(
                    Problem(name, 0, 0, "data-path", "symlink points outside the board folder")
                )
            elif in_git(path, base):
                problems.append(Problem(name, 0, 0, "data-path", f"symlink points into {GIT}"))
            elif path.is_file():
                files.add(path)
    return sorted(files), problems


def _unreadable_name(name: str) -> Problem | None:
    """A file name that is not UTF-8 arrives with lone surrogates (os.fsdecode), which crashed
    everything downstream that encodes text (Arrow, the report); it is named, escaped, instead."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        msg = "the file name is not valid UTF-8; rename the file"
        return Problem(shown, 0, 0, "encoding", msg)
    return None


def _glob(root: Path, pattern: str) -> list[str]:
    """Names matching `pattern` under `root`. glob.glob's `**` follows symlinked folders, so two
    symlinks pointing back up (`loop -> ..`) make it walk 2^depth paths and never finish;
    pathlib's `**` does not follow them. Patterns without `**` keep glob.glob (bounded)."""
    if "**" in pattern:
        literal = set(Path(pattern).parts)
        try:
            names = [p.relative_to(root).as_posix() for p in root.glob(pattern)]
        except ValueError:  # `**` inside a name (e.g. "a**.csv"): glob.glob treats it as `*`
            pass
        else:
            # like glob.glob, wildcards do not match hidden names (.git, .venv)
            return sorted(
                n
                for n in names
                if not any(x.startswith(".") and x not in literal for x in n.split("/"))
            )
    return sorted(glob.glob(pattern, root_dir=root, recursive=True))
