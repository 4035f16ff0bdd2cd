"""Validated tables -> `Standings`: every number the site shows, computed once.

The stage reads as its steps: prepare the battle arrays; per dimension, on one of two fitting
threads, learn the ties and list its tournaments, replay the online passes (a diagnostic) on
the replay thread while the batch posteriors and pooled groups are fitted, the
Bradley–Terry–Davidson cross-checks running in a worker process (rating/crosschecks.py); then
assemble each dimension's tables, pairs, checks and diagnostics, and describe the board.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass

from prefboard.config import Config
from prefboard.ingest.allocator import map_large_arrays
from prefboard.ingest.validate import Ingested
from prefboard.rating import board, btd, diagnostics, pairs, tables
from prefboard.rating.battle_slices import battle_samples, blank_battles
from prefboard.rating.collector import fewer_collections
from prefboard.rating.crosschecks import CrossChecks, job_of
from prefboard.rating.fits import DimensionFit, fit_dimension, group_fit_turns
from prefboard.rating.inputs import Dimension, Inputs, dimension_of, distinct, params_of, prepare
from prefboard.rating.judges import judge_boards
from prefboard.rating.style import style_control
from prefboard.rating.tables import components as _components
from prefboard.rating.threads import one_blas_thread
from prefboard.rating.tournaments import Result, run_tournaments, z_score
from prefboard.standings.model import (
    POOLED,
    AgreementRow,
    CrossCheck,
    FitCheck,
    History,
    LikertRow,
    OrderSensitivity,
    Pair,
    PlanGoal,
    PoolingInfo,
    Standings,
    Table,
    TieModel,
)
from prefboard.standings.style import StyleControl

# Stable import paths for callers of the stage's helpers (bench_rating, test_fairness).
__all__ = ["_components", "params_of", "rate"]


def rate(config: Config, data: Ingested, config_text: str = "") -> Standings:
    """Run every tournament and summary; deterministic for the same inputs and config."""
    with one_blas_thread(), fewer_collections():
        return _rate(config, data, config_text)


def _rate(config: Config, data: Ingested, config_text: str) -> Standings:
    inputs = prepare(config, data)
    if len(inputs.a) >= ONE_FIT_THREAD:
        map_large_arrays()  # a large board's arrays mapped and unmapped one by one
    keys = [d.key for d in config.battle_dimensions]
    with (
        ThreadPoolExecutor(max_workers=1) as replays,
        ThreadPoolExecutor(max_workers=fit_threads(len(inputs.a))) as fits,
        CrossChecks({key: job_of(config, inputs, key) for key in keys}) as cross,
    ):
        lock = threading.Lock()
        turns = group_fit_turns(len(inputs.a))

        def crosscheck(key: str) -> btd.BTDFit:
            with lock:  # the worker's pipe is read by one thread at a time
                return cross.result(key)

        queued = [
            fits.submit(_rate_dimension, config, inputs, k, replays, crosscheck, turns)
            for k in keys
        ]
        # The Likert summaries need no rating: done while the dimensions are fitted.
        likert = board.likert_tables(config, data, inputs.published)
        rated = [f.result() for f in queued]
    standings = _standings(config, data, config_text, inputs, rated, likert)
    # Judges after the humans, from their own table: nothing above reads a judge's battle.
    boards, reference = judge_boards(config, data)
    return standings.model_copy(update={"judges": boards, "human_reference": reference})


# Dimensions fitted at once. The fits are independent per dimension and their compiled
# kernels and BLAS calls release the GIL, so two threads use both cores where one left the
# second idle once the replays were done (a 100-model board: ~1 core busy on average). Each
# dimension's numbers do not depend on which thread fits it or when: the same bits.
FIT_THREADS = 2
# Accepted battles from which the dimensions are fitted one at a time: each dimension in flight
# holds its tournaments' battle lists (4 bytes per battle per list: ~160 MB at 10M battles with
# four slices), and there the replays, not the fits, set the stage's time (measured at 10M:
# peak ~190 MB lower, ~4 s longer of ~60 s).
ONE_FIT_THREAD = 4_000_000


def fit_threads(n_battles: int) -> int:
    return 1 if n_battles >= ONE_FIT_THREAD else FIT_THREADS


def _rate_dimension(
    config: Config,
    inputs: Inputs,
    key: str,
    replays: ThreadPoolExecutor,
    crosscheck: Callable[[str], btd.BTDFit],
    turns: AbstractContextManager[object],
) -> _Rated:
    """One dimension: its tie model and tournaments, the online passes queued on the replay
    thread (a diagnostic; the compiled replay releases the GIL) while this thread fits the
    batch posteriors (the headline), then its tables, pairs, checks and diagnostics."""
    dim = dimension_of(config, inputs, key)
    online = replays.submit(run_tournaments, len(config.model_keys), inputs.a, inputs.b, [dim.run])
    fit = fit_dimension(config, inputs, dim, turns)
    # What reads no online pass is done while the replays run: at 10M battles they are the
    # stage's critical path, and work left until after them (the history replay, the pair
    # checks) held the next dimension's replays back with one core idle (~0.5 s a dimension).
    offline = _offline(config, inputs, dim, fit)
    return _dimension(
        config, inputs, dim, fit, offline, online.result()[0], lambda: crosscheck(key)
    )


@dataclass(frozen=True)
class _Offline:
    """A dimension's parts that need its batch fit but none of its online passes."""

    pairs: list[Pair]
    fit_check: FitCheck
    history: History
    style: StyleControl | None


def _offline(config: Config, inputs: Inputs, dim: Dimension, fit: DimensionFit) -> _Offline:
    head = fit.posteriors[(POOLED, POOLED)]
    a, b, outcome, params = inputs.a, inputs.b, dim.outcome, dim.batch_params
    fits, fit_check = pairs.fit_check(
        config, dim.key, dim.pooled, head.mean, dim.ties.draw_margin, a, b, outcome, params
    )
    return _Offline(
        pairs=pairs.pairs_of(config, dim.key, head, params, fits),
        fit_check=fit_check,
        history=diagnostics.history_of(config, dim.key, dim.pooled, a, b, outcome, dim.run.params),
        style=style_control(config, inputs, dim),
    )


@dataclass(frozen=True)
class _Rated:
    """Everything one battle dimension adds to the standings."""

    tables: list[Table]
    pairs: list[Pair]
    fit_check: FitCheck
    history: History
    crosscheck: CrossCheck
    sensitivity: OrderSensitivity
    ties: TieModel
    pooling: list[PoolingInfo]
    style: StyleControl | None = None


def _dimension(
    config: Config,
    inputs: Inputs,
    dim: Dimension,
    fit: DimensionFit,
    offline: _Offline,
    results: list[Result],
    cross: Callable[[], btd.BTDFit],
) -> _Rated:
    """The dimension's tables, pairs and diagnostics. Its cross-check is read last: the worker
    process may still be fitting it, and everything else here does not wait for it (on a
    300-model board the first two dimensions used to wait ~3 s for it with nothing to do)."""
    z = z_score(config.rating.interval)
    by_slice = {(r.spec.attribute, r.spec.value): r for r in results}
    head = fit.posteriors[(POOLED, POOLED)]
    rows = [_slice_table(config, inputs, fit, r, z) for r in results]
    pooled = by_slice[(POOLED, POOLED)]
    if fit.grouped.headline is None:
        rows.append(tables.unstratified(config, pooled, head, z, inputs.clustering))
    else:
        rows.append(
            tables.pooled_headline(config, pooled, fit.grouped.headline, z, inputs.clustering)
        )
    pooled_table = next(t for t in reversed(rows) if t.slice_attribute == POOLED)
    sensitivity = diagnostics.sensitivity(dim.key, pooled, len(config.model_keys))
    return _Rated(
        tables=rows,
        pairs=offline.pairs,
        fit_check=offline.fit_check,
        history=offline.history,
        crosscheck=diagnostics.crosscheck(config, pooled_table, cross()),
        sensitivity=sensitivity,
        ties=dim.ties,
        pooling=fit.grouped.info,
        style=offline.style,
    )


def _slice_table(config: Config, inputs: Inputs, fit: DimensionFit, r: Result, z: float) -> Table:
    """The table of one tournament: its own clustered posterior, or the pooled group posterior
    (widened for clustered votes through the pooling, rating/pooled_robust.py)."""
    key = (r.spec.attribute, r.spec.value)
    n_part = distinct(inputs.people, inputs.n_people, r.spec.battles)
    pc = fit.counts[key]
    parts = tables.graph_components(len(config.model_keys), pc.i, pc.j)
    post = fit.grouped.slices.get(key)
    if post is None:
        moments = tables.moments(fit.posteriors[key])
    else:
        moments = (post.mean, post.cov, post.inflation)
    table = tables.table_of(config, r, moments, z, n_part, parts, inputs.clustering)
    return table if post is None else table.model_copy(update={"pooled": True})


def _standings(
    config: Config,
    data: Ingested,
    config_text: str,
    inputs: Inputs,
    rated: list[_Rated],
    likert: tuple[list[LikertRow], list[AgreementRow]],
) -> Standings:
    likert_rows, agreement = likert
    return Standings(
        title=config.leaderboard.title,
        description=config.leaderboard.description,
        synthetic=config.leaderboard.synthetic,
        version=config.site.version,
        provenance=board.provenance(config_text, data),
        parameters=board.parameters(config, params_of(config), z_score(config.rating.interval)),
        models=board.models(config, data.battles),
        dimensions=board.dimensions(config),
        slices=board.slices(config, inputs.published, blank_battles(config, inputs.codes)),
        tables=[t for r in rated for t in r.tables],
        pairs=[p for r in rated for p in r.pairs],
        history=[r.history for r in rated],
        likert=likert_rows,
        agreement=agreement,
        samples=board.samples(config, inputs.codes, inputs.active, inputs.published)
        + battle_samples(config, inputs.battles, inputs.codes, inputs.published),
        order_sensitivity=[r.sensitivity for r in rated],
        crosscheck=[r.crosscheck for r in rated],
        ties=[r.ties for r in rated],
        benchmarks=board.benchmarks(data),
        fit_checks=[r.fit_check for r in rated],
        pooling=[p for r in rated for p in r.pooling],
        plan_goal=PlanGoal(**config.plan.model_dump()),
        style=[r.style for r in rated if r.style is not None],
    )
