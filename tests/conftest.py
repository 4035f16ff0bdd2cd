"""Shared fixtures: a copy of a hand-written board per test, and the builds several tests read
but none changes, made once per test run.

Each pytest-xdist worker has a session of its own, so a session fixture alone would build once
per worker. `once` builds into the run's shared temporary folder under a file lock: the first
worker to need it builds, the other waits and reads the same files. (`--dist loadgroup` cannot
do this: with pytest 9.2 its groups are silently ignored, pytest-xdist issue 1386.)"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from prefboard.standings.model import Standings

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent
DONE = ".built"


# What a build or rate run on a fixture board leaves in it (a maintainer's `prefboard build
# --config tests/fixtures/tiny/leaderboard.toml`): never copied into a test's board, whose tests
# plant their own `.prefboard` or `site`.
RUN_LEFTOVERS = frozenset({".prefboard", "site", "build"})


def copy_board(src: Path, dest: Path) -> Path:
    """A copy of the board folder `src` at `dest`, without what runs left at its top level."""

    def leftovers(folder: str, names: list[str]) -> set[str]:
        return RUN_LEFTOVERS.intersection(names) if Path(folder) == src else set()

    shutil.copytree(src, dest, ignore=leftovers)
    return dest


def once(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """The folder `name`, filled by `build(folder)` exactly once per run: shared by the
    workers of one `pytest -n` run (their base temporary folders are siblings)."""
    base = factory.getbasetemp()
    shared = base.parent if base.name.startswith("popen-gw") else base
    folder = shared / f"shared-{name}"
    with open(shared / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (folder / DONE).is_file():
            shutil.rmtree(folder, ignore_errors=True)  # a build that failed half-way
            folder.mkdir()
            build(folder)
            (folder / DONE).touch()
    return folder


# The longest single tests (pytest --durations on 2 cores), run first: `make test` hands each of
# its two workers one half of the suite (--dist worksteal) and an idle worker takes half of the
# other's queue, so a long test queued last would leave a worker idle at the end of the run.
LONGEST = (
    "tests/test_site_swap.py::test_a_kill_at_any_stage_leaves_a_complete_site",
    "tests/test_release.py::test_wheel_carries_the_templates_and_builds_a_board_without_the_source",
    "tests/rating/test_rate_memory.py::test_narrow_arrays_give_the_standings_of_the_int64_copies",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the LONGEST tests first, in that order; the rest keep their order."""
    rank = {nodeid: k for k, nodeid in enumerate(LONGEST)}
    items.sort(key=lambda item: rank.get(item.nodeid, len(rank)))  # stable


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A writable copy of tests/fixtures/tiny: 3 models, 3 participants, 3 battles, 2 ratings."""
    dest = tmp_path / "tiny"
    copy_board(FIXTURES / "tiny", dest)
    return dest


def small_board(tiny: Path) -> Path:
    """The tiny board with groups of one participant shown (so every page has content)."""
    toml = tiny / "leaderboard.toml"
    toml.write_text(toml.read_text() + "\n[privacy]\nmin_participants = 1\n")
    return toml


def small_board_with_url(dest: Path) -> Path:
    """The tiny board copied to `dest`, as `small_board`, with a site_url: mike's sitemap lists
    pages (the version selector keeps the page) and the 404 page's links are absolute."""
    copy_board(FIXTURES / "tiny", dest)
    toml = small_board(dest)
    toml.write_text(
        toml.read_text().replace(
            'title = "Tiny board"', 'title = "Tiny board"\nurl = "https://example.org/board/"'
        )
    )
    return toml


def _build_tiny_site(root: Path) -> None:
    from prefboard import pipeline

    board = root / "tiny"
    copy_board(FIXTURES / "tiny", board)
    with pytest.MonkeyPatch.context() as env:
        env.delenv("SOURCE_DATE_EPOCH", raising=False)
        pipeline.build(small_board(board), root / "site")


@pytest.fixture(scope="session")
def tiny_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`small_board` built once per run, read-only: tests that need "a site built before" copy
    it into their own output folder with `copy_site` instead of building it again."""
    return once(tmp_path_factory, "tiny-site", _build_tiny_site) / "site"


@pytest.fixture(scope="session")
def tiny_standings(tmp_path_factory: pytest.TempPathFactory) -> Standings:
    """The standings of `small_board`, rated once per worker: read them, don't change them
    (`model_copy(update=...)` makes an edited copy)."""
    from prefboard import pipeline

    board = tmp_path_factory.mktemp("tiny-standings") / "tiny"
    copy_board(FIXTURES / "tiny", board)
    toml = small_board(board)
    config, root = pipeline.load(toml)
    return pipeline.rate(config, root, toml)[1]


def copy_site(site: Path, out: Path) -> Path:
    """A copy of a built site (its build marker included) at `out`, as a build would leave it."""
    shutil.copytree(site, out, symlinks=True)
    return out


@dataclass(frozen=True)
class Published:
    """The tiny board in a git repository, published twice with mike: v1 as latest, then (a
    battle flipped from delta-mini to cobalt-large) v2 as latest. Read it, don't change it."""

    repo: Path
    first: str  # what `prefboard publish` printed for v1
    second: str  # ... and for v2


def _publish_tiny(root: Path) -> None:
    from tests.test_publish import GIT_ENV, git, publish

    repo = root / "tiny"
    # a site_url: the sitemap lists pages and the root gets a styled 404
    small_board_with_url(repo)
    with pytest.MonkeyPatch.context() as env:
        for key, value in GIT_ENV.items():
            env.setenv(key, value)
        git(repo, "init", "-q", "-b", "main")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "board")
        (root / "first.txt").write_text(publish(repo, "--version", "v1", "--alias", "latest"))
        battles = repo / "results" / "battles" / "battles.csv"
        # b000002 flips from delta-mini to cobalt-large: a known rank change
        battles.write_text(battles.read_text().replace("delta-mini,4,b,b", "delta-mini,4,a,b"))
        (root / "second.txt").write_text(publish(repo, "--version", "v2", "--alias", "latest"))


@pytest.fixture(scope="session")
def published_tiny(tmp_path_factory: pytest.TempPathFactory) -> Published:
    root = once(tmp_path_factory, "published-tiny", _publish_tiny)
    first, second = ((root / n).read_text() for n in ("first.txt", "second.txt"))
    return Published(root / "tiny", first, second)


def _build_xss(root: Path) -> None:
    from tests.test_xss import build_hostile

    build_hostile(root)


@pytest.fixture(scope="session")
def xss_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The script-payload board of tests/test_xss.py, built once per run with its previous
    version (`board/`, `previous/`, `site/`): test_xss.py parses it, test_browser_xss.py
    serves it. Read it, don't change it."""
    return once(tmp_path_factory, "xss", _build_xss)


def _build_variants(root: Path) -> None:
    from tests.test_variants import build_variants

    build_variants(root)


@pytest.fixture(scope="session")
def variant_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site of tests/test_variants.py's `variant_board` (a private and a public Aurora
    variant), built once per run: test_variants.py reads it, test_browser_variants.py serves
    it. Read it, don't change it."""
    return once(tmp_path_factory, "variants", _build_variants) / "tiny" / "site"


# One headless Chromium for every browser test of a worker: starting one costs seconds. The
# union of what the browser tests ask of it: console and network logs, and alerts left open
# for `switch_to.alert` to find (tests/test_browser_xss.py) instead of dismissed unseen.
CHROME_CAPABILITIES: dict[str, object] = {
    "goog:loggingPrefs": {"browser": "ALL", "performance": "ALL"},
    "unhandledPromptBehavior": "ignore",
}


@pytest.fixture(scope="session")
def _chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.test_browser import start_chrome  # skips when Chromium is not installed

    browser = start_chrome(tmp_path_factory.mktemp("chrome"), CHROME_CAPABILITIES)
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture
def driver(_chromium: Any) -> Any:
    """The worker's Chromium as a fresh one would be: no alert open, a blank page, the default
    window size, and no log line left from an earlier test."""
    from selenium.common.exceptions import NoAlertPresentException

    with contextlib.suppress(NoAlertPresentException):  # an alert a test left open
        _chromium.switch_to.alert.dismiss()
    _chromium.get("about:blank")
    _chromium.set_window_size(1280, 1600)
    _chromium.get_log("browser")
    _chromium.get_log("performance")
    return _chromium
