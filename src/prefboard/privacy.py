"""Small demographic groups can identify people: warn before they would be published.

The rating stage suppresses a slice value with fewer than `privacy.min_participants` distinct
participants; this check tells the contributor at validation time which values that will be.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from prefboard.config import Config
from prefboard.errors import Problem, listed
from prefboard.ingest import Ingested


def active_participants(data: Ingested) -> pd.DataFrame:
    """Participants with at least one accepted battle or rating: the sample the site describes,
    and the one the privacy threshold counts."""
    ids = pd.concat([data.battles["participant_id"], data.ratings["participant_id"]]).unique()
    return data.participants.loc[data.participants.index.isin(ids)]


def small_groups(config: Config, data: Ingested, config_file: Path | None = None) -> list[Problem]:
    """One warning per slice with some, but too few, participants in accepted rows for a value,
    pointing at the slice's declaration in `config_file` (the values it will hide), else at the
    participants file."""
    active = active_participants(data)
    limit = config.privacy.min_participants
    text = _read(config_file)
    problems = []
    for s in config.slices:
        counts = active[s.attribute].value_counts()
        small = [(v, int(counts.get(v, 0))) for v in s.values if 0 < counts.get(v, 0) < limit]
        if not small:
            continue
        groups = listed(f"{v} ({n})" for v, n in small)
        where = _declaration(text, s.attribute)
        file = config_file.name if where and config_file else config.data.participants
        line, column = where or (1, 0)
        problems.append(
            Problem(
                file,
                line,
                column,
                "privacy",
                f"{s.attribute}: {groups} participant(s): fewer than privacy.min_participants "
                f"({limit}), so not published on their own",
                severity="warning",
            )
        )
    return problems


def headline_population(config: Config, data: Ingested, config_file: Path | None) -> list[Problem]:
    """The headline is post-stratified over `config.strata`: warn for a stratifying attribute
    no participant filled in, and refuse a headline no voter stands behind (no participant with
    a positive-share value in every stratum), which would rank every model 0.00 - 0.00."""
    active = active_participants(data)
    strata = config.strata
    if not strata or active.empty:
        return []
    text = _read(config_file)
    explicit = bool(config.rating.stratify_by)
    behind = np.ones(len(active), dtype=bool)
    problems = []
    for s in strata:
        shared = [v for v, share in s.population.items() if share > 0]
        behind &= active[s.attribute].isin(shared).to_numpy()
        if (data.participants[s.attribute] == "").all():
            problems.append(_population_problem(config, s.attribute, explicit, text, config_file))
    if behind.any():
        return problems
    names = ", ".join(s.attribute for s in strata)
    fix = _population_fix(config, [s.attribute for s in strata], explicit)
    msg = (
        f"the headline ranking is post-stratified over {names}, but no participant who voted "
        f"has a value with a population share there: it would rank every model on nothing. "
        f"{fix[0].upper()}{fix[1:]}"
    )
    where = _declaration(text, strata[0].attribute)
    file = config_file.name if where and config_file else config.data.participants
    line, column = where or (1, 0)
    return [Problem(file, line, column, "population", msg)]


def _population_problem(
    config: Config, attribute: str, explicit: bool, text: str, config_file: Path | None
) -> Problem:
    where = _declaration(text, attribute)
    file = config_file.name if where and config_file else config.data.participants
    line, column = where or (1, 0)
    msg = (
        f"no participant has a value for {attribute}, which weights the headline ranking: "
        + _population_fix(config, [attribute], explicit)
    )
    return Problem(file, line, column, "population", msg, severity="warning")


def _population_fix(config: Config, attributes: list[str], explicit: bool) -> str:
    names = " and ".join(attributes)
    drop = (
        f"drop {names} from rating.stratify_by"
        if explicit
        else f"remove the population shares of {names} (or the slice) in leaderboard.toml"
    )
    return f"fill the {names} column of {config.data.participants}, or {drop}"


def _read(path: Path | None) -> str:
    try:
        return path.read_text(encoding="utf-8") if path else ""
    except (OSError, UnicodeDecodeError):
        return ""


def _declaration(text: str, attribute: str) -> tuple[int, int] | None:
    """(line, column) of `attribute = "<attribute>"` in the config text."""
    pattern = rf"^[ \t]*attribute[ \t]*=[ \t]*[\"']{re.escape(attribute)}[\"']"
    found = re.search(pattern, text, re.MULTILINE)
    if not found:
        return None
    line = text.count("\n", 0, found.start()) + 1
    return line, found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
