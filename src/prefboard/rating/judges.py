"""Automated judges, rated apart from the humans: each judge's pooled table per dimension (the
same batch posterior as the humans' tables), the item-level evidence its agreement with the
humans is computed from, and the humans' own reference (items with 2+ votes, split halves).

An item is the thing judged: the `prompt_id` and the unordered model pair when the battle names
a prompt; otherwise the `battle_id` and the pair (a judge re-judging a human battle keeps its
battle id). Outcomes are oriented to the pair in [[models]] order, so a vote for the same answer
shown on the other side still agrees.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from prefboard.config import Config
from prefboard.ingest.ledger import Ledger
from prefboard.ingest.validate import Ingested
from prefboard.rating import tables
from prefboard.rating.fits import fit_dimension
from prefboard.rating.inputs import dimension_of, distinct, prepare
from prefboard.rating.tournaments import run_tournaments, z_score
from prefboard.standings.judges import (
    HumanReference,
    JudgeBoard,
    JudgeDimension,
    SideCounts,
    Verdicts,
)
from prefboard.standings.model import POOLED, Table

HALF = "half"  # slice_attribute of the split-half tables


def solo_config(config: Config) -> Config:
    """The config a judge (or a half of the humans) is rated under: no groups, no strata, one
    pass in timestamp order (the order spread is a human-table diagnostic)."""
    rating = config.rating.model_copy(
        update={"stratify_by": [], "joint_population": [], "permutations": 0}
    )
    return config.model_copy(update={"slices": [], "rating": rating})


def pooled_tables(config: Config, battles: pd.DataFrame, participants: pd.DataFrame) -> list[Table]:
    """The pooled table of every battle dimension answered in `battles`, fitted as the humans'
    pooled tables are (clustered batch posterior; `config` from `solo_config`)."""
    data = Ingested(participants, battles, battles.iloc[:0], Ledger(), [])
    inputs = prepare(config, data)
    z = z_score(config.rating.interval)
    out = []
    for d in config.battle_dimensions:
        if not (battles[d.key] >= 0).any():
            continue
        dim = dimension_of(config, inputs, d.key)
        fit = fit_dimension(config, inputs, dim)
        pooled = run_tournaments(len(config.model_keys), inputs.a, inputs.b, [dim.run])[0][0]
        pc = fit.counts[(POOLED, POOLED)]
        parts = tables.graph_components(len(config.model_keys), pc.i, pc.j)
        n_part = distinct(inputs.people, inputs.n_people, pooled.spec.battles)
        post = tables.moments(fit.posteriors[(POOLED, POOLED)])
        out.append(tables.table_of(config, pooled, post, z, n_part, parts, inputs.clustering))
    return out


def judge_boards(config: Config, data: Ingested) -> tuple[list[JudgeBoard], list[HumanReference]]:
    """Every judge's standings and evidence, and the humans' reference (only when the config
    declares a judge: the split halves cost two more fits per dimension)."""
    if not config.judges:
        return [], []
    solo = solo_config(config)
    nobody = data.participants.iloc[:0]
    dims = [d.key for d in config.battle_dimensions]
    # The humans' votes per item, counted once per dimension for every judge and the reference.
    human = {k: _item_counts(_oriented(data.battles, k)) for k in dims}
    boards = []
    for src in config.judges:
        jb = data.judge_battles
        mine = jb.loc[jb["source"] == src.key].drop(columns="source").reset_index(drop=True)
        answered = [k for k in dims if len(mine) and (mine[k] >= 0).any()]
        boards.append(
            JudgeBoard(
                key=src.key,
                label=src.name,
                battles=len(mine),
                tables=pooled_tables(solo, mine, nobody) if len(mine) else [],
                dimensions=[_judged(human[k], mine, k) for k in answered],
            )
        )
    return boards, _reference(config, solo, data, human)


def _reference(
    config: Config, solo: Config, data: Ingested, human: dict[str, pd.DataFrame]
) -> list[HumanReference]:
    """Per dimension: human items with 2+ votes, human verdicts by side, split-half tables."""
    split = _halves(config.rating.seed, data.battles["participant_id"])
    rated: list[Table] = []
    for h in (0, 1):
        half = data.battles.loc[split == h].reset_index(drop=True)
        for t in pooled_tables(solo, half, data.participants) if len(half) else []:
            rated.append(t.model_copy(update={"slice_attribute": HALF, "slice_value": str(h + 1)}))
    out = []
    for k, counts in human.items():
        many = counts.loc[counts.sum(axis=1) >= 2]
        items = _patterns(many.set_axis(["lo", "hi", "tie"], axis=1))
        pair = [t for t in rated if t.dimension == k]
        halves_k = pair if len(pair) == 2 else []
        out.append(
            HumanReference(dimension=k, items=items, sides=_sides(data.battles, k), halves=halves_k)
        )
    return out


def _halves(seed: int, participants: pd.Series) -> np.ndarray:
    """0 or 1 per battle: its participant's half, from a seeded hash of the participant id (so
    every vote of one person falls in the same half, and the split is stable across builds)."""
    ids = participants.unique()
    half = {p: hashlib.sha256(f"{seed}:{p}".encode()).digest()[0] & 1 for p in ids}
    return participants.map(half).to_numpy(np.int64)


def _judged(counts: pd.DataFrame, judge: pd.DataFrame, key: str) -> JudgeDimension:
    """Each judge verdict on an item the humans voted on (`counts`: the humans' votes per
    item), beside the humans' votes there."""
    mine = _oriented(judge, key)
    # positions, not labels: .loc on a million-row object index is most of a build's time
    at = counts.index.get_indexer(pd.Index(mine["item"]))
    kept = at >= 0
    c = pd.DataFrame(counts.to_numpy()[at[kept]], columns=["lo", "hi", "tie"])
    judged = _patterns(c.assign(verdict=mine["out"].to_numpy()[kept]))
    return JudgeDimension(dimension=key, judged=judged, sides=_sides(judge, key))


def _oriented(battles: pd.DataFrame, key: str) -> pd.DataFrame:
    """Item id and outcome (0 lo preferred, 1 hi, 2 tie) of every battle that asked `key`."""
    b = battles.loc[battles[key] >= 0]
    a, bb = b["model_a"].to_numpy(np.int64), b["model_b"].to_numpy(np.int64)
    out = b[key].to_numpy(np.int64)
    flipped = (a > bb) & (out < 2)
    out = np.where(flipped, 1 - out, out)
    prompt = b["prompt_id"].astype(str)
    unit = np.where(prompt != "", "p:" + prompt, "b:" + b["battle_id"].astype(str))
    pair = np.char.add(
        np.minimum(a, bb).astype(str), np.char.add("-", np.maximum(a, bb).astype(str))
    )
    item = pd.Series(unit, dtype=object) + "|" + pd.Series(pair, dtype=object)
    return pd.DataFrame({"item": item.to_numpy(), "out": out})


def _item_counts(votes: pd.DataFrame) -> pd.DataFrame:
    """Votes per item for lo (column 0), hi (1) and tie (2), items sorted."""
    # factorize + bincount, not pd.crosstab: the same sorted table, ~30x faster on 1M votes
    codes, items = pd.factorize(votes["item"], sort=True)
    out = votes["out"].to_numpy(np.int64)
    flat = np.bincount(codes * 3 + out, minlength=3 * len(items))
    counts = pd.DataFrame(
        flat.reshape(-1, 3), index=pd.Index(items, name="item"), columns=[0, 1, 2]
    )
    counts.columns.name = "out"
    return counts


def _sides(battles: pd.DataFrame, key: str) -> SideCounts:
    n = np.bincount(battles[key].to_numpy(np.int64)[battles[key].to_numpy() >= 0], minlength=3)
    return SideCounts(a=int(n[0]), b=int(n[1]), tie=int(n[2]))


def _patterns(rows: pd.DataFrame) -> Verdicts:
    """Rows of (lo, hi, tie[, verdict]) as their distinct patterns with counts, sorted: the
    statistics need no more, and standings.json stays small however many items there are."""
    if not len(rows):
        return Verdicts()
    groups = rows.groupby(list(rows.columns), sort=True).size()
    cols = {name: _ints(groups.index.get_level_values(name).to_series()) for name in rows.columns}
    return Verdicts(**cols, count=_ints(groups))


def _ints(values: pd.Series) -> list[int]:
    return [int(v) for v in values.to_numpy()]
