"""Small demographic groups can identify people: warn before they would be published.

The rating stage suppresses a slice value with fewer than `privacy.min_participants` distinct
participants; this check tells the contributor at validation time which values that will be.
"""

from __future__ import annotations

import pandas as pd

from prefboard.config import Config
from prefboard.errors import Problem
from prefboard.ingest import Ingested


def active_participants(data: Ingested) -> pd.DataFrame:
    """Participants with at least one accepted battle or rating: the sample the site describes,
    and the one the privacy threshold counts."""
    ids = pd.concat([data.battles["participant_id"], data.ratings["participant_id"]]).unique()
    return data.participants.loc[data.participants.index.isin(ids)]


def small_groups(config: Config, data: Ingested) -> list[Problem]:
    """A warning per slice value with some, but too few, participants in accepted rows."""
    active = active_participants(data)
    limit = config.privacy.min_participants
    problems = []
    for s in config.slices:
        counts = active[s.attribute].value_counts()
        for value in s.values:
            n = int(counts.get(value, 0))
            if 0 < n < limit:
                problems.append(
                    Problem(
                        config.data.participants,
                        0,
                        0,
                        "privacy",
                        f"{s.attribute}={value} has {n} participant(s), fewer than "
                        f"privacy.min_participants ({limit}): it will not be published on its own",
                        severity="warning",
                    )
                )
    return problems
