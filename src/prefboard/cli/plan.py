"""`prefboard plan`: the next battles, the stopping rule's projection and recruitment quotas."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import TYPE_CHECKING

import click

from prefboard.cli.options import config_option, format_option
from prefboard.render.escape import printable

if TYPE_CHECKING:
    from prefboard.standings.model import GoalProjection, PlannedBattle, Standings


@click.command()
@config_option
@click.option("--dimension", default=None, help="Plan one dimension (default: every one).")
@click.option(
    "--slice",
    "slice_",
    default=None,
    metavar="ATTRIBUTE=VALUE",
    help="Plan inside one published group, e.g. age_group=65+.",
)
@click.option(
    "-n",
    "--n",
    "count",
    type=click.IntRange(1, 100_000),
    default=20,
    show_default=True,
    help="Length of the queue.",
)
@format_option(["table", "csv"], "table for a terminal, csv for spreadsheets and scripts.")
@click.option(
    "--explore",
    type=click.FloatRange(0, 1),
    default=None,
    help=("Share of the queue given to random pairs (default: [plan] explore, 0.5; see below)."),
)
@click.option(
    "--measure",
    type=click.Choice(["goal", "order", "skills"]),
    default="goal",
    show_default=True,
    help=(
        "goal: information about the order of the [plan] goal's pairs; order: about which "
        "model of each pair is ahead; skills: about the skills themselves."
    ),
)
@click.option(
    "--quotas",
    "quotas_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write recruitment quotas per group as CSV to this file ('-' for stdout only).",
)
@click.option(
    "--standings",
    "standings_path",
    type=click.Path(path_type=Path, exists=True),
    default=None,
    help="Plan from an existing standings.json instead of rating now.",
)
def plan(
    config_path: Path,
    explore: float | None,
    measure: str,
    quotas_path: Path | None,
    dimension: str | None,
    slice_: str | None,
    count: int,
    fmt: str,
    standings_path: Path | None,
) -> None:
    """The next battles to run, how many remain for the [plan] goal, and whom to recruit.

    Pairs are scored on each table's batch posterior (full covariance) by the mutual
    information between the battle's outcome and the order of the goal's pairs (the top
    [plan] top_k adjacent pairs), planned as one batch with fantasy updates so a queue
    spreads over pairs. A seeded share of random pairs is mixed in (--explore), and a
    quarter of each queue goes to the order of the whole board while the goal is open.
    Group tables use a diagonal covariance (standings.json keeps pair counts for pooled
    tables only). The build's Next battles page is computed by the same functions.

    {figures}

    The stopping rule: battles still needed for the goal, simulated from the current
    posterior (median over draws of where the estimates can still move); each pair's test
    is Bonferroni-corrected over the top_k pairs and the [plan] looks planned checks.
    """
    from prefboard import matchmaking as mm
    from prefboard.errors import PrefboardError
    from prefboard.matchmaking import quotas as mq
    from prefboard.matchmaking import stage

    standings = _standings_for(config_path, standings_path)
    attribute, value = "all", "all"
    if slice_ is not None:
        if "=" not in slice_:
            raise click.BadParameter("use ATTRIBUTE=VALUE", param_hint="--slice")
        attribute, value = slice_.split("=", 1)
    share = standings.plan_goal.explore if explore is None else explore
    try:
        queue = mm.plan(
            standings, None, dimension, attribute, value, n=count, measure=measure, explore=share
        )
    except ValueError as exc:
        raise PrefboardError(str(exc)) from None
    # The goals and quotas do not depend on the options: the plan stage's, once.
    held = stage.current(standings)
    goals = [g for g in held.goals if dimension in (None, g.dimension)]
    if quotas_path is not None:
        rows = mq.quotas_csv(held.quotas)
        if str(quotas_path) == "-":
            click.echo(rows, nl=False)
            return
        quotas_path.write_text(rows, encoding="utf-8")
    if fmt == "csv":
        click.echo(mm.plan_csv(queue), nl=False)
        return
    _echo_plan(standings, queue, goals)


def _standings_for(config_path: Path, standings_path: Path | None) -> Standings:
    """`--standings` when given, else the board rated (and analysed) now."""
    from prefboard import pipeline
    from prefboard.standings.files import read_standings

    if standings_path is not None:
        return read_standings(standings_path)
    config, root = pipeline.load(config_path)
    return pipeline.rate(config, root, config_path)[1]


def _echo_plan(
    standings: Standings, queue: list[PlannedBattle], goals: list[GoalProjection]
) -> None:
    """The queue, the goal's status per dimension and the groups most in need, for a terminal."""
    from prefboard import matchmaking as mm

    click.echo(mm.plan_table(queue))
    click.echo(f"\ngoal ([plan] goal = {standings.plan_goal.goal}), pooled tables:")
    for status in goals:
        click.echo(f"  {status.dimension}: {status.sentence(standings.plan_goal.goal)}")
    needs = [g for g in mm.groups_in_need(standings) if g.needed][:5]
    if needs:
        click.echo("\ngroups furthest below their population share:")
        for g in needs:
            click.echo(
                f"  {printable(g.attribute)}={printable(g.value)}: "
                f"{g.sample_share:.1%} of the sample, "
                f"{g.population_share:.1%} of the population, {g.needed} more participants"
            )


def _plan_help(text: str) -> str:
    """The command's help with the benchmark's figures (templates/planning.json) in place."""
    from prefboard.render import plan_figures

    # Dedent first: the inserted lines start at column 0, which would stop click's own dedent.
    return inspect.cleandoc(text).replace("{figures}", plan_figures.help_text(plan_figures.load()))


plan.help = _plan_help(plan.help or "")
