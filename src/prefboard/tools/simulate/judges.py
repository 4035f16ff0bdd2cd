"""Simulated automated judges: for each `[[sources]]` entry of kind "judge", a verdict file on a
sample of the simulated battles, from a judge that agrees with people imperfectly.

The judge sees the same pair on the same prompt (battle id, prompt id, models and turns copied),
answers the questions people were asked, and differs from people in three deliberate ways:
its own view of each model's skill (a per-model error), more noise per verdict, and a pull
toward the first answer shown ("a"). So its agreement, kappa and tau fall below the humans'
ceiling and its position bias is visible on the Agreement page.
"""

from __future__ import annotations

import fnmatch
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from prefboard.config import Config, Source
from prefboard.errors import PrefboardError
from prefboard.tools.simulate.spec import rng_for
from prefboard.tools.simulate.truth import Truth

STREAM_JUDGES = 3_000  # + the source's position among the judges
JUDGE_SHARE = 0.3  # share of the battles a judge re-judges
JUDGE_SKILL_SD = 0.5  # sd of the judge's error on each model's skill, in beta units
JUDGE_NOISE = 2.5  # the judge's verdict noise, times a person's
JUDGE_POSITION = 0.4  # the judge's pull toward answer "a", in beta units


def judge_path(source: Source) -> str:
    """A file name inside the source's first glob (`*` becomes the source's key), relative to
    the board folder."""
    pattern = source.files[0]
    name = pattern.replace("**/", "").replace("*", source.key)
    if any(c in name for c in "?[]") or not fnmatch.fnmatch(name, pattern):
        raise PrefboardError(
            f"simulate cannot name a file matching sources {source.key!r} files {pattern!r}; "
            f"use a glob such as 'results/judges/{source.key}/*.csv'"
        )
    return name


def judge_table(
    config: Config, truth: Truth, battles: pa.Table, seed: int, position: int, key: str
) -> pa.Table:
    """The verdicts of judge `key` (the `position`-th judge) on a seeded sample of `battles`."""
    rng = rng_for(seed, STREAM_JUDGES + position)
    n = battles.num_rows
    pick = np.sort(rng.choice(n, size=round(JUDGE_SHARE * n), replace=False))
    seen = battles.take(pa.array(pick))
    index = {k: i for i, k in enumerate(config.model_keys)}
    a = np.array([index[m] for m in seen["model_a"].to_pylist()], dtype=np.int64)
    b = np.array([index[m] for m in seen["model_b"].to_pylist()], dtype=np.int64)
    dims = [i for i, d in enumerate(config.dimensions) if d.battles]
    beta = truth.beta
    view = truth.skill[:, dims] + rng.normal(0.0, JUDGE_SKILL_SD * beta, (len(index), len(dims)))
    gap = view[a] - view[b] + JUDGE_POSITION * beta
    perf = gap + JUDGE_NOISE * math.sqrt(2.0) * beta * rng.standard_normal(gap.shape)
    outcome = np.where(perf > truth.margin, 0, np.where(perf < -truth.margin, 1, 2))
    vocab = pa.array(["a", "b", "tie"])
    columns = {name: seen[name] for name in seen.column_names}
    columns["participant_id"] = pa.array([key] * len(pick))
    for k, di in enumerate(dims):
        asked = seen[config.dimensions[di].key]
        verdict = vocab.take(pa.array(outcome[:, k]))
        # the judge answers exactly the questions the person was asked
        columns[config.dimensions[di].key] = pc.if_else(pc.is_null(asked), asked, verdict)
    return pa.table(columns)


def judge_files(config: Config, root: Path | None, out_dir: Path) -> list[tuple[Source, Path]]:
    """Where each judge's simulated verdicts go, worked out before anything is written: at its
    glob under the board folder `root`, or `out_dir/judges/<key>.csv` when the results go
    elsewhere (`simulate --out`)."""
    if root is None:
        return [(s, out_dir / "judges" / f"{s.key}.csv") for s in config.judges]
    return [(s, root / judge_path(s)) for s in config.judges]
