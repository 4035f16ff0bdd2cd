"""Result CSVs -> validated tables, every problem located, every row accounted for.

A row either is accepted or is excluded with a reason: `invalid:<rule>` when it breaks the CSV
contract (and a `Problem` says where), a quality reason (`participant-strikes`,
`too-few-turns`) when it is well formed but the config's quality rules leave it out, or
`duplicate-battle` when it repeats a battle of an earlier file (a warning says where both are).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from prefboard.config import Config
from prefboard.errors import NOT_CHECKED, Problem, cause_first
from prefboard.ingest.allocator import LARGE_INPUT_BYTES, map_large_arrays
from prefboard.ingest.battle_slices import battle_slice_columns, blank_warnings
from prefboard.ingest.checks import (
    MAX_CELL_CHARS,
    MAX_PROBLEMS_PER_RULE,
    Checker,
    Roster,
    arrow_text,
)
from prefboard.ingest.compact import COMPACT_IDS, id_categories, ledger_categories
from prefboard.ingest.covariates import covariate_columns, files_without_covariates
from prefboard.ingest.csvread import RawTable, read_csv
from prefboard.ingest.csvstream import LateOdd, read_streamed
from prefboard.ingest.duplicates import exclude_repeats
from prefboard.ingest.files import resolve_paths, shown
from prefboard.ingest.ledger import (
    BLANK_ROW,
    FileSummary,
    Ingested,
    Ledger,
    excluded_rows,
    summaries,
)
from prefboard.ingest.memory import give_back, give_back_now, hand_back_for
from prefboard.ingest.rules import (
    BATTLE_COLUMNS,
    MAX_TURNS,
    OPTIONAL_BATTLE,
    OUTCOME_CODES,
    PROMPT_COLUMN,
    check_battles,
    check_participants,
    check_ratings,
)
from prefboard.ingest.sources import JudgeFiles, battle_files, judge_table, read_judges
from prefboard.ingest.timestamps import YEAR_RANGE

# Names other modules import from here (the module was split; the import path stays).
__all__ = [
    "BATTLE_COLUMNS",
    "BLANK_ROW",
    "MAX_CELL_CHARS",
    "MAX_PROBLEMS_PER_RULE",
    "MAX_TURNS",
    "OPTIONAL_BATTLE",
    "OUTCOME_CODES",
    "PROMPT_COLUMN",
    "YEAR_RANGE",
    "FileSummary",
    "Ingested",
    "Ledger",
    "ingest",
    "participants_all_strikes",
    "resolve_paths",
]


def ingest(config: Config, root: Path) -> Ingested:
    """Read and validate every result file the config names, relative to the board folder."""
    data = _ingest(config, root)
    give_back_now()  # what validation freed, its checkers and raw tables too: not kept resident
    return data


def _ingest(config: Config, root: Path) -> Ingested:
    mb = int(config.data.max_file_mb * 1_000_000)
    p_cols = ["participant_id", *[s.attribute for s in config.participant_slices], "strikes"]
    p_raw, problems = _read_all(root, [config.data.participants], "data.participants", p_cols, mb)
    if not p_raw:
        problems.append(
            Problem(config.data.participants, 0, 0, "missing-file", "participants file not found")
        )
    participants, p_check = check_participants(config, p_raw)
    banned = set(participants.loc[participants["strikes"] >= config.quality.strike_limit].index)
    # Without a readable participants file every battle would be an "unknown participant": one
    # message per kind instead, after the file's own problem.
    unreadable = not p_raw or any(r.problems and not r.records and not r.rejected for r in p_raw)
    who = Roster(set(participants.index), config.data.participants, unreadable)

    who.dtype  # noqa: B018 - the roster's sorted ids made once, before two threads read them
    b_raw, battles, b_check, judges, ps = _read_battles(config, root, mb, who)
    # the ratings read and checked on a thread of their own while the battles' exclusions and
    # accepted copy run on this one: the blocks' checks keep both cores busy, this part does
    # not (started beside the blocks, they took 0.1 s of a 1M-row board's 1.4 s)
    with ThreadPoolExecutor(1, thread_name_prefix="prefboard-ratings") as pool:
        rated = pool.submit(_read_ratings, config, root, mb, who)
        keep, repeats = _battle_exclusions(config, battles, b_check, banned)
        accepted, counted = _accepted_battles(b_raw, b_check, battles, keep)
        del battles
        r_raw, ratings, r_check, rs = rated.result()
    problems += ps + rs
    if unreadable:
        folded = {**b_check.folded, **r_check.folded}
        problems += _fold_into_participants(p_raw, config.data.participants, folded)

    # Quality exclusions apply only to rows that are otherwise valid.
    p_reason, r_reason = p_check.reason.copy(), r_check.reason.copy()
    strikes = participants_all_strikes(p_check.frame)
    _exclude(p_reason, strikes >= config.quality.strike_limit, "participant-strikes")
    _exclude(r_reason, among(ratings["participant_id"], banned), "participant-strikes")
    problems += repeats

    ledger, found = _ledger(
        _account_kind(("participants", p_raw, p_check, p_reason, "participant_id")),
        counted,
        *[_account_kind(("battles", j.raws, j.check, j.reason, "battle_id")) for j in judges],
        _account_kind(("ratings", r_raw, r_check, r_reason, "rating_id")),
    )
    return Ingested(
        participants=participants.loc[[pid for pid in participants.index if pid not in banned]],
        battles=accepted,
        ratings=ratings.loc[r_reason == None].reset_index(drop=True),  # noqa: E711
        ledger=ledger,
        judge_battles=judge_table(judges),
        problems=cause_first(problems + found, config.data.participants),
    )


def _read_battles(
    config: Config, root: Path, mb: int, who: Roster
) -> tuple[list[RawTable], pd.DataFrame, Checker, list[JudgeFiles], list[Problem]]:
    """The people's battle files read and checked, each judge's apart, and their warnings."""
    styles = covariate_columns(config)
    slices = battle_slice_columns(config)
    dims = [d.key for d in config.battle_dimensions]
    b_cols = [*BATTLE_COLUMNS, *dims, PROMPT_COLUMN, *styles, *slices]
    # A file from before a category was declared has no such column: its battles are blank;
    # a judge's files need not carry the people-facing columns (categories, style) either.
    b_optional = OPTIONAL_BATTLE | frozenset(styles) | frozenset(slices)
    files, ps = battle_files(root, config)
    b_raw, battles, b_check = _human_battles(
        config, (root, files.human, b_cols, mb, b_optional), who
    )
    ps += files_without_covariates(config, b_raw) + blank_warnings(config, b_check)
    judges = read_judges(config, root, files, b_cols, mb, b_optional)
    return b_raw, battles, b_check, judges, ps


def _read_ratings(
    config: Config, root: Path, mb: int, who: Roster
) -> tuple[list[RawTable], pd.DataFrame, Checker, list[Problem]]:
    """The ratings files read and checked, and their globs' problems."""
    ldims = [d.key for d in config.likert_dimensions]
    r_cols = ["rating_id", "timestamp", "participant_id", "model", *ldims]
    r_raw, rs = _read_all(root, config.data.ratings, "data.ratings", r_cols, mb)
    ratings, r_check = check_ratings(config, r_raw, who)
    return r_raw, ratings, r_check, rs


def _read_all(
    root: Path,
    patterns: list[str],
    key: str,
    columns: list[str],
    max_bytes: int,
    optional: frozenset[str] = frozenset(),
) -> tuple[list[RawTable], list[Problem]]:
    """Every file the `[data]` globs under `key` name, read; and the globs' own problems."""
    files, problems = resolve_paths(root, patterns, key)
    raws = [read_csv(f, shown(root, f), columns, max_bytes, optional) for f in files]
    return raws, problems


# What `_read_files` reads: the board folder, the files, their columns, the size limit and
# the columns that may be absent.
_Files = tuple[Path, list[Path], list[str], int, frozenset[str]]


def _human_battles(
    config: Config, files: _Files, who: Roster
) -> tuple[list[RawTable], pd.DataFrame, Checker]:
    """The people's battle files read and checked, each scanned as its blocks are read; when
    one needs the whole-file reader after its first block was checked (`LateOdd`), all are
    read and checked again, each scanned whole first, so nothing of the first pass remains."""
    raws = _read_files(files)
    size = sum(r.size for r in raws)
    hand_back_for(size)
    if size >= LARGE_INPUT_BYTES:
        map_large_arrays()  # before the blocks' arrays: they are the stage's largest
    try:
        return raws, *check_battles(config, raws, who)
    except LateOdd:
        pass  # retried outside the handler, so the first pass's rows are let go first
    raws = _read_files(files, scanned=True)
    return raws, *check_battles(config, raws, who)


def _read_files(files: _Files, scanned: bool = False) -> list[RawTable]:
    # streamed: a large battle file is read block by block as it is checked
    root, paths, columns, max_bytes, optional = files
    return [read_streamed(f, shown(root, f), columns, max_bytes, optional, scanned) for f in paths]


def _battle_exclusions(
    config: Config, battles: pd.DataFrame, check: Checker, banned: set[str]
) -> tuple[np.ndarray, list[Problem]]:
    """The battles' quality exclusions and repeats of another file's, marked in `check`'s
    reasons (in place: nothing reads the checker's own from here on, and a copy was 80 MB
    more held at 10M rows); returns the rows kept, and the repeats' warnings."""
    reason = check.reason
    _exclude(reason, among(battles["participant_id"], banned), "participant-strikes")
    # the typed turns: -1 only where the row is invalid already
    _exclude(reason, battles["turns"].to_numpy() < config.quality.min_turns, "too-few-turns")
    # the rows kept so far, found once (a pass over every row's reason, an object each) for
    # the repeat check and then, less the repeats, for the accepted copy
    keep = reason == None  # noqa: E711 - elementwise on an object array
    # The same vote in two files (imported twice, copied under a new name) counts once.
    dims = [d.key for d in config.battle_dimensions]
    return keep, exclude_repeats(battles, check.frame, reason, keep, dims, check.colmaps)


def _accepted_battles(
    raws: list[RawTable], check: Checker, battles: pd.DataFrame, keep: np.ndarray
) -> tuple[pd.DataFrame, _Counted]:
    """The accepted battles (`keep`: the rows with no reason), and the battles' part of the
    ledger; then the checked rows (file, line, id) and reasons let go. Empties `battles` and
    `check`'s rows."""
    # the pages the exclusions' temporaries freed (the repeat check's positions of every kept
    # row: 70 MB at 10M rows), returned before the copy and the ledger's part, the peak of
    # validation, are made
    give_back()
    order = list(battles.columns)
    # the checked rows share the battle ids: theirs are copied once those are let go
    ids = battles[["battle_id"]]
    del battles["battle_id"]
    # the ledger's part on a thread while this one copies the other accepted columns: the copy
    # takes `battles` column by column, so the two at once hold no more than the ledger's part
    # did alone beside every checked and typed row
    with ThreadPoolExecutor(1, thread_name_prefix="prefboard-ledger") as pool:
        kind = ("battles", raws, check, check.reason, "battle_id")
        ledger = pool.submit(_account_kind, kind, np.flatnonzero(~keep))
        accepted = rows_kept(battles, keep)
        counted = ledger.result()
    # new empty ones: a slice [:0] would be a view holding every row
    check.frame, check.reason = pd.DataFrame(), np.empty(0, dtype=object)
    give_back()
    accepted["battle_id"] = rows_kept(ids, keep)["battle_id"]
    give_back()
    return accepted[order], counted


def rows_kept(frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """The rows `keep` marks, column by column, each of `frame`'s columns let go once copied
    (the battles and their filtered copy at once were the peak of ingest), the repeated ids
    as Categoricals. Empties `frame`."""
    idx = np.flatnonzero(keep)
    if len(keep) < 2**31:  # half the positions' memory (35 MB at 10M rows); takes accept int32
        idx = idx.astype(np.int32)

    def kept(column: pd.Series) -> pd.Series:
        if column.dtype.kind in "biufM":  # numbers, times: by position (a boolean mask was
            # checked and converted for each column, ~5 ms per million rows each)
            return pd.Series(column.array.take(idx), name=column.name, copy=False)
        return column[keep].reset_index(drop=True)  # text: Arrow's filter, as fast as a take

    columns = {}
    for col in list(frame.columns):
        column = frame.pop(col)
        # repeated ids as integer codes and one dictionary: what rating holds (compact.py)
        columns[col] = id_categories(column, idx) if col in COMPACT_IDS else kept(column)
        del column
        give_back()  # the column's pages, before the next copy is made
    return pd.DataFrame(columns, copy=False)  # as copied, not copied again (`stack`)


def among(ids: pd.Series, chosen: set[str]) -> np.ndarray:
    """Which ids are in `chosen`: Arrow's hash lookup (pandas' `isin` on a Python set took
    ~30 ms per million ids)."""
    if isinstance(ids.dtype, pd.CategoricalDtype):  # a battle's participant_id: by its code
        chosen_code = np.append(ids.cat.categories.isin(chosen), False)  # code -1: none
        return np.asarray(chosen_code[ids.cat.codes.to_numpy()], dtype=bool)
    cells = arrow_text(ids)
    found = pc.is_in(cells, value_set=pa.array(sorted(chosen), type=cells.type))
    return np.asarray(found, dtype=bool)


def _exclude(reason: np.ndarray, mask: np.ndarray, why: str) -> None:
    """Exclude, for `why`, the rows in `mask` no rule has excluded already (the reasons looked
    up at `mask`'s rows only: comparing every row's, an object each, was ~8 ms per 1M rows)."""
    idx = np.flatnonzero(mask)
    reason[idx[reason[idx] == None]] = why  # noqa: E711 - elementwise on an object array


_Kind = tuple[str, list[RawTable], Checker, np.ndarray, str]  # kind, files, checks, reasons, id
# One kind's part of the ledger: its problems, its files' tallies and its excluded rows.
_Counted = tuple[list[Problem], list[FileSummary], pd.DataFrame]


def _account_kind(kind: _Kind, excluded: np.ndarray | None = None) -> _Counted:
    """One kind's problems, file tallies and excluded rows (`excluded`: their positions, when
    the caller has them; else found here, once for the tallies and the rows)."""
    name, raws, check, reason, id_col = kind
    problems = [p for raw in raws for p in raw.problems]
    problems += check.problems + check.overflow()
    if excluded is None:
        excluded = np.flatnonzero(reason != None)  # noqa: E711 - elementwise on objects
    files = summaries(name, raws, check.frame, excluded)
    return problems, files, excluded_rows(name, check.frame, reason, excluded, id_col, raws)


def _ledger(*parts: _Counted) -> tuple[Ledger, list[Problem]]:
    """The ledger of every row read, and every problem found, kind by kind."""
    problems: list[Problem] = []
    ledger = Ledger()
    for found, files, _ in parts:
        problems += found
        ledger.files += files
    ledger.excluded = pd.concat([excluded for *_, excluded in parts], ignore_index=True)
    # Participant ids never leave ingest in the excluded ledger: it is published on the site.
    pmask = ledger.excluded["kind"] == "participants"
    ledger.excluded.loc[pmask, "row_id"] = ""
    ledger_categories(ledger.excluded)
    return ledger, problems


def _fold_into_participants(
    raws: list[RawTable], file: str, folded: dict[str, int]
) -> list[Problem]:
    """Battles and ratings naming participants of an unreadable participants file are its
    consequence: counted in the file's "not checked" line (or one line of their own when the
    file is missing), not reported one by one as unknown participants."""
    parts = [f"{n} {kind} row(s)" for kind, n in folded.items() if n]
    if not parts:
        return []
    rows = " and ".join(parts)
    for raw in raws:
        for i, p in enumerate(raw.problems):
            if NOT_CHECKED in p.message:
                msg = f"{p.message}, nor the {rows} naming a participant"
                raw.problems[i] = Problem(p.file, p.line, p.column, p.rule, msg)
                return []
    msg = f"{rows} {NOT_CHECKED} the problem with this file above"
    return [Problem(file, 1, 0, "unknown-participant", msg)]


def participants_all_strikes(frame: pd.DataFrame) -> np.ndarray:
    return pd.to_numeric(frame["strikes"], errors="coerce").fillna(-1).to_numpy()
