"""`prefboard import ... --source KEY --kind judge|human`: the imported battles belong to a
verdict source. They are written where the source's `[[sources]]` globs read them (declared
when the board has no such source yet: `results/sources/<KEY>/*.csv`), and a judge's rows name
the source as their participant and add nobody to the participants file (a judge is no person).
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from prefboard.config import Config, SourceKind, load_config, parse_config
from prefboard.errors import listed
from prefboard.io.files import write_atomic
from prefboard.io.paths import leaves_board
from prefboard.tools.importers.board_files import battle_file
from prefboard.tools.importers.board_toml import toml_string
from prefboard.tools.importers.report import ImportSourceError
from prefboard.tools.importers.rows import Rows
from prefboard.tools.importers.steps import Board

SOURCES_FOLDER = Path("results/sources")


@dataclass(frozen=True)
class SourceTarget:
    key: str
    kind: SourceKind

    @property
    def judge(self) -> bool:
        return self.kind == "judge"


def target_file(config: Config | None, target: SourceTarget | None, stem: str) -> Path:
    """The battle file of this import, relative to the board."""
    return battle_file(config, stem) if target is None else source_file(config, target, stem)


def source_file(config: Config | None, target: SourceTarget, stem: str) -> Path:
    """Where the import writes: a folder the declared source's globs read, or the default
    folder of a source the import will declare."""
    name = f"imported-{stem}.csv"
    declared = next((s for s in config.sources if s.key == target.key), None) if config else None
    if declared is None:
        return SOURCES_FOLDER / target.key / name
    if declared.kind != target.kind:
        raise ImportSourceError(
            f"source {target.key!r} is declared with kind = {declared.kind!r} in "
            f"leaderboard.toml, not {target.kind!r}"
        )
    for pattern in declared.files:
        folder = Path(pattern).parent
        candidate = folder / name
        if any(ch in str(folder) for ch in "*?[") or leaves_board(pattern):
            continue
        if any(fnmatch.fnmatch(candidate.as_posix(), g) for g in declared.files):
            return candidate
    raise ImportSourceError(
        f"the files of source {target.key!r} ({listed(declared.files)}) name no folder an import "
        f"can write to; add a glob such as '{SOURCES_FOLDER.as_posix()}/{target.key}/*.csv'"
    )


def as_source(imp: Rows, target: SourceTarget | None) -> Rows:
    """The rows to write: a judge's name the judge as their participant."""
    if target is not None and target.judge:
        imp["participant_id"] = np.full(len(imp["participant_id"]), target.key, dtype=object)
    return imp


def people_and_source(
    target: SourceTarget | None,
    write_people: Callable[[], bool],
    participants: Path,
    board: Board,
    battles_rel: Path,
) -> list[Path]:
    """Files written after the config: the participants file (never for a judge, who is no
    person) and leaderboard.toml when the import declares the source."""
    written = []
    if not (target and target.judge) and write_people():
        written.append(participants)
    if target and declare_source(board.config_path, target, battles_rel):
        written.append(board.config_path)
    return written


def declare_source(config_path: Path, target: SourceTarget, battles_rel: Path) -> bool:
    """Append the `[[sources]]` entry for the imported file's folder unless the board declares
    the source already; the new text is parsed before it is written. True when written."""
    if any(s.key == target.key for s in load_config(config_path).sources):
        return False
    glob = (battles_rel.parent / "*.csv").as_posix()
    block = (
        f"\n# Added by `prefboard import --source {target.key}`: who judged these battles.\n"
        f"[[sources]]\nkey = {toml_string(target.key)}\nkind = {toml_string(target.kind)}\n"
        f"files = [{toml_string(glob)}]\n"
    )
    text = config_path.read_text(encoding="utf-8").rstrip("\n") + "\n" + block
    parse_config(tomllib.loads(text), text)
    write_atomic(config_path, text)
    return True
