"""The accepted battles' repeated ids handed to rating compactly: a pandas Categorical (one
integer code per row and one sorted dictionary) instead of a string per row.

At 10M rows `participant_id` and `prompt_id` as Arrow strings were ~23 B a row held through
rating (issue 18); as codes they are 2-4 B. The dictionary is sorted and holds only the values
of the rows kept, so every caller sees what it saw with strings: `pd.factorize` numbers values
in order of first appearance, `sort=True` in the strings' order (code-point order, as Arrow and
Python sort), and `unique`, `astype(str)`, comparisons and lookups give the same values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import union_categoricals

# The text columns of the accepted battles that repeat the same values over many rows.
COMPACT_IDS = ("participant_id", "prompt_id")


def block_categories(text: pd.Series) -> pd.Series:
    """One block's text column as a Categorical (categories in order of first appearance),
    made on a checking thread; a column of empty cells (no prompt_id) skips the hash table."""
    cells = pa.array(text, type=pa.large_string())
    if not len(cells) or (pc.max(pc.binary_length(cells)).as_py() or 0) == 0:
        codes = np.zeros(len(cells), dtype=np.int8)
        return pd.Series(pd.Categorical.from_codes(codes, dtype=_EMPTY, validate=False))
    codes, dictionary = _encoded(text)
    kind = pd.CategoricalDtype(pd.Index(pd.array(dictionary, dtype="str")))
    return pd.Series(pd.Categorical.from_codes(codes, dtype=kind, validate=False))


_EMPTY = pd.CategoricalDtype(pd.Index([""], dtype="str"))


def categorical(pieces: list[pd.Series]) -> bool:
    return bool(pieces) and isinstance(pieces[0].dtype, pd.CategoricalDtype)


def stacked_categories(pieces: list[pd.Series]) -> pd.Series:
    """The blocks' Categoricals as one: their codes put end to end when the blocks share their
    categories (the roster's, or only empty prompts), else renumbered over the union of the
    blocks' categories (in order of first appearance)."""
    if all(p.dtype == pieces[0].dtype for p in pieces):
        return pd.concat(pieces, ignore_index=True)
    return pd.Series(union_categoricals(pieces))


def id_categories(column: pd.Series, idx: np.ndarray) -> pd.Series:
    """The cells of an id column at positions `idx`, as a Categorical of sorted categories
    holding only those cells' values. A text column is encoded once (Arrow's hash table), a
    Categorical's codes read as they are, and the integer codes taken, rather than strings
    filtered and then encoded."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        dictionary = pa.array(column.cat.categories, type=pa.large_string())
    else:
        codes, dictionary = _encoded(column)
    codes = codes[idx]
    if len(codes) and int(codes.min()) < 0:  # accepted ids are never missing
        raise ValueError(f"{column.name}: missing values cannot be coded")
    # the values still used, in sorted order, renumbered 0..k-1 in that order
    used = np.bincount(codes, minlength=len(dictionary)) > 0
    order = np.asarray(pc.array_sort_indices(dictionary), dtype=np.int64)
    kept = order[used[order]]
    renumber = np.full(len(dictionary), -1, dtype=np.int32)
    renumber[kept] = np.arange(len(kept), dtype=np.int32)
    categories = pd.Index(pd.array(dictionary.take(pa.array(kept)), dtype="str"))
    kind = pd.CategoricalDtype(categories)
    values = pd.Categorical.from_codes(renumber[codes], dtype=kind, validate=False)
    return pd.Series(values, name=column.name, copy=False)


def _encoded(column: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """Each cell's position in one dictionary of the column's distinct values (unsorted)."""
    cells = pa.array(column, type=pa.large_string())
    if isinstance(cells, pa.Array):
        cells = pa.chunked_array([cells], type=pa.large_string())
    if cells.null_count:  # accepted ids are never missing: "" is a value, not a null
        raise ValueError(f"{column.name}: missing values cannot be coded")
    encoded = pc.dictionary_encode(cells).unify_dictionaries()
    empty = pa.array([], pa.large_string())
    dictionary = encoded.chunks[0].dictionary if encoded.num_chunks else empty
    # int32, Arrow's own index width: 4 bytes a row while the codes are taken
    parts = [np.asarray(chunk.indices, dtype=np.int32) for chunk in encoded.chunks]
    codes = np.concatenate(parts) if parts else np.empty(0, dtype=np.int32)
    return codes, dictionary


# The ledger's columns that take a handful of values over every excluded row (a kind, a file,
# a reason): ~60 B a row as strings, 1 B as codes (at 10M battles ~1.2M rows are excluded).
LEDGER_VALUES = ("kind", "file", "reason")


def ledger_categories(excluded: pd.DataFrame) -> None:
    """The ledger's few-valued columns as Categoricals of sorted categories, in place: the
    CSV download, the tallies by reason and every lookup read the same values."""
    for col in LEDGER_VALUES:
        excluded[col] = excluded[col].astype(str).astype("category")
