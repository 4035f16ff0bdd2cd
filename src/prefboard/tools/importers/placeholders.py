"""The placeholders `prefboard init` writes, recognised and removed by `prefboard import`.

`init` writes two example models and an example `age_group` slice with population shares so that
a new board validates and builds at once. Left in place after an import they publish nonsense:
"Model A/B" ranked beside real models, and a headline post-stratified over an attribute the
imported data does not have (every score 0.00). Each such block's header line carries
`# prefboard:placeholder`; a block is removed only when it still reads exactly as `init` wrote
it and nothing in the board uses it (nor `rating.stratify_by`), so nothing a maintainer wrote or
relies on is ever removed.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from prefboard.config import Config
from prefboard.io.files import packaged_text
from prefboard.tools.importers.board_toml import block_end, table_headers

MARKER = "# prefboard:placeholder"


@dataclass
class Removed:
    """The config text without the placeholder blocks that may go, and what went."""

    text: str
    models: list[str] = field(default_factory=list)
    slices: list[str] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.models or self.slices)


def remove_placeholders(text: str, config: Config, board: Path, keep: set[str]) -> Removed:
    """Drop the unchanged placeholder blocks of `text` that no data uses; slices in `keep` (the
    ones this import fills) stay. Returns `text` unchanged when the result would not parse."""
    lines = text.split("\n")
    pristine = set(_placeholder_blocks(_scaffold_text()))
    drop: list[tuple[int, int]] = []
    removed = Removed(text)
    for start, end, kind, body in _marked_blocks(lines):
        if body not in pristine:
            continue  # edited since init: the maintainer's now
        value = tomllib.loads("\n".join(lines[start:end]))[kind][0]
        if kind == "models" and not _model_used(value["key"], config, board):
            removed.models.append(value["key"])
        elif kind == "slices" and _slice_unused(value["attribute"], config, board, keep):
            removed.slices.append(value["attribute"])
        else:
            continue
        drop.append((start, end))
    if not drop:
        return Removed(text)
    scaffold = set(_scaffold_text().split("\n"))
    for n, (start, end) in enumerate(drop):
        # The scaffold's own comment explaining the slice goes with it (the models' stays: the
        # imported models take their place below it).
        is_slice = lines[start].startswith("[[slices]]")
        while is_slice and start > 0:
            above = lines[start - 1]
            if not (above.startswith("#") and above in scaffold):
                break
            start -= 1
        drop[n] = (start, end)
    for start, end in sorted(drop, reverse=True):
        # the blank line the block leaves behind goes too
        end += 1 if end < len(lines) and not lines[end].strip() else 0
        del lines[start:end]
    removed.text = "\n".join(lines)
    return removed


def without(config: Config, removed: Removed) -> Config:
    """`config` minus the removed blocks. Not re-validated here: a board may hold no model until
    the import adds its own; the import checks the text it finally writes."""
    models = [m for m in config.models if m.key not in removed.models]
    slices = [s for s in config.slices if s.attribute not in removed.slices]
    return config.model_copy(update={"models": models, "slices": slices})


def _scaffold_text() -> str:
    return packaged_text("scaffold", "leaderboard.toml")


def _marked_blocks(lines: list[str]) -> list[tuple[int, int, str, str]]:
    """(start, end, table, normalised text) of each `[[models]]`/`[[slices]]` block whose
    header carries the marker; the block ends before the comments that lead the next one."""
    heads = table_headers(lines)
    out = []
    for i, name, is_array in heads:
        if not is_array or name not in ("models", "slices") or MARKER not in lines[i]:
            continue
        end = block_end(lines, heads, i)
        while end - 1 > i and (not lines[end - 1].strip() or lines[end - 1].lstrip()[0] == "#"):
            end -= 1
        body = "\n".join(ln.strip() for ln in lines[i + 1 : end] if ln.strip())
        out.append((i, end, name, f"[[{name}]]\n{body}"))
    return out


def _placeholder_blocks(text: str) -> list[str]:
    return [body for _, _, _, body in _marked_blocks(text.split("\n"))]


def _model_used(key: str, config: Config, board: Path) -> bool:
    """Whether any battle or rating file names the model (as a whole CSV cell)."""
    from prefboard.ingest.validate import resolve_paths

    cell = re.compile(rf"(?:^|,){re.escape(key)}(?:,|\r?$)", re.MULTILINE)
    for key_name, patterns in (
        ("data.battles", config.data.battles),
        ("data.ratings", config.data.ratings),
    ):
        files, _ = resolve_paths(board, patterns, key_name)
        for file in files:
            if cell.search(file.read_bytes().decode("utf-8", "replace")):
                return True
    return False


def _slice_unused(attr: str, config: Config, board: Path, keep: set[str]) -> bool:
    """The import does not fill the attribute, and no participant has a value in it."""
    if attr in keep or attr in config.rating.stratify_by:
        return False
    path = board / config.data.participants
    if not path.is_file():
        return True
    people = pd.read_csv(
        path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8-sig"
    )
    return attr not in people.columns or bool((people[attr] == "").all())


def removal_note(removed: Removed) -> str:
    """What the import tells the maintainer it removed."""
    what = [f"model(s) {', '.join(removed.models)}"] if removed.models else []
    if removed.slices:
        what.append(f"slice(s) {', '.join(removed.slices)} (no participant has a value)")
    return (
        f"removed the placeholder {' and '.join(what)} that `prefboard init` wrote in "
        "leaderboard.toml"
    )
