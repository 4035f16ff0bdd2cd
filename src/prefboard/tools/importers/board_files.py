"""The board files an import reads and writes: the battle file it appends to, the ledger, and
what the board's existing battles say (ids already imported, the latest time)."""

from __future__ import annotations

import csv
import fnmatch
import glob
import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from prefboard.config import Config
from prefboard.errors import listed
from prefboard.io.files import ensure_folder, open_append, open_update, refuse_symlink, write_atomic
from prefboard.io.paths import leaves_board
from prefboard.io.tables import read_csv_text
from prefboard.tools.importers.categories import extra_cells, extra_columns
from prefboard.tools.importers.mapping import PairwiseMapping
from prefboard.tools.importers.report import ImportSourceError
from prefboard.tools.importers.rows import Rows
from prefboard.tools.importers.values import (
    SYNTHETIC_START_US,
    US_PER_S,
    format_timestamps,
)

# The sources record no turn counts: every imported battle gets this many.
IMPORTED_TURNS = "1"


def refuse_planted(board: Path, targets: list[Path]) -> None:
    """Before anything is written: no target, nor any folder between the board and it, may be
    a symlink (planted to carry the writes, or the appends, out of the board)."""
    for target in targets:
        rel = target.relative_to(board).parts
        for i in range(1, len(rel) + 1):
            refuse_symlink(board.joinpath(*rel[:i]))


def battle_header(config: Config | None, m: PairwiseMapping) -> list[str]:
    dims = [d.key for d in config.battle_dimensions] if config is not None else [m.dimension]
    base = ["battle_id", "timestamp", "participant_id", "model_a", "model_b", "turns", *dims]
    return base + extra_columns(config, m)


def battle_file(config: Config | None, stem: str) -> Path:
    """results/battles/imported-<stem>.csv, or a folder the config's battle globs do read."""
    name = f"imported-{stem}.csv"
    default = Path("results/battles") / name
    if config is None:
        return default
    candidates = [default] + [
        Path(p).parent / name
        for p in config.data.battles
        if not any(ch in str(Path(p).parent) for ch in "*?[") and not leaves_board(p)
    ]
    for cand in candidates:
        if any(fnmatch.fnmatch(cand.as_posix(), p) for p in config.data.battles):
            return cand
    return default


def imported_ids(path: Path, header: list[str]) -> set[str]:
    refuse_symlink(path)
    if not path.exists():
        return set()
    with path.open(encoding="utf-8-sig", newline="") as fh:
        found = next(csv.reader(fh), [])
    if sorted(found) != sorted(header):
        raise ImportSourceError(
            f"{path}: its header ({listed(found, 20)}) is not the one this import writes "
            f"({listed(header, 20)}); move the file aside or fix its columns"
        )
    return set(read_csv_text(path, ["battle_id"])["battle_id"].tolist())


def board_ids(into: Path, config: Config | None, target: Path, header: list[str]) -> dict[str, str]:
    """{battle id: file relative to the board} over the battle file this import appends to and
    every battle file the config reads, so a vote already brought in from another file, under
    another name or in another format, is recognised as a duplicate rather than counted twice."""
    held = dict.fromkeys(imported_ids(into / target, header), target.as_posix())
    for path in board_battle_files(into, config):
        rel = path.relative_to(into).as_posix()
        if rel == target.as_posix():
            continue
        try:
            ids = read_csv_text(path, ["battle_id"])["battle_id"].tolist()
        except (ValueError, UnicodeDecodeError, pd.errors.ParserError):
            continue  # validate reports the file; it holds no ids this import can match
        for battle in ids:
            held.setdefault(battle, rel)
    return held


def board_battle_files(into: Path, config: Config | None) -> list[Path]:
    """The CSV battle files the config's globs read inside the board (no symlinks), sorted."""
    if config is None:
        return []
    found: set[Path] = set()
    for pattern in config.data.battles:
        if leaves_board(pattern):
            continue
        for name in glob.glob(pattern, root_dir=into, recursive=True):
            path = into / name
            if path.suffix.lower() == ".csv" and not path.is_symlink() and path.is_file():
                found.add(path)
    return sorted(found)


def ledger_file(into: Path, stem: str) -> Path:
    """results/import-ledger-<stem>.csv, or -2, -3, ... when an earlier run's ledger (or
    anything else, a symlink included) holds the name: one ledger per import run, none
    overwritten."""
    folder = into / "results"
    path, n = folder / f"import-ledger-{stem}.csv", 1
    while os.path.lexists(path):
        n += 1
        path = folder / f"import-ledger-{stem}-{n}.csv"
    return path


def battle_table(imp: Rows, header: list[str], m: PairwiseMapping) -> pa.Table:
    """The imported rows in the battle file's columns (`header`); only the mapped dimension
    answered."""
    n = len(imp["battle_id"])
    blank = _constant("", n)
    cols: dict[str, Any] = {
        "battle_id": pa.array(imp["battle_id"], type=pa.string()),
        "timestamp": format_timestamps(imp["ts_us"]),
        "participant_id": pa.array(imp["participant_id"], type=pa.string()),
        "model_a": pa.array(imp["key_a"], type=pa.string()),
        "model_b": pa.array(imp["key_b"], type=pa.string()),
        "turns": _constant(IMPORTED_TURNS, n),
    }
    outcome = pa.array(imp["outcome"], type=pa.string())
    extra = {k: pa.array(v, type=pa.string()) for k, v in extra_cells(imp, m).items()}
    for d in header[6:]:
        cols[d] = outcome if d == m.dimension else extra.get(d, blank)
    return pa.table([cols[c] for c in header], names=header)


def _constant(value: str, n: int) -> pa.Array:
    return pc.take(pa.array([value]), pa.array(np.zeros(n, dtype=np.int32)))


def write_battles(path: Path, board: Path, table: pa.Table) -> bool:
    if path.exists():
        if not table.num_rows:
            return False
        with path.open(encoding="utf-8-sig", newline="") as text:
            order = next(csv.reader(text))
        ensure_trailing_newline(path)
        with open_append(path) as fh:
            _write_csv(table.select(order), fh, header=False)
        return True
    ensure_folder(path.parent, board)
    write_atomic(path, lambda fh: _write_csv(table, fh, header=True))
    return True


def write_ledger(path: Path, board: Path, ledger: pa.Table) -> None:
    ensure_folder(path.parent, board)
    write_atomic(path, lambda fh: _write_csv(ledger, fh, header=True))


def _write_csv(table: pa.Table, fh: Any, header: bool) -> None:
    """Unquoted when no cell needs quotes (ingest's fast path reads such files), else the csv
    module's minimal quoting, which no cell content can break."""
    opts = pacsv.WriteOptions(
        include_header=header, quoting_style="none", quoting_header="none", batch_size=65_536
    )
    start = fh.tell()
    try:
        pacsv.write_csv(table, fh, opts)
        return
    except pa.ArrowInvalid:
        fh.seek(start)
        fh.truncate()
    text = io.TextIOWrapper(fh, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\n")
    if header:
        writer.writerow(table.column_names)
    for batch in table.to_batches(max_chunksize=65_536):
        writer.writerows(zip(*(col.to_pylist() for col in batch.columns), strict=True))
    text.flush()
    text.detach()


def ensure_trailing_newline(path: Path) -> None:
    with open_update(path) as fh:
        size = fh.seek(0, os.SEEK_END)
        if not size:
            return
        fh.seek(size - 1)
        if fh.read(1) not in (b"\n", b"\r"):
            fh.write(b"\n")


def reach_notes(into: Path, config: Config, battles_rel: Path) -> list[str]:
    """A battle file the config's battle globs do not read is never rated: say so."""
    found = {
        Path(n).as_posix()
        for p in config.data.battles
        for n in glob.glob(p, root_dir=into, recursive=True)
    }
    if battles_rel.as_posix() not in found:
        return [
            f"{battles_rel.as_posix()} is not matched by data.battles "
            f"({', '.join(config.data.battles)}); add a glob that reads it"
        ]
    return []


def synthetic_start(into: Path, config: Config | None) -> int:
    """Microseconds of the first synthetic timestamp: one second after the board's latest
    battle, so that a second source's battles replay after the first's instead of interleaving
    with them (TrueSkill's single pass is order-dependent); 2000-01-01 on an empty board."""
    if config is None:
        return SYNTHETIC_START_US
    latest = SYNTHETIC_START_US - US_PER_S
    for path in board_battle_files(into, config):
        latest = max(latest, _latest_timestamp(path))
    # whole seconds, so the synthetic times read as plain 1-second steps
    return (latest // US_PER_S + 1) * US_PER_S


def _latest_timestamp(path: Path) -> int:
    try:
        column = read_csv_text(path, ["timestamp"])["timestamp"]
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError):
        return -1  # validate reports the file; it cannot place the new battles
    parsed = pd.to_datetime(column, utc=True, format="ISO8601", errors="coerce").dropna()
    return int(parsed.max().value // 1_000) if len(parsed) else -1
