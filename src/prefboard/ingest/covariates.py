"""The style covariate columns of battle files (`[[covariates]]`): `<key>_a` and `<key>_b`,
each a finite number >= 0 or empty.

An empty cell is not a problem: the battle keeps its verdicts in every ranking and is left out
of the style fit only (which needs every covariate on both sides), and the Style control page
counts how many battles that was. A file may leave the columns out altogether (e.g. battles
collected before the annotation pass): its battles have no covariate values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from prefboard.config import Config
from prefboard.errors import Problem, listed
from prefboard.ingest.checks import Checker, arrow_text, cell, clip
from prefboard.ingest.csvread import RawTable

# Plain decimal numbers: digits with an optional fraction and a small exponent. Signs, "inf",
# "nan", "1,5" and thousands separators are refused with a message rather than guessed at.
_NUMBER = r"(?:[0-9]{1,18}(?:\.[0-9]{0,18})?|\.[0-9]{1,18})(?:[eE][+-]?[0-9]{1,3})?"


def covariate_columns(config: Config) -> list[str]:
    """The battle columns the config's covariates are read from, in declaration order."""
    return [col for c in config.covariates for col in c.columns]


def flag_covariates(check: Checker, config: Config) -> dict[str, np.ndarray]:
    """Each covariate column as float64 (NaN where empty or refused), refused cells flagged."""
    return {col: _flag_column(check, col) for col in covariate_columns(config)}


def _flag_column(check: Checker, col: str) -> np.ndarray:
    text = check.frame[col]
    ok = text.str.fullmatch(_NUMBER, na=False).to_numpy(dtype=bool)
    cells = arrow_text(text)
    kept = pc.if_else(pa.array(ok), cells, pa.scalar(None, cells.type))
    values = np.asarray(
        pc.cast(kept, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
    )
    # 9e999 matches the pattern and overflows to inf: refused like any other non-finite value.
    good = ok & np.isfinite(values)
    bad = ~good & (text != "").to_numpy(dtype=bool)

    def message(i: int) -> str:
        found = cell(text, i)
        why = " (negative)" if found.strip().startswith("-") else ""
        return f"{col} must be a finite number >= 0, found {clip(found)!r}{why}"

    check.flag(bad, col, "covariate", message)
    out: np.ndarray = np.where(good, values, np.nan)
    return out


def complete_rows(battles: pd.DataFrame, config: Config) -> np.ndarray:
    """Battles with every covariate given on both sides: the ones the style fit can use."""
    cols = covariate_columns(config)
    if not cols:
        return np.zeros(len(battles), dtype=bool)
    values = battles[cols].to_numpy(dtype=np.float64)
    complete: np.ndarray = np.isfinite(values).all(axis=1)
    return complete


def files_without_covariates(config: Config, raws: list[RawTable]) -> list[Problem]:
    """A warning per battle file with rows but without some declared covariate column: its
    battles count everywhere except in the style fit, which the owner may not expect."""
    wanted = covariate_columns(config)
    out = []
    for raw in raws:
        missing = [c for c in wanted if c not in raw.frame.columns]
        if missing and raw.records and not raw.problems:
            out.append(
                Problem(
                    raw.path,
                    1,
                    0,
                    "covariate",
                    f"no {listed(missing)} column(s): this file's battles are left out of the "
                    "style fit (every other ranking counts them)",
                    severity="warning",
                )
            )
    return out
