"""The site's standings downloads, serialised on the second core while MkDocs builds.

At 300 models standings.json (127 MB), standings.csv and ratings.csv take ~7.5 CPU s to make,
almost all of it Python's float formatting, and nothing MkDocs does reads them: it only copies
them. So `build_site` forks a child that writes them into the work folder (the standings are
shared copy-on-write, nothing is pickled), gives MkDocs empty stand-ins of the same names (so
links to them resolve and the files are copied), and after MkDocs puts the child's files over
the stand-ins. Where there is no fork (Windows, macOS' spawn-only Pythons) they are written in
this process first, with the same bytes. The child runs only Python and pydantic's encoder,
never numba's OpenMP pool or a thread pool, so the parent's idle worker threads (which a fork
does not copy) cannot leave it waiting on a lock. The child touches every object it encodes,
so its private memory grows to about that of the standings (reference counts dirty the pages).

Each file goes through `write_atomic`, so a failed or killed child leaves no half-written file,
and its failure becomes one `BuildError` naming the files; the site is then not swapped in.

The child can first run one more `Job` (pipeline.build: the model pages, rendered there while
this process renders the others): its result comes back pickled in a file, announced by a byte
on a second pipe, before the child goes on to the downloads. Without a child it runs here, when
its result is asked for.
"""

from __future__ import annotations

import os
import pickle
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from prefboard.errors import BuildError
from prefboard.io.files import write_atomic
from prefboard.standings.files import DOWNLOADS
from prefboard.standings.model import Standings

#: The downloads the child makes; everything else under downloads/ is small and written inline.
FILES: dict[str, Callable[[Standings], str]] = DOWNLOADS
_NAMES = ", ".join(FILES)
# An error message longer than this is cut: the pipe is read only after the child exits.
_MESSAGE_BYTES = 4096
# The first job's pickled result, in the writer's folder until the parent takes it.
_RESULT = ".first-job.pickle"


@dataclass(frozen=True)
class Job:
    what: str  # for the error line: "rendering the model pages"
    run: Callable[[], object]


def write_files(standings: Standings, folder: Path) -> None:
    """Write every file of FILES into `folder` (which exists)."""
    for name, make in FILES.items():
        write_atomic(folder / name, make(standings))


class Writer:
    """The downloads being written into `folder`: `finish` waits and moves them into place."""

    def __init__(
        self,
        standings: Standings,
        folder: Path,
        fork: bool | None = None,
        first: Job | None = None,
    ) -> None:
        self.folder = folder
        self.pid: int | None = None
        self._read = self._ready = -1
        self._first = first  # None once the child has it
        self._what = first.what if first is not None else ""
        folder.mkdir(parents=True, exist_ok=True)
        if not (hasattr(os, "fork") if fork is None else fork):
            write_files(standings, folder)
            return
        self._read, write = os.pipe()
        try:
            ready, announce = os.pipe()
        except OSError:  # out of descriptors: the build fails without keeping the first pipe
            os.close(self._read)
            os.close(write)
            self._read = -1
            raise
        try:
            pid = os.fork()
        except OSError:  # no memory or process slot for a child: the same files, here
            for fd in (self._read, write, ready, announce):
                os.close(fd)
            self._read = -1
            write_files(standings, folder)
            return
        if pid == 0:  # pragma: no cover - the child; coverage does not follow it
            os.close(ready)
            _child(standings, folder, (self._read, write, announce), first)
        os.close(write)
        os.close(announce)
        self.pid, self._ready, self._first = pid, ready, None

    def first_result(self) -> object:
        """What the first job returned: waits for the child to announce it (a failed child
        fails the build here), or runs it now where there is no child. Once only."""
        if self._first is not None:
            job, self._first = self._first, None
            return job.run()
        assert self._ready >= 0 and self.pid is not None, "no first job, or taken already"
        announced = os.read(self._ready, 1)
        os.close(self._ready)
        self._ready = -1
        if announced != b"1":  # the child left without the result
            raise BuildError(f"{self._what} failed: {self._reap()}")
        path = self.folder / _RESULT
        result = pickle.loads(path.read_bytes())
        path.unlink()
        return result

    def finish(self, target: Path) -> None:
        """Wait for the child (if any) and move the files over MkDocs' stand-ins in `target`."""
        if self.pid is not None and (why := self._reap()):
            raise BuildError(f"writing {_NAMES} failed: {why}")
        if self._ready >= 0:  # a first job nobody asked for
            os.close(self._ready)
            self._ready = -1
        target.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            os.replace(self.folder / name, target / name)

    def _reap(self) -> str:
        """Wait for the child: "" when it succeeded, else what it said or why it ended."""
        assert self.pid is not None
        message = _drain(self._read)
        self._read = -1
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        return "" if status == 0 else message or _why(status)

    def stop(self) -> None:
        """Kill an unfinished child (the build failed elsewhere); idempotent."""
        if self.pid is not None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = None
        for fd in (self._read, self._ready):
            if fd >= 0:
                os.close(fd)
        self._read = self._ready = -1


def _child(
    standings: Standings, folder: Path, fds: tuple[int, int, int], first: Job | None
) -> None:  # pragma: no cover
    """Run the first job, write the files and leave with os._exit: the parent's `finally`
    blocks, atexit handlers and buffered output are the parent's, never run or flushed twice."""
    read, write, announce = fds
    code = 1
    try:
        os.close(read)
        if first is not None:
            result = pickle.dumps(first.run(), protocol=pickle.HIGHEST_PROTOCOL)
            write_atomic(folder / _RESULT, result)
            os.write(announce, b"1")
        os.close(announce)  # the parent's read now ends, announced or not
        write_files(standings, folder)
        code = 0
    except BaseException as exc:  # every failure must reach the parent
        # The parent prints one `Error:` line: a message of several lines gives its first.
        lines = str(exc).strip().splitlines()
        detail = lines[0] if lines else type(exc).__name__
        os.write(write, detail.encode("utf-8", "replace")[:_MESSAGE_BYTES])
    finally:
        os._exit(code)


def _drain(fd: int) -> str:
    """Everything the child wrote before closing its end (empty when it succeeded)."""
    chunks = []
    while chunk := os.read(fd, _MESSAGE_BYTES):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode("utf-8", "replace").strip()


def _why(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"the writing process was killed by signal {os.WTERMSIG(status)}"
    return f"the writing process exited with status {os.waitstatus_to_exitcode(status)}"
