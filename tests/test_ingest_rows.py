"""Row-level bookkeeping of validation: which rows a later rule or quality exclusion may still
mark, computed from the rows it names only; the same marks as comparing every row's reason."""

from __future__ import annotations

import numpy as np
import pandas as pd

from prefboard.ingest.checks import Checker
from prefboard.ingest.validate import _exclude


def reasons() -> np.ndarray:
    reason = np.full(8, None, dtype=object)
    reason[[1, 4]] = "invalid:timestamp"
    reason[6] = "participant-strikes"
    return reason


def test_unflagged_is_the_mask_without_the_rows_already_flagged() -> None:
    check = Checker(pd.DataFrame({"x": range(8)}), {})
    check.reason = reasons()
    mask = np.array([1, 1, 0, 0, 1, 0, 1, 1], dtype=bool)
    assert check.unflagged(mask).tolist() == (mask & ~check.bad).tolist()
    assert not check.unflagged(np.zeros(8, dtype=bool)).any()


def test_exclude_marks_only_rows_without_a_reason() -> None:
    """What `reason[(reason == None) & mask] = why` (the reference) marks."""
    mask = np.array([0, 1, 1, 0, 1, 0, 1, 1], dtype=bool)
    expected = reasons()
    expected[(expected == None) & mask] = "too-few-turns"  # noqa: E711
    reason = reasons()
    _exclude(reason, mask, "too-few-turns")
    assert reason.tolist() == expected.tolist()


def test_filled_is_pandas_not_equal_to_empty() -> None:
    """`Checker.filled` says what `frame[column] != ""` (the reference) says: Arrow strings and
    the csv module's object cells alike, a missing cell counted as filled as pandas counts it."""
    cells = ["a", "", " ", "tie", "", "\u00e9"]
    frame = pd.DataFrame(
        {
            "arrow": pd.Series(cells, dtype="str"),
            "objects": pd.Series(cells, dtype=object),
            "missing": pd.Series(["a", None, "", "b", None, ""], dtype="str"),
        }
    )
    check = Checker(frame, {})
    for column in frame.columns:
        assert check.filled(column).tolist() == (frame[column] != "").tolist(), column
