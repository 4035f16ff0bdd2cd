"""`prefboard simulate`: a synthetic but realistic results folder drawn from hidden skills.

The point of simulating is calibration: because the truth is known (and written beside the data
as `hidden_skills.json`), the rest of the pipeline can be checked against it. So the generative
model is deliberately close to what the rating stage assumes, with the realistic wrinkles that
make the later stages earn their keep:

* Thurstone/probit battles: each model performs at skill + group effects + N(0, beta^2) and a
  battle is a tie when the two performances are closer than a margin (TrueSkill's own model).
* Group effects per (demographic value, model), so rankings differ between groups.
* A skewed participant sample (young and first-listed values over-represented), so
  post-stratification to population shares matters.
* Short battles, struck participants who answer carelessly, unasked questions.

Everything is vectorised numpy/pyarrow and seeded, so a run is byte-for-byte reproducible.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from scipy.optimize import brentq
from scipy.special import ndtr

from prefboard.config import Config, Slice
from prefboard.io.files import ensure_folder, write_atomic

__all__ = ["SimulationResult", "SimulationSpec", "hidden_skills", "simulate", "simulate_batch"]

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
_TRUTH, _PARTICIPANTS, _BATTLES, _RATINGS = range(4)
_PROMPTS = 1_000  # + batch: prompt effects
_BATCHES = 2_000  # + batch: battles appended by `simulate_batch`

# Which parties belong to which country, used to keep participants coherent when a board
# declares both attributes. Anything not listed is handled generically.
PARTIES_BY_COUNTRY: dict[str, tuple[str, ...]] = {
    "US": ("Democrat", "Republican", "Independent"),
    "UK": ("Labour", "Conservative", "Other"),
    "GB": ("Labour", "Conservative", "Other"),
}


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
        _parse_start(self.start)  # fail early on a bad timestamp
        if not (self.group_scale >= 0 and math.isfinite(self.group_scale)):
            raise ValueError(f"group_scale must be >= 0, not {self.group_scale}")
        if not 0 < self.tie_share < 1:
            raise ValueError(f"tie_share must be between 0 and 1, not {self.tie_share}")
        if self.votes_per_prompt < 1:
            raise ValueError(f"votes_per_prompt must be >= 1, not {self.votes_per_prompt}")
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


@dataclass(frozen=True)
class _Truth:
    skill: np.ndarray  # (models, dimensions) population-level mean performance
    base: np.ndarray  # (models,)
    groups: list[np.ndarray]  # per slice: (values, models) effects, population-weighted mean 0
    weights: list[np.ndarray]  # per slice: the weights the effects are centred with
    beta: float
    margin: float
    likert_centre: np.ndarray = field(repr=False)  # (dimensions,) mean skill across models
    likert_scale: np.ndarray = field(repr=False)  # (dimensions,) sd of skill across models


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(stream,))))


def _parse_start(text: str) -> int:
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"start must be an ISO 8601 timestamp, not {text!r}") from None
    if dt.tzinfo is None:  # a zone-less start is read as UTC, which is what we write
        dt = dt.replace(tzinfo=UTC)
    return math.floor(dt.timestamp())


# --- Hidden truth ---------------------------------------------------------------------------


def _centring_weights(sl: Slice) -> np.ndarray:
    if sl.population:
        return np.array([sl.population[v] for v in sl.values], dtype=float)
    return np.full(len(sl.values), 1.0 / len(sl.values))


def _truth(
    config: Config, seed: int, group_scale: float = 1.0, tie_share: float = TIE_SHARE
) -> _Truth:
    rng = _rng(seed, _TRUTH)
    m, d = len(config.models), len(config.dimensions)
    beta = config.rating.beta
    unit = beta / DEFAULT_BETA
    base = config.rating.mu + rng.normal(0.0, BASE_SKILL_SD * unit, m)
    skill = base[:, None] + rng.normal(0.0, DIMENSION_SD * unit, (m, d))
    groups, weights = [], []
    for sl in config.slices:
        g = rng.normal(0.0, GROUP_SD * unit, (len(sl.values), m)) * group_scale
        w = _centring_weights(sl)
        # Centre each model's effects on the population, so `skill` is what the whole population
        # (not our skewed sample) thinks: the target a post-stratified ranking should recover.
        g -= (w @ g) / w.sum()
        groups.append(g)
        weights.append(w)
    dims = [i for i, dim in enumerate(config.dimensions) if dim.battles] or list(range(d))
    margin = _tie_margin(skill[:, dims], groups, weights, beta, rng, tie_share)
    centre = skill.mean(axis=0)
    scale = skill.std(axis=0)
    scale = np.where(scale > 1e-12, scale, unit)
    return _Truth(skill, base, groups, weights, beta, margin, centre, scale)


def _tie_margin(
    skill: np.ndarray,
    groups: list[np.ndarray],
    weights: list[np.ndarray],
    beta: float,
    rng: np.random.Generator,
    tie_share: float = TIE_SHARE,
) -> float:
    """The margin at which `tie_share` of uniformly drawn battles end in a tie.

    The performance difference of a pair is normal with the skill gap as mean and, as variance,
    both models' noise plus the spread of the pair's group effects over the population; the tie
    share is the average probability mass within +-margin, solved for the margin.
    """
    m = skill.shape[0]
    if m <= 300:
        i, j = np.triu_indices(m, 1)
    else:  # for big boards a sample of pairs pins the average down just as well
        i = rng.integers(0, m, 50_000)
        j = (i + rng.integers(1, m, 50_000)) % m
    var = np.full(i.size, 2.0 * beta**2)
    for g, w in zip(groups, weights, strict=True):
        diff = g[:, i] - g[:, j]
        var += (w[:, None] * diff**2).sum(axis=0) / w.sum()
    mean = skill[i] - skill[j]  # (pairs, dims)
    sd = np.sqrt(var)[:, None]

    def excess(margin: float) -> float:
        inside = ndtr((margin - mean) / sd) - ndtr((-margin - mean) / sd)
        return float(inside.mean()) - tie_share

    hi = float(np.abs(mean).max() + 10.0 * sd.max())
    return float(brentq(excess, 0.0, hi, xtol=1e-10))


def hidden_skills(config: Config, seed: int, spec: SimulationSpec | None = None) -> dict[str, Any]:
    """The hidden truth behind `simulate(config, ..., SimulationSpec(seed=seed))`, as JSON data.

    `skills[model][dimension]` is the population-level mean performance (TrueSkill scale);
    `group_effects[attribute][value][model]` is added for a participant holding that value,
    centred so its population-weighted mean is 0. The same numbers drive the Likert answers.
    `spec` (its seed replaced by `seed`) supplies the study conditions (group scale, ties).
    """
    spec = SimulationSpec(seed=seed) if spec is None else spec
    return _truth_json(config, seed, _spec_truth(config, replace(spec, seed=seed)), spec)


def _spec_truth(config: Config, spec: SimulationSpec) -> _Truth:
    return _truth(config, spec.seed, spec.group_scale, spec.tie_share)


def _truth_json(config: Config, seed: int, t: _Truth, spec: SimulationSpec) -> dict[str, Any]:
    dims = [d.key for d in config.dimensions]
    models = config.model_keys

    def r(x: float) -> float:
        return round(float(x), 6)

    skills = {
        mk: {dk: r(t.skill[i, j]) for j, dk in enumerate(dims)} for i, mk in enumerate(models)
    }
    ranking = {
        dk: [models[i] for i in np.argsort(-t.skill[:, j], kind="stable")]
        for j, dk in enumerate(dims)
    }
    effects = {
        sl.attribute: {
            v: {mk: r(g[vi, mi]) for mi, mk in enumerate(models)} for vi, v in enumerate(sl.values)
        }
        for sl, g in zip(config.slices, t.groups, strict=True)
    }
    equal_draw = 2.0 * ndtr(t.margin / (math.sqrt(2.0) * t.beta)) - 1.0
    return {
        "seed": seed,
        "generator": "prefboard.tools.simulate",
        "beta": r(t.beta),
        "tie_margin": r(t.margin),
        "tie_share_target": spec.tie_share,
        # The TrueSkill draw_probability whose margin equals ours (for equally skilled models).
        "equivalent_draw_probability": r(equal_draw),
        "halo_correlation": HALO,
        "low_effort_noise_factor": LOW_EFFORT_NOISE,
        **_study_conditions(spec),
        "base_skill": {mk: r(t.base[i]) for i, mk in enumerate(models)},
        "skills": skills,
        "ranking": ranking,
        "group_effects": effects,
        "likert": {
            dk: {"centre": r(t.likert_centre[j]), "scale": r(t.likert_scale[j])}
            for j, dk in enumerate(dims)
        },
    }


def _study_conditions(spec: SimulationSpec) -> dict[str, Any]:
    """The non-default study conditions, so the example board's truth file stays as it was."""
    out: dict[str, Any] = {}
    if spec.group_scale != 1.0:
        out["group_scale"] = spec.group_scale
    if spec.votes_per_prompt > 1 or spec.prompt_sd > 0:
        out["votes_per_prompt"] = spec.votes_per_prompt
        out["prompt_sd_beta_units"] = spec.prompt_sd
    return out


# --- Participants ---------------------------------------------------------------------------


def _skewed_shares(sl: Slice, rng: np.random.Generator) -> np.ndarray:
    """Sample shares that deliberately differ from the population.

    Declared values are tilted towards the first listed (for the example board: the youngest
    age group, the largest ethnic group, the largest country), as online samples are.
    """
    k = len(sl.values)
    if not sl.population:
        return rng.dirichlet(np.full(k, UNIFORMISH_CONCENTRATION))
    pop = _centring_weights(sl)
    tilt = np.exp(-SKEW * np.arange(k) / max(k - 1, 1))
    shares = pop * tilt
    return shares / shares.sum() if shares.sum() > 0 else np.full(k, 1.0 / k)


def _coherence(config: Config) -> tuple[int, int, np.ndarray] | None:
    """(country slice, politics slice, allowed[country value, party value]) or None."""
    idx = {sl.attribute: n for n, sl in enumerate(config.slices)}
    c = idx.get("country")
    p = next((n for n, sl in enumerate(config.slices) if "politic" in sl.attribute), None)
    if c is None or p is None:
        return None
    countries, parties = config.slices[c].values, config.slices[p].values
    known = {cv: PARTIES_BY_COUNTRY[cv] for cv in countries if cv in PARTIES_BY_COUNTRY}
    tied = {pv for lst in known.values() for pv in lst}
    if not known or not tied & set(parties):
        return None
    allowed = np.zeros((len(countries), len(parties)), dtype=bool)
    for ci, cv in enumerate(countries):
        if cv in known:
            row = [pv in known[cv] for pv in parties]
        else:  # an unlisted country gets the parties no listed country claims
            row = [pv not in tied for pv in parties]
        allowed[ci] = row if any(row) else True
    return c, p, allowed


def _draw_participants(config: Config, n: int, rng: np.random.Generator) -> list[np.ndarray]:
    codes: list[np.ndarray] = [np.zeros(n, dtype=np.int64) for _ in config.slices]
    shares = [_skewed_shares(sl, rng) for sl in config.slices]
    coherent = _coherence(config)
    for s in range(len(config.slices)):
        if coherent is not None and s == coherent[1]:
            continue
        codes[s] = rng.choice(len(shares[s]), size=n, p=shares[s])
    if coherent is not None:
        c, p, allowed = coherent
        for ci in range(allowed.shape[0]):
            who = np.flatnonzero(codes[c] == ci)
            w = np.where(allowed[ci], shares[p], 0.0)
            w = w / w.sum() if w.sum() > 0 else allowed[ci] / allowed[ci].sum()
            codes[p][who] = rng.choice(len(w), size=who.size, p=w)
    return codes


def _draw_strikes(limit: int, n: int, rng: np.random.Generator) -> np.ndarray:
    u = rng.random(n)
    strikes = np.zeros(n, dtype=np.int64)
    struck = u < STRUCK_SHARE
    strikes[struck] = limit + (rng.random(int(struck.sum())) < 0.3)
    if limit > 1:
        warned = (u >= STRUCK_SHARE) & (u < STRUCK_SHARE + WARNED_SHARE)
        strikes[warned] = rng.integers(1, limit, int(warned.sum()))
    return strikes


# --- Columns --------------------------------------------------------------------------------


def _ids(prefix: str, n: int, width: int) -> pa.Array:
    numbers = pc.cast(pa.array(np.arange(1, n + 1, dtype=np.int64)), pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(numbers, width=width, padding="0"), "")


def _id_width(n: int, minimum: int) -> int:
    return max(minimum, len(str(n)))


def _times(n: int, start: int, days: float, rng: np.random.Generator) -> np.ndarray:
    """n non-decreasing epoch seconds over `days` from `start`.

    Normalised cumulative exponential gaps are the order statistics of uniform draws (arrivals
    of a Poisson process) without an O(n log n) sort.
    """
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    gaps = rng.exponential(1.0, n + 1)
    frac = np.cumsum(gaps[:-1]) / gaps.sum()
    return start + np.floor(frac * days * 86_400).astype(np.int64)


def _iso(seconds: np.ndarray) -> pa.Array:
    """ISO 8601 UTC strings with `Z`, built from two small lookup tables (hour and mm:ss)."""
    if seconds.size == 0:
        return pa.array([], pa.string())
    hours = seconds // 3600
    h0 = int(hours.min())
    prefixes = pa.array(
        [
            datetime.fromtimestamp(h * 3600, UTC).strftime("%Y-%m-%dT%H")
            for h in range(h0, int(hours.max()) + 1)
        ]
    )
    suffixes = pa.array([f":{s // 60:02d}:{s % 60:02d}Z" for s in range(3600)])
    return pc.binary_join_element_wise(
        prefixes.take(pa.array(hours - h0)), suffixes.take(pa.array(seconds % 3600)), ""
    )


def _group_gap(
    truth: _Truth, codes: list[np.ndarray], who: np.ndarray, a: np.ndarray, b: np.ndarray | None
) -> np.ndarray:
    """Sum over slices of the group effect of participant `who` on model a (minus model b)."""
    total = np.zeros(who.size)
    for g, c in zip(truth.groups, codes, strict=True):
        v = c[who]
        total += g[v, a]
        if b is not None:
            total -= g[v, b]
    return total


def _battle_table(
    config: Config,
    truth: _Truth,
    codes: list[np.ndarray],
    low_effort: np.ndarray,
    pid: pa.Array,
    spec: SimulationSpec,
    start: int,
    pairs: tuple[np.ndarray, np.ndarray] | None = None,
    batch: int = 0,
) -> pa.Table:
    """Battles between uniformly drawn pairs or, for a later `batch`, between the given
    (model_a, model_b) index `pairs` (one battle each) from a stream of its own."""
    rng = _rng(spec.seed, _BATTLES if pairs is None else _BATCHES + batch)
    dims = [i for i, d in enumerate(config.dimensions) if d.battles]
    n = (spec.battles if pairs is None else len(pairs[0])) if dims else 0
    m = len(config.models)
    p = spec.participants

    # Some people battle far more than others: gamma-distributed activity.
    activity = rng.gamma(0.6, 1.0, p) + 1e-9
    who = rng.choice(p, size=n, p=activity / activity.sum()) if p else np.zeros(0, np.int64)
    a = rng.integers(0, m, n)
    b = rng.integers(0, m - 1, n)
    b += b >= a  # uniform over the other models, so a != b without rejection
    if pairs is not None:
        a, b = pairs[0][:n].astype(np.int64), pairs[1][:n].astype(np.int64)
    prompt = np.arange(n) // spec.votes_per_prompt
    if spec.votes_per_prompt > 1:  # every vote on a prompt judges the same two answers
        first = prompt * spec.votes_per_prompt
        a, b = a[first], b[first]

    turns = np.empty(n, dtype=np.int64)
    lo = max(1, config.quality.min_turns)
    hi = max(MAX_TURNS, lo)
    short = rng.random(n) < SHORT_SHARE if lo > 1 else np.zeros(n, dtype=bool)
    turns[short] = rng.integers(1, lo, int(short.sum()))
    # Longer conversations are rarer: geometric-looking decay over lo..hi.
    ok = np.arange(lo, hi + 1)
    w = np.exp(-0.25 * (ok - lo))
    turns[~short] = rng.choice(ok, size=int((~short).sum()), p=w / w.sum())

    sk = truth.skill[:, dims]
    mean = sk[a] - sk[b] + _group_gap(truth, codes, who, a, b)[:, None]
    mean += _prompt_effects(spec, truth.beta, prompt, batch)[:, None]
    scale = math.sqrt(2.0) * truth.beta * np.where(low_effort[who], LOW_EFFORT_NOISE, 1.0)
    halo = rng.standard_normal(n)[:, None]
    own = rng.standard_normal((n, len(dims)))
    perf = mean + scale[:, None] * (math.sqrt(HALO) * halo + math.sqrt(1.0 - HALO) * own)
    outcome = np.where(perf > truth.margin, 0, np.where(perf < -truth.margin, 1, 2)).astype(np.int8)
    asked = rng.random((n, len(dims))) >= NOT_ASKED
    # A battle with no dimension answered is invalid (rule no-answer): ask the first one. With
    # one battle dimension that would otherwise be 5 % of the rows.
    asked[~asked.any(axis=1), :1] = True

    models = pa.array(config.model_keys)
    vocab = pa.array(["a", "b", "tie"])
    prefix = "b" if pairs is None else f"b{batch:03d}-"
    offset = round(batch * spec.days * 86_400)  # a later batch follows the earlier ones in time
    columns: dict[str, pa.Array] = {
        "battle_id": _ids(prefix, n, _id_width(n, 7)),
        "timestamp": _iso(_times(n, start + offset, spec.days, rng)),
        "participant_id": pid.take(pa.array(who)),
        "model_a": models.take(pa.array(a)),
        "model_b": models.take(pa.array(b)),
        "turns": pa.array(turns),
    }
    if spec.votes_per_prompt > 1:
        columns["prompt_id"] = _ids(f"q{batch:03d}-" if batch else "q", n, _id_width(n, 6)).take(
            pa.array(prompt)
        )
    for k, di in enumerate(dims):
        columns[config.dimensions[di].key] = vocab.take(pa.array(outcome[:, k], mask=~asked[:, k]))
    return pa.table(columns)


def _prompt_effects(
    spec: SimulationSpec, beta: float, prompt: np.ndarray, batch: int
) -> np.ndarray:
    """Per battle, its prompt's effect on the performance gap: N(0, (prompt_sd * beta)^2)
    shared by every vote on the prompt (an answer that suits one prompt suits it for everyone).
    Drawn from a stream of its own so the default board is unchanged."""
    if spec.prompt_sd == 0 or prompt.size == 0:
        return np.zeros(prompt.size)
    rng = _rng(spec.seed, _PROMPTS + batch)
    return rng.normal(0.0, spec.prompt_sd * beta, int(prompt.max()) + 1)[prompt]


def _rating_table(
    config: Config,
    truth: _Truth,
    codes: list[np.ndarray],
    low_effort: np.ndarray,
    pid: pa.Array,
    spec: SimulationSpec,
    start: int,
) -> pa.Table:
    rng = _rng(spec.seed, _RATINGS)
    dims = [i for i, d in enumerate(config.dimensions) if d.likert]
    n = spec.ratings if dims else 0
    m = len(config.models)
    p = spec.participants

    leniency = rng.normal(0.0, LIKERT_LENIENCY_SD, p)
    # Each rater rates a few sessions (1 + Poisson, at most one per model); raters are taken in
    # random order until the sessions add up, wrapping round only if participants run out.
    counts = np.minimum(1 + rng.poisson(RATINGS_PER_RATER - 1, p), m)
    raters = rng.permutation(p)
    if n and p:
        reps = -(-n // int(counts.sum()))
        counts, raters = np.tile(counts, reps), np.tile(raters, reps)
        used = int(np.searchsorted(np.cumsum(counts), n)) + 1
        counts, raters = counts[:used].copy(), raters[:used]
        counts[-1] -= int(counts.sum()) - n
    else:
        counts, raters = counts[:0], raters[:0]
    slot = np.repeat(np.arange(raters.size), counts)
    rank = np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts)
    # The k-th session of a rater rates the k-th model of a random cyclic order from a random
    # starting point, so nobody rates the same model twice; sessions interleave in time.
    cycle = rng.permutation(m)
    offset = rng.integers(0, m, raters.size)
    model = cycle[(offset[slot] + rank) % m]
    shuffle = rng.permutation(n)
    who, model = raters[slot][shuffle], model[shuffle]

    gap = _group_gap(truth, codes, who, model, None)
    noise_sd = LIKERT_NOISE_SD * np.where(low_effort[who], LOW_EFFORT_NOISE, 1.0)
    columns: dict[str, pa.Array] = {
        "rating_id": _ids("r", n, _id_width(n, 7)),
        "timestamp": _iso(_times(n, start, spec.days, rng)),
        "participant_id": pid.take(pa.array(who)),
        "model": pa.array(config.model_keys).take(pa.array(model)),
    }
    for di in dims:
        dim = config.dimensions[di]
        width = dim.scale_max - dim.scale_min
        z = (truth.skill[model, di] + gap - truth.likert_centre[di]) / truth.likert_scale[di]
        latent = LIKERT_SLOPE * z + leniency[who] + noise_sd * rng.standard_normal(n)
        answer = np.rint(dim.scale_min + width * LIKERT_CENTRE + width / 6.0 * latent)
        answer = np.clip(answer, dim.scale_min, dim.scale_max).astype(np.int64)
        columns[dim.key] = pa.array(answer, mask=rng.random(n) < NOT_ASKED)
    return pa.table(columns)


# --- Writing --------------------------------------------------------------------------------


def _write_csv(table: pa.Table, path: Path) -> None:
    # Every value in battle and rating tables is an id, a model key (key pattern), a timestamp,
    # a number or a/b/tie: none can need quoting, so write them bare, as contributors would.
    opts = pacsv.WriteOptions(quoting_style="none", quoting_header="none", batch_size=65_536)
    write_atomic(path, lambda fh: pacsv.write_csv(table, fh, opts))


def simulate(config: Config, out_dir: Path, spec: SimulationSpec) -> SimulationResult:
    """Write participants, battles, ratings and the hidden truth under `out_dir` (`results/`)."""
    out_dir = Path(out_dir)
    battle_dir, rating_dir = out_dir / "battles", out_dir / "ratings"
    # A symlinked results/ (or battles/) committed to the board would carry every write out.
    ensure_folder(out_dir)
    for folder in (battle_dir, rating_dir):
        ensure_folder(folder, out_dir)
    # A re-run with fewer files must not leave stale simulated files for ingest to pick up.
    for stale in [*battle_dir.glob("battles-*.csv"), *rating_dir.glob("ratings-*.csv")]:
        stale.unlink()

    truth, codes, strikes, pid = _population(config, spec)
    low_effort = strikes >= config.quality.strike_limit
    start = _parse_start(spec.start)
    p = spec.participants

    participants = pd.DataFrame({"participant_id": pid.to_numpy(zero_copy_only=False)})
    for sl, c in zip(config.slices, codes, strict=True):
        participants[sl.attribute] = np.asarray(sl.values, dtype=object)[c]
    participants["strikes"] = strikes
    participants_path = out_dir / "participants.csv"
    write_atomic(participants_path, participants.to_csv(index=False, lineterminator="\n"))

    battles = _battle_table(config, truth, codes, low_effort, pid, spec, start)
    files = max(1, min(spec.battle_files, battles.num_rows))
    digits = max(3, len(str(files)))
    bounds = np.linspace(0, battles.num_rows, files + 1).round().astype(int)
    battle_paths = []
    for k in range(files):
        path = battle_dir / f"battles-{k + 1:0{digits}d}.csv"
        _write_csv(battles.slice(bounds[k], bounds[k + 1] - bounds[k]), path)
        battle_paths.append(path)

    ratings = _rating_table(config, truth, codes, low_effort, pid, spec, start)
    rating_paths = []
    if config.likert_dimensions:
        path = rating_dir / "ratings-001.csv"
        _write_csv(ratings, path)
        rating_paths.append(path)

    skills_path = out_dir / "hidden_skills.json"
    write_atomic(
        skills_path,
        json.dumps(_truth_json(config, spec.seed, truth, spec), sort_keys=True, indent=2) + "\n",
    )

    return SimulationResult(
        participants_path=participants_path,
        battle_paths=battle_paths,
        rating_paths=rating_paths,
        skills_path=skills_path,
        battles=battles.num_rows,
        ratings=ratings.num_rows,
        participants=p,
    )


def _population(
    config: Config, spec: SimulationSpec
) -> tuple[_Truth, list[np.ndarray], np.ndarray, pa.Array]:
    """The hidden truth and the participants (slice codes, strikes, ids) of `spec.seed`."""
    truth = _spec_truth(config, spec)
    prng = _rng(spec.seed, _PARTICIPANTS)
    codes = _draw_participants(config, spec.participants, prng)
    strikes = _draw_strikes(config.quality.strike_limit, spec.participants, prng)
    return truth, codes, strikes, _ids("p", spec.participants, _id_width(spec.participants, 6))


def simulate_batch(
    config: Config,
    out_dir: Path,
    spec: SimulationSpec,
    pairs: list[tuple[str, str]],
    batch: int,
) -> Path:
    """Append one battle per (model_a, model_b) in `pairs` to the board `simulate(config,
    out_dir, spec)` wrote: same hidden truth and participants, outcomes drawn afresh, in a file
    `battles/battles-batch-NNN.csv` timed after the earlier battles. Lets a study run the
    battles `prefboard plan` asked for (batch >= 1)."""
    if batch < 1:
        raise ValueError(f"batch must be >= 1, not {batch}")
    index = {k: i for i, k in enumerate(config.model_keys)}
    a = np.array([index[x] for x, _ in pairs], dtype=np.int64)
    b = np.array([index[y] for _, y in pairs], dtype=np.int64)
    truth, codes, strikes, pid = _population(config, spec)
    low_effort = strikes >= config.quality.strike_limit
    start = _parse_start(spec.start)
    table = _battle_table(config, truth, codes, low_effort, pid, spec, start, (a, b), batch)
    path = Path(out_dir) / "battles" / f"battles-batch-{batch:03d}.csv"
    _write_csv(table, path)
    return path
