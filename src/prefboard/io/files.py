"""Writing into a board without following a symlink someone planted there.

A board is a git checkout, and git stores symlinks: `results -> /home/me`, a ledger named like
the file `import` is about to write, or a predictable `participants.csv.tmp` would otherwise
turn a write or an append into one outside the board. So every write here refuses a symlinked
target or folder, creates temporary files exclusively under a random name in the target's own
folder, and replaces the target with `os.replace` (atomic: readers see the old file or the new
one, never half of one).
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import BinaryIO

from prefboard.errors import PrefboardError


def _default_mode() -> int:
    # The umask can only be read by setting it: done once, at import, before any thread runs.
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _default_mode()


class UnsafePathError(PrefboardError):
    """A target is a symlink, or not a regular file/folder where one is expected."""


def refuse_symlink(path: Path) -> None:
    """Raise when `path` is a symlink (dangling ones included)."""
    if path.is_symlink():
        raise UnsafePathError(
            f"{path} is a symlink; prefboard does not read or write through symlinks "
            "(it could point outside the board): replace it with a real file or folder"
        )


def ensure_folder(folder: Path, base: Path | None = None) -> Path:
    """Create `folder` and any missing parents below `base`, refusing symlinked or non-folder
    steps from `base` down (without `base`, only `folder` itself is checked)."""
    steps = [folder]
    if base is not None and folder.is_relative_to(base):
        rel = folder.relative_to(base)
        steps = [base.joinpath(*rel.parts[: i + 1]) for i in range(len(rel.parts))]
    for step in steps:
        refuse_symlink(step)
        if step.exists() and not step.is_dir():
            raise UnsafePathError(f"{step} exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    for step in steps:  # a symlink planted while we created the folders
        refuse_symlink(step)
    return folder


def write_atomic(path: Path, content: str | bytes | Callable[[BinaryIO], None]) -> None:
    """Replace (or create) `path` with `content`: text is written as UTF-8 with "\\n" line ends;
    a callable writes into the open binary file."""
    refuse_symlink(path)
    if path.exists() and not path.is_file():
        raise UnsafePathError(f"{path} exists and is not a regular file")
    # mkstemp opens with O_CREAT | O_EXCL under a random name: nothing planted is followed.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file private (0600); keep the old file's mode, or the usual one.
        os.fchmod(fd, stat.S_IMODE(path.stat().st_mode) if path.exists() else _FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            if callable(content):
                content(fh)
            else:
                fh.write(content.encode("utf-8") if isinstance(content, str) else content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def open_append(path: Path) -> BinaryIO:
    """`path` opened to append, refusing a symlink (O_NOFOLLOW) or anything but a file."""
    return _open(path, os.O_WRONLY | os.O_APPEND, "appended to")


def open_update(path: Path) -> BinaryIO:
    """`path` opened to read and write in place, refusing a symlink or anything but a file."""
    return _open(path, os.O_RDWR, "updated")


def create_new(path: Path) -> BinaryIO:
    """A new file at `path`: fails when anything, a symlink included, is already there."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
    except FileExistsError:
        raise UnsafePathError(f"{path} already exists; prefboard will not overwrite it") from None
    return os.fdopen(fd, "wb")


def _open(path: Path, flags: int, verb: str) -> BinaryIO:
    # O_NONBLOCK: a FIFO planted in place of the file fails at once instead of blocking.
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            refuse_symlink(path)
        raise UnsafePathError(f"{path} cannot be {verb}: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafePathError(f"{path} is not a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb+" if flags & os.O_RDWR else "ab")


def packaged_text(*parts: str) -> str:
    """A file shipped in prefboard's `templates/` package data, as text (`parts` below it)."""
    return resources.files("prefboard").joinpath("templates", *parts).read_text("utf-8")
