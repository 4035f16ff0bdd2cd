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

DUPLICATE_BATTLE = "duplicate-battle"
MAX_REPORTED = 200
# What identifies a vote in the board's battle files (besides the dimension columns).
IDENTITY = ["participant_id", "timestamp", "model_a", "model_b", "turns", "prompt_id"]


def identity_codes(battles: pd.DataFrame, rows: np.ndarray, columns: list[str]) -> np.ndarray:
    """The battles `rows` numbered by their values in `columns`, equal rows alike, in order of
    first appearance. Column by column, each combined with the codes so far and renumbered, so
    the number stays below rows² (a groupby over these columns, Arrow strings among them, was
    the slowest step of ingest after the id check)."""
    key = np.zeros(len(rows), dtype=np.int64)
    for col in columns:
        values = battles[col]
        if values.dtype.kind in "iub":
            codes = pd.factorize(values.to_numpy()[rows])[0]
        else:  # text, timestamps: Arrow's hash table numbers them
            codes = first_seen_codes(pa.array(values.iloc[rows]))
        key = pd.factorize(key * (int(codes.max(initial=0)) + 1) + codes)[0]
    return key


def exclude_repeats(
    battles: pd.DataFrame,
    frame: pd.DataFrame,
    reason: np.ndarray,
    dims: list[str],
    colmaps: dict[str, dict[str, int]],
) -> list[Problem]:
    """Exclude (in `reason`) each accepted battle repeating one of an earlier file, and say
    where both are. `battles` is the typed frame, `frame` the raw one with `_file`/`_line`."""
    rows = np.flatnonzero(reason == None)  # noqa: E711 - elementwise on an object array
    if len(rows) < 2:
        return []
    group = identity_codes(battles, rows, [*IDENTITY, *dims])
    first = rows[np.flatnonzero(first_occurrences(group))][group]
    files = frame["_file"].to_numpy()
    lines = frame["_line"].to_numpy()
    repeat = rows[(first != rows) & (files[first] != files[rows])]
    original = first[(first != rows) & (files[first] != files[rows])]
    reason[repeat] = DUPLICATE_BATTLE
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
