"""MkDocs run in-process in strict mode, its warnings collected into one BuildError, with the
data's own date as the build time so that two builds of the same inputs are byte-identical."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from prefboard.errors import BuildError
from prefboard.standings.model import Standings


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def run_mkdocs(config_file: Path, epoch: int | None = None) -> None:
    """Build with MkDocs in strict mode; its warnings become one BuildError.

    MkDocs stamps the sitemap and its gzip header with the build time unless SOURCE_DATE_EPOCH
    is set; the data's own date is used when the caller did not set one, so two builds of the
    same inputs are byte-identical.
    """
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    # Only for this build: left set, the first board's date would stamp every later build in
    # the same process (`serve`, tests) and two builds of one board could differ.
    ours = epoch is not None and "SOURCE_DATE_EPOCH" not in os.environ
    if ours:
        os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    try:
        _build(config_file)
    finally:
        if ours:
            del os.environ["SOURCE_DATE_EPOCH"]


def _build(config_file: Path) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    collector = _Collect()
    log = logging.getLogger("mkdocs")
    log.addHandler(collector)
    try:
        cfg = load_config(config_file=str(config_file))
        build(cfg)
    except (MkDocsException, SystemExit) as exc:
        detail = "\n".join(collector.messages) or str(exc)
        raise BuildError(f"MkDocs build failed:\n{detail}") from None
    finally:
        log.removeHandler(collector)


def data_epoch(standings: Standings) -> int | None:
    """Seconds since 1970 of the latest accepted timestamp, or None without data."""
    from datetime import datetime

    through = standings.provenance.data_through
    if not through:
        return None
    return int(datetime.fromisoformat(through.replace("Z", "+00:00")).timestamp())
