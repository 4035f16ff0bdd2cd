"""The rating stage's inputs: battles in canonical order as integer arrays, slice and cluster
codes, published groups, and per dimension its outcomes, tie model and tournaments."""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from prefboard.config import Config
from prefboard.config.sections import Slice
from prefboard.ingest.privacy import active_participants
from prefboard.ingest.validate import Ingested
from prefboard.jit import njit
from prefboard.rating import batch, strata
from prefboard.rating import trueskill as ts
from prefboard.rating.battle_slices import battle_codes, code_dtype, published_battle_values
from prefboard.rating.ties import tie_model, with_prompt_noise
from prefboard.rating.tournaments import Run, Spec
from prefboard.standings.model import POOLED, TieModel


def params_of(config: Config, draw_probability: float | None = None) -> ts.TrueSkillParams:
    """TrueSkill constants; the draw probability is the pinned one unless one is given (the
    learnt value of a dimension)."""
    r = config.rating
    p = draw_probability if draw_probability is not None else r.draw_probability
    return ts.TrueSkillParams(r.mu, r.sigma, r.beta, r.tau, 0.10 if p is None else p)


@dataclass(frozen=True)
class Inputs:
    """What every dimension shares: battles in canonical order and their integer codes."""

    battles: pd.DataFrame
    a: np.ndarray
    b: np.ndarray
    codes: dict[str, np.ndarray]
    active: pd.DataFrame
    published: dict[str, set[str]]
    people: np.ndarray
    n_people: int
    clusters: list[np.ndarray]
    clustering: str
    cells: strata.Cells
    # The tournaments' battle lists, shared by dimensions asked in the same battles.
    lists: BattleLists = field(default_factory=lambda: BattleLists(), compare=False, repr=False)


def prepare(config: Config, data: Ingested) -> Inputs:
    battles = canonical_order(data.battles)
    active = active_participants(data)
    # The participant column is hashed once: slices and clusters map its distinct ids
    # (thousands), then read per battle through these codes (no second pass over the strings).
    people, uniques = pd.factorize(battles["participant_id"])
    people = people.astype(index_dtype(len(people)))  # 4 bytes do: codes < battles
    clusters = cluster_codes(battles, people, uniques)
    codes = slice_codes(config, people, uniques, data.participants)
    codes |= battle_codes(config, battles)
    return Inputs(
        battles=battles,
        # the narrow codes every engine reads (a writable copy: pandas hands out read-only
        # views, which the compiled kernels would type, and compile, apart)
        a=battles["model_a"].to_numpy(ts.model_dtype(len(config.model_keys)), copy=True),
        b=battles["model_b"].to_numpy(ts.model_dtype(len(config.model_keys)), copy=True),
        codes=codes,
        active=active,
        published=published_values(config, active)
        | published_battle_values(config, battles, codes),
        people=people,
        n_people=len(uniques),
        clusters=clusters,
        clustering=clustering_name(clusters),
        cells=strata.target_cells(config, participant_codes(config, active)),
    )


@dataclass(frozen=True)
class Dimension:
    """One battle dimension's outcomes (``asked``: -1 = not asked), tie model and tournaments,
    and the config its batch fits use (beta widened for noise shared by votes on a prompt)."""

    key: str
    asked: np.ndarray
    outcome: np.ndarray
    arrays: batch.Battles
    ties: TieModel
    run: Run
    batch_config: Config

    @property
    def batch_params(self) -> ts.TrueSkillParams:
        """TrueSkill constants of the batch fits; the online passes keep ``run.params``."""
        return params_of(self.batch_config, self.ties.draw_probability)

    @property
    def pooled(self) -> np.ndarray:
        """Indices of the battles that asked this dimension (the pooled table)."""
        return self.run.specs[0].battles


def dimension_of(config: Config, inputs: Inputs, key: str) -> Dimension:
    asked = inputs.battles[key].to_numpy(np.int8)
    specs = specs_of(config, key, asked, inputs.codes, inputs.published, inputs.lists)
    # "Not asked" (-1) battles appear in no tournament's index list, but the engine checks
    # the whole outcome array, so they get a placeholder it accepts.
    outcome = np.where(asked < 0, 0, asked).astype(np.int8)
    arrays = batch.Battles.of(len(config.model_keys), inputs.a, inputs.b, outcome)
    ties = tie_model(config, key, arrays, specs[0].battles)
    seed = dimension_seed(config.rating.seed, key)
    # The online passes keep the configured beta: they must stay equal to `trueskill`.
    run = Run(outcome, specs, seed, params_of(config, ties.draw_probability))
    ties, batch_config = with_prompt_noise(config, ties, arrays, specs[0].battles, inputs.clusters)
    return Dimension(key, asked, outcome, arrays, ties, run, batch_config)


def distinct(people: np.ndarray, n_people: int, idx: np.ndarray) -> int:
    """Distinct participants among the battles `idx` (a mark array: no sort of strings),
    marked through `idx` in one compiled pass (no gathered copy: 33 MB at 10M battles)."""
    seen = np.zeros(n_people, dtype=np.bool_)
    _mark(people, np.ascontiguousarray(idx), seen)
    return int(seen.sum())


@njit(cache=True, nogil=True)
def _mark(people: np.ndarray, idx: np.ndarray, seen: np.ndarray) -> None:
    for k in range(idx.shape[0]):
        seen[people[idx[k]]] = True


def dimension_seed(seed: int, dimension: str) -> int:
    # A per-dimension seed, stable across Python runs (hash() is salted per process).
    digest = hashlib.sha256(f"{seed}:{dimension}".encode()).digest()
    return int.from_bytes(digest[:7], "little")


def canonical_order(battles: pd.DataFrame) -> pd.DataFrame:
    """Timestamp order, ties broken by battle_id, so every build replays the same sequence."""
    if _in_canonical_order(battles):
        return battles.reset_index(drop=True)
    return battles.sort_values(["timestamp", "battle_id"], kind="stable").reset_index(drop=True)


def _in_canonical_order(battles: pd.DataFrame) -> bool:
    """True when the rows already are in (timestamp, battle_id) order, as files written in time
    order are: then the string sort of a million battle ids (seconds) is skipped. Battle ids
    are unique, so the order is total and the shortcut cannot change it."""
    if len(battles) < 2:
        return True
    # Integer ticks since the epoch (timestamps are validated, never missing).
    ts = battles["timestamp"].astype("int64").to_numpy()
    step = np.diff(ts)
    if (step < 0).any():
        return False
    tied = np.flatnonzero(step == 0)
    # Compared in Arrow, not as Python strings (no object copy of the column): UTF-8 byte
    # order is code point order, which is Python's order of str.
    ids = pa.array(battles["battle_id"].array)
    before = pc.take(ids, tied)
    after = pc.take(ids, tied + 1)
    return bool(pc.all(pc.less(before, after)).as_py())


def slice_codes(
    config: Config, people: np.ndarray, uniques: pd.Index, participants: pd.DataFrame
) -> dict[str, np.ndarray]:
    """Per participant slice, the index of each battle's participant value (-1 when unknown);
    battle slices' codes come from the battles themselves (rating/battle_slices.py).
    ``people``/``uniques``: the battles' participant column factorized. Each distinct id is
    looked up once and the battles read its code: what looking up every battle's id gave."""
    where = participants.index.get_indexer(uniques)
    out = {}
    for s in config.participant_slices:
        value_codes = pd.Index(s.values).get_indexer(
            pd.Index(participants[s.attribute].astype(str))
        )
        per_person = np.where(where >= 0, value_codes[np.maximum(where, 0)], -1)
        out[s.attribute] = per_person.astype(code_dtype(len(s.values)))[people]
    return out


def published_values(config: Config, active: pd.DataFrame) -> dict[str, set[str]]:
    """Slice values with enough distinct participants to be shown on their own (privacy)."""
    out = {}
    for s in config.participant_slices:
        counts = active[s.attribute].value_counts()
        out[s.attribute] = {
            v for v in s.values if counts.get(v, 0) >= config.privacy.min_participants
        }
    return out


def specs_of(
    config: Config,
    dimension: str,
    outcome: np.ndarray,
    codes: dict[str, np.ndarray],
    published: dict[str, set[str]],
    shared: BattleLists | None = None,
) -> list[Spec]:
    """The pooled tournament and one per published group value. Their battle lists tile one
    flat buffer of narrow indices end to end (the replay then reads it without a copy:
    tournaments.run_tournaments), each in ascending battle order; ``shared``: the stage's
    lists, reused by dimensions asked in the same battles."""
    r = config.rating
    group_passes = r.permutations if r.permuted_tables == "all" else 0
    # The headline pools the groups (rating/group_tables.py) instead of combining per-group
    # tournaments, so only published groups need one: their counts and order diagnostics.
    shown = [
        (s, [i for i, v in enumerate(s.values) if v in published[s.attribute]])
        for s in config.slices
    ]
    asked = outcome >= 0
    if shared is None:
        flat, bounds = _battle_lists(asked, shown, codes)
    else:
        flat, bounds = shared.lists(asked, lambda: _battle_lists(asked, shown, codes))
    specs = [Spec(dimension, POOLED, POOLED, flat[bounds[0] : bounds[1]], r.permutations)]
    for s, values in shown:
        for i in values:
            k = len(specs)
            battles = flat[bounds[k] : bounds[k + 1]]
            specs.append(Spec(dimension, s.attribute, s.values[i], battles, group_passes))
    return specs


Shown = list[tuple[Slice, list[int]]]


def _battle_lists(
    asked: np.ndarray, shown: Shown, codes: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """The asked battles, then those of each shown value, in one flat buffer; and the
    bounds of each list in it (list k is ``flat[bounds[k]:bounds[k + 1]]``)."""
    sizes = [int(asked.sum())]
    for s, values in shown:
        c = codes[s.attribute]
        per_value = np.bincount(c[asked & (c >= 0)], minlength=len(s.values))
        sizes += [int(per_value[i]) for i in values]
    bounds = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    flat = np.empty(int(bounds[-1]), dtype=index_dtype(asked.size))
    _fill_asked(asked, flat)
    k = 1
    for s, values in shown:
        start = np.full(len(s.values), -1, dtype=np.int64)
        for i in values:
            start[i] = bounds[k]
            k += 1
        _fill_groups(asked, codes[s.attribute], start, flat)
    return flat, bounds


class BattleLists:
    """The tournaments' battle lists the stage has made, by the battles asked: dimensions
    asked in the same battles (every battle of a board that asks each question each time)
    read the same lists, which depend on nothing else. Made once, not once per dimension: at
    10M battles ~180 MB per dimension, three dimensions' worth alive at once on the fitting
    and replay threads. Held weakly: lists no dimension uses any more are freed, as before."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._made: list[tuple[np.ndarray, weakref.ref[np.ndarray], np.ndarray]] = []

    def lists(
        self, asked: np.ndarray, make: Callable[[], tuple[np.ndarray, np.ndarray]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """The lists (flat, bounds) of the battles ``asked``, from ``make`` when none are alive."""
        key = np.packbits(asked)  # the mask in n / 8 bytes, compared exactly
        with self._lock:  # a second dimension with the same mask waits rather than remakes
            self._made = [m for m in self._made if m[1]() is not None]
            for mask, ref, bounds in self._made:
                flat = ref()
                if flat is not None and mask.size == key.size and np.array_equal(mask, key):
                    return flat, bounds
            flat, bounds = make()
            self._made.append((key, weakref.ref(flat), bounds))
            return flat, bounds


@njit(cache=True, nogil=True)
def _fill_asked(asked: np.ndarray, flat: np.ndarray) -> None:
    """The asked battles' indices in ascending order at the start of ``flat``: what
    ``np.flatnonzero(asked)`` gives, written in place (no int64 copy of every battle)."""
    k = 0
    for i in range(asked.shape[0]):
        if asked[i]:
            flat[k] = i
            k += 1


@njit(cache=True, nogil=True)
def _fill_groups(asked: np.ndarray, code: np.ndarray, start: np.ndarray, flat: np.ndarray) -> None:
    """One pass over the battles: each asked battle whose value has a start (>= 0) is written
    at its value's cursor, so every group's list comes out in ascending battle order (what
    ``np.flatnonzero(asked & (code == i))`` gives, without a mask and an int64 copy per value)."""
    cursor = start.copy()
    for k in range(code.shape[0]):
        c = code[k]
        if asked[k] and 0 <= c < cursor.shape[0] and cursor[c] >= 0:
            flat[cursor[c]] = k
            cursor[c] += 1


def index_dtype(n_battles: int) -> type[np.signedinteger[Any]]:
    """Battle indices in 4 bytes while they fit (half the memory of the int64 default: the
    tournaments' lists are the stage's largest per-dimension arrays), else 8."""
    return np.int32 if n_battles <= np.iinfo(np.int32).max else np.int64


def cluster_codes(battles: pd.DataFrame, people: np.ndarray, uniques: pd.Index) -> list[np.ndarray]:
    """Cluster code per battle: participant, and prompt when any battle names one. A battle
    with no prompt_id is its own prompt cluster (nothing says it shares an item). Codes follow
    sorted ids, not first appearance, so the sandwich does not depend on the battle order.
    ``people``/``uniques``: the participant column factorized in order of appearance."""
    # Codes are below the number of battles: 4 bytes while that fits (index_dtype). Their
    # readers take any integer dtype (8.8M battles: 35 MB less per clustering, all stage long).
    narrow = index_dtype(len(battles))
    # A participant's sorted code is its id's rank among the distinct ids: sorting those
    # (thousands) gives the codes a sorted factorize of every battle's id gave.
    by_person = pd.factorize(uniques, sort=True)[0].astype(narrow)[people]
    prompts = battles.get("prompt_id")
    if prompts is None or not (prompts != "").any():
        return [by_person]
    codes, uniq = pd.factorize(prompts, sort=True)
    codes = codes.astype(narrow)
    # compared as the column it is: a Categorical by its categories (to_numpy made one object
    # per battle first, 0.93 -> 0.13 s at 8.8M battles)
    none = np.flatnonzero(np.asarray(prompts == "", dtype=bool))
    alone = pd.factorize(battles["battle_id"].to_numpy()[none], sort=True)[0]
    codes[none] = len(uniq) + alone
    return [by_person, codes]


def clustering_name(clusters: list[np.ndarray]) -> str:
    return "participant" if len(clusters) == 1 else "participant+prompt"


def participant_codes(config: Config, active: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per slice attribute, each active participant's value index (-1 when not given)."""
    return {
        s.attribute: pd.Index(s.values).get_indexer(pd.Index(active[s.attribute].astype(str)))
        for s in config.participant_slices
    }
