"""The plan stage: next battles, the `[plan]` goal's status and recruitment quotas, computed
once from the analysed standings into ``Standings.plan`` (pipeline: analyze -> plan -> render).

The Next battles page only formats ``Standings.plan``; ``prefboard plan`` calls the same
functions with its own options (dimension, group, queue length, exploration share).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from prefboard.matchmaking.groups import groups_in_need
from prefboard.matchmaking.posterior import table_posterior
from prefboard.matchmaking.queue import BOARD_SHARE, plan
from prefboard.matchmaking.quotas import goal_status, quotas
from prefboard.matchmaking.tables import battle_dimensions
from prefboard.rating.threads import one_blas_thread
from prefboard.standings.model import (
    GoalProjection,
    Plan,
    PlannedBattle,
    RecruitmentQuota,
    Standings,
)

__all__ = ["PLANNED_PER_DIMENSION", "current", "goals", "plan_stage", "planned", "recruitment"]

#: Next battles kept per battle dimension (the Next battles page shows them all).
PLANNED_PER_DIMENSION = 10


def plan_stage(standings: Standings) -> Standings:
    """The standings with `plan` filled in."""
    return standings.model_copy(update={"plan": planned(standings)})


def planned(standings: Standings, n: int = PLANNED_PER_DIMENSION) -> Plan:
    """Each battle dimension's next ``n`` battles on its pooled table, the goal's status per
    dimension, the quotas and the groups in need."""
    # One BLAS thread, as in the rating stage: the projections invert models x models
    # matrices, and OpenBLAS's threads made the 100-model board's plan 7x slower on 2 shared
    # cores (the numbers are the same either way).
    with one_blas_thread():
        return _planned(standings, n)


def _planned(standings: Standings, n: int) -> Plan:
    explore = standings.plan_goal.explore
    dims = battle_dimensions(standings)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # Each dimension's posterior is refitted (a compiled EP loop that releases the GIL)
        # on a second thread while the previous dimension's queue is planned (numpy, which
        # mostly releases it too); the fits are cached, so the results are the same.
        fits = [pool.submit(_posterior_of, standings, d) for d in dims]
        queue: list[PlannedBattle] = []
        for d, fit in zip(dims, fits, strict=True):
            fit.result()
            queue += plan(standings, None, dimension=d, n=n, explore=explore)
    status = goals(standings)
    return Plan(
        explore=explore,
        board=BOARD_SHARE,
        queue=queue,
        goals=status,
        quotas=recruitment(standings, status),
        groups=groups_in_need(standings),
    )


def _posterior_of(standings: Standings, dimension: str) -> None:
    table = standings.table(dimension)
    if table is not None:
        table_posterior(standings, table)


def current(standings: Standings) -> Plan:
    """The plan the standings hold, or, for standings written before the plan stage
    existed (schema 2 and 3), the plan computed now."""
    held = standings.plan
    return held if held.queue or held.goals else planned(standings)


def goals(standings: Standings, dimension: str | None = None) -> list[GoalProjection]:
    """The goal's projection on the pooled table of each battle dimension (or of one)."""
    return [
        status
        for d in battle_dimensions(standings)
        if dimension in (None, d) and (status := goal_status(standings, d)) is not None
    ]


def recruitment(standings: Standings, status: list[GoalProjection]) -> list[RecruitmentQuota]:
    """Quotas once the goal's participants (the most any dimension needs) are recruited."""
    more = max((g.participants or 0 for g in status), default=0)
    return quotas(standings, more)
