"""The stages in order, readable top to bottom: config, ingest, rate, plan, chart, render, site."""

from __future__ import annotations

from pathlib import Path

from prefboard.config import Config, load_config
from prefboard.errors import DataError
from prefboard.ingest import Ingested, ingest
from prefboard.rating.rate import rate as rate_tables
from prefboard.standings import Standings


def load(config_path: Path) -> tuple[Config, Path]:
    """The typed config and the board folder it lives in."""
    return load_config(config_path), config_path.resolve().parent


def validate(config: Config, root: Path) -> Ingested:
    return ingest(config, root)


def rate(config: Config, root: Path, config_path: Path) -> tuple[Ingested, Standings]:
    """Validate, then rate; refuses to rate data that has problems."""
    data = validate(config, root)
    if not data.ok:
        raise DataError(
            f"{sum(p.severity == 'error' for p in data.problems)} problem(s) in the result "
            "files; run `prefboard validate` to see them",
            data.problems,
        )
    text = config_path.read_text(encoding="utf-8")
    return data, rate_tables(config, data, text)
