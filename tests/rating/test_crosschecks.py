"""The Bradley–Terry–Davidson cross-checks fitted in a worker process (rating/crosschecks.py):
the same numbers as inline, whichever way they are fitted."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from prefboard.rating import crosschecks
from prefboard.rating.btd import BTDFit
from prefboard.rating.btd_worker import Job, fit
from tests.rating.test_rate_batch import rate, write_board


def _jobs() -> dict[str, Job]:
    rng = np.random.default_rng(3)
    out = {}
    for key, n in [("overall", 5), ("style", 4)]:
        a = rng.integers(0, n, 3000)
        b = (a + rng.integers(1, n, 3000)) % n
        o = rng.integers(0, 3, 3000)
        i, j, cells = crosschecks.btd.pair_counts(n, a, b, o)
        out[key] = Job(n, i, j, cells, draws=30, seed=4, interval=0.95)
    return out


def _same(one: BTDFit, two: BTDFit) -> None:
    for name in ["theta", "lower", "upper", "rank", "rank_lower", "rank_upper"]:
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name))
    assert one.nu == two.nu


def test_the_worker_process_gives_the_inline_fits_bit_for_bit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(crosschecks, "SPAWN_MIN_BATTLES", 0)
    jobs = _jobs()
    with crosschecks.CrossChecks(jobs) as cross:
        assert cross.spawned
        fitted = {key: cross.result(key) for key in jobs}
    for key, job in jobs.items():
        _same(fitted[key], fit(job))


def test_a_small_board_is_fitted_inline() -> None:
    with crosschecks.CrossChecks(_jobs()) as cross:
        assert not cross.spawned
        assert cross.result("style").theta.shape == (4,)


def test_no_worker_to_be_had_means_inline_fits(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("no processes left")

    monkeypatch.setattr(crosschecks, "SPAWN_MIN_BATTLES", 0)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    jobs = _jobs()
    with crosschecks.CrossChecks(jobs) as cross:
        assert not cross.spawned
        _same(cross.result("overall"), fit(jobs["overall"]))


def test_a_worker_that_dies_leaves_the_fits_to_the_parent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(crosschecks, "SPAWN_MIN_BATTLES", 0)
    jobs = _jobs()
    with crosschecks.CrossChecks(jobs) as cross:
        assert cross._proc is not None
        cross._proc.kill()
        _same(cross.result("overall"), fit(jobs["overall"]))
        _same(cross.result("style"), fit(jobs["style"]))


def test_prefboard_rate_writes_the_same_standings_with_the_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_board(tmp_path / "board", 1500, seed=6)
    rate(config, tmp_path / "inline")
    monkeypatch.setattr(crosschecks, "SPAWN_MIN_BATTLES", 0)
    rate(config, tmp_path / "worker")
    for name in ["standings.json", "standings.csv"]:
        inline = (tmp_path / "inline" / name).read_bytes()
        assert (tmp_path / "worker" / name).read_bytes() == inline, name
