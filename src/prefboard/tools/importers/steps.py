"""The steps of `import_pairwise`, in the order it takes them (see the package docs)."""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from prefboard.config import Config, load_config, parse_config
from prefboard.errors import listed
from prefboard.io.files import ensure_folder, refuse_symlink, write_atomic
from prefboard.io.paths import leaves_board
from prefboard.tools.importers.board_files import (
    IMPORTED_TURNS,
    reach_notes,
    synthetic_start,
    write_ledger,
)
from prefboard.tools.importers.board_toml import (
    Additions,
    check_final,
    edit_config,
    new_config_text,
)
from prefboard.tools.importers.categories import category_slices
from prefboard.tools.importers.mapping import PairwiseMapping
from prefboard.tools.importers.participants import participant_values
from prefboard.tools.importers.placeholders import (
    Removed,
    removal_note,
    remove_placeholders,
    without,
)
from prefboard.tools.importers.report import ImportReport, ImportSourceError
from prefboard.tools.importers.rows import ID_COLLISION, SAME_MODEL, SYNTHETIC_PARTICIPANT, Rows
from prefboard.tools.importers.values import (
    SYNTHETIC_START_US,
    US_PER_S,
    assign_keys,
    differing_characters,
    format_timestamps,
    map_values,
    normalise_key,
)

MAX_SLICE_VALUES = 500


@dataclass
class Board:
    """The board folder an import writes into, as found before anything is written."""

    into: Path
    config_path: Path
    config: Config | None  # None for a new board; without the placeholders that may go
    original: str = ""  # leaderboard.toml as read
    base: Removed | None = None  # its text without those placeholders, and what went
    notes: list[str] = field(default_factory=list)  # for the maintainer, in the report


def open_board(into: Path, mapping: PairwiseMapping) -> Board:
    """The board's config, placeholders removed; refuses a dimension it does not declare.
    Raises `ConfigError` when an existing leaderboard.toml is invalid."""
    # The board folder is the user's own choice; what lies inside it may have been planted.
    refuse_symlink(into)
    config_path = into / "leaderboard.toml"
    refuse_symlink(config_path)
    if not config_path.exists():
        return Board(into, config_path, None)
    config = load_config(config_path)
    original = config_path.read_text(encoding="utf-8").removeprefix("\ufeff")
    base = remove_placeholders(original, config, into, {normalise_key(c) for c in mapping.slices})
    board = Board(into, config_path, config, original, base)
    if base.any:
        board.config = without(config, base)
        board.notes.append(removal_note(base))
    dims = [d.key for d in board.config.battle_dimensions] if board.config else []
    if mapping.dimension not in dims:
        raise ImportSourceError(
            f"dimension {mapping.dimension!r} is not a battle dimension of {config_path} "
            f"({', '.join(dims) or 'none'}); declare it there (and add its column to the "
            "existing battle files) or import into one of those"
        )
    return board


@dataclass
class ModelKeys:
    key_a: np.ndarray  # every row's model keys ("" where the row was skipped before)
    key_b: np.ndarray
    created: dict[str, str]  # key -> display name, for the keys made now
    warnings: list[str]  # new names that look like known ones


def key_models(rows: Rows, board: Board) -> ModelKeys:
    """Model keys for the rows still valid, then the one rule that needs them: same-model."""
    reason = rows["reason"]
    valid = reason == ""
    names = pd.unique(np.concatenate([rows["name_a"][valid], rows["name_b"][valid]]))
    name_to_key, created, collided, twins = assign_keys(sorted(str(n) for n in names), board.config)
    for name, key in collided:
        board.notes.append(
            f"model {name!r} got key {key!r}: its plain key was taken by another model"
        )
    warnings = [
        f"model {name!r} (added as {key!r}) looks like {twin!r} but differs by "
        f"{differing_characters(name, twin)}; if they are one model, fix the name in the source"
        for name, twin, key in twins
    ]
    key_a = map_values(rows["name_a"], name_to_key)
    key_b = map_values(rows["name_b"], name_to_key)
    reason[valid & (key_a == key_b)] = SAME_MODEL
    return ModelKeys(key_a, key_b, created, warnings)


@dataclass
class Fates:
    """What happens to each source row: imported, a duplicate, or skipped for a reason."""

    imported: np.ndarray
    duplicate: np.ndarray
    skipped: dict[str, int]  # reason -> rows
    ledger: pa.Table  # source_row, battle_id, status, reason


def sort_rows(rows: Rows, existing: dict[str, str]) -> Fates:
    """Idempotency: ids already in one of the board's battle files (`existing`: id -> file)
    are duplicates, whichever file or format brought them; every other valid row is imported
    unless its id collides with an earlier row's. A duplicate's ledger reason names the file
    that holds it."""
    reason = rows["reason"]
    valid = reason == ""
    ids = pd.Series(rows["battle_id"], dtype=object)
    dup = valid & ids.isin(existing.keys()).to_numpy()
    fresh = valid & ~dup
    collision = fresh & ids.where(fresh).duplicated(keep="first").to_numpy()
    reason[collision] = ID_COLLISION
    imported = fresh & ~collision
    status = np.where(imported, 0, np.where(dup, 1, 2)).astype(np.int8)
    skipped = {str(k): int(v) for k, v in sorted(Counter(reason[reason != ""].tolist()).items())}
    held = np.full(len(ids), "", dtype=object)
    held[dup] = ids[dup].map(existing).to_numpy(dtype=object)
    why = np.where(dup, "already in " + held, reason)
    ledger = pa.table(
        {
            "source_row": pa.array(rows["source_row"]),
            "battle_id": pa.array(np.where(valid & ~collision, ids, ""), type=pa.string()),
            "status": pc.take(pa.array(["imported", "duplicate", "skipped"]), pa.array(status)),
            "reason": pa.array(why, type=pa.string()),
        }
    )
    return Fates(imported, dup, skipped, ledger)


def already_imported(total: int, fates: Fates, board: Board) -> ImportReport:
    """The report of an import that found nothing new: it writes nothing, ledger included."""
    files = sorted(
        {
            r.removeprefix("already in ")
            for r in fates.ledger["reason"].to_pylist()
            if r.startswith("already in ")
        }
    )
    board.notes.append(
        f"nothing new: all {int(fates.duplicate.sum()):,} importable rows are already in the "
        f"board ({listed(files, 5)}); no file was written"
    )
    return ImportReport(
        source_rows=total,
        imported=0,
        skipped=fates.skipped,
        duplicates=int(fates.duplicate.sum()),
        models_added=[],
        files_written=[],
        ledger_path=None,
        bothbad_ties=0,
        notes=board.notes,
    )


def imported_rows(
    rows: Rows, fates: Fates, keys: ModelKeys, mapping: PairwiseMapping, board: Board
) -> Rows:
    """The rows to write, with their model keys (`key_a`, `key_b`) and, when the source has no
    timestamps, synthetic ones after the board's latest battle."""
    imp = {k: v[fates.imported] for k, v in rows.items()}
    imp["key_a"], imp["key_b"] = keys.key_a[fates.imported], keys.key_b[fates.imported]
    if not mapping.timestamp:
        first = synthetic_start(board.into, board.config)
        imp["ts_us"] = first + np.arange(len(imp["ts_us"]), dtype=np.int64) * US_PER_S
        if len(imp["ts_us"]):
            board.notes.append(_synthetic_note(imp["ts_us"], first != SYNTHETIC_START_US))
    return imp


def models_to_add(
    imp: Rows, keys: ModelKeys, board: Board, fates: Fates, source: Path, ledger: Path
) -> list[tuple[str, str]]:
    """(key, name) of the models the imported rows bring that the config lacks. A new board
    needs two: without them the ledger is written and the import refused."""
    model_keys = set(imp["key_a"].tolist()) | set(imp["key_b"].tolist())
    known = set(board.config.model_keys) if board.config is not None else set()
    if board.config is None and len(model_keys) < 2:
        write_ledger(ledger, board.into, fates.ledger)
        skipped = ", ".join(f"{k} {v}" for k, v in fates.skipped.items())
        raise ImportSourceError(
            f"{source.name}: {int(fates.imported.sum())} importable row(s) naming "
            f"{len(model_keys)} model(s); a board needs at least 2 models. "
            f"Skipped: {skipped or 'none'}; see {ledger}"
        )
    return [(k, keys.created[k]) for k in sorted(model_keys - known)]


def people_and_slices(
    imp: Rows, mapping: PairwiseMapping, board: Board
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """One row per participant with each slice's value, and the (attribute, column) slices to
    declare: a slice column empty in every row is dropped unless the config declares it."""
    people, conflicts = participant_values(imp, mapping)
    if conflicts:
        board.notes.append(
            f"{conflicts} participant(s) had several values in a slice column; each got its "
            "most frequent value"
        )
    if mapping.slices and not mapping.participant:
        board.notes.append(
            "slices without a participant column: the single participant "
            f"{SYNTHETIC_PARTICIPANT!r} holds the most frequent value of each slice"
        )
    declared = {s.attribute for s in board.config.slices} if board.config is not None else set()
    slice_attrs: list[tuple[str, str]] = []
    for col in mapping.slices:
        attr = normalise_key(col)
        distinct = int(people[attr].loc[people[attr] != ""].nunique())
        if distinct > MAX_SLICE_VALUES:
            raise ImportSourceError(
                f"slice column {col!r} has {distinct} distinct values (limit {MAX_SLICE_VALUES}); "
                "a slice must be categorical"
            )
        if distinct == 0 and attr not in declared:
            people = people.drop(columns=attr)
            board.notes.append(f"slice column {col!r} is empty in every imported row; not declared")
            continue
        slice_attrs.append((attr, col))
    return people, slice_attrs


def additions(
    models: list[tuple[str, str]],
    slices: list[tuple[str, str]],
    values: dict[str, list[str]],
    imp: Rows,
    mapping: PairwiseMapping,
    board: Board,
) -> Additions:
    """What the import adds to leaderboard.toml: models, participant slices (with the values
    the participants plan found) and battle-level slices (`--category`)."""
    categories, category_values = category_slices(imp, mapping, board.config, board.notes)
    battle = frozenset(a for a, _ in categories)
    return Additions(models, slices + categories, values | category_values, battle)


def participants_file(config: Config | None) -> Path:
    """The participants file, relative to the board."""
    rel = Path(config.data.participants) if config else Path("results/participants.csv")
    if leaves_board(str(rel)):
        raise ImportSourceError(f"data.participants {str(rel)!r} leaves the board folder")
    return rel


def write_config(
    board: Board, source: Path, mapping: PairwiseMapping, adds: Additions
) -> tuple[list[Path], dict[str, list[str]], dict[str, list[str]]]:
    """A new leaderboard.toml, or text edits to the existing one verified by re-parsing.
    Returns the files written, the slice values added and those left to the maintainer."""
    text: str | None
    if board.config is None:
        text = new_config_text(source.name, mapping.dimension, adds, not mapping.timestamp)
        parse_config(tomllib.loads(text), text)
        added = {a: list(v) for a, v in adds.values.items()}
        pending: dict[str, list[str]] = {}
    else:
        assert board.base is not None  # set with the config by open_board
        text, added, pending = edit_config(board.base.text, board.config, adds)
        if text == board.original:
            text = None
        elif board.base.any:
            check_final(text)
    written = []
    if text is not None:
        ensure_folder(board.into)
        write_atomic(board.config_path, text)
        written.append(board.config_path)
    for attr, values in pending.items():
        shares = " with population shares" if _has_population(board.config, attr) else ""
        board.notes.append(
            f"slice {attr!r}: declare the value(s) {listed(map(repr, values), 20)} in "
            f"leaderboard.toml{shares}; until then validate reports those participants"
        )
    return written, added, pending


def closing_notes(board: Board, battles_rel: Path) -> list[str]:
    """What stops an existing board from using the battles just written: a battle glob that
    does not read their file, or quality rules that exclude one-turn battles."""
    config = board.config
    if config is None:
        return []
    notes = reach_notes(board.into, config, battles_rel)
    if config.quality.min_turns > int(IMPORTED_TURNS):
        notes.append(
            f"quality.min_turns is {config.quality.min_turns}: imported battles have "
            f"turns = {IMPORTED_TURNS} and will be excluded as too-few-turns"
        )
    return notes


def _synthetic_note(ts_us: np.ndarray, after_existing: bool) -> str:
    first, last = format_timestamps(ts_us[[0, -1]]).to_pylist()
    where = " (after the board's latest battle)" if after_existing else ""
    return (
        f"the source has no timestamp column: the {len(ts_us):,} imported battles got synthetic "
        f"times {first} to {last}{where}, one second apart in source order; the site's "
        "'data through' date is theirs, not when people voted"
    )


def _has_population(config: Config | None, attr: str) -> bool:
    return config is not None and any(s.attribute == attr and s.population for s in config.slices)
