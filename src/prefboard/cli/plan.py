"""`prefboard plan`: the next battles, the stopping rule's projection and recruitment quotas."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from prefboard.cli.options import config_option, format_option
from prefboard.render.escape import printable

if TYPE_CHECKING:
    from prefboard.standings.model import Standings


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
    spreads over pairs; a seeded share of random pairs is mixed in. Group tables use a
    diagonal covariance (standings.json keeps pair counts for pooled tables only).

    \b
    What benchmarks/bench_matchmaking.py shows (20 seeds, batches of 100, random pairs
    in the same run; five leaders 4 points apart, beta 25/6, above a crowded middle;
    goal: the five adjacent top pairs separated, Bonferroni over pairs and looks):
      30 models: 1,100 battles vs random's 17,950, ratio 0.06 (95 % CI 0.04-0.08);
        coverage of skills 0.97, of adjacent differences 0.97; no wrong separations.
      12 models: 700 vs 2,700, ratio 0.26 (0.22-0.36); coverage 0.97 and 0.97.
      Not better: Kendall tau of the whole board at the same battles is lower than
        random's (0.875 vs 0.908 at 30 models, 0.879 vs 0.914 at 12).
      Misspecified world (logistic outcomes, 20 % careless votes): still faster
        (ratio 0.07 at 30 models, 0.16 at 12) but the bands are too narrow for the
        true skills (coverage 0.42 and 0.10; random 0.08 and 0.00).
      Explore 0.25 was as fast but ordered the board worse (tau 0.817): 0.5 is default.

    The stopping rule: battles still needed for the goal, simulated from the current
    posterior (median over draws of where the estimates can still move); each pair's test
    is Bonferroni-corrected over the top_k pairs and the [plan] looks planned checks.
    """
    from prefboard import matchmaking as mm
    from prefboard import pipeline
    from prefboard.errors import PrefboardError
    from prefboard.matchmaking import quotas as mq
    from prefboard.standings.files import read_standings

    if standings_path is not None:
        standings = read_standings(standings_path)
    else:
        config, root = pipeline.load(config_path)
        standings = pipeline.rate(config, root, config_path)[1]
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
    if quotas_path is not None:
        rows = mq.quotas_csv(mq.quotas(standings, mq.goal_participants(standings)))
        if str(quotas_path) == "-":
            click.echo(rows, nl=False)
            return
        quotas_path.write_text(rows, encoding="utf-8")
    if fmt == "csv":
        click.echo(mm.plan_csv(queue), nl=False)
        return
    click.echo(mm.plan_table(queue))
    _echo_goal(standings, dimension)
    needs = [g for g in mm.groups_in_need(standings) if g.needed][:5]
    if needs:
        click.echo("\ngroups furthest below their population share:")
        for g in needs:
            click.echo(
                f"  {printable(g.attribute)}={printable(g.value)}: "
                f"{g.sample_share:.1%} of the sample, "
                f"{g.population_share:.1%} of the population, {g.needed} more participants"
            )


def _echo_goal(standings: Standings, dimension: str | None) -> None:
    """The stopping rule's projection per battle dimension (pooled tables)."""
    from prefboard.matchmaking import quotas as mq

    g = standings.plan_goal
    click.echo(f"\ngoal ([plan] goal = {g.goal}), pooled tables:")
    for d in standings.dimensions:
        if not d.battles or dimension not in (None, d.key):
            continue
        status = mq.goal_status(standings, d.key)
        if status is not None:
            click.echo(f"  {d.key}: {status.sentence(g.goal, g.top_k)}")
