"""Thin commands over the pipeline stages; all work lives in the library modules."""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from prefboard import __version__
from prefboard.errors import listed
from prefboard.render.escape import printable

if TYPE_CHECKING:
    from prefboard.standings.gate import Rule
    from prefboard.standings.model import GoalProjection, PlannedBattle, Standings

CONFIG_HELP = "Path to leaderboard.toml; the board folder is the folder that holds it."


def config_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """The `--config` option shared by every command that reads a board."""

    @click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=Path("leaderboard.toml"),
        show_default=True,
        help=CONFIG_HELP,
    )
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


def format_option(choices: list[str], help: str) -> Callable[..., Any]:
    """`--format`, shared by the commands that print for people or for machines; the first
    choice is the default."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help=help,
    )


def _gate_rules(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[Rule]:
    """`--fail-on` values parsed into gate rules; a bad rule is a usage error (exit 2)."""
    from prefboard.standings.gate import parse_rules

    try:
        return parse_rules(values)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="prefboard")
def cli() -> None:
    """Human-preference leaderboards: validate battles and ratings, rank models with TrueSkill,
    and build a versioned static site.

    Run commands from the board folder (the one holding leaderboard.toml) or pass --config.
    """


@cli.command()
@config_option
@format_option(
    ["text", "json", "github"],
    "text for people, json for machines, github for Actions annotations on the PR diff.",
)
def validate(config_path: Path, fmt: str) -> None:
    """Check every result file against leaderboard.toml and the CSV contract.

    Prints each problem as path:line:column: rule: message, then rows read, accepted and
    excluded by reason. Exits 0 when clean, 2 when there are problems.
    """
    from prefboard import pipeline
    from prefboard.ingest import report

    config, root = pipeline.load(config_path)
    result = pipeline.validate(config, root)
    click.echo(report.render(result, fmt))  # type: ignore[arg-type]
    if not result.ok:
        sys.exit(2)


@cli.command()
@config_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("build/standings"),
    show_default=True,
    help="Folder for standings.json, its schema, standings.csv and ratings.csv.",
)
def rate(config_path: Path, out_dir: Path) -> None:
    """Validate, then rank every model per dimension and slice with TrueSkill.

    Writes standings.json (with standings.schema.json), standings.csv (one row per dimension,
    slice and model) and ratings.csv (Likert summaries). Refuses data with problems.
    """
    import time

    from prefboard import pipeline
    from prefboard.standings.model import write_standings

    start = time.perf_counter()
    config, root = pipeline.load(config_path)
    pipeline.check_standings_out(config, root, config_path, out_dir)
    data, standings = pipeline.rate(config, root, config_path)
    for problem in data.problems:  # only warnings remain: rate refuses data with errors
        click.echo(problem.format(), err=True)  # the line says "warning:" itself
    paths = write_standings(standings, out_dir)
    totals = data.ledger.totals().get("battles", {})
    click.echo(
        f"rated {totals.get('accepted', 0)} battles into {len(standings.tables)} tables "
        f"in {time.perf_counter() - start:.1f} s"
    )
    for path in paths:
        click.echo(f"  wrote {path}")


@cli.command()
@config_option
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder for the results (default: the board's results/).",
)
@click.option("--battles", type=click.IntRange(1, 50_000_000), default=20_000, show_default=True)
@click.option("--ratings", type=click.IntRange(0, 10_000_000), default=3_000, show_default=True)
@click.option(
    "--participants", type=click.IntRange(1, 10_000_000), default=1_500, show_default=True
)
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True)
def simulate(
    config_path: Path, out: Path | None, battles: int, ratings: int, participants: int, seed: int
) -> None:
    """Write a synthetic results folder from hidden per-model skills (seeded).

    The hidden skills are written beside the results as hidden_skills.json, for tests and
    calibration studies; rating never reads them. Mark the board synthetic in leaderboard.toml.
    """
    from prefboard import pipeline
    from prefboard.tools.simulate import SimulationSpec
    from prefboard.tools.simulate import simulate as run

    config, root = pipeline.load(config_path)
    spec = SimulationSpec(battles=battles, ratings=ratings, participants=participants, seed=seed)
    result = run(config, out or root / "results", spec)
    click.echo(
        f"wrote {result.battles} battles in {len(result.battle_paths)} file(s), "
        f"{result.ratings} ratings, {result.participants} participants, "
        f"hidden skills in {result.skills_path}"
    )


def _progress(message: str) -> None:
    click.echo(f"  {message}", err=True)


@cli.command()
@config_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Site folder (default: [site].output of leaderboard.toml, usually site/).",
)
@click.option("--versioned", is_flag=True, help="Enable the mike version selector.")
@click.option(
    "--previous",
    type=click.Path(path_type=Path, exists=True),
    default=None,
    help="Standings (file or folder) to compare with on the 'What changed' page.",
)
def build(config_path: Path, out_dir: Path | None, versioned: bool, previous: Path | None) -> None:
    """Validate, rate, render every page and chart, and build the site with MkDocs.

    The site is built in a temporary folder and replaces the output folder only when the
    build succeeded, so a failed build never leaves a half-written site.
    """
    from prefboard import pipeline

    click.echo("building", err=True)
    report = pipeline.build(
        config_path, out_dir, versioned=versioned, progress=_progress, previous=previous
    )
    total = sum(report.seconds.values())
    s = report.site
    assert s is not None  # only `prepare_in` (publish) builds no site
    click.echo(
        f"built {s.pages} pages with {s.charts} charts ({s.files} files) into "
        f"{printable(s.output)} "
        f"in {total:.1f} s"
    )


@cli.command()
@config_option
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
def serve(config_path: Path, port: int, host: str) -> None:
    """Build, serve the site locally, and rebuild with live reload when inputs change.

    Watches leaderboard.toml, the result files and site_src/; the open page reloads itself
    after each successful rebuild. A failed rebuild prints its error and keeps the last site.
    """
    from prefboard.serve import serve_board

    serve_board(config_path, host, port, echo=click.echo)


@cli.command()
@click.argument("old", type=click.Path(path_type=Path, exists=True))
@click.argument("new", type=click.Path(path_type=Path, exists=True))
@format_option(
    ["text", "markdown", "json"],
    "text for a terminal, markdown for a GitHub job summary, json for machines.",
)
@click.option(
    "--limit", type=click.IntRange(1), default=50, show_default=True, help="Rows shown per section."
)
@click.option(
    "--fail-on",
    "fail_on",
    multiple=True,
    metavar="RULES",
    callback=_gate_rules,
    help="Exit 1 when a rule trips, listing each finding: rank-drop[:N] (a headline rank falls "
    "N places or more), score-drop:X% or score-drop:X (a headline score falls by more than X "
    "percent or points), new-exclusions (more rows excluded). Comma-separated or repeated.",
)
@click.pass_context
def diff(
    ctx: click.Context, old: Path, new: Path, fmt: str, limit: int, fail_on: list[Rule]
) -> None:
    """Compare two standings (standings.json files or the folders `prefboard rate` wrote).

    Shows models added or removed, rank moves and score changes per dimension and slice, rows
    added per input file and new validation exclusions. With --fail-on it is also a gate for
    pull requests: exit 1 when the rankings regress, 0 otherwise, 2 on bad input.
    """
    from prefboard.standings import diff as d
    from prefboard.standings import gate
    from prefboard.standings.model import read_standings

    before, after = read_standings(old), read_standings(new)
    changes = d.diff_standings(before, after)
    trips = gate.check(changes, fail_on)
    if fmt == "json":
        verdict = gate.as_json(fail_on, trips) if fail_on else None
        click.echo(d.render_json(changes, verdict), nl=False)
    elif fmt == "markdown":
        click.echo(d.render_markdown(changes, before, after, limit), nl=False)
        if fail_on:
            click.echo(gate.render_markdown(fail_on, trips, before, after, limit), nl=False)
    else:
        click.echo(d.render_text(changes, before, after, limit), nl=False)
        if fail_on:
            click.echo(gate.render_text(fail_on, trips, before, after, limit), nl=False)
    if trips:
        ctx.exit(1)


@cli.command()
@config_option
@click.option("--version", "version", required=True, help="Version to publish, e.g. v1.2 or dev.")
@click.option("--alias", default=None, help="Alias to move to this version, e.g. latest.")
@click.option("--push", is_flag=True, help="Push the branch after committing.")
@click.option("--remote", default="origin", show_default=True)
@click.option("--branch", default="gh-pages", show_default=True)
def publish(
    config_path: Path, version: str, alias: str | None, push: bool, remote: str, branch: str
) -> None:
    """Build the site with the version selector and deploy it with mike to a branch.

    The newest other published version's standings feed the 'What changed' page. With
    --alias the alias moves to this version and becomes the default; the first publish
    becomes the default otherwise.
    """
    from prefboard.publish import publish as run

    report = run(config_path, version, alias, push, remote, branch)
    click.echo(
        f"published {report.version}"
        + (f" as {report.alias}" if report.alias else "")
        + f" to {branch}"
        + (f", compared with {report.previous}" if report.previous else "")
        + (", pushed" if report.pushed else "")
    )


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
def init(directory: Path) -> None:
    """Scaffold a new leaderboard repository in DIRECTORY.

    Writes a commented leaderboard.toml, header-only CSVs under results/, site_src/index.md,
    the GitHub Actions workflows and a README with the contributor guide. The new board
    validates and builds immediately.
    """
    from prefboard.tools.scaffold import init_board, installed_requirement

    for path in init_board(directory):
        click.echo(f"  wrote {path}")
    note = installed_requirement().note
    if note:
        click.echo(note, err=True)
    click.echo(
        "the models Model A and Model B and the age_group slice are placeholders: edit them in "
        f"leaderboard.toml, or `prefboard import FORMAT SOURCE --into {directory}` replaces them"
    )
    click.echo(f"next: cd {directory} && prefboard validate && prefboard build")


@cli.command("import")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(["arena", "pairwise"]))
@click.argument("source", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option(
    "--into",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Board folder to create or append to.",
)
@click.option("--model-a", help="Column naming the first model.")
@click.option("--model-b", help="Column naming the second model.")
@click.option("--winner", help="Column holding the outcome.")
@click.option("--winner-values", help="Outcome values meaning a, b and tie, e.g. left,right,tie.")
@click.option("--participant", help="Column identifying who judged (e.g. a worker id).")
@click.option("--timestamp", help="Column with the time of the battle (ISO 8601 or epoch).")
@click.option("--dimension", help="Dimension the outcome answers (default: overall).")
@click.option(
    "--slice",
    "slices",
    multiple=True,
    help="Categorical column to keep as a participant slice; repeatable.",
)
def import_(
    fmt: str,
    source: Path,
    into: Path,
    model_a: str | None,
    model_b: str | None,
    winner: str | None,
    winner_values: str | None,
    participant: str | None,
    timestamp: str | None,
    dimension: str | None,
    slices: tuple[str, ...],
) -> None:
    """Start or extend a board from pairwise data in another shape (CSV, JSON, JSONL, Parquet).

    FORMAT `arena` reads Chatbot Arena / LMArena battles (model_a, model_b, winner with
    tie (bothbad) counted as a tie and reported, judge, tstamp); `pairwise` reads any table,
    with the column flags naming its columns. Re-importing the same source adds nothing.
    Every source row is imported, a duplicate, or skipped with a reason in the ledger file.
    """
    import dataclasses

    from prefboard.tools.importers import FORMATS, import_pairwise

    mapping = FORMATS[fmt]
    changes: dict[str, object] = {
        k: v
        for k, v in {
            "model_a": model_a,
            "model_b": model_b,
            "winner": winner,
            "participant": participant,
            "timestamp": timestamp,
            "dimension": dimension,
        }.items()
        if v is not None
    }
    if winner_values:
        values = tuple(v.strip() for v in winner_values.split(","))
        if len(values) != 3:
            raise click.BadParameter("give three values: a,b,tie", param_hint="--winner-values")
        changes["winner_values"] = values
    if slices:
        changes["slices"] = tuple(slices)
    mapping = dataclasses.replace(mapping, **changes)

    def progress(done: int, total: int) -> None:
        click.echo(f"  {done:,} / {total:,} rows", err=True)

    report = import_pairwise(source, into, mapping, progress=progress)
    click.echo(
        f"{report.source_rows:,} source rows: {report.imported:,} imported, "
        f"{report.duplicates:,} already present, {report.skipped_total:,} skipped"
    )
    for reason, n in sorted(report.skipped.items()):
        click.echo(f"  skipped {n:>8,}  {printable(reason)}")
    if report.bothbad_ties:
        click.echo(f"  {report.bothbad_ties:,} 'both bad' outcomes kept as ties")
    if report.models_added:
        added = printable(listed(report.models_added, 20))
        click.echo(f"  models added to leaderboard.toml: {added}")
    for note in report.notes:
        click.echo(f"  note: {printable(note)}")
    for warning in report.warnings:
        click.echo(f"  warning: {printable(warning)}")
    click.echo(f"ledger: {printable(report.ledger_path)}")


@cli.command()
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
    from prefboard.standings.model import read_standings

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


def main() -> None:
    cli(prog_name="prefboard")
