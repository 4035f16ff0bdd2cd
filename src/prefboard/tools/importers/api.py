"""The import API: mappings, reports, skip reasons and limits."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from prefboard.config import KEY_PATTERN
from prefboard.errors import PrefboardError

# --- Public API --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairwiseMapping:
    """Which source columns hold what, and which winner values mean what."""

    model_a: str = "model_a"
    model_b: str = "model_b"
    winner: str = "winner"
    winner_values: tuple[str, str, str] = ("model_a", "model_b", "tie")  # a / b / tie
    participant: str | None = None
    timestamp: str | None = None
    dimension: str = "overall"
    slices: tuple[str, ...] = ()  # categorical columns -> participant slice attributes
    extra_ties: tuple[str, ...] = ()  # also a tie, reported apart, e.g. "tie (bothbad)"


ARENA = PairwiseMapping(
    winner_values=("model_a", "model_b", "tie"),
    participant="judge",
    timestamp="tstamp",
    extra_ties=("tie (bothbad)",),
)
PAIRWISE = PairwiseMapping()
FORMATS: dict[str, PairwiseMapping] = {"arena": ARENA, "pairwise": PAIRWISE}


@dataclass
class ImportReport:
    """What an import did. Every source row is in exactly one of imported, duplicates, skipped."""

    source_rows: int
    imported: int
    skipped: dict[str, int]  # reason -> rows
    duplicates: int  # rows already present from an earlier import (idempotency)
    models_added: list[str]
    files_written: list[Path]
    ledger_path: Path
    bothbad_ties: int  # imported rows whose winner was one of `extra_ties`
    participants_added: int = 0
    slice_values_added: dict[str, list[str]] = field(default_factory=dict)
    # Values the config could not take automatically (the slice has population shares, or its
    # `values` line could not be edited safely): the maintainer must declare them.
    slice_values_pending: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Things the maintainer should check by eye, e.g. a new model named like a declared one.
    warnings: list[str] = field(default_factory=list)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


class ImportSourceError(PrefboardError):
    """The source or the mapping cannot be imported at all (as opposed to single bad rows)."""


class SourceProblem(ImportSourceError):
    """A source refused as a whole for a reason with a place: `rule`, and `line` / `column`
    (1-based, 0 when the whole file or line). Ingest turns it into one located `Problem`; the
    message names the file and line already, for `import`'s one-line error."""

    def __init__(self, name: str, detail: str, rule: str, line: int = 0, column: int = 0) -> None:
        super().__init__(f"{name}:{line}: {detail}" if line else f"{name}: {detail}")
        self.detail, self.rule, self.line, self.column = detail, rule, line, column


MISSING = "missing-field"
TOO_LONG = "field-too-long"
UNKNOWN_WINNER = "unknown-winner-value"
BAD_TIMESTAMP = "bad-timestamp"
SAME_MODEL = "same-model"
ID_COLLISION = "id-collision"  # two rows hashing to one id: never seen, but never silent either

MAX_MODEL_CHARS = 100
MAX_PARTICIPANT_CHARS = 200
MAX_SLICE_VALUE_CHARS = 100
MAX_SLICE_VALUES = 500
CHUNK_ROWS = 200_000
# Bounds checked before a source is parsed (see sources.py): JSON nesting (Python's json raised
# RecursionError a few thousand deep and pyarrow killed the process 50,000 deep; records are
# flat), and the size a source would have as CSV text, which a compressed Parquet file can
# exceed a millionfold. `import` has no configured limit, so it gets this one; ingest passes
# data.max_file_mb.
MAX_JSON_DEPTH = 64
MAX_SOURCE_BYTES = 4_000_000_000
SYNTHETIC_PARTICIPANT = "imported"
SYNTHETIC_START = "2000-01-01T00:00:00Z"
IMPORTED_TURNS = "1"
ID_HEX = 16
SUFFIXES = {
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}

_SEP = "\x1f"
_US_PER_S = 1_000_000
_SYNTHETIC_START_US = int(pd.Timestamp(SYNTHETIC_START).value // 1_000)
_MAX_US = int(pd.Timestamp("2100-01-01T00:00:00Z").value // 1_000)
# C0/C1 controls, soft hyphen, bidi marks and overrides, zero-width and other invisible format
# characters, BOM, interlinear annotations, lone surrogates (only reachable via JSON escapes).
_INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\ufeff\ufff9-\ufffb\ud800-\udfff]"
)
_KEY_RE = re.compile(KEY_PATTERN)
# Prepared source rows: one numpy array per field (object arrays for text), all the same length.
Rows = dict[str, np.ndarray]
