"""Battle-level slices (`[[slices]]` with `level = "battle"`): a column of the battle files,
such as `category`, whose declared values each get their own ranking tables.

A value outside `values` excludes the row, as a participant's undeclared value does; a blank
cell keeps the row in the headline and in no value's table, and each file with blanks says how
many in one warning, so the tables' counts add up. A file without the column at all (written
before the slice was declared, e.g. by an earlier import) is all blank, and its warning says so
rather than failing the board.
"""

from __future__ import annotations

import numpy as np

from prefboard.config import Config
from prefboard.errors import Problem
from prefboard.ingest.checks import Checker
from prefboard.render.format import count


def battle_slice_columns(config: Config) -> list[str]:
    return [s.attribute for s in config.battle_slices]


def blank_warnings(config: Config, check: Checker) -> list[Problem]:
    """One warning per battle file and battle slice with blank cells in otherwise valid rows."""
    if not config.battle_slices:  # nothing to warn of: not even the valid rows looked up
        return []
    frame = check.frame
    files = frame["_file"].to_numpy()
    ok = ~np.asarray(check.bad, dtype=bool)
    out = []
    for s in config.battle_slices:
        blank = ok & (frame[s.attribute] == "").to_numpy()
        for file in dict.fromkeys(files[blank]):  # first-appearance order: the files' order
            n = int((blank & (files == file)).sum())
            column = check.colmaps[file].get(s.attribute, 0)
            what = f"{count(n)} battle(s) with no {s.attribute}"
            if not column:
                what = f"no {s.attribute} column: its {count(n)} battle(s)"
            why = f"{what}: they count in every ranking but in no {s.attribute} table"
            out.append(Problem(str(file), 0, column, "blank-slice", why, severity="warning"))
    return out
