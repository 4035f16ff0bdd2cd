"""Builds under kills and concurrency: the output folder holds a complete site at every
instant, a second build waits for the first, and work folders of dead builds are cleaned up.

Kills land at exact stages through the build's test-only pause point (PREFBOARD_TEST_PAUSE):
the build says on stderr that it paused and blocks; the test reads that line and kills it.
No sleeps, nothing depends on machine speed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from prefboard import pipeline
from prefboard.io import workspace
from prefboard.io.paths import WORK_AREA
from tests.conftest import copy_site, small_board
from tests.test_site import tree_hashes

PAUSED = "prefboard: paused at "


def _start(toml: Path, out: Path, env: dict[str, str], *prelude: str) -> subprocess.Popen[str]:
    """`prefboard build` in a child process group; `prelude` is Python run before the CLI."""
    code = "; ".join([*prelude, "from prefboard.cli import main", "main()"])
    argv = ["build", "--config", str(toml), "--out", str(out)]
    return subprocess.Popen(
        [sys.executable, "-c", code, *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, **env),
        start_new_session=True,
    )


def _wait_for(proc: subprocess.Popen[str], text: str) -> str:
    """Read the child's stderr until a line containing `text`; fail if it exits first."""
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if text in line:
            return line
    pytest.fail(f"exit {proc.wait()} before {text!r}:\n{''.join(seen)[-3000:]}")


def _paused(toml: Path, out: Path, stage: str, tmp: Path, *prelude: str) -> subprocess.Popen[str]:
    marker = tmp / f"paused-{stage}"
    proc = _start(toml, out, {workspace.PAUSE_ENV: f"{stage}:{marker}"}, *prelude)
    _wait_for(proc, PAUSED + stage)
    assert marker.read_text().strip() == str(proc.pid)
    return proc


def _kill(proc: subprocess.Popen[str]) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _work_folders(tmp: Path) -> list[Path]:
    return sorted((tmp / WORK_AREA).glob(workspace.WORK_PREFIX + "*"))


def _old_site_then_edit(tiny: Path, site: Path, tmp: Path) -> tuple[Path, Path, dict[str, str]]:
    """A site built from the board as it was (a copy of the session's build of it); then the
    board is edited, so that a new build differs from it."""
    toml = small_board(tiny)
    out = copy_site(site, tmp / "site")
    toml.write_text(toml.read_text().replace("Tiny board", "Tiny board, edited"))
    return toml, out, tree_hashes(out)


def test_a_kill_at_any_stage_leaves_a_complete_site(
    tiny: Path, tiny_site: Path, tmp_path: Path
) -> None:
    # One board killed at each stage in turn: builds are slow on a loaded machine.
    toml, out, old = _old_site_then_edit(tiny, tiny_site, tmp_path)
    seen = {}
    for stage in ("mkdocs", "swap", "swapped"):
        _kill(_paused(toml, out, stage, tmp_path))
        seen[stage] = tree_hashes(out)
        (left,) = _work_folders(tmp_path)  # the killed build's work folder, git-ignored
        assert (left / workspace.OWNER_FILE).is_file()

    # Without renameat2 (not Linux) the swap is two renames: a kill between them leaves no
    # site, and the next build's clean-up first moves the swapped-out one back.
    no_exchange = "import prefboard.io.workspace as w; w._exchange = lambda a, b: False"
    _kill(_paused(toml, out, "between-renames", tmp_path, no_exchange))
    assert not out.exists()
    assert len(workspace.clean_stale(tmp_path / WORK_AREA, out)) == 1
    seen["between-renames, repaired"] = tree_hashes(out)

    pipeline.build(toml, out)  # the next build removes what the dead ones left
    assert _work_folders(tmp_path) == []
    new = tree_hashes(out)
    assert new != old
    # before the exchange the old site is whole, after it the new one is
    assert seen == {
        "mkdocs": old,
        "swap": old,
        "swapped": new,
        "between-renames, repaired": new,
    }


def test_a_second_build_waits_for_the_first_and_names_it(tiny: Path, tmp_path: Path) -> None:
    toml, out = small_board(tiny), tmp_path / "site"
    first = _paused(toml, out, "mkdocs", tmp_path)
    try:
        # a running build's work folder is never taken for a stale one
        assert workspace.clean_stale(tmp_path / WORK_AREA, out) == []
        assert len(_work_folders(tmp_path)) == 1
        second = _start(toml, out, {})
        line = _wait_for(second, "waiting for another build of this board")
        assert f"(pid {first.pid}, lock {tiny / WORK_AREA / workspace.LOCK_FILE})" in line
    finally:
        _kill(first)
    assert second.wait() == 0
    assert (out / "index.html").is_file()
    assert (out / workspace.MARKER).is_file()
    assert _work_folders(tmp_path) == []


def test_work_folders_are_git_ignored() -> None:
    root = Path(__file__).parent.parent
    scaffold = root / "src/prefboard/templates/scaffold/gitignore"
    for ignore in (root / ".gitignore", scaffold):
        assert f"{WORK_AREA}/" in ignore.read_text().splitlines(), ignore
