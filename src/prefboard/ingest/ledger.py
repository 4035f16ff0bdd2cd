"""What happened to every row read: per-file tallies and each excluded row's reason."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from prefboard.errors import Problem
from prefboard.ingest.csvread import RawTable

BLANK_ROW = "blank-row"


@dataclass(frozen=True)
class FileSummary:
    path: str
    kind: str
    sha256: str
    bytes: int
    rows: int
    accepted: int
    excluded: int


@dataclass
class Ledger:
    """What happened to every row read: the per-file tally and each excluded row's reason."""

    files: list[FileSummary] = field(default_factory=list)
    excluded: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["kind", "file", "line", "row_id", "reason"])
    )

    def reasons(self) -> dict[str, dict[str, int]]:
        """{kind: {reason: rows}}, sorted, for summaries."""
        out: dict[str, dict[str, int]] = {}
        # observed: the columns may be Categoricals (compact.py); only the pairs that occur
        grouped = self.excluded.groupby(["kind", "reason"], sort=True, observed=True).size()
        for (kind, reason), n in zip(grouped.index.tolist(), grouped.tolist(), strict=True):
            out.setdefault(str(kind), {})[str(reason)] = int(n)
        return out

    def totals(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for f in self.files:
            t = out.setdefault(f.kind, {"files": 0, "rows": 0, "accepted": 0, "excluded": 0})
            t["files"] += 1
            t["rows"] += f.rows
            t["accepted"] += f.accepted
            t["excluded"] += f.excluded
        return out


@dataclass
class Ingested:
    """Accepted rows, typed: model columns are indices into `config.models`, outcome columns
    int8 (-1 not asked, 0 model_a preferred, 1 model_b, 2 tie), Likert columns float (NaN = not
    asked), timestamps UTC."""

    participants: pd.DataFrame
    battles: pd.DataFrame
    ratings: pd.DataFrame
    ledger: Ledger
    problems: list[Problem]
    benchmarks: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["model", "benchmark", "score", "source"])
    )
    # Automated judges' accepted battles (the `battles` columns plus `source`, the judge's
    # key): rated apart and compared with the humans, never part of `battles`.
    judge_battles: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["source"]))

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def summaries(
    kind: str, raws: list[RawTable], frame: pd.DataFrame, excluded: np.ndarray
) -> list[FileSummary]:
    """Each file's rows read, accepted and excluded; `excluded`: the excluded rows' positions
    in `frame` (ascending)."""
    files = frame["_file"].to_numpy()
    runs = file_runs(files)
    ends = np.append(runs[1:], len(frame))[: len(runs)]
    # excluded rows before each run's start and end, so a run's count is a difference (the
    # excluded rows' positions searched, not a running count over every row: 160 MB at 10M)
    before_start = np.searchsorted(excluded, runs)
    before_end = np.searchsorted(excluded, ends)
    read: dict[str, int] = {}
    dropped: dict[str, int] = {}
    for k, (start, end) in enumerate(zip(runs.tolist(), ends.tolist(), strict=True)):
        path = str(files[start])
        read[path] = read.get(path, 0) + end - start
        dropped[path] = dropped.get(path, 0) + int(before_end[k] - before_start[k])
    out = []
    for raw in raws:
        # records csvread dropped (field count, syntax) were read too: count them as excluded
        gone = len(raw.rejected) + len(raw.blank)
        rows = read.get(raw.path, 0) + gone
        excl = dropped.get(raw.path, 0) + gone
        out.append(FileSummary(raw.path, kind, raw.sha256, raw.size, rows, rows - excl, excl))
    return out


def file_runs(files: np.ndarray) -> np.ndarray:
    """Where each run of consecutive rows from one file starts. A file's rows are one run
    (files are read one after the other), but nothing relies on it. Comparing neighbours
    costs one string comparison a row, each of them short-circuited (a file's rows share one
    str object), where comparing every row with every file's path cost one per row and file."""
    change = np.ones(len(files), dtype=bool)
    change[1:] = files[1:] != files[:-1]
    starts: np.ndarray = np.flatnonzero(change)
    return starts


def _text_at(column: pd.Series, at: np.ndarray) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """The cells of a text column at `at`, as the frame of excluded rows takes them: Arrow
    strings stay Arrow strings (each made a Python str first was ~70 MB held for 1.2M excluded
    rows of 10M); an object column's cells (the csv-module parse) as they are."""
    cells = column.iloc[at]
    return cells.array if isinstance(cells.dtype, pd.StringDtype) else cells.to_numpy()


def excluded_rows(
    kind: str,
    frame: pd.DataFrame,
    reason: np.ndarray,
    at: np.ndarray,
    id_col: str,
    raws: list[RawTable],
) -> pd.DataFrame:
    """The excluded rows, at positions `at` of `frame` (ascending), and the records csvread
    refused or set aside. By position: a boolean mask was made into positions again for each
    column (80 MB each at 10M rows)."""
    rows = pd.DataFrame(
        {
            "kind": kind,
            "file": frame["_file"].to_numpy()[at],
            "line": frame["_line"].to_numpy()[at].astype(np.int64),  # int32 while checked
            "row_id": _text_at(frame[id_col], at),
            "reason": reason[at],
        }
    )
    # A file refused whole (encoding, header, size) still counts as excluded, on its line 0.
    whole = [
        {
            "kind": kind,
            "file": r.path,
            "line": 0,
            "row_id": "",
            "reason": f"invalid:{r.problems[0].rule}",
        }
        for r in raws
        if r.problems and not r.records and not r.rejected
    ]
    # Records csvread could not split into the declared columns: excluded on their own line.
    whole += [
        {"kind": kind, "file": r.path, "line": line, "row_id": "", "reason": f"invalid:{rule}"}
        for r in raws
        for line, rule in r.rejected
    ]
    # All-empty records (a spreadsheet's trailing `,,,,,`): skipped, not errors.
    whole += [
        {"kind": kind, "file": r.path, "line": line, "row_id": "", "reason": BLANK_ROW}
        for r in raws
        for line in r.blank
    ]
    return pd.concat([rows, pd.DataFrame(whole)], ignore_index=True) if whole else rows
