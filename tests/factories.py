"""Building blocks for hand-made Standings in tests: the parts no test is about.

`entry`, `table` and `standings` fill every required field with a consistent default (band =
score ± z·sd, conservative = score − 3 sd, ranks as given); a test passes what it is about.
"""

from __future__ import annotations

from typing import Any

from prefboard.standings.model import (
    POOLED,
    DimensionInfo,
    Entry,
    ModelInfo,
    Parameters,
    Provenance,
    Standings,
    Table,
)


def parameters(**changes: Any) -> Parameters:
    """TrueSkill defaults (Herbrich et al. 2006) with a 95 % band; override what a test needs."""
    values: dict[str, Any] = {
        "mu": 25.0,
        "sigma": 25 / 3,
        "beta": 25 / 6,
        "tau": 25 / 300,
        "draw_probability": 0.1,
        "interval": 0.95,
        "z": 1.96,
        "permutations": 4,
        "seed": 1,
        "band": "sigma",
        "min_battles": 10,
        "stratify_by": [],
        "min_participants": 5,
    }
    return Parameters(**(values | changes))


def provenance(**changes: Any) -> Provenance:
    values: dict[str, Any] = {
        "prefboard_version": "0",
        "config_sha256": "0" * 64,
        "data_through": "2026-01-01T00:00:00Z",
        "files": [],
        "totals": {},
        "excluded": {},
    }
    return Provenance(**(values | changes))


def entry(
    model: str, score: float, rank: int = 1, *, sd: float = 1.0, z: float = 2.0, **changes: Any
) -> Entry:
    """One model in a table: the online and batch estimates agree (mu = score, sigma = sd), the
    band is score ± z·sd, the rank interval is the rank itself, battles split evenly."""
    battles = int(changes.pop("battles", 10))
    values: dict[str, Any] = {
        "model": model,
        "mu": score,
        "sigma": sd,
        "mu_mean": score,
        "mu_spread": 0.0,
        "lower": score - z * sd,
        "upper": score + z * sd,
        "conservative": score - 3 * sd,
        "rank": rank,
        "rank_lower": rank,
        "rank_upper": rank,
        "battles": battles,
        "wins": battles // 2,
        "losses": battles - battles // 2,
        "ties": 0,
        "provisional": False,
        "score": score,
        "sd": sd,
    }
    return Entry(**(values | changes))


def table(
    entries: list[Entry],
    dimension: str = "overall",
    attribute: str = POOLED,
    value: str = POOLED,
    **changes: Any,
) -> Table:
    """A ranking; by default pooled, with each battle counted once (half the entries' sum)."""
    values: dict[str, Any] = {
        "dimension": dimension,
        "slice_attribute": attribute,
        "slice_value": value,
        "battles": sum(e.battles for e in entries) // 2,
        "participants": 10,
        "entries": entries,
    }
    return Table(**(values | changes))


def dimension(key: str, label: str = "", **changes: Any) -> DimensionInfo:
    values: dict[str, Any] = {
        "key": key,
        "label": label or key.capitalize(),
        "battles": True,
        "likert": False,
        "scale_min": 1,
        "scale_max": 7,
    }
    return DimensionInfo(**(values | changes))


def standings(tables: list[Table], **changes: Any) -> Standings:
    """A whole Standings around `tables`: its models (display name = key) and dimensions come
    from the tables unless given; every other list is empty."""
    keys = sorted({e.model for t in tables for e in t.entries})
    dims = list(dict.fromkeys(t.dimension for t in tables))
    values: dict[str, Any] = {
        "title": "Test board",
        "description": "",
        "synthetic": True,
        "version": "1",
        "provenance": provenance(),
        "parameters": parameters(),
        "models": [ModelInfo(key=k, name=k) for k in keys],
        "dimensions": [dimension(d) for d in dims],
        "slices": [],
        "tables": tables,
        "pairs": [],
        "history": [],
        "likert": [],
        "agreement": [],
        "samples": [],
        "order_sensitivity": [],
    }
    return Standings(**(values | changes))
