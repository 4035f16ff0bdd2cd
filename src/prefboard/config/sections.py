"""The sections of leaderboard.toml as pydantic models, and the limits on their values.

Every option is a pydantic field with a description and a default, so the config reference in the
README and on the methodology page is generated from these models rather than written twice.
`extra="forbid"` on every section makes a typo an unknown-key problem (`config.loader`).
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from prefboard.errors import listed
from prefboard.io.paths import leaves_board, site_conflict

KEY_PATTERN = r"^[a-z0-9][a-z0-9_.\-]*$"
# Counts bounded up front, so that a small file cannot ask for unbounded work later: the batch
# posterior keeps a models x models covariance, every dimension x slice value is a tournament,
# and post-stratification fits one tournament per joint cell of `stratify_by` (three slices of
# 100 values asked for a million and exhausted memory in `rate`).
MAX_MODELS = 1_000
MAX_DIMENSIONS = 50
MAX_SLICES = 20
MAX_SLICE_VALUES = 500
MAX_SLICE_VALUE_CHARS = 200
# Each joint cell with battles costs a Laplace fit and an n x n eigendecomposition per
# dimension in the pooled post-stratification.
MAX_STRATA_CELLS = 1_000
# Seeds go to numpy's SeedSequence, which refuses negative numbers (`rating.seed = -1` passed
# validation and crashed `rate`); 32 bits are plenty.
MAX_SEED = 2**32 - 1
# The ingest rules read Likert answers of at most three digits, strikes of at most six and
# turns up to 10,000: config bounds match, so every configured value can be met by data.
LIKERT_BOUND = 999
MAX_STRIKES = 999_999
MAX_TURNS = 10_000
MAX_COUNT = 1_000_000_000
# Joint shares and the marginal shares of [[slices]] may both be given, rounded: they must agree
# to this much.
MARGINAL_TOLERANCE = 1e-3


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Leaderboard(Section):
    title: str = Field("Human-preference leaderboard", description="Site title.", max_length=200)
    description: str = Field(
        "", description="One paragraph shown on the home page (plain text).", max_length=5000
    )
    url: str = Field("", description="Public URL of the published site.", max_length=500)
    repo_url: str = Field("", description="Repository that holds the data.", max_length=500)
    synthetic: bool = Field(
        False, description="The data are simulated: every page carries a banner saying so."
    )
    synthetic_timestamps: bool = Field(
        False,
        description="The battles' timestamps were made up on import (source order, one second "
        "apart): pages say the dates are not recorded instead of printing a made-up date.",
    )


class JointShare(Section):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    cell: dict[str, str] = Field(
        description="One value for each rating.stratify_by attribute.",
        examples=[{"age_group": "18-24", "country": "us"}],
    )
    share: float = Field(description="Share of the population in this cell.", ge=0, le=1)


class Rating(Section):
    # inf passes `gt=0`: sigma = inf would be accepted and turn every rating into NaN
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    mu: float = Field(25.0, description="TrueSkill prior mean of every model.", gt=-1e6, lt=1e6)
    # Bounded below too: sigma = beta = 1e-300 passed `gt=0`, then 2*beta^2 + sigma^2 underflowed
    # to 0 and the engine divided by it.
    sigma: float = Field(
        25.0 / 3, description="TrueSkill prior standard deviation.", ge=1e-3, le=1e6
    )
    beta: float = Field(
        25.0 / 6, description="Performance noise of a single battle.", ge=1e-3, le=1e6
    )
    # 0, not TrueSkill's 25/300: a published model version does not change, and with tau > 0
    # sigma never falls below ~0.8, so 95 % bands covered 99-100 % at every sample size in
    # benchmarks/bench_online_bands.py; with tau = 0 they covered 94.4-96.3 %.
    tau: float = Field(
        0.0,
        description=(
            "Dynamics added to sigma before every battle. 0 treats each model version as fixed "
            "(calibrated bands); TrueSkill's 25/300 suits skills that drift."
        ),
        ge=0,
        lt=1e3,
    )
    draw_probability: float | None = Field(
        None,
        description=(
            "Chance of a tie between two equally skilled models (not the share of ties in the "
            "data). Unset (the default): learnt per dimension from the data by maximum "
            "likelihood. Set it only to pin it (> 0: at 0 a tie would raise sigma); a warning "
            "says when the data's 95 % interval excludes the pinned value."
        ),
        gt=0,
        lt=1,
        examples=[0.1],
    )
    interval: float = Field(0.95, description="Coverage of the uncertainty band.", gt=0, lt=1)
    permutations: int = Field(
        20,
        description="Seeded random battle orders replayed per tournament (order sensitivity).",
        ge=0,
        le=1000,
    )
    # The batch posterior is the estimate; the shuffled orders only measure how much the classic
    # one-pass update depends on order. On the pooled tables that costs ~21 passes of each
    # dimension's battles; on every group table as well it was ~4x that (issue 18).
    permuted_tables: Literal["pooled", "all"] = Field(
        "pooled",
        description=(
            "Which tables get the `permutations` shuffled orders: `pooled` (each dimension's "
            "pooled table, whose order sensitivity the methodology page shows) or `all` (every "
            "group table too: about 5x the online-pass work with four attributes). Other tables "
            "are replayed in timestamp order only; their `mu_spread` is left empty."
        ),
        examples=["all"],
    )
    seed: int = Field(
        0, description="Seed of the permutations and of every Monte Carlo step.", ge=0, le=MAX_SEED
    )
    stratify_by: list[str] = Field(
        default_factory=list,
        description=(
            "Slice attributes whose population shares weight the headline ranking. Empty: the "
            "first slice that declares population shares."
        ),
        max_length=MAX_SLICES,
    )
    min_battles: int = Field(
        30,
        description="Below this many battles a model is marked provisional.",
        ge=0,
        le=MAX_COUNT,
    )
    joint_population: list[JointShare] = Field(
        default_factory=list,
        description=(
            "Joint population shares of the stratify_by cells, one `[[rating.joint_population]]` "
            'row each (`cell = { age_group = "18-24", country = "us" }`, `share = 0.04`); '
            "unlisted cells have share 0. Empty: raking to the slices' marginal shares."
        ),
    )


class Dimension(Section):
    key: str = Field(description="Column name in the CSVs.", pattern=KEY_PATTERN, max_length=64)
    label: str = Field("", description="Human name; defaults to the key.", max_length=100)
    description: str = Field("", description="What participants were asked.", max_length=2000)
    battles: bool = Field(True, description="Battles carry a column for this dimension.")
    likert: bool = Field(False, description="Ratings carry a Likert column for this dimension.")
    scale_min: int = Field(
        1, description="Lowest Likert answer.", ge=-LIKERT_BOUND, le=LIKERT_BOUND
    )
    scale_max: int = Field(
        7, description="Highest Likert answer.", ge=-LIKERT_BOUND, le=LIKERT_BOUND
    )

    @model_validator(mode="after")
    def _scale(self) -> Dimension:
        if self.scale_max <= self.scale_min:
            raise ValueError(f"scale_max ({self.scale_max}) must exceed scale_min")
        if not (self.battles or self.likert):
            raise ValueError("a dimension must be used by battles, Likert ratings or both")
        return self

    @property
    def name(self) -> str:
        return self.label or self.key


class Model(Section):
    key: str = Field(
        description="Identifier used in the CSVs.", pattern=KEY_PATTERN, max_length=100
    )
    name: str = Field("", description="Display name; defaults to the key.", max_length=200)
    organization: str = Field("", description="Who made it.", max_length=200)
    license: str = Field("", description="Licence of the weights or the service.", max_length=100)
    release_date: date | None = Field(None, description="Release date (YYYY-MM-DD).")
    url: str = Field("", description="Model card or homepage.", max_length=500)
    family: str = Field(
        "",
        description="The model this is a variant of (e.g. `atlas` for `atlas-preview-3`): the "
        "Disclosure page groups an organization's variants by it; empty = its own family.",
        max_length=100,
    )
    status: Literal["public", "private", "retired"] = Field(
        "public",
        description="`public` (released), `private` (tested but never made public) or `retired` "
        "(withdrawn). Rankings show public models by default, a switch shows all; the "
        "Disclosure page lists the private variants per organization.",
    )

    @property
    def display(self) -> str:
        return self.name or self.key


# Columns of a battle file that a battle-level slice cannot be named after (ingest's own).
RESERVED_BATTLE_COLUMNS = frozenset(
    {"battle_id", "timestamp", "participant_id", "model_a", "model_b", "turns", "prompt_id"}
)


class Slice(Section):
    attribute: str = Field(
        description="Participant column (age_group); battle column (category) if level = battle.",
        pattern=KEY_PATTERN,
        max_length=64,
    )
    level: Literal["participant", "battle"] = Field(
        "participant", description="participant: who voted; battle: what the battle was about."
    )
    label: str = Field("", description="Human name; defaults to the attribute.", max_length=100)
    values: list[str] = Field(
        description="Allowed values, in display order.", min_length=1, max_length=MAX_SLICE_VALUES
    )
    population: dict[str, float] = Field(
        default_factory=dict,
        description="Population share of each value (sums to 1) for post-stratification.",
    )

    @model_validator(mode="after")
    def _shares(self) -> Slice:
        dupes = sorted(v for v, n in Counter(self.values).items() if n > 1)
        if dupes:
            raise ValueError(f"values must be unique; repeated: {listed(dupes)}")
        long = [v for v in self.values if len(v) > MAX_SLICE_VALUE_CHARS]
        if long:
            raise ValueError(
                f"values longer than {MAX_SLICE_VALUE_CHARS} characters: {listed(long)}"
            )
        if self.level == "battle" and self.attribute in RESERVED_BATTLE_COLUMNS:
            raise ValueError(
                f"a battle-level slice cannot be named {self.attribute!r}: that battle column "
                "is prefboard's own"
            )
        if self.level == "battle" and self.population:
            # Post-stratification reweights people to a population; a battle attribute has
            # no population of people (rating.stratify_by names participant slices only).
            raise ValueError(
                "population is for participant-level slices (post-stratification); a "
                "battle-level slice has none"
            )
        unknown = sorted(set(self.population) - set(self.values))
        if unknown:
            raise ValueError(f"population names values not in `values`: {listed(unknown)}")
        if self.population:
            missing = [v for v in self.values if v not in self.population]
            if missing:
                raise ValueError(f"population share missing for: {listed(missing)}")
            if any(s < 0 or not math.isfinite(s) for s in self.population.values()):
                raise ValueError("population shares must be finite and >= 0")
            total = sum(self.population.values())
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"population shares sum to {total:.6g}, not 1")
        return self

    @property
    def name(self) -> str:
        return self.label or self.attribute


class Quality(Section):
    strike_limit: int = Field(
        3,
        description="Participants with this many strikes or more are excluded.",
        ge=1,
        le=MAX_STRIKES,
    )
    min_turns: int = Field(
        1, description="Battles with fewer turns are excluded.", ge=0, le=MAX_TURNS
    )


class Data(Section):
    participants: str = Field("results/participants.csv", description="Participants file.")
    battles: list[str] = Field(
        ["results/battles/*.csv"],
        description="Globs of battle files: CSV, or Parquet / JSON Lines (.parquet, .jsonl).",
    )
    ratings: list[str] = Field(["results/ratings/*.csv"], description="Globs of rating files.")
    benchmarks: str = Field("results/benchmarks.csv", description="Optional static benchmarks.")
    max_file_mb: float = Field(
        512, description="Files larger than this are refused (MB).", gt=0, le=100_000
    )

    @field_validator("benchmarks")
    @classmethod
    def _benchmarks_inside_board(cls, value: str) -> str:
        # Unlike the battle globs, this path is opened as given (root / "/etc/passwd" is
        # /etc/passwd) and its first line would come back in "unknown column" messages.
        if leaves_board(value):
            raise ValueError(f"{value!r} must be a relative path inside the board folder")
        return value


class Site(Section):
    output: str = Field(
        "site",
        description=(
            "Folder the built site is swapped into: inside the board, apart from the data, "
            "`.git` and `source`; replaced only if an earlier build marked it as its own."
        ),
    )
    source: str = Field(
        "site_src",
        description=(
            "Hand-written pages merged into the site (hidden files are skipped; symlinks are "
            "followed only within this folder)."
        ),
    )
    version: str = Field("dev", description="Data version shown in the footer.", max_length=50)

    @field_validator("output", "source")
    @classmethod
    def _inside_board(cls, value: str, info: Any) -> str:
        # The build moves the old `output` folder away and deletes it, and copies `source` into
        # the published site: "/home/runner", "../.." or "." (the board itself) must never get
        # there from a pull request's leaderboard.toml.
        if leaves_board(value):
            raise ValueError(f"{value!r} must be a relative path inside the board folder")
        return value

    @model_validator(mode="after")
    def _apart(self) -> Site:
        # The build replaces `output` wholesale; `source` is published. Neither may be the board,
        # `.git` (a token can sit in .git/config) or the other one.
        for key, value in (("output", self.output), ("source", self.source)):
            why = site_conflict(value, [])
            if why:
                raise ValueError(f"site.{key} {value!r} {why}")
        why = site_conflict(self.output, [("site.source", self.source)])
        if why:
            raise ValueError(f"site.output {self.output!r} {why}")
        return self


class Privacy(Section):
    min_participants: int = Field(
        30,
        description="Slice values with fewer distinct participants are not published.",
        ge=1,
        le=MAX_COUNT,
    )
