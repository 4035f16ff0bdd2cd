"""The Bradley–Terry–Davidson cross-checks of every dimension, fitted beside the main thread.

Each cross-check refits scipy's trust-region solver once per bootstrap draw (200 per
dimension): Python that holds the GIL, about a fifth of the rating stage on a large board on
one core, so a thread would not help. A worker process takes them (rating/btd_worker.py): a
fresh interpreter started with ``subprocess`` (exec, never a bare ``fork`` of a parent with
numba's OpenMP threads live, and unlike multiprocessing's ``spawn`` it never re-runs the
caller's ``__main__``). It gets per-pair counts only (a few hundred numbers per dimension),
fits them in order while the main thread fits the batch posteriors, and the stage reads each
fit when it assembles that dimension.

A small board is fitted inline: starting a Python process (about a second) costs more than its
fits. Both ways run the same function with the same seed, so the numbers are identical; if the
worker cannot start or stops early, the fits it did not deliver are done inline.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType

import numpy as np

import prefboard
from prefboard.config import Config
from prefboard.rating import btd
from prefboard.rating.batch_terms import count_all
from prefboard.rating.btd_worker import Job, fit, read_frame
from prefboard.rating.diagnostics import BTD_DRAWS
from prefboard.rating.inputs import Inputs
from prefboard.rating.threads import ONE_THREAD_ENV

__all__ = ["SPAWN_MIN_BATTLES", "CrossChecks", "Job", "job_of"]

# Battles (summed over dimensions) from which a worker process pays for itself: the bootstrap
# costs ~1.5 s per dimension at 1M battles, a process start ~1 s of the spare core.
SPAWN_MIN_BATTLES = 200_000


def job_of(config: Config, inputs: Inputs, dimension: str) -> Job:
    """The cross-check of one dimension: the battles that asked it (its pooled table)."""
    asked = inputs.battles[dimension].to_numpy(np.int8)
    idx = np.flatnonzero(asked >= 0)
    n = len(config.model_keys)
    # counted through idx, in place: gathered copies of a, b and the outcomes were ~50 MB at
    # 10M battles, at the rating stage's start; the same counts as btd.pair_counts of them
    pc = count_all(n, inputs.a, inputs.b, asked, idx)
    r = config.rating
    return Job(n, pc.i, pc.j, pc.counts, BTD_DRAWS, r.seed, r.interval)


class CrossChecks:
    """Every dimension's cross-check by key; a context manager that owns the worker.

    Fits must be read in the order of ``jobs`` (the worker's order)."""

    def __init__(self, jobs: dict[str, Job]) -> None:
        self._jobs = jobs
        self._pending = list(jobs)  # keys the worker has yet to deliver, in its order
        self._done: dict[str, btd.BTDFit] = {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if sum(job.battles for job in jobs.values()) >= SPAWN_MIN_BATTLES:
            self._start()

    @property
    def spawned(self) -> bool:
        """Whether a worker process was started."""
        return self._proc is not None

    def _start(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="prefboard-btd-")
        path = Path(self._tmp.name) / "jobs.pickle"
        path.write_bytes(pickle.dumps(list(self._jobs.values()), pickle.HIGHEST_PROTOCOL))
        # The child must import this very prefboard, installed or not.
        home = str(Path(prefboard.__file__).resolve().parent.parent)
        paths = [home, *filter(None, [os.environ.get("PYTHONPATH")])]
        # One BLAS thread: the worker runs beside the main process's own BLAS work.
        env = {**os.environ, **ONE_THREAD_ENV, "PYTHONPATH": os.pathsep.join(paths)}
        command = [sys.executable, "-m", "prefboard.rating.btd_worker", str(path)]
        try:
            # stderr is dropped: a failing fit fails again inline, with the stage's error.
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
            )
        except OSError:  # no process to be had: everything is fitted inline
            self._proc = None

    def result(self, dimension: str) -> btd.BTDFit:
        while self._proc is not None and dimension in self._pending:
            assert self._proc.stdout is not None
            fitted = read_frame(self._proc.stdout)
            if fitted is None:  # the worker stopped: the rest is fitted here
                self.close()
                break
            self._done[self._pending.pop(0)] = fitted
        if dimension in self._done:
            return self._done.pop(dimension)
        return fit(self._jobs[dimension])

    def close(self) -> None:
        if self._proc is not None:
            # On an early exit (an error elsewhere) nobody will read the remaining fits.
            self._proc.kill()
            self._proc.wait()
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> CrossChecks:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
