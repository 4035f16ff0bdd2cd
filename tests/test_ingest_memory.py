"""Freed memory handed back to the system during validation (ingest/memory.py): only when the
battle files are large, where it lowers the peak; on small boards each trim is time for
nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefboard.config import load_config
from prefboard.ingest import memory
from prefboard.ingest.allocator import LARGE_INPUT_BYTES
from prefboard.ingest.validate import ingest


class _Libc:
    def __init__(self) -> None:
        self.trims = 0

    def malloc_trim(self, pad: int) -> int:
        self.trims += 1
        return 1


@pytest.fixture
def libc(monkeypatch: pytest.MonkeyPatch) -> _Libc:
    fake = _Libc()
    monkeypatch.setattr(memory, "_libc", lambda: fake)
    return fake


def test_pages_are_handed_back_only_after_a_large_input(libc: _Libc) -> None:
    memory.hand_back_for(LARGE_INPUT_BYTES - 1)
    memory.give_back()
    assert libc.trims == 0
    memory.hand_back_for(LARGE_INPUT_BYTES)
    memory.give_back()
    assert libc.trims == 1
    memory.hand_back_for(0)  # each ingest sets it for its own files
    memory.give_back()
    assert libc.trims == 1


def test_a_small_board_trims_the_heap_once_when_validation_ends(tiny: Path, libc: _Libc) -> None:
    """Not once per block and column as a large board does; once at the end, so the rating
    stage does not start above what validation left."""
    memory.hand_back_for(LARGE_INPUT_BYTES)  # as a large board before it left it
    result = ingest(load_config(tiny / "leaderboard.toml"), tiny)
    assert result.ledger.totals()["battles"]["accepted"] == 2
    assert libc.trims == 1
