"""Source rows -> cleaned battle fields, each with its skip reason and battle id.

The rules and their order are in the package docs (`prefboard.tools.importers`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from prefboard.tools.importers.categories import battle_fields
from prefboard.tools.importers.mapping import PairwiseMapping
from prefboard.tools.importers.values import (
    MAX_MODEL_CHARS,
    SYNTHETIC_START_US,
    US_PER_S,
    clean_column,
    map_values,
    parse_timestamps,
)

MISSING = "missing-field"
TOO_LONG = "field-too-long"
UNKNOWN_WINNER = "unknown-winner-value"
BAD_TIMESTAMP = "bad-timestamp"
SAME_MODEL = "same-model"
ID_COLLISION = "id-collision"  # two rows hashing to one id: never seen, but never silent either

MAX_PARTICIPANT_CHARS = 200
MAX_SLICE_VALUE_CHARS = 100
CHUNK_ROWS = 200_000
SYNTHETIC_PARTICIPANT = "imported"
ID_HEX = 16
_SEP = "\x1f"
# Prepared source rows: one numpy array per field (object arrays for text), all the same length.
Rows = dict[str, np.ndarray]


def prepare_rows(
    frame: pd.DataFrame,
    m: PairwiseMapping,
    progress: Callable[[int, int], None] | None = None,
) -> Rows:
    """Every source row prepared, a chunk of CHUNK_ROWS at a time (bounding the temporaries);
    `progress(rows_done, rows_total)` after each chunk. Battle ids come last, over the whole
    source, because a row's occurrence number among identical rows spans the chunks."""
    total = len(frame)
    parts = []
    for start in range(0, total, CHUNK_ROWS):
        parts.append(_prepare(frame.iloc[start : start + CHUNK_ROWS], start, m))
        if progress is not None:
            progress(min(start + CHUNK_ROWS, total), total)
    if not parts:
        parts.append(_prepare(frame, 0, m))
        if progress is not None:
            progress(0, 0)
    rows = {k: np.concatenate([part[k] for part in parts]) for k in parts[0]}
    ok = rows["reason"] == ""
    rows["battle_id"] = np.full(len(ok), "", dtype=object)
    if ok.any():
        rows["battle_id"][ok] = battle_ids({k: v[ok] for k, v in rows.items()}, m)
    return rows


def _prepare(chunk: pd.DataFrame, offset: int, m: PairwiseMapping) -> Rows:
    """Clean one chunk and give each row its skip reason ("" when fine)."""
    n = len(chunk)
    source_row = np.arange(offset + 1, offset + n + 1, dtype=np.int64)
    name_a, len_a = clean_column(chunk[m.model_a])
    name_b, len_b = clean_column(chunk[m.model_b])
    winner, _ = clean_column(chunk[m.winner])
    if m.participant:
        pid, len_p = clean_column(chunk[m.participant])
    else:
        pid, len_p = np.full(n, SYNTHETIC_PARTICIPANT, dtype=object), np.zeros(n, np.int64)
    raw_ts = chunk[m.timestamp].astype(str).str.strip() if m.timestamp else None
    outcome, bothbad = _outcomes(winner, m)
    if raw_ts is None:
        ts_us = SYNTHETIC_START_US + (source_row - 1) * US_PER_S
    else:
        ts_us = parse_timestamps(raw_ts)

    missing = (len_a == 0) | (len_b == 0) | (winner == "")
    if m.participant:
        missing |= len_p == 0
    if raw_ts is not None:
        missing |= (raw_ts == "").to_numpy(dtype=bool)
    too_long = (len_a > MAX_MODEL_CHARS) | (len_b > MAX_MODEL_CHARS)
    too_long |= len_p > MAX_PARTICIPANT_CHARS
    reason = _first_rule(
        n,
        [(missing, MISSING), (too_long, TOO_LONG), (outcome == "", UNKNOWN_WINNER)]
        + ([(ts_us < 0, BAD_TIMESTAMP)] if raw_ts is not None else []),
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
    }
    if m.battle_id:
        out["source_id"], _ = clean_column(chunk[m.battle_id])
    for col in m.slices:
        values, lengths = clean_column(chunk[col])
        values[lengths > MAX_SLICE_VALUE_CHARS] = ""
        out["slice:" + col] = values
    return out | battle_fields(chunk, m)


def _outcomes(winner: np.ndarray, m: PairwiseMapping) -> tuple[np.ndarray, np.ndarray]:
    """Each cleaned winner value as "a", "b", "tie" or "" (unknown), and whether it was one of
    the extra ties (reported apart)."""
    codes = {
        m.winner_values[0].strip(): "a",
        m.winner_values[1].strip(): "b",
        m.winner_values[2].strip(): "tie",
    }
    codes.update(dict.fromkeys((t.strip() for t in m.extra_ties), "tie"))
    extra = {t.strip() for t in m.extra_ties}
    return map_values(winner, codes), pd.Series(winner, dtype=object).isin(extra).to_numpy()


def _first_rule(n: int, rules: list[tuple[np.ndarray, str]]) -> np.ndarray:
    """Each row's first broken rule, in the order given ("" when it broke none)."""
    reason = np.full(n, "", dtype=object)
    for mask, why in rules:
        reason[(reason == "") & mask] = why
    return reason


def battle_ids(rows: Rows, m: PairwiseMapping) -> list[str]:
    """`i` + 16 hex digits of SHA-256 over what identifies the judgement, joined by U+001F:
    the dimension, the cleaned model names, the outcome (a/b/tie), the participant, the
    source's timestamp in microseconds ("" when it has none), the prompt id and categories when
    the mapping keeps them, then the source's own battle id
    (`--battle-id`) when the mapping names one; without one, a row repeating an earlier
    identical row of the source gets its occurrence number (1, 2, ...) appended instead.

    Neither the file's name nor its format nor the row's position enters, so the same votes
    imported again as JSONL instead of CSV, or under another name, get the same ids; the
    occurrence number keeps two identical votes of one source (no timestamp, no participant)
    apart. The joining runs in Arrow; only the hashing itself is a Python loop (about 0.6 s
    per million rows: hashlib has no vectorised form, and a non-cryptographic vectorised hash
    such as pandas' would tie the ids to one library's implementation)."""
    stamped = m.timestamp is not None
    fields: list[Any] = [
        pa.scalar(m.dimension),
        pa.array(rows["name_a"], type=pa.string()),
        pa.array(rows["name_b"], type=pa.string()),
        pa.array(rows["outcome"], type=pa.string()),
        pa.array(rows["participant_id"], type=pa.string()),
        pc.cast(pa.array(rows["ts_us"]), pa.string()) if stamped else pa.scalar(""),
    ]
    # What the judgement was about: two votes on different prompts are different judgements.
    if m.prompt_id:
        fields.append(pa.array(rows["prompt_id"], type=pa.string()))
    fields += [pa.array(rows["category:" + c], type=pa.string()) for c in m.categories]
    if m.battle_id:
        fields.append(pa.array(rows["source_id"], type=pa.string()))
    content = pc.binary_join_element_wise(*fields, _SEP).cast(pa.binary()).to_pylist()
    ids = ["i" + hashlib.sha256(c).hexdigest()[:ID_HEX] for c in content]
    if not m.battle_id:
        _number_repeats(content, ids)
    return ids


def _number_repeats(content: list[bytes], ids: list[str]) -> None:
    """Rehash each row that repeats an earlier identical row with its occurrence number, in
    place. Rows are rarely identical (a timestamp or participant tells them apart): a set says
    so cheaply (Arrow's and pandas' distinct counts took longer on 500,000 ids), and only the
    repeated ids are counted."""
    if len(set(ids)) == len(ids):
        return
    seen = pd.Series(ids, dtype=object)
    at = np.flatnonzero(seen.duplicated(keep=False).to_numpy())
    numbers = seen.iloc[at].groupby(seen.iloc[at], sort=False).cumcount().to_numpy()
    for i, k in zip(at[numbers > 0].tolist(), numbers[numbers > 0].tolist(), strict=True):
        text = content[i] + f"{_SEP}{k}".encode()
        ids[i] = "i" + hashlib.sha256(text).hexdigest()[:ID_HEX]
