"""The rules of each kind of result file (participants, battles, ratings): which columns, which
values, and the typed table of the rows that pass."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from prefboard.config import Config, Dimension
from prefboard.errors import listed
from prefboard.ingest.battle_slices import battle_slice_columns
from prefboard.ingest.blocks import Checked, checked_blocks, id_ends, stack
from prefboard.ingest.cellbytes import short_digits, short_positions
from prefboard.ingest.checks import (
    Checker,
    Roster,
    arrow_text,
    cell,
    clip,
    combine,
    common_checks,
    flag_duplicates,
    flag_models,
    flag_participants,
    lookalike,
    normalise_ids,
    positions,
)
from prefboard.ingest.compact import block_categories
from prefboard.ingest.covariates import covariate_columns, flag_covariates
from prefboard.ingest.csvread import RawTable
from prefboard.ingest.memory import give_back
from prefboard.ingest.timestamps import flag_timestamps

OUTCOME_CODES = {"a": 0, "b": 1, "tie": 2, "": -1}
MAX_TURNS = 10_000
BATTLE_COLUMNS = ["battle_id", "timestamp", "participant_id", "model_a", "model_b", "turns"]
# Optional battle column: the item judged (prompt); several votes may share one.
PROMPT_COLUMN = "prompt_id"
OPTIONAL_BATTLE = frozenset({PROMPT_COLUMN})


def check_participants(config: Config, raws: list[RawTable]) -> tuple[pd.DataFrame, Checker]:
    attrs = [s.attribute for s in config.participant_slices]
    cols = ["participant_id", *attrs, "strikes"]
    frame, colmaps = combine(raws, cols)
    normalise_ids(frame, ["participant_id"])
    check = Checker(frame, colmaps)
    common_checks(check, cols, ["participant_id", "strikes"])
    flag_duplicates(check, "participant_id")
    for s in config.participant_slices:
        _flag_slice_values(check, s.attribute, s.values)
    # [0-9], not \d: \d also matches e.g. Arabic-Indic digits, which to_numeric cannot read
    strikes = frame["strikes"].str.fullmatch(r"[0-9]{1,6}", na=False)
    check.flag(
        ~strikes & (frame["strikes"] != ""),
        "strikes",
        "integer",
        lambda i: f"strikes must be a whole number >= 0, found {clip(cell(frame['strikes'], i))!r}",
    )
    good = frame.loc[~check.bad, cols].copy()
    good["strikes"] = good["strikes"].astype(np.int64)
    return good.set_index("participant_id"), check


def _flag_slice_values(check: Checker, attribute: str, declared: list[str]) -> None:
    text = check.frame[attribute]
    bad = ~text.isin(set(declared)) & (text != "")
    values = listed(declared)

    def message(i: int) -> str:
        value = cell(text, i)
        return f"{clip(value)!r} is not a declared value of {attribute} ({values})" + lookalike(
            value
        )

    check.flag(bad, attribute, "slice-value", message)


def check_battles(
    config: Config, raws: list[RawTable], who: Roster | None
) -> tuple[pd.DataFrame, Checker]:
    """The typed battles of `raws`; `who` None for an automated judge's files (no roster).

    Block by block (a streamed file's blocks, or a file read whole): each block's text is
    checked and dropped, and only the typed columns, the ids and where each row came from are
    kept. The checks that compare rows (repeated ids) and the one that needs every rule's
    verdict (no answer) run over all blocks at the end."""
    dims = [d.key for d in config.battle_dimensions]
    cols = [
        *BATTLE_COLUMNS,
        *dims,
        PROMPT_COLUMN,
        *covariate_columns(config),
        *battle_slice_columns(config),
    ]
    tally = Checker(pd.DataFrame(), {})
    if who is not None:  # the roster's categories made once, before the threads share them
        who.dtype  # noqa: B018
    blocks = checked_blocks(raws, partial(_check_block, config, who=who, cols=cols), tally)
    # where each row came from (stacked on a thread meanwhile: NumPy and Arrow copies leave
    # the GIL free), and the columns later checks and the ledger read (shared)
    with ThreadPoolExecutor(1, thread_name_prefix="prefboard-stack") as pool:
        stacked = pool.submit(stack, blocks.kept)
        out = stack(blocks.outs)
        where = stacked.result()
    give_back()  # the blocks' pieces, freed as they were stacked
    for col in ["battle_id", *battle_slice_columns(config)]:
        where[col] = out[col]
    check = tally.part(where)
    check.reason = np.concatenate(blocks.reasons)
    _flag_duplicate_ids(check, blocks.ids_ascend())
    if dims:
        answered = np.concatenate(blocks.answered)
        check.flag(
            check.unflagged(~answered),
            dims[0],
            "no-answer",
            lambda i: "no dimension answered; the battle says nothing",
        )
    return out, check


def _check_block(
    config: Config, block: RawTable | None, who: Roster | None, cols: list[str]
) -> Checked:
    """One block's checks (on a checking thread), and what the checks over every block use."""
    frame, colmaps = combine([block] if block is not None else [], cols)
    check = Checker.apart(frame, colmaps)
    out = _check_rows(config, check, who, cols)
    dims = [d.key for d in config.battle_dimensions]
    # the no-answer check's, made here
    answered: np.ndarray = np.asarray((out[dims] >= 0).to_numpy().any(axis=1), dtype=bool)
    return Checked(out, check, answered, id_ends(arrow_text(frame["battle_id"])))


def _flag_duplicate_ids(check: Checker, ascend: bool) -> None:
    """A repeated battle_id, over every block (`ascend`: the ids ascend, so none repeats).
    Within a block the id check came third, after cell length and required cells: a repeat
    that broke a later rule is excluded as a repeat, as it was when the whole input was
    checked at once."""
    idx = np.flatnonzero(flag_duplicates(check, "battle_id", ascend))
    # No block flags duplicate-id, so a repeat now holding another reason held it before (no
    # copy of every row's reason is needed to know which rule came first).
    first = ["invalid:duplicate-id", "invalid:cell-too-long", "invalid:required"]
    later = idx[~pd.Series(check.reason[idx]).isin(first).to_numpy()]
    check.reason[later] = "invalid:duplicate-id"


def _check_rows(
    config: Config, check: Checker, who: Roster | None, cols: list[str]
) -> pd.DataFrame:
    """The checks of one block that look at a row alone, and its typed battles."""
    frame = check.frame
    normalise_ids(frame, ["battle_id", "participant_id"])
    common_checks(check, cols, BATTLE_COLUMNS)
    parsed = flag_timestamps(check)
    # the people's ids as codes into the sorted roster (compact.py), made here on the checking
    # thread from the lookup the roster check does anyway; a judge's files have no roster
    people, prompts = frame["participant_id"], frame[PROMPT_COLUMN].astype(str)
    if who is not None:  # a judge's battles keep their strings (sources.judge_table)
        at = flag_participants(check, who, "battle")
        people = pd.Series(pd.Categorical.from_codes(at, dtype=who.dtype, validate=False))
        prompts = block_categories(prompts)
    keys = config.model_keys
    a = flag_models(check, "model_a", keys)
    b = flag_models(check, "model_b", keys)
    check.flag(
        (a == b) & (a >= 0),
        "model_b",
        "self-battle",
        lambda i: f"model {cell(frame['model_a'], i)!r} cannot battle itself",
    )
    turns = _flag_turns(check)
    out = pd.DataFrame(
        {
            "battle_id": frame["battle_id"],
            "timestamp": parsed,
            "participant_id": people,
            "model_a": a.astype(np.int16),
            "model_b": b.astype(np.int16),
            # int32: up to five digits are typed (99,999), 4 bytes a row fewer held to rating
            "turns": turns.fillna(-1).astype(np.int32),
            # The item judged, a string id ("" = not given) coded per block (compact.py): votes
            # sharing one are clustered when the bands are computed.
            PROMPT_COLUMN: prompts,
        },
        copy=False,  # the columns as made: pandas copied each time and the times (`stack`)
    )
    for s in config.battle_slices:
        # kept as text ("" = not given): rating/inputs.py codes it against the declared values
        _flag_slice_values(check, s.attribute, s.values)
        out[s.attribute] = frame[s.attribute].astype(str)
    for d in config.battle_dimensions:
        out[d.key] = _flag_outcomes(check, d.key)
    for col, values in flag_covariates(check, config).items():
        out[col] = values
    return out


def _flag_turns(check: Checker) -> pd.Series:
    """The turns column as numbers (NaN where empty or refused)."""
    text = check.frame["turns"]
    # [0-9], not \d: "٥" matched \d, became NaN in to_numeric and was accepted as turns -1
    turns_ok = pd.Series(short_digits(arrow_text(text), 5), index=text.index)
    turns = whole_numbers(text, turns_ok)
    bad_turns = check.filled("turns") & (~turns_ok | (turns > MAX_TURNS))

    def message(i: int) -> str:
        return f"turns must be a whole number 0..{MAX_TURNS}, found {clip(cell(text, i))!r}"

    check.flag(bad_turns, "turns", "turns", message)
    return turns


def _flag_outcomes(check: Checker, dim: str) -> np.ndarray:
    """One dimension's outcomes as int8 codes (-1 not asked or refused)."""
    text = check.frame[dim]
    codes, unknown = outcome_codes(text)

    def message(i: int) -> str:
        value = cell(text, i)
        return f"{clip(value)!r} is not one of a, b, tie or empty" + _outcome_hint(value)

    check.flag(unknown, dim, "outcome", message)
    return codes


def whole_numbers(text: pd.Series, ok: pd.Series) -> pd.Series:
    """The cells `ok` marks (checked as plain digits) as numbers, NaN elsewhere. Arrow's cast,
    not `pd.to_numeric`, which took ~1.4 s per million cells."""
    cells = arrow_text(text)
    kept = pc.if_else(pa.array(ok.to_numpy(dtype=bool)), cells, pa.scalar(None, cells.type))
    numbers = pc.cast(kept, pa.int64()).to_numpy(zero_copy_only=False)
    return pd.Series(np.asarray(numbers, dtype=np.float64), index=text.index)


# The code of each OUTCOME_CODES entry by its position; position -1 (none of them) reads the
# last entry, -1.
_CODE_AT = np.array([*OUTCOME_CODES.values(), -1], dtype=np.int8)


def outcome_codes(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Outcome cells as int8 codes (-1 empty or not an outcome), and which are not an outcome.

    Looked up by the cells' bytes (`short_positions`), else in Arrow: pandas' `Series.map`
    over a million strings cost ~1.4 s a dimension, a third of validation (issue 18)."""
    position = short_positions(arrow_text(text), list(OUTCOME_CODES))
    if position is None:
        position = positions(text, list(OUTCOME_CODES))
    codes: np.ndarray = _CODE_AT[position]
    return codes, position < 0


# What spreadsheets and other tools write for an outcome, and the code it probably means.
_OUTCOME_GUESSES = {
    "a": "a", "b": "b", "tie": "tie", "model_a": "a", "model_b": "b", "model a": "a",
    "model b": "b", "1": "a", "2": "b", "left": "a", "right": "b", "draw": "tie",
    "equal": "tie", "tie (bothbad)": "tie",
}  # fmt: skip


def _outcome_hint(value: str) -> str:
    guess = _OUTCOME_GUESSES.get(value.strip().casefold()[:20])
    meaning = "a means model_a was preferred, b model_b, tie neither"
    return f"; {meaning}: write {guess!r} if that is what it says" if guess else f"; {meaning}"


def check_ratings(
    config: Config, raws: list[RawTable], who: Roster
) -> tuple[pd.DataFrame, Checker]:
    ldims = config.likert_dimensions
    cols = ["rating_id", "timestamp", "participant_id", "model", *[d.key for d in ldims]]
    frame, colmaps = combine(raws, cols)
    normalise_ids(frame, ["rating_id", "participant_id"])
    check = Checker(frame, colmaps)
    common_checks(check, cols, cols[:4])
    flag_duplicates(check, "rating_id")
    parsed = flag_timestamps(check)
    flag_participants(check, who, "rating")
    codes = flag_models(check, "model", config.model_keys)
    out = pd.DataFrame(
        {
            "rating_id": frame["rating_id"],
            "timestamp": parsed,
            "participant_id": frame["participant_id"],
            "model": codes.astype(np.int16),
        }
    )
    for d in ldims:
        out[d.key] = _flag_likert(check, d)
    answered = np.asarray(out[[d.key for d in ldims]].notna().to_numpy().any(axis=1))
    if ldims:
        check.flag(
            check.unflagged(~answered),
            ldims[0].key,
            "no-answer",
            lambda i: "no dimension answered",
        )
    return out, check


def _flag_likert(check: Checker, d: Dimension) -> pd.Series:
    """One Likert dimension's answers as floats (NaN not asked or refused)."""
    text = check.frame[d.key]
    # [0-9], not \d: a non-ASCII digit would become NaN, i.e. silently "not asked"
    is_int = text.str.fullmatch(r"-?[0-9]{1,3}", na=False)
    value = pd.to_numeric(text.where(is_int), errors="coerce")
    bad = (text != "") & (~is_int | (value < d.scale_min) | (value > d.scale_max))

    def message(i: int) -> str:
        return f"{clip(cell(text, i))!r} is not a whole number from {d.scale_min} to {d.scale_max}"

    check.flag(bad, d.key, "likert", message)
    return value.where(~bad).astype(float)
