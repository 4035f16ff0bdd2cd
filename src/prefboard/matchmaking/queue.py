"""The queue of next battles: pairs by mutual information on the batch posterior, plus a seeded
share of random pairs, with the reason for each in words.

Why a random share: in prefboard's planning study (``benchmarks/bench_matchmaking.py``) pure
neighbour-seeking pairing biased the estimates outward (top ranks too high, bottom too low);
mixing in uniform random pairs kept the bands calibrated. ``DEFAULT_EXPLORE`` is the share the
benchmark chose.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from prefboard.matchmaking import batches, goal
from prefboard.matchmaking import information as info
from prefboard.matchmaking.groups import groups_in_need
from prefboard.matchmaking.posterior import TablePosterior, table_posterior
from prefboard.matchmaking.stopping import separation_z
from prefboard.matchmaking.tables import PairKey, pair_counts, pair_key, select_tables
from prefboard.rating import ranks
from prefboard.rating.trueskill import TrueSkillParams
from prefboard.render.escape import printable
from prefboard.standings.model import POOLED, PlannedBattle, Standings, Table, safe_cell

__all__ = [
    "BOARD_SHARE",
    "DEFAULT_EXPLORE",
    "PLAN_COLUMNS",
    "Candidate",
    "plan",
    "plan_csv",
    "plan_table",
    "reason",
]

QUEUE_MEASURES = ("goal", *info.MEASURES)

#: Share of each queue given to uniformly random pairs (chosen by bench_matchmaking.py).
DEFAULT_EXPLORE = 0.5
#: Share of each queue aimed at the order of the whole board (every adjacent pair) while the
#: goal's pairs are still open: without it, the goal's picks left the rest of the board ordered
#: worse than random pairs would at the same battles (bench_matchmaking.py, Kendall tau).
BOARD_SHARE = 0.25


#: One pair worth a battle (the standings' model of a queue row).
Candidate = PlannedBattle


def _separated_at(standings: Standings) -> float:
    """One-sided probability at which a difference counts as settled: 0.975 for a 95 % band."""
    return 1.0 - 0.5 * (1.0 - standings.parameters.interval)


def reason(rank_a: int, rank_b: int, p_above: float, settled: float) -> str:
    """Why the pair matters, in a study lead's words; ``p_above`` = P(rank_a above rank_b)."""
    hi, lo, p = (rank_a, rank_b, p_above) if rank_a < rank_b else (rank_b, rank_a, 1 - p_above)
    if p < settled and p > 1.0 - settled:
        text = f"ranks {hi} and {lo} not yet separated: P({hi} above {lo}) = {p:.2f}"
        return text + ("; decides rank 1" if hi == 1 else "")
    return f"ranks {hi} and {lo} already separated: P({hi} above {lo}) = {p:.3f}"


@dataclass(frozen=True)
class _Context:
    """What every row of one table's queue is explained with."""

    standings: Standings
    dimension: str
    table: Table
    post: TablePosterior
    targets: batches.Targets | None
    short: bool
    counts: dict[PairKey, int]


def _table_queue(
    standings: Standings,
    dimension: str,
    table: Table,
    n: int,
    explore: float,
    measure: str,
    short: set[tuple[str, str]],
    board: float = 0.0,
) -> list[Candidate]:
    post: TablePosterior = table_posterior(standings, table)
    targets = _targets(standings, post) if measure == "goal" else None
    rng = np.random.default_rng(
        ranks.rank_seed(standings.parameters.seed, "plan", dimension, *_slice_key(table))
    )
    planned = batches.plan_batch(
        post.mean,
        post.cov,
        post.beta,
        post.eps,
        n,
        explore,
        rng,
        measure="order" if measure == "goal" else measure,
        distinct=True,
        targets=targets,
        board=board,
    )
    counts = _picked_counts(standings, dimension, table, post, planned)
    ctx = _Context(standings, dimension, table, post, targets, _slice_key(table) in short, counts)
    return _candidates(ctx, planned)


def _picked_counts(
    standings: Standings,
    dimension: str,
    table: Table,
    post: TablePosterior,
    planned: batches.Batch,
) -> dict[PairKey, int]:
    """Battles so far of the planned pairs (pooled tables only: slices have no pair list)."""
    if table.slice_attribute != POOLED:
        return {}
    pairs = info.PairSet.of(len(post.keys))
    picked = [(post.keys[int(pairs.i[k])], post.keys[int(pairs.j[k])]) for k in planned.picks]
    return pair_counts(standings, dimension, picked)


def _candidates(ctx: _Context, planned: batches.Batch) -> list[Candidate]:
    """The planned pairs as queue rows, with their predictions and the reason for each."""
    post, table = ctx.post, ctx.table
    pairs = info.PairSet.of(len(post.keys))
    m, v = info.difference_moments(post.mean, post.cov, pairs)
    p_a, p_b, p_t = info.outcome_probabilities(m, v, post.beta, post.eps)
    above = ranks.p_above(post.mean, post.cov, pairs.i, pairs.j)
    rank = {e.model: e.rank for e in table.entries}
    settled = _separated_at(ctx.standings)
    pooled = table.slice_attribute == POOLED
    out = []
    for k, gain, kind in zip(planned.picks, planned.infos, planned.kinds, strict=True):
        a, b = post.keys[int(pairs.i[k])], post.keys[int(pairs.j[k])]
        # standings list only the pairs that met: a pooled pair missing from them never did
        known = ctx.counts.get(pair_key(ctx.dimension, a, b), 0) if pooled else None
        why = reason(rank[a], rank[b], float(above[k]), settled)
        if ctx.targets is not None and kind != "random":
            # A board pick aims at every adjacent pair: name the one it helps most.
            aims = ctx.targets if kind == "goal" else batches.adjacent_pairs(post.mean)
            why = _goal_reason(post, pairs, k, aims, rank, settled) or why
        if known == 0:
            why += "; never compared"
        if ctx.short:
            why += f"; group {table.slice_value} under-sampled"
        if kind == "random":
            why = "random pair (exploration); " + why
        out.append(
            Candidate(
                dimension=ctx.dimension,
                slice_attribute=table.slice_attribute,
                slice_value=table.slice_value,
                model_a=a,
                model_b=b,
                gain=gain,
                p_a=float(p_a[k]),
                p_b=float(p_b[k]),
                p_tie=float(p_t[k]),
                battles=int(known or 0),
                reason=why,
                rank_a=rank[a],
                rank_b=rank[b],
                p_above=float(above[k]),
                explored=kind == "random",
            )
        )
    return out


def _targets(standings: Standings, post: TablePosterior) -> batches.Targets | None:
    """The goal's target pairs (adjacent ranks 1..k+1) when `[plan] goal = "top"` and some of
    them are not yet separated; None (plan on every pair's order) otherwise."""
    g = standings.plan_goal
    if g.goal != "top" or len(post.keys) < 2:
        return None
    hi, lo = batches.adjacent_pairs(post.mean, g.top_k)
    z = separation_z(1.0 - g.level, hi.size, g.looks)
    sd = np.sqrt(post.cov[hi, hi] + post.cov[lo, lo] - 2 * post.cov[hi, lo])
    if np.all((post.mean[hi] - post.mean[lo]) / sd >= z):
        return None
    return hi, lo


def _goal_reason(
    post: TablePosterior,
    pairs: info.PairSet,
    k: int,
    targets: batches.Targets,
    rank: dict[str, int],
    settled: float,
) -> str:
    """Which target pair the battle helps most, with that pair's P(above); "" when none."""
    hi, lo = targets
    gains = goal.target_gains(post.mean, post.cov, pairs, k, targets, post.beta, post.eps)
    t = int(np.argmax(gains))
    if gains[t] <= 0:
        return ""
    a, b = post.keys[int(hi[t])], post.keys[int(lo[t])]
    p = float(ranks.p_above(post.mean, post.cov, hi[t : t + 1], lo[t : t + 1])[0])
    own = {post.keys[int(pairs.i[k])], post.keys[int(pairs.j[k])]}
    text = reason(rank[a], rank[b], p, settled)
    if own == {a, b}:
        return text
    if not 1.0 - settled < p < settled:
        return ""  # the pair it helps most is settled already: the battle's own reason says so
    return "helps separate " + text.replace(" not yet separated", "")


def _slice_key(table: Table) -> tuple[str, str]:
    return table.slice_attribute, table.slice_value


def plan(
    standings: Standings,
    params: TrueSkillParams | None = None,
    dimension: str | None = None,
    slice_attribute: str = POOLED,
    slice_value: str = POOLED,
    n: int = 20,
    measure: str = "goal",
    explore: float = DEFAULT_EXPLORE,
    board: float = BOARD_SHARE,
) -> list[Candidate]:
    """The next ``n`` battles of a table (distinct pairs), planned as one batch on its batch
    posterior.

    Each pick is the pair of highest mutual information under the posterior updated by the
    picks before it (fantasy updates, :mod:`.information`), or with probability ``explore`` a
    uniformly random pair, or with probability ``board`` (of what ``explore`` leaves) a pair
    aimed at the order of the whole board while the goal's pairs are open; the random stream
    is seeded by the standings' seed and the table, so the queue is deterministic.
    ``dimension=None`` plans every battle dimension (each gets its own batch of ``n``; the
    queues are interleaved and cut at ``n``). ``measure``:
    "goal" (the default: information about the order of the `[plan]` goal's target pairs,
    through the covariance; "order" once they are separated or for other goals), "order"
    (about which model of each pair is ahead) or "skills" (about the skills themselves; it
    keeps valuing pairs whose order is settled); the online measures' names ("entropy",
    "variance") of earlier versions mean the default. ``params`` is
    accepted for backward compatibility and not used: the constants come from the standings.
    Raises ValueError for an unknown dimension, slice or measure.
    """
    del params
    if measure in ("entropy", "variance"):
        measure = "goal"
    if measure not in QUEUE_MEASURES:
        raise ValueError(f"measure must be one of {', '.join(QUEUE_MEASURES)}; got {measure!r}")
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    if not 0.0 <= explore <= 1.0:
        raise ValueError(f"explore must be between 0 and 1, got {explore}")
    tables = select_tables(standings, dimension, slice_attribute, slice_value)
    short = {(g.attribute, g.value) for g in groups_in_need(standings) if g.needed}
    queues = [
        _table_queue(standings, t.dimension, t.table, n, explore, measure, short, board)
        for t in tables
    ]
    merged: list[Candidate] = []
    for step in range(n):
        merged += [q[step] for q in queues if step < len(q)]
    return merged[:n]


PLAN_COLUMNS = [
    "dimension",
    "slice_attribute",
    "slice_value",
    "model_a",
    "model_b",
    "gain",
    "p_a",
    "p_b",
    "p_tie",
    "battles",
    "reason",
    # appended with planning on the batch posterior
    "rank_a",
    "rank_b",
    "p_above",
    "explored",
]


def plan_csv(cands: Sequence[Candidate]) -> str:
    """The queue as CSV (one row per candidate, columns `PLAN_COLUMNS`, formula-safe cells)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(PLAN_COLUMNS)
    for c in cands:
        writer.writerow([safe_cell(getattr(c, col)) for col in PLAN_COLUMNS])
    return buf.getvalue()


def plan_table(cands: Sequence[Candidate]) -> str:
    """The queue as an aligned plain-text table for a terminal.

    Pair battle counts are only known for pooled tables; slice rows show ``-`` there.
    """
    if not cands:
        return "No candidate battles.\n"
    header = ["#", "dimension", "slice", "model A", "model B", "info", "P(A)", "P(B)", "P(tie)"]
    header += ["battles", "reason"]
    numeric = {0, 5, 6, 7, 8, 9}
    rows = [
        [
            str(i),
            c.dimension,
            # slice values come from participants.csv: shown, never obeyed, by the terminal
            POOLED
            if c.slice_attribute == POOLED
            else printable(f"{c.slice_attribute}={c.slice_value}"),
            c.model_a,
            c.model_b,
            f"{c.gain:.4f}",
            f"{c.p_a:.2f}",
            f"{c.p_b:.2f}",
            f"{c.p_tie:.2f}",
            str(c.battles) if c.slice_attribute == POOLED else "-",
            printable(c.reason),  # names a group from participants.csv
        ]
        for i, c in enumerate(cands, 1)
    ]
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]

    def line(cells: list[str]) -> str:
        out = [
            cell.rjust(widths[k]) if k in numeric else cell.ljust(widths[k])
            for k, cell in enumerate(cells)
        ]
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)]) + "\n"
