"""Thin commands over the pipeline stages; all work lives in the library modules.

The shared options are in `cli.options`; the two longest commands, `import` and `plan`, have a
module each (`cli.imports`, `cli.plan`) and are added to the group here.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from prefboard import __version__
from prefboard.cli.imports import import_
from prefboard.cli.options import config_option, format_option, out_option
from prefboard.cli.plan import plan
from prefboard.render import format as numbers
from prefboard.render.escape import printable

if TYPE_CHECKING:
    from prefboard.standings.gate import Rule
    from prefboard.standings.model import Standings


def _gate_rules(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[Rule]:
    """`--fail-on` values parsed into gate rules; a bad rule is a usage error (exit 2)."""
    from prefboard.errors import RuleError
    from prefboard.standings.gate import parse_rules

    try:
        return parse_rules(values)
    except RuleError as exc:
        raise click.BadParameter(exc.message, ctx=ctx, param=param) from None


class _Commands(click.Group):
    """The command group; an operating-system error a command did not expect (an output path
    that runs through a file, a full disk) becomes one `Error:` line and exit 2, as every other
    refusal, instead of a traceback. A closed pipe on stdout is left to Python."""

    def invoke(self, ctx: click.Context) -> object:
        from prefboard.errors import SystemIOError

        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise SystemIOError.of(exc) from None


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
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
@out_option(
    "Folder for standings.json, its schema, standings.csv and ratings.csv.", Path("build/standings")
)
def rate(config_path: Path, out_dir: Path) -> None:
    """Validate, then rank every model per dimension and slice with TrueSkill.

    Writes standings.json (with standings.schema.json), standings.csv (one row per dimension,
    slice and model) and ratings.csv (Likert summaries). Refuses data with problems.
    """
    import time

    from prefboard import pipeline
    from prefboard.standings.files import write_standings

    start = time.perf_counter()
    config, root = pipeline.load(config_path)
    pipeline.check_standings_out(config, root, config_path, out_dir)
    data, standings = pipeline.rate(config, root, config_path)
    for problem in data.problems:  # only warnings remain: rate refuses data with errors
        click.echo(problem.format(), err=True)  # the line says "warning:" itself
    paths = write_standings(standings, out_dir)
    totals = data.ledger.totals().get("battles", {})
    click.echo(
        f"rated {numbers.count(totals.get('accepted', 0))} battles into "
        f"{numbers.count(len(standings.tables))} tables in {time.perf_counter() - start:.1f} s"
    )
    for path in paths:
        click.echo(f"  wrote {path}")


@cli.command()
@config_option
@out_option("Folder for the results (default: the board's results/).")
@click.option("--battles", type=click.IntRange(1, 50_000_000), default=20_000, show_default=True)
@click.option("--ratings", type=click.IntRange(0, 10_000_000), default=3_000, show_default=True)
@click.option(
    "--participants", type=click.IntRange(1, 10_000_000), default=1_500, show_default=True
)
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True)
@click.option(
    "--votes-per-prompt",
    type=click.IntRange(1, 1_000),
    default=1,
    show_default=True,
    help="Above 1: a prompt_id column, each prompt judged this many times on the same pair.",
)
@click.option(
    "--prompt-sd",
    type=click.FloatRange(0, 10),
    default=0.0,
    show_default=True,
    help="Sd of each prompt's shared effect on the pair's performance gap, in beta units.",
)
def simulate(
    config_path: Path,
    out_dir: Path | None,
    battles: int,
    ratings: int,
    participants: int,
    seed: int,
    votes_per_prompt: int,
    prompt_sd: float,
) -> None:
    """Write a synthetic results folder from hidden per-model skills (seeded).

    The hidden skills are written beside the results as hidden_skills.json, for tests and
    calibration studies; rating never reads them. Mark the board synthetic in leaderboard.toml.
    """
    from prefboard import pipeline
    from prefboard.tools.simulate import SimulationSpec
    from prefboard.tools.simulate import simulate as run

    config, root = pipeline.load(config_path)
    spec = SimulationSpec(
        battles=battles,
        ratings=ratings,
        participants=participants,
        seed=seed,
        votes_per_prompt=votes_per_prompt,
        prompt_sd=prompt_sd,
    )
    # Judges' verdicts go where their [[sources]] globs read them, unless --out moves the lot.
    result = run(config, out_dir or root / "results", spec, None if out_dir else root)
    click.echo(
        f"wrote {result.battles} battles in {len(result.battle_paths)} file(s), "
        f"{result.ratings} ratings, {result.participants} participants, "
        f"hidden skills in {result.skills_path}"
    )
    for path in result.judge_paths:
        click.echo(f"wrote a simulated judge's verdicts to {path}")


def _progress(message: str) -> None:
    click.echo(f"  {message}", err=True)


@cli.command()
@config_option
@out_option("Site folder (default: [site].output of leaderboard.toml, usually site/).")
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
    for problem in report.warnings:  # only warnings remain: the build refuses errors
        click.echo(problem.format(), err=True)
    total = sum(report.seconds.values())
    s = report.site
    assert s is not None  # only `prepare_in` (publish) builds no site
    click.echo(
        f"built {numbers.count(s.pages)} pages with {numbers.count(s.charts)} charts "
        f"({numbers.count(s.files)} files) into "
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
@click.argument("new", type=click.Path(path_type=Path, exists=True), required=False)
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
@click.option(
    "--judge",
    metavar="KEY",
    help="With one standings: the humans' headline rankings (old) against this automated "
    "judge's (new).",
)
@click.pass_context
def diff(
    ctx: click.Context,
    old: Path,
    new: Path | None,
    fmt: str,
    limit: int,
    fail_on: list[Rule],
    judge: str | None,
) -> None:
    """Compare two standings (standings.json files or the folders `prefboard rate` wrote).

    Shows models added or removed, rank moves and score changes per dimension and slice, rows
    added per input file and new validation exclusions. With --fail-on it is also a gate for
    pull requests: exit 1 when the rankings regress, 0 otherwise, 2 on bad input. With
    --judge KEY and one standings, OLD is the humans' headline and NEW the judge's rankings.
    """
    from prefboard.render import diff as show
    from prefboard.render import gate as show_gate
    from prefboard.standings import diff as d
    from prefboard.standings import gate

    before, after = _diff_inputs(old, new, judge)
    changes = d.diff_standings(before, after)
    trips = gate.check(changes, fail_on)
    if fmt == "json":
        verdict = gate.as_json(fail_on, trips) if fail_on else None
        click.echo(d.render_json(changes, verdict), nl=False)
    elif fmt == "markdown":
        click.echo(show.render_markdown(changes, before, after, limit), nl=False)
        if fail_on:
            click.echo(show_gate.render_markdown(fail_on, trips, before, after, limit), nl=False)
    else:
        click.echo(show.render_text(changes, before, after, limit), nl=False)
        if fail_on:
            click.echo(show_gate.render_text(fail_on, trips, before, after, limit), nl=False)
    if trips:
        ctx.exit(1)


def _diff_inputs(old: Path, new: Path | None, judge: str | None) -> tuple[Standings, Standings]:
    """The two standings `diff` compares: two files, or one file's humans and judge."""
    from prefboard.errors import PrefboardError
    from prefboard.standings.files import read_standings
    from prefboard.standings.judge_diff import judge_versus_humans

    if (new is None) == (judge is None):
        raise PrefboardError("diff takes OLD and NEW standings, or one standings with --judge KEY")
    if judge is not None:
        return judge_versus_humans(read_standings(old), judge)
    assert new is not None  # checked just above
    return read_standings(old), read_standings(new)


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


cli.add_command(import_)
cli.add_command(plan)


def main() -> None:
    cli(prog_name="prefboard")
