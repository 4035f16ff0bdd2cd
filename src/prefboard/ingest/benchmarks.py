"""Optional static benchmark scores (`results/benchmarks.csv`), to set beside human preference.

Columns: model, benchmark, score, source. Higher scores are better. Rows are validated like the
other result files and reported as Problems; nothing here affects the human-preference ranking.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from prefboard.config import Config
from prefboard.errors import Problem
from prefboard.ingest.csvread import read_csv
from prefboard.ingest.validate import resolve_paths

COLUMNS = ["model", "benchmark", "score", "source"]
MAX_TEXT = 200
# Each benchmark gets a table and a chart on the benchmarks page: 4,000 names once made the
# build take minutes. Real comparisons use a handful.
MAX_BENCHMARKS = 50


def read_benchmarks(config: Config, root: Path) -> tuple[pd.DataFrame, list[Problem]]:
    """Valid rows as (model, benchmark, score, source); an absent file is no problem."""
    empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in COLUMNS})
    if not config.data.benchmarks or not (root / config.data.benchmarks).exists():
        return empty, []
    # The same path rules as every other input: nothing outside the board, no symlinks out.
    files, problems = resolve_paths(root, [config.data.benchmarks], "data.benchmarks")
    if not files:
        return empty, problems
    path = files[0]
    shown = config.data.benchmarks
    raw = read_csv(path, shown, COLUMNS, int(config.data.max_file_mb * 1_000_000))
    problems += raw.problems
    if raw.frame.empty:
        return empty, problems
    frame = raw.frame
    keys = set(config.model_keys)
    good = np.ones(len(frame), dtype=bool)
    for i, row in enumerate(frame.itertuples(index=False)):
        line = int(raw.lines[i])
        model, bench, score, source = (str(v) for v in row)
        if model not in keys:
            problems.append(
                Problem(shown, line, 1, "unknown-model", f"unknown model {model[:60]!r}")
            )
            good[i] = False
        if not bench or len(bench) > MAX_TEXT or len(source) > MAX_TEXT:
            msg = f"benchmark name is empty or a cell is over {MAX_TEXT} characters"
            problems.append(Problem(shown, line, 2, "required", msg))
            good[i] = False
        try:
            value = float(score)
            finite = math.isfinite(value)
        except ValueError:
            finite = False
        if not finite:
            msg = f"score {score[:60]!r} is not a finite number"
            problems.append(Problem(shown, line, 3, "number", msg))
            good[i] = False
    out = frame.loc[good, COLUMNS].copy()
    out["score"] = out["score"].astype(float)
    duplicated = out.duplicated(["model", "benchmark"], keep="first")
    kept = np.flatnonzero(good)
    for k in np.flatnonzero(duplicated.to_numpy()):
        line = int(raw.lines[kept[k]])
        problems.append(Problem(shown, line, 1, "duplicate-id", "model and benchmark repeated"))
    out = out.loc[~duplicated]
    lines = raw.lines[np.flatnonzero(good)][~duplicated.to_numpy()]
    out, problem = _at_most_max_benchmarks(out, lines, shown)
    return out.reset_index(drop=True), problems + ([problem] if problem else [])


def _at_most_max_benchmarks(
    rows: pd.DataFrame, lines: np.ndarray, shown: str
) -> tuple[pd.DataFrame, Problem | None]:
    """The rows of the first MAX_BENCHMARKS benchmark names (in file order), and one problem at
    the row that brings the first name over the limit."""
    codes, names = pd.factorize(rows["benchmark"], sort=False)
    if len(names) <= MAX_BENCHMARKS:
        return rows, None
    first = int(np.flatnonzero(codes == MAX_BENCHMARKS)[0])
    msg = (
        f"{len(names):,} benchmarks, over the limit of {MAX_BENCHMARKS} (each gets a table and a "
        f"chart); {names[MAX_BENCHMARKS][:60]!r} and the {len(names) - MAX_BENCHMARKS - 1:,} "
        "after it are left out"
    )
    return rows.loc[codes < MAX_BENCHMARKS], Problem(shown, int(lines[first]), 2, "benchmarks", msg)
