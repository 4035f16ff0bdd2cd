"""The same battle in two files: counted once, the later copy excluded and reported.

A vote brought in twice (a CSV export and then the same votes as JSONL, a file copied under a
new name, an old import beside a new one) doubles its weight in every table if nothing notices.
Different battle ids do not make two rows different votes: two rows are the same battle when
the participant, the time, the two models, the turns, every dimension's verdict and the prompt
id all match. Rows of one file are not compared with each other (a file is one export; its own
repeats are the source's business), only rows of different files, in the order ingest reads
the files. The later copy is excluded as `duplicate-battle`, a warning names both locations,
and the build goes on: the vote is counted once, which is what it was.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from prefboard.errors import Problem
from prefboard.ingest.checks import first_occurrences, first_seen_codes
from prefboard.ingest.ledger import file_runs

DUPLICATE_BATTLE = "duplicate-battle"
MAX_REPORTED = 200
# What identifies a vote in the board's battle files (besides the dimension columns).
IDENTITY = ["participant_id", "timestamp", "model_a", "model_b", "turns", "prompt_id"]


def identity_codes(battles: pd.DataFrame, rows: np.ndarray, columns: list[str]) -> np.ndarray:
    """The battles `rows` numbered by their values in `columns`, equal rows alike, in order of
    first appearance (a groupby over these columns, Arrow strings among them, was the slowest
    step of ingest after the id check). Each column's codes are folded into one integer key,
    renumbered only when the next column could overflow it."""
    key = np.zeros(len(rows), dtype=np.int64)
    span = 1  # the key is below this
    for col in columns:
        codes, count = _column_codes(battles[col], rows)
        if span * count >= 2**62:
            key = pd.factorize(key)[0].astype(np.int64)
            span = int(key.max(initial=0)) + 1
        key = key * count + codes
        span *= count
    numbered: np.ndarray = pd.factorize(key)[0]
    return numbered


def _column_codes(values: pd.Series, rows: np.ndarray) -> tuple[np.ndarray, int]:
    """One column's values at `rows` as codes 0..count-1, equal values alike."""
    if isinstance(values.dtype, pd.CategoricalDtype):  # ids coded per value (compact.py)
        codes = values.cat.codes.to_numpy()[rows]
        return codes.astype(np.int64), len(values.cat.categories)
    if values.dtype.kind in "iub":
        small = values.to_numpy()[rows].astype(np.int64)
        low, high = int(small.min(initial=0)), int(small.max(initial=0))
        if high - low < 1 << 20:  # model, verdict and turn codes: their own offsets
            return small - low, high - low + 1
        codes = pd.factorize(small)[0]
    else:  # ids, timestamps: Arrow's hash table numbers them
        codes = first_seen_codes(pa.array(values.iloc[rows]))
    return codes.astype(np.int64), int(codes.max(initial=-1)) + 1


def _shared_times(times: pd.Series, files: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Which of `rows` have a time some row of another file has too: the only rows that can
    repeat a battle of another file (the same battle has the same time), so the full identity
    is compared for these alone."""
    stamps = np.asarray(times.array.asi8)[rows]
    # the run of rows from one file each row is in, as its file's number (a file read in two
    # runs would count as two "files" here: a few more rows compared, the same verdicts, since
    # only rows of different files are repeats); found by searching the runs' starts, not by a
    # running count over every row (three arrays of every row: ~240 MB at 10M rows)
    starts = np.searchsorted(rows, file_runs(files))  # where each run's rows begin in `rows`
    if _apart(stamps, starts):
        return np.zeros(len(rows), dtype=bool)
    where = np.searchsorted(starts, np.arange(len(rows)), side="right") - 1
    when = pd.factorize(stamps)[0].astype(np.int64)
    n_files = int(where.max(initial=0)) + 1
    # each (time, file) pair once, then how many files each time occurs in
    pairs = pd.unique(when * n_files + where)  # hashed: a sort of a million pairs took ~1 s
    spread = np.bincount(pairs // n_files, minlength=len(rows))
    shared: np.ndarray = spread[when] > 1
    return shared


def _apart(stamps: np.ndarray, starts: np.ndarray) -> bool:
    """Whether the files' stretches of time (first to last battle) are disjoint, so no time
    is in two files: files split by period, the usual case, need no hashing of every time.
    `starts` are where each run of one file's rows begins in `stamps` (ascending)."""
    if not len(stamps):
        return True
    starts = np.unique(starts[starts < len(stamps)])  # runs with no row checked dropped
    first = np.minimum.reduceat(stamps, starts)
    last = np.maximum.reduceat(stamps, starts)
    order = np.argsort(first, kind="stable")
    return bool((first[order][1:] > last[order][:-1]).all())


def exclude_repeats(
    battles: pd.DataFrame,
    frame: pd.DataFrame,
    reason: np.ndarray,
    kept: np.ndarray,
    dims: list[str],
    colmaps: dict[str, dict[str, int]],
) -> list[Problem]:
    """Exclude (in `reason`, and from `kept`: the rows with no reason yet) each accepted
    battle repeating one of an earlier file, and say where both are. `battles` is the typed
    frame, `frame` the raw one with `_file`/`_line`."""
    files = frame["_file"].to_numpy()
    lines = frame["_line"].to_numpy()
    rows = np.flatnonzero(kept)
    rows = rows[_shared_times(battles["timestamp"], files, rows)]
    if len(rows) < 2:
        return []
    group = identity_codes(battles, rows, [*IDENTITY, *dims])
    first = rows[np.flatnonzero(first_occurrences(group))][group]
    repeat = rows[(first != rows) & (files[first] != files[rows])]
    original = first[(first != rows) & (files[first] != files[rows])]
    reason[repeat] = DUPLICATE_BATTLE
    kept[repeat] = False
    problems = [
        Problem(
            str(files[i]),
            int(lines[i]),
            colmaps.get(str(files[i]), {}).get("battle_id", 0),
            DUPLICATE_BATTLE,
            f"same battle as {files[j]}:{lines[j]} (participant, time, models, turns, verdicts "
            "and prompt match): counted once, this copy excluded",
            "warning",
        )
        for i, j in zip(repeat[:MAX_REPORTED], original[:MAX_REPORTED], strict=True)
    ]
    if len(repeat) > MAX_REPORTED:
        more = f"{len(repeat) - MAX_REPORTED} more rows break this rule"
        problems.append(Problem("", 0, 0, DUPLICATE_BATTLE, more, "warning"))
    return problems
