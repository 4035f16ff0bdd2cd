"""Small demographic groups can identify people: warn before they would be published.

The rating stage suppresses a slice value with fewer than `privacy.min_participants` distinct
participants; this check tells the contributor at validation time which values that will be.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from prefboard.config import Config, Slice
from prefboard.errors import Problem, listed
from prefboard.ingest.validate import Ingested
from prefboard.rating.strata import population_of


def active_participants(data: Ingested) -> pd.DataFrame:
    """Participants with at least one accepted battle or rating: the sample the site describes,
    and the one the privacy threshold counts."""
    # each kind's distinct ids apart: the battles' are a Categorical, which concatenated with
    # the ratings' strings became an object array of every battle's id
    ids = [
        pd.Index(data.battles["participant_id"].unique()),
        pd.Index(data.ratings["participant_id"].unique()),
    ]
    return data.participants.loc[data.participants.index.isin(ids[0].append(ids[1]))]


def small_groups(config: Config, data: Ingested, config_file: Path | None = None) -> list[Problem]:
    """One warning per slice with some, but too few, participants in accepted rows for a value,
    pointing at the slice's declaration in `config_file` (the values it will hide), else at the
    participants file."""
    active = active_participants(data)
    limit = config.privacy.min_participants
    text = _read(config_file)
    problems = []
    for s in config.slices:
        counts = _voters_per_value(s, active, data.battles)
        small = [(v, int(counts.get(v, 0))) for v in s.values if 0 < counts.get(v, 0) < limit]
        if not small:
            continue
        groups = listed(f"{v} ({n})" for v, n in small)
        file, line, column = _where(config, text, config_file, s.attribute)
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


def _voters_per_value(s: Slice, active: pd.DataFrame, battles: pd.DataFrame) -> pd.Series:
    """Distinct participants per value: holding it, or (a battle slice) voting in battles of
    it, as the rating stage counts them before publishing a value."""
    if s.level == "battle":
        return battles.drop_duplicates([s.attribute, "participant_id"])[s.attribute].value_counts()
    return active[s.attribute].value_counts()


def headline_population(config: Config, data: Ingested, config_file: Path | None) -> list[Problem]:
    """Warn for a slice no participant filled in (for a stratifying one: the headline leans on
    it), and refuse a headline no voter stands behind (no participant with a positive-share
    value in every stratum): post-stratified over nobody, every model scored 0.00 - 0.00."""
    active = active_participants(data)
    if active.empty:
        return []  # a new board: nothing to stratify yet
    text = _read(config_file)
    strata = config.strata
    empty = {
        s.attribute: _empty_slice(config, s.attribute, s in strata, text, config_file)
        for s in config.participant_slices
        if (data.participants[s.attribute] == "").all()
    }
    behind = np.ones(len(active), dtype=bool)
    for s in strata:
        # marginal shares, or those of [[rating.joint_population]] when only it gives them
        shared = [v for v, share in population_of(config, s.attribute).items() if share > 0]
        behind &= active[s.attribute].isin(shared).to_numpy()
    if not strata or behind.any():
        return list(empty.values())
    names = [s.attribute for s in strata]
    fix = _population_fix(config, names)
    msg = (
        f"the headline ranking is post-stratified over {', '.join(names)}, but no participant "
        "who voted has a value with a population share there: it would rank every model on "
        f"nothing. {fix[0].upper()}{fix[1:]}"
    )
    file, line, column = _where(config, text, config_file, names[0])
    # the error says it all for the stratifying slices: their warnings would repeat it
    others = [p for a, p in empty.items() if a not in names]
    return [Problem(file, line, column, "population", msg), *others]


def _where(
    config: Config, text: str, config_file: Path | None, attribute: str
) -> tuple[str, int, int]:
    """The slice's declaration in the config, else the participants file."""
    found = _declaration(text, attribute)
    if found and config_file:
        return config_file.name, *found
    return config.data.participants, 1, 0


def _empty_slice(
    config: Config, attribute: str, stratum: bool, text: str, config_file: Path | None
) -> Problem:
    file, line, column = _where(config, text, config_file, attribute)
    if stratum:
        msg = (
            f"no participant has a value for {attribute}, which weights the headline ranking: "
            + _population_fix(config, [attribute])
        )
    else:
        msg = (
            f"no participant has a value for {attribute}, so its group pages will be empty: "
            f"fill the {attribute} column of {config.data.participants}, or remove the slice "
            "from leaderboard.toml"
        )
    return Problem(file, line, column, "population", msg, severity="warning")


def _population_fix(config: Config, attributes: list[str]) -> str:
    names = " and ".join(attributes)
    drop = (
        f"drop {names} from rating.stratify_by"
        if config.rating.stratify_by
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
