"""The battle columns an import keeps beside the verdict: `--category COL` (repeatable) becomes
a battle-level slice (`[[slices]]` with `level = "battle"`, its attribute the column's name as
a key, its values those found, most used first) and `--prompt-id COL` the battle file's
`prompt_id` (votes on one item are then clustered when the bands are computed).

The `arena` preset names Chatbot Arena's `category` and `language` fields and its
`question_id` as optional: kept when the source has them, ignored when it has not.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from prefboard.config import RESERVED_BATTLE_COLUMNS, Config
from prefboard.io.tables import SUFFIXES, read_source
from prefboard.tools.importers.mapping import PairwiseMapping
from prefboard.tools.importers.report import ImportSourceError
from prefboard.tools.importers.values import clean_column, normalise_key

PROMPT_COLUMN = "prompt_id"
MAX_PROMPT_CHARS = 200  # as a participant id: an id, not the prompt's text
MAX_VALUE_CHARS = 100  # as a participant slice's value (rows.MAX_SLICE_VALUE_CHARS)
MAX_VALUES = 500  # config.MAX_SLICE_VALUES
_Rows = dict[str, np.ndarray]


def category_attr(column: str) -> str:
    """The battle slice attribute of a source column (`category` if it normalises to nothing)."""
    return normalise_key(column) or "category"


def with_categories(source: Path, m: PairwiseMapping) -> PairwiseMapping:
    """`m` with only the optional columns `source` has, its category columns checked."""
    usable = present_only(source, m)
    check_categories(usable)
    return usable


def present_only(source: Path, m: PairwiseMapping) -> PairwiseMapping:
    """`m` without the optional columns (the arena preset's) that `source` lacks."""
    if not m.optional:
        return m
    have = set(source_columns(source))
    # absent, or already kept as a participant slice (`--slice language`): left out
    lacking = {c for c in m.optional if c not in have or c in m.slices}
    return replace(
        m,
        categories=tuple(c for c in m.categories if c not in lacking),
        prompt_id=None if m.prompt_id in lacking else m.prompt_id,
        optional=(),
    )


def source_columns(path: Path) -> list[str]:
    """The source's column names, from its header where the format has one; [] when it cannot
    be read (read_source then reports why)."""
    kind = SUFFIXES.get(path.suffix.lower())
    try:
        if kind == "csv":
            with path.open(encoding="utf-8-sig", newline="") as fh:
                return next(csv.reader(fh), [])
        if kind == "parquet":
            return list(pq.read_schema(path).names)
        if kind == "jsonl":
            with path.open(encoding="utf-8-sig") as fh:
                first = next((line for line in fh if line.strip()), "{}")
            record = json.loads(first)
            return list(record) if isinstance(record, dict) else []
        return list(read_source(path).columns)
    except (OSError, ValueError, UnicodeDecodeError, csv.Error):
        return []


def check_categories(m: PairwiseMapping) -> None:
    """Refuse category columns that would clash with another battle or participant column."""
    attrs = [category_attr(c) for c in m.categories]
    taken = {*RESERVED_BATTLE_COLUMNS, m.dimension, *(normalise_key(c) for c in m.slices)}
    for col, attr in zip(m.categories, attrs, strict=True):
        if attr in taken or attrs.count(attr) > 1 or len(attr) > 64:
            raise ImportSourceError(
                f"category column {col!r} gives attribute {attr!r}, which is taken (by another "
                "category, a --slice, the dimension or a battle column) or too long"
            )


def battle_fields(chunk: pd.DataFrame, m: PairwiseMapping) -> _Rows:
    """Per source row: each category column's cleaned value and the prompt id ("" when empty
    or too long to be a label or an id)."""
    out: _Rows = {}
    for col in m.categories:
        values, lengths = clean_column(chunk[col])
        values[lengths > MAX_VALUE_CHARS] = ""
        out["category:" + col] = values
    if m.prompt_id:
        values, lengths = clean_column(chunk[m.prompt_id])
        values[lengths > MAX_PROMPT_CHARS] = ""
        out[PROMPT_COLUMN] = values
    return out


def extra_columns(config: Config | None, m: PairwiseMapping) -> list[str]:
    """Battle file columns after the dimensions: prompt_id, then every battle slice (those
    the board declares, which ingest requires in every battle file, then the new ones)."""
    declared = [s.attribute for s in config.battle_slices] if config is not None else []
    mapped = [category_attr(c) for c in m.categories]
    return ([PROMPT_COLUMN] if m.prompt_id else []) + list(dict.fromkeys(declared + mapped))


def extra_cells(imp: _Rows, m: PairwiseMapping) -> dict[str, np.ndarray]:
    """The imported rows' cells of the columns `extra_columns` names (absent ones are blank)."""
    out = {category_attr(c): imp["category:" + c] for c in m.categories}
    if m.prompt_id:
        out[PROMPT_COLUMN] = imp[PROMPT_COLUMN]
    return out


def category_slices(
    imp: _Rows, m: PairwiseMapping, config: Config | None, notes: list[str]
) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
    """The (attribute, column) battle slices to declare or extend, and their values (most used
    first). A column empty in every imported row is not declared (a note says so)."""
    people = {s.attribute for s in config.participant_slices} if config is not None else set()
    declared = {s.attribute for s in config.battle_slices} if config is not None else set()
    for col in m.slices:
        if normalise_key(col) in declared:
            raise ImportSourceError(
                f"slice column {col!r}: {normalise_key(col)!r} is a battle-level slice of this "
                "board; import it with --category"
            )
    found: list[tuple[str, str]] = []
    values: dict[str, list[str]] = {}
    for col in m.categories:
        attr = category_attr(col)
        if attr in people:
            raise ImportSourceError(
                f"category column {col!r}: {attr!r} is a participant slice of this board"
            )
        counts = Counter(v for v in imp["category:" + col].tolist() if v)
        if len(counts) > MAX_VALUES:
            raise ImportSourceError(
                f"category column {col!r} has {len(counts)} distinct values (limit "
                f"{MAX_VALUES}); a category must be categorical"
            )
        if not counts and attr not in declared:
            notes.append(f"category column {col!r} is empty in every imported row; not declared")
            continue
        found.append((attr, col))
        values[attr] = [v for v, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return found, values
