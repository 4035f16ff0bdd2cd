"""The simulated participants: a deliberately skewed sample of slice values, and strikes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from prefboard.config import Config, Slice
from prefboard.tools.simulate.spec import (
    SKEW,
    STREAM_PARTICIPANTS,
    STRUCK_SHARE,
    UNIFORMISH_CONCENTRATION,
    WARNED_SHARE,
    SimulationSpec,
    rng_for,
)
from prefboard.tools.simulate.truth import Truth, centring_weights, spec_truth

# Which parties belong to which country, used to keep participants coherent when a board
# declares both attributes. Anything not listed is handled generically.
PARTIES_BY_COUNTRY: dict[str, tuple[str, ...]] = {
    "US": ("Democrat", "Republican", "Independent"),
    "UK": ("Labour", "Conservative", "Other"),
    "GB": ("Labour", "Conservative", "Other"),
}


def _skewed_shares(sl: Slice, rng: np.random.Generator) -> np.ndarray:
    """Sample shares that deliberately differ from the population.

    Declared values are tilted towards the first listed (for the example board: the youngest
    age group, the largest ethnic group, the largest country), as online samples are.
    """
    k = len(sl.values)
    if not sl.population:
        return rng.dirichlet(np.full(k, UNIFORMISH_CONCENTRATION))
    pop = centring_weights(sl)
    tilt = np.exp(-SKEW * np.arange(k) / max(k - 1, 1))
    shares = pop * tilt
    return shares / shares.sum() if shares.sum() > 0 else np.full(k, 1.0 / k)


def _coherence(config: Config) -> tuple[int, int, np.ndarray] | None:
    """(country slice, politics slice, allowed[country value, party value]) or None."""
    idx = {sl.attribute: n for n, sl in enumerate(config.participant_slices)}
    c = idx.get("country")
    p = next(
        (n for n, sl in enumerate(config.participant_slices) if "politic" in sl.attribute), None
    )
    if c is None or p is None:
        return None
    countries, parties = config.participant_slices[c].values, config.participant_slices[p].values
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
    codes: list[np.ndarray] = [np.zeros(n, dtype=np.int64) for _ in config.participant_slices]
    shares = [_skewed_shares(sl, rng) for sl in config.participant_slices]
    coherent = _coherence(config)
    for s in range(len(config.participant_slices)):
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


@dataclass(frozen=True)
class Crowd:
    """The hidden truth and the simulated participants every table is drawn from."""

    truth: Truth
    codes: list[np.ndarray]  # per slice: each participant's value index
    strikes: np.ndarray
    pid: pa.Array  # participant ids
    low_effort: np.ndarray  # struck participants, who judge carelessly


def population(config: Config, spec: SimulationSpec) -> Crowd:
    """The hidden truth and the participants (slice codes, strikes, ids) of `spec.seed`."""
    truth = spec_truth(config, spec)
    prng = rng_for(spec.seed, STREAM_PARTICIPANTS)
    codes = _draw_participants(config, spec.participants, prng)
    strikes = _draw_strikes(config.quality.strike_limit, spec.participants, prng)
    pid = ids("p", spec.participants, id_width(spec.participants, 6))
    return Crowd(truth, codes, strikes, pid, strikes >= config.quality.strike_limit)


def ids(prefix: str, n: int, width: int) -> pa.Array:
    numbers = pc.cast(pa.array(np.arange(1, n + 1, dtype=np.int64)), pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(numbers, width=width, padding="0"), "")


def id_width(n: int, minimum: int) -> int:
    return max(minimum, len(str(n)))
