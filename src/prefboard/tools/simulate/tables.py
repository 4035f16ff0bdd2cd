"""The simulated battle and rating tables, as Arrow columns ready to be written as CSV."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from prefboard.config import Config
from prefboard.tools.simulate.people import Crowd, id_width, ids
from prefboard.tools.simulate.spec import (
    HALO,
    LIKERT_CENTRE,
    LIKERT_LENIENCY_SD,
    LIKERT_NOISE_SD,
    LIKERT_SLOPE,
    LOW_EFFORT_NOISE,
    MAX_TURNS,
    NOT_ASKED,
    RATINGS_PER_RATER,
    SHORT_SHARE,
    STREAM_BATCHES,
    STREAM_BATTLES,
    STREAM_PROMPTS,
    STREAM_RATINGS,
    SimulationSpec,
    rng_for,
)
from prefboard.tools.simulate.style import style_columns
from prefboard.tools.simulate.truth import Truth


def _times(n: int, start: int, days: float, rng: np.random.Generator) -> np.ndarray:
    """n non-decreasing epoch seconds over `days` from `start`.

    Normalised cumulative exponential gaps are the order statistics of uniform draws (arrivals
    of a Poisson process) without an O(n log n) sort.
    """
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    gaps = rng.exponential(1.0, n + 1)
    frac = np.cumsum(gaps[:-1]) / gaps.sum()
    seconds: np.ndarray = start + np.floor(frac * days * 86_400).astype(np.int64)
    return seconds


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
    truth: Truth, codes: list[np.ndarray], who: np.ndarray, a: np.ndarray, b: np.ndarray | None
) -> np.ndarray:
    """Sum over slices of the group effect of participant `who` on model a (minus model b)."""
    total = np.zeros(who.size)
    for g, c in zip(truth.groups, codes, strict=True):
        v = c[who]
        total += g[v, a]
        if b is not None:
            total -= g[v, b]
    return total


class _Pairings(NamedTuple):
    who: np.ndarray  # participant index per battle
    a: np.ndarray  # model indices
    b: np.ndarray
    prompt: np.ndarray  # prompt index per battle


def battle_table(
    config: Config,
    crowd: Crowd,
    spec: SimulationSpec,
    start: int,
    pairs: tuple[np.ndarray, np.ndarray] | None = None,
    batch: int = 0,
) -> pa.Table:
    """Battles between uniformly drawn pairs or, for a later `batch`, between the given
    (model_a, model_b) index `pairs` (one battle each) from a stream of its own."""
    rng = rng_for(spec.seed, STREAM_BATTLES if pairs is None else STREAM_BATCHES + batch)
    dims = [i for i, d in enumerate(config.dimensions) if d.battles]
    n = (spec.battles if pairs is None else len(pairs[0])) if dims else 0
    # The draws keep their order (pairings, turns, outcomes, times): the seeded board stays.
    drawn = _pairings(rng, n, len(config.models), spec, pairs)
    turns = _turns(rng, n, config.quality.min_turns)
    style = style_columns(config, spec, (drawn.a, drawn.b, drawn.prompt), crowd.truth.beta, batch)
    outcome, asked = _outcomes(rng, crowd, config, dims, drawn, spec, batch, style.gap)

    models = pa.array(config.model_keys)
    vocab = pa.array(["a", "b", "tie"])
    prefix = "b" if pairs is None else f"b{batch:03d}-"
    offset = round(batch * spec.days * 86_400)  # a later batch follows the earlier ones in time
    columns: dict[str, pa.Array] = {
        "battle_id": ids(prefix, n, id_width(n, 7)),
        "timestamp": _iso(_times(n, start + offset, spec.days, rng)),
        "participant_id": crowd.pid.take(pa.array(drawn.who)),
        "model_a": models.take(pa.array(drawn.a)),
        "model_b": models.take(pa.array(drawn.b)),
        "turns": pa.array(turns),
    }
    if spec.votes_per_prompt > 1:
        columns["prompt_id"] = ids(f"q{batch:03d}-" if batch else "q", n, id_width(n, 6)).take(
            pa.array(drawn.prompt)
        )
    for k, di in enumerate(dims):
        columns[config.dimensions[di].key] = vocab.take(pa.array(outcome[:, k], mask=~asked[:, k]))
    return pa.table(columns | style.columns)


def _pairings(
    rng: np.random.Generator,
    n: int,
    m: int,
    spec: SimulationSpec,
    pairs: tuple[np.ndarray, np.ndarray] | None,
) -> _Pairings:
    """Who judges which two of the `m` models, and on which prompt."""
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
    return _Pairings(who, a, b, prompt)


def _turns(rng: np.random.Generator, n: int, min_turns: int) -> np.ndarray:
    """Conversation lengths: a share shorter than `min_turns`, the rest decaying from it."""
    turns = np.empty(n, dtype=np.int64)
    lo = max(1, min_turns)
    hi = max(MAX_TURNS, lo)
    short = rng.random(n) < SHORT_SHARE if lo > 1 else np.zeros(n, dtype=bool)
    turns[short] = rng.integers(1, lo, int(short.sum()))
    # Longer conversations are rarer: geometric-looking decay over lo..hi.
    ok = np.arange(lo, hi + 1)
    w = np.exp(-0.25 * (ok - lo))
    turns[~short] = rng.choice(ok, size=int((~short).sum()), p=w / w.sum())
    return turns


def _outcomes(
    rng: np.random.Generator,
    crowd: Crowd,
    config: Config,
    dims: list[int],
    drawn: _Pairings,
    spec: SimulationSpec,
    batch: int,
    style_gap: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per battle and dimension: the outcome code (0 a, 1 b, 2 tie) and whether it was asked.
    Thurstone: performances differ by the skill gap plus noise; within the margin, a tie."""
    truth, who, a, b, n = crowd.truth, drawn.who, drawn.a, drawn.b, len(drawn.who)
    sk = truth.skill[:, dims]
    mean = sk[a] - sk[b] + _group_gap(truth, crowd.codes, who, a, b)[:, None]
    mean += _prompt_effects(spec, truth.beta, drawn.prompt, batch)[:, None]
    mean += style_gap[:, None]  # the answers' style, when [[covariates]] are declared
    scale = math.sqrt(2.0) * truth.beta * np.where(crowd.low_effort[who], LOW_EFFORT_NOISE, 1.0)
    halo = rng.standard_normal(n)[:, None]
    own = rng.standard_normal((n, len(dims)))
    perf = mean + scale[:, None] * (math.sqrt(HALO) * halo + math.sqrt(1.0 - HALO) * own)
    outcome = np.where(perf > truth.margin, 0, np.where(perf < -truth.margin, 1, 2)).astype(np.int8)
    asked = rng.random((n, len(dims))) >= NOT_ASKED
    # A battle with no dimension answered is invalid (rule no-answer): ask the first one. With
    # one battle dimension that would otherwise be 5 % of the rows.
    asked[~asked.any(axis=1), :1] = True
    return outcome, asked


def _prompt_effects(
    spec: SimulationSpec, beta: float, prompt: np.ndarray, batch: int
) -> np.ndarray:
    """Per battle, its prompt's effect on the performance gap: N(0, (prompt_sd * beta)^2)
    shared by every vote on the prompt (an answer that suits one prompt suits it for everyone).
    Drawn from a stream of its own so the default board is unchanged."""
    if spec.prompt_sd == 0 or prompt.size == 0:
        return np.zeros(prompt.size)
    rng = rng_for(spec.seed, STREAM_PROMPTS + batch)
    effects = rng.normal(0.0, spec.prompt_sd * beta, int(prompt.max()) + 1)
    per_battle: np.ndarray = effects[prompt]
    return per_battle


def rating_table(config: Config, crowd: Crowd, spec: SimulationSpec, start: int) -> pa.Table:
    truth, codes, low_effort, pid = crowd.truth, crowd.codes, crowd.low_effort, crowd.pid
    rng = rng_for(spec.seed, STREAM_RATINGS)
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
        "rating_id": ids("r", n, id_width(n, 7)),
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
