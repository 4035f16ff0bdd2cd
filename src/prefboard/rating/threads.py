"""One BLAS thread for the numeric stages: the machine's cores are better spent elsewhere.

The rating stage runs its BLAS work (eigendecompositions, Choleskys and products of
models × models matrices) on the main thread while the compiled online replays run on a second
thread and the Bradley–Terry–Davidson bootstraps in a worker process. OpenBLAS's own threads
then compete with both for the same cores, and on matrices of a few hundred rows they cost more
in hand-offs than they save: measured on a 100-model, 200,000-battle board on 2 cores, the
rating stage took 269.8 s wall (141 s CPU) with the default threads against 88.5 s (32 s CPU)
with one. The draw-margin search is limited too, also where validation runs it: with no other
work beside it, two BLAS threads were 1.2x faster on an idle machine (300 models: 45.7 s
against 55.5 s wall, for 89 s against 55 s CPU), but on a loaded one the same validation took
515 s; shared 2-core machines are the norm here. The results do not depend on it (the example
board's standings.json is byte-identical either way).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits

# For a child process, which must be told before it loads its BLAS.
ONE_THREAD_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS limited to one thread inside the block (process-wide; restored on exit)."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield
