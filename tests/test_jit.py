"""numba's kernel cache shared by several processes (prefboard/jit.py)."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
from pathlib import Path

import pytest
from numba.core.caching import IndexDataCacheFile

from prefboard import jit
from tests.conftest import REPO

STAMP = ("source stamp", 1)
SAVES = 150


def _cache(folder: Path) -> IndexDataCacheFile:
    return IndexDataCacheFile(str(folder), "kernel", STAMP)


def _save_many(folder: str, tag: str) -> None:
    # a fresh interpreter: prefboard.jit is imported there as in any prefboard process
    import prefboard.jit  # noqa: F401

    cache = _cache(Path(folder))
    for i in range(SAVES):
        cache.save((tag, i), (tag, i, b"machine code" * 100))


def test_two_processes_saving_at_once_keep_every_entry_with_its_own_data(tmp_path: Path) -> None:
    """What two test workers compiling new signatures of one kernel do. Without the lock, three
    runs lost 2-46 of the 300 entries and left 2-16 naming another entry's data (a load of
    such an entry aborted a CI run inside LLVM)."""
    spawn = multiprocessing.get_context("spawn")
    writers = [spawn.Process(target=_save_many, args=(str(tmp_path), tag)) for tag in "ab"]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
        assert w.exitcode == 0
    cache = _cache(tmp_path)
    index = cache._load_index()
    assert sorted(index) == sorted((tag, i) for tag in "ab" for i in range(SAVES))
    assert [key for key in index if cache.load(key)[:2] != key] == []


def _taken(path: str, kind: int) -> bool:
    """Whether another open file cannot take the lock `kind` on `path` now."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, kind | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_a_save_excludes_everyone_and_a_load_excludes_savers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = _cache(tmp_path)
    cache.save(("a", 0), "first")
    lock = jit.lock_path(cache)
    assert lock is not None and Path(lock).is_file()
    seen: dict[str, tuple[bool, bool]] = {}
    save_data, load_data = IndexDataCacheFile._save_data, IndexDataCacheFile._load_data

    def saving(self: IndexDataCacheFile, name: str, data: object) -> None:
        seen["save"] = (_taken(lock, fcntl.LOCK_SH), _taken(lock, fcntl.LOCK_EX))
        save_data(self, name, data)

    def loading(self: IndexDataCacheFile, name: str) -> object:
        seen["load"] = (_taken(lock, fcntl.LOCK_SH), _taken(lock, fcntl.LOCK_EX))
        return load_data(self, name)

    monkeypatch.setattr(IndexDataCacheFile, "_save_data", saving)
    monkeypatch.setattr(IndexDataCacheFile, "_load_data", loading)
    cache.save(("a", 1), "second")
    assert cache.load(("a", 1)) == "second"
    # (another reader blocked, another saver blocked) while each runs
    assert seen == {"save": (True, True), "load": (False, True)}


def test_a_link_planted_at_the_lock_is_not_followed(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    target = tmp_path / "elsewhere"
    lock = jit.lock_path(cache)
    assert lock is not None
    os.symlink(target, lock)
    cache.save(("a", 0), "data")  # saved, without the lock
    assert cache.load(("a", 0)) == "data"
    assert not target.exists()


def test_every_kernel_module_takes_njit_from_prefboard_jit() -> None:
    """A module importing numba's own njit could read a cache before the lock is installed."""
    bare = [
        str(path.relative_to(REPO))
        for path in (REPO / "src" / "prefboard").rglob("*.py")
        if path.name != "jit.py" and "njit" in path.read_text("utf-8")
        if "from prefboard.jit import njit" not in path.read_text("utf-8")
    ]
    assert bare == []
