"""Where a build works, how it holds the board, and how the finished site takes its place.

- One build per board at a time: `board_lock` takes an `fcntl.flock` on `.prefboard/build.lock`
  (the holder's pid is written into it, so a second build can say whom it waits for). The
  kernel drops the lock when its holder dies, so a killed build never blocks the next one.
- Work folders live in `.prefboard/` beside the output folder (same filesystem, so renames are
  atomic; git-ignored). Each holds an `owner` file locked by its build: `clean_stale` removes
  only folders whose owner lock is free, i.e. whose build is dead, never a running one.
- The swap exchanges the new site and the old one in a single `renameat2(RENAME_EXCHANGE)`,
  so the output folder holds a complete site at every instant.
- A build replaces only a folder holding the `MARKER` file that an earlier build wrote.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from prefboard.errors import BuildError
from prefboard.io.files import ensure_folder, refuse_symlink
from prefboard.io.paths import WORK_AREA

MARKER = ".prefboard-site"
MARKER_TEXT = "Built by prefboard: `prefboard build` replaces this folder on the next build.\n"
LOCK_FILE = "build.lock"
WORK_PREFIX = "build-"
OWNER_FILE = "owner"
# Test-only pause point: "<stage>:<marker file>" (see `pause_point`).
PAUSE_ENV = "PREFBOARD_TEST_PAUSE"

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2  # linux/fs.h


@contextmanager
def board_lock(root: Path, notify: Callable[[str], None]) -> Iterator[None]:
    """Hold the board's build lock; waits (saying for whom) while another build holds it."""
    area = ensure_folder(root / WORK_AREA, root)
    path = area / LOCK_FILE
    refuse_symlink(path)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
    except OSError as exc:  # a symlink planted after the check, a FIFO, a folder
        raise BuildError(f"{path}: cannot be used as the build lock: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            notify(f"waiting for another build of this board (pid {holder}, lock {path})")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@dataclass(frozen=True)
class Work:
    path: Path
    owner: int  # file descriptor whose lock says "this build is alive"


def new_work(area: Path) -> Work:
    path = Path(tempfile.mkdtemp(prefix=WORK_PREFIX, dir=area))
    fd = os.open(path / OWNER_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, f"{os.getpid()}\n".encode())
    return Work(path, fd)


def release(work: Work) -> None:
    shutil.rmtree(work.path, ignore_errors=True)
    os.close(work.owner)


def work_area(output: Path) -> Path:
    """`.prefboard/` beside the output folder, created without following a planted symlink."""
    return ensure_folder(output.parent / WORK_AREA, output.parent)


def clean_stale(area: Path, output: Path) -> list[Path]:
    """Remove the work folders of dead builds (their owner lock is free), first putting back a
    site that the two-rename fallback had moved away. Returns the folders removed."""
    removed = []
    for work in sorted(area.glob(WORK_PREFIX + "*")):
        if work.is_symlink() or not work.is_dir():
            continue
        try:
            fd = os.open(work / OWNER_FILE, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue  # being created this instant, or not a work folder of ours
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its build is still running
            old = work / "old"
            if old.is_dir() and not os.path.lexists(output):
                old.rename(output)
            shutil.rmtree(work, ignore_errors=True)
            removed.append(work)
        finally:
            os.close(fd)
    return removed


def check_replaceable(output: Path) -> None:
    """Refuse to replace anything but an absent or empty folder or a site prefboard built."""
    if output.is_symlink():
        raise BuildError(f"{output} is a symlink; the build does not replace symlinks")
    if not output.exists():
        return
    if not output.is_dir():
        raise BuildError(f"{output} exists and is not a folder")
    marker = output / MARKER
    if marker.is_file() and not marker.is_symlink():
        return
    if any(output.iterdir()):
        raise BuildError(
            f"{output} is not empty and was not built by prefboard (no {MARKER} file); "
            "move it away or choose another output folder"
        )


def mark(site: Path) -> None:
    (site / MARKER).write_text(MARKER_TEXT, encoding="utf-8")


def swap(new: Path, output: Path, work: Path) -> None:
    """Put the site `new` at `output`; the old site, if any, ends up inside `work`."""
    if not os.path.lexists(output):
        new.rename(output)
        return
    if _exchange(new, output):
        return  # the old site is now at `new`, inside the work folder, removed with it
    # No renameat2 (not Linux, old libc, or a filesystem without RENAME_EXCHANGE): two renames.
    # A kill between them leaves no `output`; the next build's clean_stale moves `old` back.
    output.rename(work / "old")
    pause_point("between-renames")
    new.rename(output)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with Linux's renameat2(RENAME_EXCHANGE); False when the
    platform or the filesystem cannot, so that the caller falls back."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)  # glibc >= 2.28
    if renameat2 is None:
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.argtypes += [ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def pause_point(stage: str) -> None:
    """Test-only: with PREFBOARD_TEST_PAUSE="<stage>:<file>", a build reaching `stage` writes
    its pid to <file>, says so on stderr and blocks until it is killed. Tests kill a build at
    an exact moment this way, with no sleeps and no dependence on machine speed."""
    wanted, _, marker = os.environ.get(PAUSE_ENV, "").partition(":")
    if wanted != stage or not marker:
        return
    Path(marker).write_text(f"{os.getpid()}\n", encoding="utf-8")
    print(f"prefboard: paused at {stage}", file=sys.stderr, flush=True)
    threading.Event().wait()
