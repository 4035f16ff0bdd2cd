"""leaderboard.toml -> a typed, validated `Config`.

Every option is a pydantic field with a description and a default, so the config reference in the
README and on the methodology page is generated from this module rather than written twice.
Unknown keys are rejected with their dotted path, the line they sit on and the closest valid key.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from prefboard.errors import ConfigError, Problem, listed
from prefboard.io.paths import leaves_board, site_conflict

KEY_PATTERN = r"^[a-z0-9][a-z0-9_.\-]*$"
# Deep nesting is never legitimate in a leaderboard file and is how a "TOML bomb" hurts parsers.
MAX_CONFIG_BYTES = 1_000_000
MAX_NESTING = 8
# tomllib keeps a flag per prefix of a dotted key, so `[a.a.a.…]` with 100k parts takes minutes
# and gigabytes before the depth check could run; such keys are refused from the text first.
MAX_DOTTED_PARTS = 64
_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')"""
_DOTTED_RUN = re.compile(
    rf"(?:^|[{{,])[ \t]*\[{{0,2}}[ \t]*(?:{_KEY_PART}[ \t]*\.[ \t]*){{{MAX_DOTTED_PARTS}}}",
    re.MULTILINE,
)
# Stop locating validation errors after this many: each costs a scan of the file, and 30 000
# bad [[models]] blocks made that quadratic (minutes) for a message no one reads to the end.
MAX_CONFIG_PROBLEMS = 100
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

    @property
    def display(self) -> str:
        return self.name or self.key


class Slice(Section):
    attribute: str = Field(
        description="Participant column, e.g. age_group.", pattern=KEY_PATTERN, max_length=64
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


class Plan(Section):
    """What `prefboard plan` aims at and when a study may stop."""

    goal: str = Field(
        "top",
        description=(
            "`top`: separate the top `top_k` adjacent pairs by a test on their difference; "
            "`half_width`: every band's half-width at most `max_half_width`."
        ),
        pattern="^(top|half_width)$",
    )
    top_k: int = Field(5, description="Adjacent pairs at the top the goal separates.", ge=1, le=50)
    level: float = Field(
        0.95, description="Confidence of the goal's tests (before correction).", gt=0, lt=1
    )
    looks: int = Field(
        20,
        description=(
            "Planned checks of the goal (one per batch); the tests are Bonferroni-corrected "
            "over the `top_k` pairs and these looks."
        ),
        ge=1,
        le=10_000,
    )
    max_half_width: float | None = Field(
        None, description="Band half-width target of the `half_width` goal.", gt=0, le=1e6
    )
    batch: int = Field(100, description="Battles per planned batch.", ge=1, le=1_000_000)
    explore: float = Field(
        0.5,
        description="Share of each batch given to random pairs (keeps the bands calibrated).",
        ge=0,
        le=1,
    )
    group_half_width: float | None = Field(
        None,
        description="Band half-width each published group's own ranking should reach (quotas).",
        gt=0,
        le=1e6,
    )

    @model_validator(mode="after")
    def _half_width_needs_target(self) -> Plan:
        if self.goal == "half_width" and self.max_half_width is None:
            raise ValueError('goal = "half_width" needs max_half_width')
        return self


class Config(Section):
    leaderboard: Leaderboard = Field(default_factory=Leaderboard)
    rating: Rating = Field(default_factory=Rating)
    dimensions: list[Dimension] = Field(
        min_length=1, max_length=MAX_DIMENSIONS, description="What participants judged."
    )
    models: list[Model] = Field(
        min_length=2, max_length=MAX_MODELS, description="The models on the board."
    )
    slices: list[Slice] = Field(
        default_factory=list, max_length=MAX_SLICES, description="Demographic attributes."
    )
    quality: Quality = Field(default_factory=Quality)
    data: Data = Field(default_factory=Data)
    site: Site = Field(default_factory=Site)
    privacy: Privacy = Field(default_factory=Privacy)
    plan: Plan = Field(default_factory=Plan)

    @field_validator("dimensions", "models", "slices")
    @classmethod
    def _unique_keys(cls, items: list[Any]) -> list[Any]:
        keys = [getattr(i, "key", None) or getattr(i, "attribute", None) for i in items]
        # Counter, not keys.count: quadratic on a 60 000-model file
        dupes = sorted(k for k, n in Counter(keys).items() if n > 1)
        if dupes:
            raise ValueError(f"duplicate key(s): {listed(dupes)}")
        return items

    @field_validator("site")
    @classmethod
    def _site_apart_from_data(cls, site: Site, info: Any) -> Site:
        # `[site] output = "results"` would let one build delete every result file, and
        # `source = "results"` would publish participants' demographics. (A field validator,
        # after `data`, so that the problem points at the [site] table.)
        d = info.data.get("data")
        if d is None:
            return site
        data = [("data.participants", d.participants), ("data.benchmarks", d.benchmarks)]
        data += [("data.battles", g) for g in d.battles] + [("data.ratings", g) for g in d.ratings]
        for key, value in (("output", site.output), ("source", site.source)):
            why = site_conflict(value, data)
            if why:
                raise ValueError(f"site.{key} {value!r} {why}")
        return site

    @model_validator(mode="after")
    def _stratify(self) -> Config:
        attrs = {s.attribute: s for s in self.slices}
        joint = self.rating.joint_population
        for a in self.rating.stratify_by:
            if a not in attrs:
                raise ValueError(f"rating.stratify_by names unknown slice attribute {a!r}")
            if not attrs[a].population and not joint:
                raise ValueError(f"slice {a!r} is used in stratify_by but has no population")
        cells = math.prod(len(s.values) for s in self.strata)
        if cells > MAX_STRATA_CELLS:
            sizes = " x ".join(f"{s.attribute} ({len(s.values)})" for s in self.strata)
            raise ValueError(
                f"rating.stratify_by: {sizes} make {cells:,} joint cells (limit "
                f"{MAX_STRATA_CELLS:,}); stratify by fewer or coarser slices"
            )
        if joint:
            _check_joint(joint, [attrs[a] for a in self.rating.stratify_by])
        return self

    # Derived views, so downstream stages never re-derive them differently.
    @property
    def battle_dimensions(self) -> list[Dimension]:
        return [d for d in self.dimensions if d.battles]

    @property
    def likert_dimensions(self) -> list[Dimension]:
        return [d for d in self.dimensions if d.likert]

    @property
    def model_keys(self) -> list[str]:
        return [m.key for m in self.models]

    @property
    def strata(self) -> list[Slice]:
        """The slices the headline ranking is post-stratified over."""
        if self.rating.stratify_by:
            wanted = set(self.rating.stratify_by)
            return [s for s in self.slices if s.attribute in wanted]
        return [s for s in self.slices if s.population][:1]


def _check_joint(joint: list[JointShare], strata: list[Slice]) -> None:
    """Joint shares name every stratify_by attribute once, declared values, no cell twice, sum
    to 1, and agree with the marginal shares the slices give."""
    where = "rating.joint_population"
    if not strata:
        raise ValueError(f"{where}: set rating.stratify_by to the attributes of its cells")
    names = [s.attribute for s in strata]
    seen: dict[tuple[str, ...], int] = {}
    for i, row in enumerate(joint):
        if sorted(row.cell) != sorted(names):
            raise ValueError(
                f"{where}[{i}].cell: names {', '.join(sorted(row.cell)) or 'nothing'}; "
                f"expected exactly the stratify_by attributes: {', '.join(names)}"
            )
        for s in strata:
            if row.cell[s.attribute] not in s.values:
                raise ValueError(
                    f"{where}[{i}].cell: {s.attribute} = {row.cell[s.attribute]!r} is not a "
                    f"declared value (values: {', '.join(s.values)})"
                )
        key = tuple(row.cell[a] for a in names)
        if key in seen:
            raise ValueError(f"{where}[{i}].cell: the same cell as {where}[{seen[key]}]")
        seen[key] = i
    total = sum(row.share for row in joint)
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"{where}: shares sum to {total:.6g}, not 1")
    for s in strata:
        for v, share in s.population.items():
            joint_share = sum(r.share for r in joint if r.cell[s.attribute] == v)
            if abs(joint_share - share) > MARGINAL_TOLERANCE:
                raise ValueError(
                    f"{where}: {s.attribute} = {v!r} has joint share {joint_share:.6g} but "
                    f"population share {share:.6g} in its slice"
                )


def load_config(path: Path) -> Config:
    """Read and validate leaderboard.toml; raise ConfigError listing every problem."""
    text, problems = _read_text(path)
    if text is None:
        raise ConfigError(problems[0].format(), problems)
    bomb = _DOTTED_RUN.search(text)
    if bomb:
        line = text.count("\n", 0, bomb.start()) + 1
        msg = f"a dotted key with more than {MAX_DOTTED_PARTS} parts"
        p = Problem(path.name, line, 0, "toml-nesting", msg)
        raise ConfigError(p.format(), [p])
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, col = _toml_error_position(str(exc))
        p = Problem(path.name, line, col, "toml-syntax", str(exc).split(" (at")[0])
        raise ConfigError(p.format(), [p]) from None
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively: `[[[[…` a few thousand
        # deep raised RecursionError (a traceback) before the nesting check could say so.
        p = Problem(path.name, 0, 0, "toml-nesting", f"nesting depth > {MAX_NESTING}")
        raise ConfigError(p.format(), [p]) from None
    except ValueError as exc:
        # tomllib lets int() raise for a decimal integer of more than 4300 digits.
        big = re.search(r"[0-9_]{4000,}", text)
        line = text.count("\n", 0, big.start()) + 1 if big else 0
        p = Problem(path.name, line, 0, "toml-syntax", f"invalid value: {str(exc)[:120]}")
        raise ConfigError(p.format(), [p]) from None
    return parse_config(raw, text, path.name)


def parse_config(raw: dict[str, Any], text: str = "", filename: str = "leaderboard.toml") -> Config:
    depth = _depth(raw)
    if depth > MAX_NESTING:
        p = Problem(filename, 0, 0, "toml-nesting", f"nesting depth {depth} > {MAX_NESTING}")
        raise ConfigError(p.format(), [p])
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        problems = [_problem_from_error(e, text, filename) for e in errors[:MAX_CONFIG_PROBLEMS]]
        if len(errors) > MAX_CONFIG_PROBLEMS:
            more = f"{len(errors) - MAX_CONFIG_PROBLEMS} more problem(s) not shown"
            problems.append(Problem(filename, 0, 0, "invalid-value", more))
        raise ConfigError("\n".join(p.format() for p in problems), sorted(set(problems))) from None


def _read_text(path: Path) -> tuple[str | None, list[Problem]]:
    name = path.name
    if not path.is_file():
        return None, [Problem(str(path), 0, 0, "config-missing", "no such file")]
    size = path.stat().st_size
    if size > MAX_CONFIG_BYTES:
        return None, [
            Problem(name, 0, 0, "config-size", f"{size} bytes > limit {MAX_CONFIG_BYTES}")
        ]
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, [Problem(name, line, 0, "encoding", "file is not valid UTF-8")]


def _depth(value: Any) -> int:
    # Iterative so that a pathologically deep document cannot exhaust the recursion limit.
    best, stack = 0, [(value, 0)]
    while stack:
        item, d = stack.pop()
        best = max(best, d)
        if best > MAX_NESTING:
            return best
        if isinstance(item, dict):
            stack.extend((v, d + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, d + 1) for v in item)
    return best


def _toml_error_position(message: str) -> tuple[int, int]:
    m = re.search(r"line (\d+), column (\d+)", message)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def _problem_from_error(err: Any, text: str, filename: str) -> Problem:
    loc = [str(p) for p in err["loc"]]
    dotted = _dotted(loc)
    # A whole-config check names the key it is about first ("rating.stratify_by: ..."): point
    # at that key's line rather than at nothing.
    named = re.match(r"^(?:Value error, )?([a-z_]+(?:\.[a-z_]+)+)[: ]", err["msg"])
    line = locate_key(text, loc if loc or not named else named.group(1).split("."))
    if err["type"] == "extra_forbidden":
        parent = _model_at(loc[:-1])
        hint = ""
        if parent is not None:
            near = difflib.get_close_matches(loc[-1], list(parent.model_fields), n=1, cutoff=0.5)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            hint += f" (valid keys: {', '.join(parent.model_fields)})"
        return Problem(filename, line, 0, "unknown-key", f"{dotted}: unknown key{hint}")
    msg = err["msg"].removeprefix("Value error, ")
    if not loc:
        # Checks across sections raise from the top-level model (no location); their message
        # starts with the dotted key they are about, which gives the line.
        named = re.match(r"^([a-z_]+(?:\.[a-z_]+|\[\d+\])*):", msg)
        if named:
            line = locate_key(text, re.findall(r"[a-z_]+|\d+", named.group(1)))
    return Problem(filename, line, 0, "invalid-value", f"{dotted}: {msg}" if dotted else msg)


def _dotted(loc: list[str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


def _model_at(loc: list[str]) -> type[BaseModel] | None:
    model: type[BaseModel] = Config
    for part in loc:
        if part.isdigit():
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        ann = field.annotation
        inner = getattr(ann, "__args__", (ann,))
        nxt = next((a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if nxt is None:
            return None
        model = nxt
    return model


def locate_key(text: str, loc: list[str]) -> int:
    """The 1-based line of a key path in TOML text; 0 when it cannot be found.

    tomllib keeps no positions, so scan table headers and `key =` lines, counting array-of-table
    headers to find e.g. the third `[[models]]` block. A key that is missing altogether points at
    the header of the table that should hold it.
    """
    table: list[str] = []
    counts: dict[str, int] = {}
    fallback = 0
    for no, raw in enumerate(text.splitlines(), start=1):
        s = raw.strip()
        header = re.match(r"^\[\[\s*([^\]]+?)\s*\]\]", s) or re.match(r"^\[\s*([^\]]+?)\s*\]", s)
        if header:
            name = header.group(1).strip()
            if s.startswith("[["):
                counts[name] = counts.get(name, -1) + 1
                table = [*name.split("."), str(counts[name])]
            else:
                table = name.split(".")
            if table == loc[: len(table)]:
                fallback = no
                if len(table) == len(loc):
                    return no
            continue
        key = re.match(r'^"?([A-Za-z0-9_\-]+)"?\s*=', s)
        if key and [*table, key.group(1)] == loc[: len(table) + 1]:
            return no
    return fallback
