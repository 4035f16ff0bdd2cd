"""The stages in order, readable top to bottom: config, ingest, rate, plan, chart, render, site."""

from __future__ import annotations

from pathlib import Path

from prefboard.config import Config, load_config
from prefboard.ingest import Ingested, ingest


def load(config_path: Path) -> tuple[Config, Path]:
    """The typed config and the board folder it lives in."""
    return load_config(config_path), config_path.resolve().parent


def validate(config: Config, root: Path) -> Ingested:
    return ingest(config, root)
