"""Start (or grow) a board from pairwise preference data people already have.

`prefboard import FORMAT SOURCE --into DIR` reads a CSV, JSON (array of records), JSONL or Parquet
file of pairwise votes (Chatbot Arena's export, a crowd-sourcing platform's CSV, ...) and writes
it into a board folder in prefboard's own formats:

- `leaderboard.toml`: created, with comments, when absent (one dimension, a `[[models]]` block per
  model found, a `[[slices]]` block per `--slice` column, `[quality] min_turns = 0`); when it
  exists, only new models, new slices and new slice values are added, as text, so that the
  maintainer's comments and layout survive.
- `results/participants.csv` (or whatever `[data] participants` names): one row per judge, or the
  single synthetic participant `imported` when the source names none.
- `results/battles/imported-<stem>.csv`: the battles, one dimension column answered.
- `results/import-ledger-<stem>.csv`: what happened to every source row.

Rules, in the order they apply to each source row (`source_row` is the 1-based record number:
CSV data rows after the header, JSON array elements, JSONL objects, Parquet rows):

1. `missing-field`: model_a, model_b or winner empty (or the participant / timestamp, when the
   mapping names those columns).
2. `field-too-long`: a model name over 100 characters or a participant id over 200, after control
   and invisible formatting characters (bidi overrides, zero-width spaces, ...) are stripped.
3. `unknown-winner-value`: the winner is none of `winner_values` or `extra_ties`.
4. `bad-timestamp`: not a Unix epoch number (seconds; milliseconds, microseconds and nanoseconds
   are recognised by magnitude) nor an ISO 8601 date/time; or outside 1970-2099. ISO values
   without a zone are taken as UTC.
5. `same-model`: both sides are the same model (after name normalisation).
6. `duplicate` (not skipped, counted apart): the battle id is already in the battle file, i.e.
   the row came in with an earlier import of the same source.

Battle ids are `i` + the first 16 hex digits of SHA-256 over the source file's *name* (not its
folder), the row number and the row's battle fields (cleaned model names, winner, participant,
timestamp in microseconds). Re-importing a source therefore adds nothing, and importing a grown
copy of it (rows appended at the end) adds only the new rows.

Timestamps: epoch numbers and ISO values are written as ISO 8601 UTC with `Z`. When the mapping
names no timestamp column, the imported rows keep their source order through synthesised,
strictly increasing timestamps one second apart, starting one second after the latest battle
already in the board's battle CSVs (2000-01-01T00:00:00Z on an empty board), so a second
source's battles follow the first's; the import says so in a note.

Placeholders: the `[[models]]` and `[[slices]]` blocks `prefboard init` marks
`# prefboard:placeholder` are removed while they read as init wrote them and nothing uses them
(see `placeholders`).

Model keys: a model name is matched (case-insensitively) against the keys and names already in
`leaderboard.toml`; otherwise its key is the name lower-cased, accents dropped, every character
outside [a-z0-9_.-] replaced by `-` (runs collapsed, leading/trailing non-alphanumerics
trimmed), with `-2`, `-3`, ... added if another model already holds that key. The original
name is kept as the model's `name`.

Participants: a judge whose slice column holds several values gets the most frequent one (ties:
the alphabetically first non-empty value); the count of such judges is reported. Slice cells
over 100 characters are treated as empty. Participants already in the participants file are
never rewritten (except to fill a slice column this import adds). Every participant gets
`strikes = 0`. Every battle gets `turns = 1`: the sources record no turn counts, and a new board
gets `min_turns = 0` so that the turns rule excludes nothing.
"""

from __future__ import annotations

import csv
import fnmatch
import glob
import hashlib
import io
import os
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from prefboard.config import KEY_PATTERN, Config, load_config, parse_config
from prefboard.errors import ConfigError, listed
from prefboard.io.files import (
    ensure_folder,
    open_append,
    open_update,
    refuse_symlink,
    write_atomic,
)
from prefboard.io.paths import leaves_board

__all__ = [
    "ARENA",
    "FORMATS",
    "PAIRWISE",
    "ImportReport",
    "ImportSourceError",
    "PairwiseMapping",
    "import_pairwise",
    "normalise_key",
    "parse_timestamps",
    "read_source",
]

from prefboard.tools.importers.api import (
    _KEY_RE,
    _SEP,
    _SYNTHETIC_START_US,
    _US_PER_S,
    ARENA,
    BAD_TIMESTAMP,
    CHUNK_ROWS,
    FORMATS,
    ID_COLLISION,
    ID_HEX,
    IMPORTED_TURNS,
    MAX_MODEL_CHARS,
    MAX_PARTICIPANT_CHARS,
    MAX_SLICE_VALUE_CHARS,
    MAX_SLICE_VALUES,
    MISSING,
    PAIRWISE,
    SAME_MODEL,
    SYNTHETIC_PARTICIPANT,
    TOO_LONG,
    UNKNOWN_WINNER,
    ImportReport,
    ImportSourceError,
    PairwiseMapping,
    Rows,
)
from prefboard.tools.importers.board_toml import _edit_config, _new_config_text
from prefboard.tools.importers.placeholders import Removed, remove_placeholders, without
from prefboard.tools.importers.sources import read_source
from prefboard.tools.importers.values import (
    _clean_column,
    _map_values,
    differing_characters,
    format_timestamps,
    normalise_key,
    parse_timestamps,
    skeleton,
)


def import_pairwise(
    source: Path,
    into: Path,
    mapping: PairwiseMapping,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import the pairwise votes in `source` into the board folder `into` (see module docs).

    `progress(rows_done, rows_total)` is called after each chunk of rows is prepared.
    Raises `ImportSourceError` when the source or mapping is unusable as a whole (when a new
    board would get fewer than two models, after writing the ledger that says why) and
    `ConfigError` when an existing leaderboard.toml is invalid, writing nothing.
    """
    source, into = Path(source), Path(into)
    _check_mapping(mapping)
    stem = normalise_key(source.stem)
    # The board folder is the user's own choice; what lies inside it may have been planted.
    refuse_symlink(into)
    config_path = into / "leaderboard.toml"
    refuse_symlink(config_path)
    config = load_config(config_path) if config_path.exists() else None
    notes: list[str] = []
    original, base = "", None
    if config is not None:
        original = config_path.read_text(encoding="utf-8").removeprefix("\ufeff")
        base = remove_placeholders(
            original, config, into, {normalise_key(c) for c in mapping.slices}
        )
        if base.any:
            config = without(config, base)
            notes.append(_placeholder_note(base))
    if config is not None:
        dims = [d.key for d in config.battle_dimensions]
        if mapping.dimension not in dims:
            raise ImportSourceError(
                f"dimension {mapping.dimension!r} is not a battle dimension of {config_path} "
                f"({', '.join(dims) or 'none'}); declare it there (and add its column to the "
                "existing battle files) or import into one of those"
            )

    needed = [mapping.model_a, mapping.model_b, mapping.winner]
    needed += [c for c in (mapping.participant, mapping.timestamp) if c]
    needed += list(mapping.slices)
    frame = read_source(source, needed)
    total = len(frame)

    parts = []
    for start in range(0, total, CHUNK_ROWS):
        parts.append(_prepare(frame.iloc[start : start + CHUNK_ROWS], start, mapping, source.name))
        if progress is not None:
            progress(min(start + CHUNK_ROWS, total), total)
    if not parts:
        parts.append(_prepare(frame, 0, mapping, source.name))
        if progress is not None:
            progress(0, 0)
    rows = {k: np.concatenate([part[k] for part in parts]) for k in parts[0]}
    del frame, parts

    # Model keys, then the one rule that needs them.
    reason = rows["reason"]
    valid = reason == ""
    names = pd.unique(np.concatenate([rows["name_a"][valid], rows["name_b"][valid]]))
    name_to_key, created, collided, twins = _assign_keys(sorted(str(n) for n in names), config)
    for name, key in collided:
        notes.append(f"model {name!r} got key {key!r}: its plain key was taken by another model")
    warnings = [
        f"model {name!r} (added as {key!r}) looks like {twin!r} but differs by "
        f"{differing_characters(name, twin)}; if they are one model, fix the name in the source"
        for name, twin, key in twins
    ]
    key_a = _map_values(rows["name_a"], name_to_key)
    key_b = _map_values(rows["name_b"], name_to_key)
    reason[valid & (key_a == key_b)] = SAME_MODEL
    valid = reason == ""

    # Idempotency: ids already in the target battle file are duplicates.
    battles_rel = _battles_path(config, stem)
    battles_path = into / battles_rel
    header = _battle_header(config, mapping)
    existing_ids = _existing_ids(battles_path, header)
    ids = rows["battle_id"]
    dup = valid & pd.Series(ids, dtype=object).isin(existing_ids).to_numpy()
    fresh = valid & ~dup
    collision = (
        fresh
        & pd.Series(ids, dtype=object).where(fresh).duplicated(keep="first").to_numpy()
        & fresh
    )
    reason[collision] = ID_COLLISION
    imported = fresh & ~collision

    status = np.where(imported, 0, np.where(dup, 1, 2)).astype(np.int8)
    skipped = {str(k): int(v) for k, v in sorted(Counter(reason[reason != ""].tolist()).items())}
    ledger_rel = Path("results") / f"import-ledger-{stem}.csv"
    ledger = pa.table(
        {
            "source_row": pa.array(rows["source_row"]),
            "battle_id": pa.array(np.where(valid & ~collision, ids, ""), type=pa.string()),
            "status": pc.take(pa.array(["imported", "duplicate", "skipped"]), pa.array(status)),
            "reason": pa.array(reason, type=pa.string()),
        }
    )

    # Models and participants the imported rows bring.
    imp = {k: v[imported] for k, v in rows.items()}
    if not mapping.timestamp:
        first = _synthetic_start(into, config)
        imp["ts_us"] = first + np.arange(len(imp["ts_us"]), dtype=np.int64) * _US_PER_S
        if len(imp["ts_us"]):
            notes.append(_synthetic_note(imp["ts_us"], first != _SYNTHETIC_START_US))
    model_keys = set(key_a[imported].tolist()) | set(key_b[imported].tolist())
    existing_keys = set(config.model_keys) if config is not None else set()
    new_models = [(k, created[k]) for k in sorted(model_keys - existing_keys)]

    if config is None and len(model_keys) < 2:
        _write_ledger(into / ledger_rel, into, ledger)
        raise ImportSourceError(
            f"{source.name}: {int(imported.sum())} importable row(s) naming "
            f"{len(model_keys)} model(s); a board needs at least 2 models. "
            f"Skipped: {_fmt_counts(skipped) or 'none'}; see {into / ledger_rel}"
        )

    people, conflicts = _participant_values(imp, mapping)
    if conflicts:
        notes.append(
            f"{conflicts} participant(s) had several values in a slice column; each got its "
            "most frequent value"
        )
    if mapping.slices and not mapping.participant:
        notes.append(
            "slices without a participant column: the single participant "
            f"{SYNTHETIC_PARTICIPANT!r} holds the most frequent value of each slice"
        )
    declared_attrs = {s.attribute for s in config.slices} if config is not None else set()
    slice_attrs: list[tuple[str, str]] = []
    for col in mapping.slices:
        attr = normalise_key(col)
        distinct = int(people[attr].loc[people[attr] != ""].nunique())
        if distinct > MAX_SLICE_VALUES:
            raise ImportSourceError(
                f"slice column {col!r} has {distinct} distinct values (limit {MAX_SLICE_VALUES}); "
                "a slice must be categorical"
            )
        if distinct == 0 and attr not in declared_attrs:
            people = people.drop(columns=attr)
            notes.append(f"slice column {col!r} is empty in every imported row; not declared")
            continue
        slice_attrs.append((attr, col))

    participants_rel = (
        Path(config.data.participants) if config else Path("results/participants.csv")
    )
    if leaves_board(str(participants_rel)):
        raise ImportSourceError(
            f"data.participants {str(participants_rel)!r} leaves the board folder"
        )
    participants_path = into / participants_rel
    ledger_path = into / ledger_rel
    _refuse_planted(into, [config_path, participants_path, battles_path, ledger_path])
    dropped = base.slices if base is not None else []
    plan = _plan_participants(
        participants_path, people, [a for a, _ in slice_attrs], config, dropped
    )

    # The config: new file, or text edits verified by re-parsing.
    written: list[Path] = []
    if config is None:
        text = _new_config_text(
            source.name, mapping.dimension, new_models, slice_attrs, plan, not mapping.timestamp
        )
        parse_config(tomllib.loads(text), text)
        added_values = {a: list(v) for a, v in plan.slice_values.items()}
        pending: dict[str, list[str]] = {}
    else:
        assert base is not None
        text, added_values, pending = _edit_config(base.text, config, new_models, slice_attrs, plan)
        if text == original:
            text = None
        elif base.any:
            _check_final(text)
    if text is not None:
        ensure_folder(into)
        write_atomic(config_path, text)
        written.append(config_path)
    for attr, values in pending.items():
        notes.append(
            f"slice {attr!r}: declare the value(s) {listed(map(repr, values), 20)} in "
            f"leaderboard.toml{' with population shares' if _has_population(config, attr) else ''}"
            "; until then validate reports those participants"
        )

    if plan.write(participants_path, into):
        written.append(participants_path)

    out = _battle_table(imp, key_a[imported], key_b[imported], header, mapping)
    if _write_battles(battles_path, into, out):
        written.append(battles_path)

    _write_ledger(into / ledger_rel, into, ledger)
    written.append(into / ledger_rel)

    if config is not None:
        notes += _reach_notes(into, config, battles_rel, participants_rel)
        if config.quality.min_turns > int(IMPORTED_TURNS):
            notes.append(
                f"quality.min_turns is {config.quality.min_turns}: imported battles have "
                f"turns = {IMPORTED_TURNS} and will be excluded as too-few-turns"
            )

    return ImportReport(
        source_rows=total,
        imported=int(imported.sum()),
        skipped=skipped,
        duplicates=int(dup.sum()),
        models_added=[k for k, _ in new_models],
        files_written=written,
        ledger_path=into / ledger_rel,
        bothbad_ties=int(rows["bothbad"][imported].sum()),
        participants_added=plan.added,
        slice_values_added={a: v for a, v in added_values.items() if v},
        slice_values_pending=pending,
        notes=notes,
        warnings=warnings,
    )


def _refuse_planted(board: Path, targets: list[Path]) -> None:
    """Before anything is written: no target, nor any folder between the board and it, may be
    a symlink (planted to carry the writes, or the appends, out of the board)."""
    for target in targets:
        rel = target.relative_to(board).parts
        for i in range(1, len(rel) + 1):
            refuse_symlink(board.joinpath(*rel[:i]))


def _check_mapping(m: PairwiseMapping) -> None:
    if not _KEY_RE.match(m.dimension) or len(m.dimension) > 64:
        raise ImportSourceError(f"dimension {m.dimension!r} is not a valid key ({KEY_PATTERN})")
    wins = [v.strip() for v in m.winner_values]
    if len(wins) != 3 or "" in wins or len(set(wins)) != 3:
        raise ImportSourceError("winner_values must be three distinct non-empty values (a, b, tie)")
    clash = set(wins) & {v.strip() for v in m.extra_ties}
    if clash:
        raise ImportSourceError(f"extra_ties repeats winner value(s): {', '.join(sorted(clash))}")
    attrs = [normalise_key(c) for c in m.slices]
    for col, attr in zip(m.slices, attrs, strict=True):
        if attr in ("participant_id", "strikes") or attrs.count(attr) > 1:
            raise ImportSourceError(
                f"slice column {col!r} gives attribute {attr!r} twice or "
                "clashes with a participants column"
            )
        if len(attr) > 64:
            raise ImportSourceError(f"slice column {col!r} is too long a name for an attribute")


def _prepare(chunk: pd.DataFrame, offset: int, m: PairwiseMapping, source_name: str) -> Rows:
    """Clean one chunk and give each row its skip reason ("" when fine) and battle id."""
    n = len(chunk)
    source_row = np.arange(offset + 1, offset + n + 1, dtype=np.int64)
    name_a, len_a = _clean_column(chunk[m.model_a])
    name_b, len_b = _clean_column(chunk[m.model_b])
    winner, _ = _clean_column(chunk[m.winner])
    if m.participant:
        pid, len_p = _clean_column(chunk[m.participant])
    else:
        pid, len_p = np.full(n, SYNTHETIC_PARTICIPANT, dtype=object), np.zeros(n, np.int64)
    raw_ts = chunk[m.timestamp].astype(str).str.strip() if m.timestamp else None

    reason = np.full(n, "", dtype=object)

    def flag(mask: np.ndarray, why: str) -> None:
        reason[(reason == "") & mask] = why

    missing = (len_a == 0) | (len_b == 0) | (winner == "")
    if m.participant:
        missing |= len_p == 0
    if raw_ts is not None:
        missing |= (raw_ts == "").to_numpy(dtype=bool)
    flag(missing, MISSING)
    flag(
        (len_a > MAX_MODEL_CHARS) | (len_b > MAX_MODEL_CHARS) | (len_p > MAX_PARTICIPANT_CHARS),
        TOO_LONG,
    )
    codes = {
        m.winner_values[0].strip(): "a",
        m.winner_values[1].strip(): "b",
        m.winner_values[2].strip(): "tie",
    }
    codes.update(dict.fromkeys((t.strip() for t in m.extra_ties), "tie"))
    outcome = _map_values(winner, codes)
    flag(outcome == "", UNKNOWN_WINNER)
    bothbad = pd.Series(winner, dtype=object).isin({t.strip() for t in m.extra_ties}).to_numpy()

    if raw_ts is None:
        ts_us = _SYNTHETIC_START_US + (source_row - 1) * _US_PER_S
    else:
        ts_us = parse_timestamps(raw_ts)
        flag(ts_us < 0, BAD_TIMESTAMP)

    ok = reason == ""
    ids = np.full(n, "", dtype=object)
    if ok.any():
        ids[ok] = battle_ids(
            source_name,
            source_row[ok],
            name_a[ok],
            name_b[ok],
            winner[ok],
            pid[ok],
            ts_us[ok] if raw_ts is not None else None,
        )
    out = {
        "source_row": source_row,
        "name_a": name_a,
        "name_b": name_b,
        "outcome": outcome,
        "bothbad": bothbad,
        "participant_id": pid,
        "ts_us": ts_us,
        "reason": reason,
        "battle_id": ids,
    }
    for col in m.slices:
        values, lengths = _clean_column(chunk[col])
        values[lengths > MAX_SLICE_VALUE_CHARS] = ""
        out["slice:" + col] = values
    return out


def battle_ids(
    source_name: str,
    source_row: np.ndarray,
    name_a: np.ndarray,
    name_b: np.ndarray,
    winner: np.ndarray,
    participant: np.ndarray,
    ts_us: np.ndarray | None,
) -> list[str]:
    """`i` + 16 hex digits of SHA-256 over the fields joined by U+001F (see module docs).

    The joining runs in Arrow; only the hashing itself is a Python loop (about 0.6 s per
    million rows: hashlib has no vectorised form, and a non-cryptographic vectorised hash
    such as pandas' would tie the ids to one library's implementation)."""
    fields: list[Any] = [
        pa.scalar(source_name),
        pc.cast(pa.array(source_row), pa.string()),
        pa.array(name_a, type=pa.string()),
        pa.array(name_b, type=pa.string()),
        pa.array(winner, type=pa.string()),
        pa.array(participant, type=pa.string()),
        pc.cast(pa.array(ts_us), pa.string()) if ts_us is not None else pa.scalar(""),
    ]
    content = pc.binary_join_element_wise(*fields, _SEP).cast(pa.binary())
    return ["i" + hashlib.sha256(c).hexdigest()[:ID_HEX] for c in content.to_pylist()]


def _assign_keys(
    names: list[str], config: Config | None
) -> tuple[dict[str, str], dict[str, str], list[tuple[str, str]], list[tuple[str, str, str]]]:
    """name -> key for every name; key -> display name of keys created now; suffixed names;
    and (name, look-alike, key) for each new model whose name looks like a declared model's
    key or name, or like another new name: a Cyrillic "а" or a fullwidth letter in a dump made
    a second model out of one, silently."""
    lookup: dict[str, str] = {}
    used: set[str] = set()
    seen: dict[str, str] = {}  # skeleton -> the declared or earlier name it came from
    if config is not None:
        for mdl in config.models:
            used.add(mdl.key)
            lookup.setdefault(mdl.key.casefold(), mdl.key)
            seen.setdefault(skeleton(mdl.key), mdl.key)
        for mdl in config.models:
            if mdl.name:
                lookup.setdefault(mdl.name.casefold(), mdl.key)
                seen.setdefault(skeleton(mdl.name), mdl.name)
    out: dict[str, str] = {}
    created: dict[str, str] = {}
    collided: list[tuple[str, str]] = []
    twins: list[tuple[str, str, str]] = []
    for name in names:
        folded = name.casefold()
        if folded in lookup:
            out[name] = lookup[folded]
            continue
        base = normalise_key(name)
        key, n = base, 2
        while key in used:
            key = f"{base[: MAX_MODEL_CHARS - 6].rstrip('-')}-{n}"
            n += 1
        if key != base:
            collided.append((name, key))
        twin = seen.setdefault(skeleton(name), name)
        if twin != name:
            twins.append((name, twin, key))
        used.add(key)
        created[key] = name
        lookup[folded] = key
        lookup.setdefault(key, key)
        out[name] = key
    return out, created, collided, twins


def _participant_values(imp: Rows, m: PairwiseMapping) -> tuple[pd.DataFrame, int]:
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
class _ParticipantPlan:
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
            _ensure_trailing_newline(path)
            with open_append(path) as fh:
                text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
                csv.writer(text, lineterminator="\n").writerows(self.rows)
                text.flush()
                text.detach()
        return True


def _plan_participants(
    path: Path,
    people: pd.DataFrame,
    attrs: list[str],
    config: Config | None,
    dropped: list[str] | None = None,
) -> _ParticipantPlan:
    """`dropped`: empty placeholder slice columns to remove from an existing file."""
    declared = [s.attribute for s in config.slices] if config is not None else []
    refuse_symlink(path)
    if not path.exists():
        header = ["participant_id", *declared, *[a for a in attrs if a not in declared], "strikes"]
        rows = _people_rows(people, list(people.index), header)
        used = _values_used(header, rows, attrs)
        return _ParticipantPlan(header, rows, False, False, len(rows), used)
    old = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8-sig")
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
        return _ParticipantPlan(header, new_rows, False, True, len(new_rows), used)
    old_rows = old[header].astype(object).to_numpy().tolist()
    used.update(_values_used(header, old_rows + new_rows, new_cols))
    return _ParticipantPlan(header, old_rows + new_rows, True, True, len(new_rows), used)


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


def _battle_header(config: Config | None, m: PairwiseMapping) -> list[str]:
    dims = [d.key for d in config.battle_dimensions] if config is not None else [m.dimension]
    return ["battle_id", "timestamp", "participant_id", "model_a", "model_b", "turns", *dims]


def _battles_path(config: Config | None, stem: str) -> Path:
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


def _existing_ids(path: Path, header: list[str]) -> set[str]:
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
    ids = pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        usecols=["battle_id"],
        encoding="utf-8-sig",
    )["battle_id"]
    return set(ids.tolist())


def _battle_table(
    imp: Rows, key_a: np.ndarray, key_b: np.ndarray, header: list[str], m: PairwiseMapping
) -> pa.Table:
    n = len(imp["battle_id"])
    blank = _constant("", n)
    cols: dict[str, Any] = {
        "battle_id": pa.array(imp["battle_id"], type=pa.string()),
        "timestamp": format_timestamps(imp["ts_us"]),
        "participant_id": pa.array(imp["participant_id"], type=pa.string()),
        "model_a": pa.array(key_a, type=pa.string()),
        "model_b": pa.array(key_b, type=pa.string()),
        "turns": _constant(IMPORTED_TURNS, n),
    }
    outcome = pa.array(imp["outcome"], type=pa.string())
    for d in header[6:]:
        cols[d] = outcome if d == m.dimension else blank
    return pa.table([cols[c] for c in header], names=header)


def _constant(value: str, n: int) -> pa.Array:
    return pc.take(pa.array([value]), pa.array(np.zeros(n, dtype=np.int32)))


def _write_battles(path: Path, board: Path, table: pa.Table) -> bool:
    if path.exists():
        if not table.num_rows:
            return False
        with path.open(encoding="utf-8-sig", newline="") as fh:
            order = next(csv.reader(fh))
        _ensure_trailing_newline(path)
        with open_append(path) as fh:
            _write_csv(table.select(order), fh, header=False)
        return True
    ensure_folder(path.parent, board)
    write_atomic(path, lambda fh: _write_csv(table, fh, header=True))
    return True


def _write_ledger(path: Path, board: Path, ledger: pa.Table) -> None:
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


def _ensure_trailing_newline(path: Path) -> None:
    with open_update(path) as fh:
        size = fh.seek(0, os.SEEK_END)
        if not size:
            return
        fh.seek(size - 1)
        if fh.read(1) not in (b"\n", b"\r"):
            fh.write(b"\n")


def _reach_notes(
    into: Path, config: Config, battles_rel: Path, participants_rel: Path
) -> list[str]:
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


def _synthetic_start(into: Path, config: Config | None) -> int:
    """Microseconds of the first synthetic timestamp: one second after the board's latest
    battle, so that a second source's battles replay after the first's instead of interleaving
    with them (TrueSkill's single pass is order-dependent); 2000-01-01 on an empty board."""
    if config is None:
        return _SYNTHETIC_START_US
    latest = _SYNTHETIC_START_US - _US_PER_S
    for pattern in config.data.battles:
        if leaves_board(pattern):
            continue
        for name in sorted(glob.glob(pattern, root_dir=into, recursive=True)):
            path = into / name
            if path.suffix.lower() != ".csv" or path.is_symlink() or not path.is_file():
                continue
            latest = max(latest, _latest_timestamp(path))
    # whole seconds, so the synthetic times read as plain 1-second steps
    return (latest // _US_PER_S + 1) * _US_PER_S


def _latest_timestamp(path: Path) -> int:
    try:
        column = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            usecols=["timestamp"],
            encoding="utf-8-sig",
        )["timestamp"]
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError):
        return -1  # validate reports the file; it cannot place the new battles
    parsed = pd.to_datetime(column, utc=True, format="ISO8601", errors="coerce").dropna()
    return int(parsed.max().value // 1_000) if len(parsed) else -1


def _synthetic_note(ts_us: np.ndarray, after_existing: bool) -> str:
    first, last = format_timestamps(ts_us[[0, -1]]).to_pylist()
    where = " (after the board's latest battle)" if after_existing else ""
    return (
        f"the source has no timestamp column: the {len(ts_us):,} imported battles got synthetic "
        f"times {first} to {last}{where}, one second apart in source order; the site's "
        "'data through' date is theirs, not when people voted"
    )


def _check_final(text: str) -> None:
    """The placeholders' removal is checked here, on the text about to be written: with no
    model of its own the import would leave a board without models."""
    try:
        parse_config(tomllib.loads(text), text)
    except ConfigError as exc:
        raise ImportSourceError(
            "removing the placeholders `prefboard init` wrote would leave leaderboard.toml "
            f"invalid ({exc.message.splitlines()[0]}); delete their `# prefboard:placeholder` "
            "comments to keep them"
        ) from None


def _placeholder_note(removed: Removed) -> str:
    what = [f"model(s) {', '.join(removed.models)}"] if removed.models else []
    if removed.slices:
        what.append(f"slice(s) {', '.join(removed.slices)} (no participant has a value)")
    return (
        f"removed the placeholder {' and '.join(what)} that `prefboard init` wrote in "
        "leaderboard.toml"
    )


def _fmt_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def _has_population(config: Config | None, attr: str) -> bool:
    return config is not None and any(s.attribute == attr and s.population for s in config.slices)
