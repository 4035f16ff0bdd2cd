"""One item made ahead on a worker thread: the next block of a battle file is read, hashed and
parsed while this one is checked.

Reading, SHA-256 and pyarrow's parse release the GIL, so on two cores they overlap the checks
(issue 18: the parse was a third of validation, done before any check could start). Items come
out in the order they were made, and the worker makes at most one beyond those the caller has
taken, so one block of text more is held than the caller holds itself.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from queue import SimpleQueue
from typing import TypeVar

T = TypeVar("T")


class _End:
    """What the worker sends after the last item, or with the exception that stopped it."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


def ahead(items: Iterator[T]) -> Iterator[T]:
    """`items`, each made on a worker thread while the caller works on the one before."""
    made: SimpleQueue[T | _End] = SimpleQueue()
    turn = threading.Semaphore(1)  # the worker may make one item beyond the caller's
    stop = threading.Event()

    def work() -> None:
        try:
            while True:
                turn.acquire()
                if stop.is_set():
                    return
                try:
                    item = next(items)
                except StopIteration:
                    made.put(_End())
                    return
                made.put(item)
        except BaseException as exc:  # handed to the caller, raised there
            made.put(_End(exc))

    worker = threading.Thread(target=work, name="prefboard-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item = made.get()
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            turn.release()  # the caller holds this item now: the worker may make the next
            yield item
            del item
    finally:
        # the caller stopped early (or the items ended): let the worker finish and wait for it,
        # so nothing still reads the files after this returns
        stop.set()
        turn.release()
        worker.join()
