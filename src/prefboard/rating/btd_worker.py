"""The worker process of rating/crosschecks.py: Bradley–Terry–Davidson fits from per-pair counts.

Run as ``python -m prefboard.rating.btd_worker JOBS``: reads the pickled list of `Job` from the
file ``JOBS`` and writes each fit, in order, to stdout as an 8-byte little-endian length and a
pickle, flushing after each so the parent can use one fit while the next is computed. It
imports only numpy, scipy, numba (the fit's compiled kernels, loaded from numba's cache) and the
fit (no config or pandas): a quick start.
"""

from __future__ import annotations

import pickle
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from prefboard.rating import btd

HEADER = 8  # bytes of the length before each pickled fit


@dataclass(frozen=True)
class Job:
    """One dimension's cross-check: its pooled battles as per-pair counts."""

    n_models: int
    i: np.ndarray
    j: np.ndarray
    cells: np.ndarray
    draws: int
    seed: int
    interval: float

    @property
    def battles(self) -> int:
        return int(self.cells.sum())


def fit(job: Job) -> btd.BTDFit:
    return btd.btd_from_counts(
        job.n_models, job.i, job.j, job.cells, job.draws, job.seed, job.interval
    )


def write_frame(out: IO[bytes], fitted: btd.BTDFit) -> None:
    data = pickle.dumps(fitted, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(len(data).to_bytes(HEADER, "little"))
    out.write(data)
    out.flush()


def read_frame(source: IO[bytes]) -> btd.BTDFit | None:
    """The next fit, or None when the worker stopped before writing it whole."""
    head = source.read(HEADER)
    if len(head) < HEADER:
        return None
    size = int.from_bytes(head, "little")
    data = source.read(size)
    if len(data) < size:
        return None
    fitted = pickle.loads(data)  # our own child's output, never user data
    return fitted if isinstance(fitted, btd.BTDFit) else None


def main(argv: list[str]) -> None:
    jobs = pickle.loads(Path(argv[1]).read_bytes())
    for job in jobs:
        write_frame(sys.stdout.buffer, fit(job))


if __name__ == "__main__":
    main(sys.argv)
