"""Building blocks for hand-made Standings in tests: the parts no test is about."""

from __future__ import annotations

from typing import Any

from prefboard.standings.model import Parameters, Provenance


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
