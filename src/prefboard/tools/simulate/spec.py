"""What a simulation is asked for (the spec), what it wrote, and the constants of its
generative model: spreads, shares and the separate random streams."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

# --- Generative constants -------------------------------------------------------------------
# Spreads are stated for the TrueSkill default beta (25/6) and scaled with the configured beta,
# so a board on another scale (say mu 1500, beta 200) gets an equally hard ranking problem.
DEFAULT_BETA = 25.0 / 6
BASE_SKILL_SD = 3.0  # between-model spread: a clear ranking, yet neighbours are near-ties
DIMENSION_SD = 1.0  # a model is not equally good at everything
GROUP_SD = 0.8  # how much one demographic group's taste departs from the population's
TIE_SHARE = 0.15  # share of tied judgements the margin is calibrated to
HALO = 0.5  # correlation of a battle's noise across dimensions (one impression colours all)
LOW_EFFORT_NOISE = 3.0  # struck participants judge with this many times the usual noise
SKEW = 1.2  # log-odds tilt from the first to the last declared value of a slice
UNIFORMISH_CONCENTRATION = 8.0  # Dirichlet concentration for slices with no population shares
STRUCK_SHARE = 0.05  # participants at or over the strike limit
WARNED_SHARE = 0.15  # participants with 1 .. limit-1 strikes
SHORT_SHARE = 0.07  # battles shorter than quality.min_turns
MAX_TURNS = 12
NOT_ASKED = 0.05  # share of empty dimension / Likert cells
RATINGS_PER_RATER = 3  # mean number of sessions a rater rates
# Likert answers: position of an average model on the scale (0 = min, 1 = max; people are
# lenient), and, in units of one sixth of the scale width, the effect of one between-model skill
# sd, the rater's leniency sd and the rater's noise sd.
LIKERT_CENTRE = 0.58
LIKERT_SLOPE = 0.8
LIKERT_LENIENCY_SD = 0.5
LIKERT_NOISE_SD = 1.0
# Separate random streams, so e.g. asking for more battles leaves participants and skills alone.
STREAM_TRUTH, STREAM_PARTICIPANTS, STREAM_BATTLES, STREAM_RATINGS = range(4)
STREAM_PROMPTS = 1_000  # + batch: prompt effects
STREAM_BATCHES = 2_000  # + batch: battles appended by `simulate_batch`


@dataclass(frozen=True)
class SimulationSpec:
    battles: int = 20_000
    ratings: int = 3_000
    participants: int = 1_500
    seed: int = 0
    start: str = "2026-09-01T00:00:00Z"  # first timestamp
    battle_files: int = 3  # battles split over several files, as contributors would submit them
    days: float = 60.0  # battles and ratings are spread over this many days from `start`
    # Conditions for calibration studies (benchmarks/bench_calibration.py); the defaults give
    # the example board.
    group_scale: float = 1.0  # multiplies GROUP_SD; 0 = every group shares the population's taste
    tie_share: float = TIE_SHARE  # share of tied judgements the tie margin is calibrated to
    votes_per_prompt: int = 1  # above 1: a `prompt_id` column, each prompt judged this many times
    prompt_sd: float = 0.0  # sd of a prompt's effect on the pair's performance gap, in beta units
    style_scale: float = 1.0  # multiplies the [[covariates]]' true effects; 0 = style is noise

    def __post_init__(self) -> None:
        for name in ("battles", "ratings", "participants", "seed"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, not {getattr(self, name)}")
        if self.battle_files < 1:
            raise ValueError(f"battle_files must be >= 1, not {self.battle_files}")
        if (self.battles or self.ratings) and self.participants < 1:
            raise ValueError("battles and ratings need at least one participant")
        if not (self.days > 0 and math.isfinite(self.days)):
            raise ValueError(f"days must be a positive number, not {self.days}")
        parse_start(self.start)  # fail early on a bad timestamp
        if not (self.group_scale >= 0 and math.isfinite(self.group_scale)):
            raise ValueError(f"group_scale must be >= 0, not {self.group_scale}")
        if not 0 < self.tie_share < 1:
            raise ValueError(f"tie_share must be between 0 and 1, not {self.tie_share}")
        if self.votes_per_prompt < 1:
            raise ValueError(f"votes_per_prompt must be >= 1, not {self.votes_per_prompt}")
        if not (self.style_scale >= 0 and math.isfinite(self.style_scale)):
            raise ValueError(f"style_scale must be >= 0, not {self.style_scale}")
        if not (self.prompt_sd >= 0 and math.isfinite(self.prompt_sd)):
            raise ValueError(f"prompt_sd must be >= 0, not {self.prompt_sd}")


@dataclass(frozen=True)
class SimulationResult:
    participants_path: Path
    battle_paths: list[Path]
    rating_paths: list[Path]
    skills_path: Path
    battles: int
    ratings: int
    participants: int


def rng_for(seed: int, stream: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(stream,))))


def parse_start(text: str) -> int:
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"start must be an ISO 8601 timestamp, not {text!r}") from None
    if dt.tzinfo is None:  # a zone-less start is read as UTC, which is what we write
        dt = dt.replace(tzinfo=UTC)
    return math.floor(dt.timestamp())
