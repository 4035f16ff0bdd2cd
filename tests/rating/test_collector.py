"""The rating stage's collector thresholds: raised inside, restored after, also when blocks
overlap (two boards rated at once in threads) or the block raises."""

from __future__ import annotations

import gc

import pytest

from prefboard.rating.collector import THRESHOLDS, fewer_collections


def test_thresholds_are_raised_inside_and_restored_after_overlapping_blocks() -> None:
    before = gc.get_threshold()
    first, second = fewer_collections(), fewer_collections()
    first.__enter__()
    assert gc.get_threshold() == THRESHOLDS
    second.__enter__()
    first.__exit__(None, None, None)  # the first to start ends first: still raised
    assert gc.get_threshold() == THRESHOLDS
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before


def test_thresholds_are_restored_when_the_block_raises() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("boom")
    assert gc.get_threshold() == before
