"""The big downloads (standings.json, standings.csv, ratings.csv) are written by a forked child
while MkDocs builds: the site is the same as one written in-process, and a child that fails or
dies fails the build with one clear line, leaving the previous site and no work folder."""

from __future__ import annotations

import errno
import os
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner

from prefboard import site_downloads
from prefboard.cli import cli
from prefboard.io.paths import WORK_AREA
from prefboard.io.workspace import WORK_PREFIX
from prefboard.standings.model import Standings
from tests.conftest import copy_site, small_board
from tests.test_site import tree_hashes


def _build(toml: Path, out: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["build", "--config", str(toml), "--out", str(out)])
    return result.exit_code, result.output


def _failed_build(tiny: Path, tiny_site: Path, tmp_path: Path) -> str:
    """Build over a copy of the tiny site, expecting the build to fail: exit 2 without a
    traceback, the previous site untouched and no work folder left. Returns the last line."""
    out = copy_site(tiny_site, tmp_path / "site")
    before = tree_hashes(out)
    code, output = _build(small_board(tiny), out)
    assert code == 2
    assert "Traceback" not in output
    assert tree_hashes(out) == before
    assert not list((tmp_path / WORK_AREA).glob(WORK_PREFIX + "*"))
    return output.splitlines()[-1]


def test_without_fork_the_site_is_the_same(
    tiny: Path, tiny_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # tiny_site was built with the forked writer; this build writes the files in-process.
    monkeypatch.delattr(os, "fork")
    code, output = _build(small_board(tiny), tmp_path / "site")
    assert code == 0, output
    assert tree_hashes(tmp_path / "site") == tree_hashes(tiny_site)
    assert (tmp_path / "site" / "downloads" / "standings.json").stat().st_size > 1000


def _fails(standings: Standings) -> str:
    raise OSError("No space left on device")


def _dies(standings: Standings) -> str:
    os.kill(os.getpid(), signal.SIGKILL)
    return ""


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (_fails, "No space left on device"),
        (_dies, "the writing process was killed by signal 9"),
    ],
)
def test_a_failed_writer_fails_the_build_and_keeps_the_previous_site(
    tiny: Path,
    tiny_site: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make: object,
    why: str,
) -> None:
    # The last file fails: the two before it were written, and must not reach the site.
    monkeypatch.setitem(site_downloads.FILES, "ratings.csv", make)
    assert _failed_build(tiny, tiny_site, tmp_path) == (
        f"Error: writing standings.json, standings.csv, ratings.csv failed: {why}"
    )


def test_pages_failing_after_the_writer_started_keep_the_previous_site(
    tiny: Path, tiny_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The downloads child is forked before the pages render: a page stage that fails must stop
    # it and leave neither a work folder nor a changed site.
    from prefboard.errors import BuildError
    from prefboard.render import pages

    started: list[int] = []
    real_writer = site_downloads.Writer

    def writer(*args: object, **kwargs: object) -> site_downloads.Writer:
        made = real_writer(*args, **kwargs)  # type: ignore[arg-type]
        started.append(made.pid or 0)
        return made

    def broken(*_: object) -> list[pages.Page]:
        raise BuildError("the pages could not be rendered")

    monkeypatch.setattr(site_downloads, "Writer", writer)
    monkeypatch.setattr(pages, "render_pages", broken)
    assert _failed_build(tiny, tiny_site, tmp_path) == "Error: the pages could not be rendered"
    assert started and started[0] > 0  # the child had been forked
    with pytest.raises(ChildProcessError):
        os.waitpid(started[0], os.WNOHANG)  # and was reaped


def _pages_fail(standings: Standings) -> list[object]:
    raise OSError("model pages broke")


def _pages_fail_at_length(standings: Standings) -> list[object]:
    raise ValueError("model pages broke\n  at line 2\nTraceback (most recent call last):")


def _pages_die(standings: Standings) -> list[object]:
    os.kill(os.getpid(), signal.SIGKILL)
    return []


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (_pages_fail, "model pages broke"),
        # A message of several lines still fails the build with one line: its first.
        (_pages_fail_at_length, "model pages broke"),
        (_pages_die, "the writing process was killed by signal 9"),
    ],
)
def test_model_pages_failing_in_the_child_fail_the_build(
    tiny: Path,
    tiny_site: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make: object,
    why: str,
) -> None:
    # The model pages are rendered in the downloads child while this process renders the rest.
    from prefboard.render import pages

    monkeypatch.setattr(pages, "model_pages", make)
    assert _failed_build(tiny, tiny_site, tmp_path) == (
        f"Error: rendering the model pages failed: {why}"
    )


def test_without_fork_the_first_job_runs_once(tiny_standings: Standings, tmp_path: Path) -> None:
    runs: list[int] = []
    job = site_downloads.Job("rendering the model pages", lambda: runs.append(1) or len(runs))
    writer = site_downloads.Writer(tiny_standings, tmp_path / "downloads", fork=False, first=job)
    assert writer.first_result() == 1
    with pytest.raises(AssertionError, match="taken already"):
        writer.first_result()
    assert runs == [1]


def test_a_second_pipe_that_cannot_be_made_leaves_the_first_closed(
    tiny_standings: Standings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Out of descriptors between the writer's two pipes: the build fails, and the pipe made
    # first must not stay open (each failed rebuild under `serve` would keep two more).
    made: list[int] = []
    real_pipe = os.pipe

    def pipe() -> tuple[int, int]:
        if made:
            raise OSError(errno.EMFILE, "Too many open files")
        fds = real_pipe()
        made.extend(fds)
        return fds

    monkeypatch.setattr(os, "pipe", pipe)
    with pytest.raises(OSError, match="Too many open files"):
        site_downloads.Writer(tiny_standings, tmp_path / "downloads", fork=True)
    monkeypatch.undo()
    assert len(made) == 2
    for fd in made:
        with pytest.raises(OSError) as closed:
            os.fstat(fd)
        assert closed.value.errno == errno.EBADF
