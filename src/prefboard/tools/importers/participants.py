"""The participants an import brings: each one's slice values, and the participants file
rows to add (or, when a slice column is added or dropped, the whole file to rewrite)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from prefboard.config import Config
from prefboard.io.files import ensure_folder, open_append, refuse_symlink, write_atomic
from prefboard.io.tables import read_csv_text
from prefboard.tools.importers.board_files import ensure_trailing_newline
from prefboard.tools.importers.mapping import PairwiseMapping
from prefboard.tools.importers.report import ImportSourceError
from prefboard.tools.importers.rows import Rows
from prefboard.tools.importers.values import normalise_key


def participant_values(imp: Rows, m: PairwiseMapping) -> tuple[pd.DataFrame, int]:
    """One row per participant of the imported rows, with each slice's most frequent value."""
    pids = pd.unique(imp["participant_id"])
    people = pd.DataFrame(index=pd.Index(pids, name="participant_id", dtype=object))
    conflicted: set[str] = set()
    for col in m.slices:
        attr = normalise_key(col)
        pairs = pd.DataFrame(
            {
                "pid": pd.Series(imp["participant_id"], dtype=object),
                "value": pd.Series(imp["slice:" + col], dtype=object),
            }
        )
        counts = pairs.groupby(["pid", "value"], sort=False).size().reset_index(name="n")
        counts["empty"] = counts["value"] == ""
        counts = counts.sort_values(
            ["pid", "empty", "n", "value"], ascending=[True, True, False, True]
        )
        best = counts.drop_duplicates("pid").set_index("pid")["value"]
        people[attr] = best.reindex(people.index).fillna("").astype(object)
        distinct = counts.loc[~counts["empty"]].groupby("pid").size()
        conflicted |= set(distinct.index[distinct > 1])
    return people, len(conflicted)


@dataclass
class ParticipantPlan:
    header: list[str]
    rows: list[list[str]]  # rows to write: all of them when `rewrite`, else the new ones
    rewrite: bool
    exists: bool
    added: int
    slice_values: dict[str, list[str]]  # attribute -> values the written rows use, most used first

    def write(self, path: Path, board: Path) -> bool:
        if not self.rows and self.exists and not self.rewrite:
            return False
        ensure_folder(path.parent, board)
        if self.rewrite or not self.exists:
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            w.writerow(self.header)
            w.writerows(self.rows)
            write_atomic(path, buf.getvalue())
        else:
            ensure_trailing_newline(path)
            with open_append(path) as fh:
                text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
                csv.writer(text, lineterminator="\n").writerows(self.rows)
                text.flush()
                text.detach()
        return True


def plan_participants(
    path: Path,
    people: pd.DataFrame,
    attrs: list[str],
    config: Config | None,
    dropped: list[str] | None = None,
) -> ParticipantPlan:
    """`dropped`: empty placeholder slice columns to remove from an existing file."""
    declared = [s.attribute for s in config.participant_slices] if config is not None else []
    refuse_symlink(path)
    if not path.exists():
        header = ["participant_id", *declared, *[a for a in attrs if a not in declared], "strikes"]
        rows = _people_rows(people, list(people.index), header)
        used = _values_used(header, rows, attrs)
        return ParticipantPlan(header, rows, False, False, len(rows), used)
    old = read_csv_text(path)
    if "participant_id" not in old.columns:
        raise ImportSourceError(f"{path}: no participant_id column")
    gone = [c for c in dropped or [] if c in old.columns and c not in attrs]
    old = old.drop(columns=gone)
    header = list(old.columns)
    known = set(old["participant_id"].tolist())
    new_pids = [p for p in people.index if p not in known]
    new_cols = [a for a in attrs if a not in header]
    if new_cols:
        # A slice this import adds: a new column, filled for the participants it knows.
        at = header.index("strikes") if "strikes" in header else len(header)
        header = header[:at] + new_cols + header[at:]
        for a in new_cols:
            old[a] = old["participant_id"].map(people[a]).fillna("").astype(object)
    new_rows = _people_rows(people, new_pids, header)
    used = _values_used(header, new_rows, [a for a in attrs if a not in new_cols])
    if not new_cols and not gone:
        return ParticipantPlan(header, new_rows, False, True, len(new_rows), used)
    old_rows = old[header].astype(object).to_numpy().tolist()
    used.update(_values_used(header, old_rows + new_rows, new_cols))
    return ParticipantPlan(header, old_rows + new_rows, True, True, len(new_rows), used)


def _people_rows(people: pd.DataFrame, pids: list[str], header: list[str]) -> list[list[str]]:
    frame = people.reindex(pd.Index(pids, dtype=object))
    cols: list[list[str]] = []
    for c in header:
        if c == "participant_id":
            cols.append([str(p) for p in pids])
        elif c == "strikes":
            cols.append(["0"] * len(pids))
        elif c in frame.columns:
            cols.append(frame[c].fillna("").astype(str).tolist())
        else:
            cols.append([""] * len(pids))
    return [list(r) for r in zip(*cols, strict=True)]


def _values_used(
    header: list[str], rows: list[list[str]], attrs: list[str]
) -> dict[str, list[str]]:
    """attribute -> the non-empty values `rows` use, most used first."""
    out = {}
    for a in attrs:
        i = header.index(a)
        counts = Counter(r[i] for r in rows if r[i] != "")
        out[a] = [v for v, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return out
