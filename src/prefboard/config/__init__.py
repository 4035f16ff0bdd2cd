"""leaderboard.toml -> a typed, validated `Config`.

`sections` holds one pydantic model per table of the file (with the limits on its values),
`board` the whole `Config` and its checks across sections, `loader` the bounded reading and
the located problems. Everything is importable from `prefboard.config` as before the split.
"""

from __future__ import annotations

from prefboard.config.board import Config
from prefboard.config.loader import (
    MAX_CONFIG_BYTES,
    MAX_CONFIG_PROBLEMS,
    MAX_DOTTED_PARTS,
    MAX_NESTING,
    load_config,
    locate_key,
    parse_config,
)
from prefboard.config.plan import Plan
from prefboard.config.sections import (
    KEY_PATTERN,
    LIKERT_BOUND,
    MARGINAL_TOLERANCE,
    MAX_COUNT,
    MAX_DIMENSIONS,
    MAX_MODELS,
    MAX_SEED,
    MAX_SLICE_VALUE_CHARS,
    MAX_SLICE_VALUES,
    MAX_SLICES,
    MAX_STRATA_CELLS,
    MAX_STRIKES,
    MAX_TURNS,
    RESERVED_BATTLE_COLUMNS,
    Data,
    Dimension,
    JointShare,
    Leaderboard,
    Model,
    Privacy,
    Quality,
    Rating,
    Section,
    Site,
    Slice,
)
from prefboard.config.sources import MAX_SOURCES, Source, SourceKind

__all__ = [
    "KEY_PATTERN",
    "LIKERT_BOUND",
    "MARGINAL_TOLERANCE",
    "MAX_CONFIG_BYTES",
    "MAX_CONFIG_PROBLEMS",
    "MAX_COUNT",
    "MAX_DIMENSIONS",
    "MAX_DOTTED_PARTS",
    "MAX_MODELS",
    "MAX_NESTING",
    "MAX_SEED",
    "MAX_SLICES",
    "MAX_SLICE_VALUES",
    "MAX_SLICE_VALUE_CHARS",
    "MAX_SOURCES",
    "MAX_STRATA_CELLS",
    "MAX_STRIKES",
    "MAX_TURNS",
    "RESERVED_BATTLE_COLUMNS",
    "Config",
    "Data",
    "Dimension",
    "JointShare",
    "Leaderboard",
    "Model",
    "Plan",
    "Privacy",
    "Quality",
    "Rating",
    "Section",
    "Site",
    "Slice",
    "Source",
    "SourceKind",
    "load_config",
    "locate_key",
    "parse_config",
]  # fmt: skip
