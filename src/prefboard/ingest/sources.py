"""Which battle files each `[[sources]]` entry owns, and the judges' battles read apart.

A file matched by a source's glob belongs to it; files matched by no source (the `[data]`
battles globs) are human. Human files make one table, checked against the participants file;
each judge's files are checked by the same battle rules except the participant roster (a judge
is not a person in participants.csv) and give a table of their own, never mixed into the human
one, so no judge verdict can reach a published ranking.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from prefboard.config import Config
from prefboard.errors import Problem
from prefboard.ingest.checks import Checker
from prefboard.ingest.csvread import RawTable, read_csv
from prefboard.ingest.files import resolve_paths, shown
from prefboard.ingest.rules import OPTIONAL_BATTLE, check_battles

SOURCE_COLUMN = "source"


@dataclass(frozen=True)
class BattleFiles:
    """Battle files by owner: `human` (undeclared and kind = "human") and each judge's."""

    human: list[Path]
    judges: dict[str, list[Path]]


def battle_files(root: Path, config: Config) -> tuple[BattleFiles, list[Problem]]:
    """The battle files of every source, and the problems with their globs (a file two sources
    claim is reported once and left with the first)."""
    files, problems = resolve_paths(root, config.data.battles, "data.battles")
    owner: dict[Path, str] = {}
    for i, src in enumerate(config.sources):
        found, ps = resolve_paths(root, src.files, f"sources[{i}].files")
        problems += ps
        for f in found:
            if f in owner and owner[f] != src.key:
                msg = (
                    f"matched by the files of sources {owner[f]!r} and {src.key!r}; a battle "
                    "file belongs to one source: narrow one of the globs"
                )
                problems.append(Problem(shown(root, f), 0, 0, "source-overlap", msg))
                continue
            owner.setdefault(f, src.key)
    kinds = {s.key: s.kind for s in config.sources}
    human = sorted({f for f in files if f not in owner} | _owned(owner, kinds, "human"))
    judged = _owned(owner, kinds, "judge")
    judges = {s.key: sorted(judged & _of(owner, s.key)) for s in config.judges}
    return BattleFiles(human, judges), problems


def _owned(owner: dict[Path, str], kinds: Mapping[str, str], kind: str) -> set[Path]:
    return {f for f, key in owner.items() if kinds[key] == kind}


def _of(owner: dict[Path, str], key: str) -> set[Path]:
    return {f for f, k in owner.items() if k == key}


@dataclass(frozen=True)
class JudgeFiles:
    """One judge's files as read, their checks, and each row's exclusion reason (None = kept)."""

    key: str
    raws: list[RawTable]
    frame: pd.DataFrame
    check: Checker
    reason: np.ndarray


def read_judges(
    config: Config,
    root: Path,
    files: BattleFiles,
    columns: list[str],
    max_bytes: int,
    optional: frozenset[str] = OPTIONAL_BATTLE,
) -> list[JudgeFiles]:
    """Each judge's files read and checked by the battle rules, without the participant roster;
    the quality rule on turns applies (strikes are a person's)."""
    out = []
    for key, paths in files.judges.items():
        raws = [read_csv(f, shown(root, f), columns, max_bytes, optional) for f in paths]
        frame, check = check_battles(config, raws, None)
        reason = check.reason.copy()
        short = (reason == None) & (frame["turns"].to_numpy() < config.quality.min_turns)  # noqa: E711
        reason[short] = "too-few-turns"
        out.append(JudgeFiles(key, raws, frame, check, reason))
    return out


def judge_table(judges: list[JudgeFiles]) -> pd.DataFrame:
    """Every judge's accepted battles in one table with a `source` column (the judge's key)."""
    frames = [
        j.frame.loc[j.reason == None].assign(**{SOURCE_COLUMN: j.key})  # noqa: E711
        for j in judges
    ]
    if not frames:
        return pd.DataFrame({SOURCE_COLUMN: pd.Series([], dtype=object)})
    table: pd.DataFrame = pd.concat(frames, ignore_index=True)
    return table
