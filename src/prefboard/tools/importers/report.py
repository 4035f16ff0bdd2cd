"""What an import tells its caller: the report of what it did, or why it could not start."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from prefboard.io.tables import SourceError

# The source or the mapping cannot be imported at all (as opposed to single bad rows): the
# table readers' error, under the name import's callers know.
ImportSourceError = SourceError


@dataclass
class ImportReport:
    """What an import did. Every source row is in exactly one of imported, duplicates, skipped."""

    source_rows: int
    imported: int
    skipped: dict[str, int]  # reason -> rows
    duplicates: int  # rows already present from an earlier import (idempotency)
    models_added: list[str]
    files_written: list[Path]
    ledger_path: Path | None  # None when nothing was new: such a run writes no file
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
