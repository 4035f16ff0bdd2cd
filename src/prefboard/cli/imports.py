"""`prefboard import`: start or extend a board from pairwise data in another shape."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import TYPE_CHECKING

import click

from prefboard.config.sections import KEY_PATTERN
from prefboard.errors import listed
from prefboard.render.escape import printable

if TYPE_CHECKING:
    from prefboard.tools.importers import ImportReport, SourceTarget


@click.command("import")
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
    "--battle-id",
    help="Column holding the source's own id of each vote: part of the battle id, so "
    "re-importing those votes from any file or format adds nothing.",
)
@click.option(
    "--slice",
    "slices",
    multiple=True,
    help="Categorical column to keep as a participant slice; repeatable.",
)
@click.option(
    "--category",
    "categories",
    multiple=True,
    help=(
        "Column to keep as a battle-level slice (what the prompt was about, e.g. category or "
        "language), named after the column; repeatable."
    ),
)
@click.option("--prompt-id", help="Column identifying the item judged, kept as prompt_id.")
@click.option(
    "--source",
    "source_key",
    help="Verdict source the battles belong to (a [[sources]] key, declared if new).",
)
@click.option(
    "--kind",
    type=click.Choice(["human", "judge"]),
    help="Kind of a new --source: human (default) or judge (an automated judge, e.g. an LLM).",
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
    battle_id: str | None,
    categories: tuple[str, ...],
    prompt_id: str | None,
    source_key: str | None,
    kind: str | None,
) -> None:
    """Start or extend a board from pairwise data in another shape (CSV, JSON, JSONL, Parquet).

    FORMAT `arena` reads Chatbot Arena / LMArena battles (model_a, model_b, winner with
    tie (bothbad) counted as a tie and reported, judge, tstamp; category, language and
    question_id when present); `pairwise` reads any table, with the column flags naming its
    columns. Re-importing the same votes adds nothing, whatever the file's name or format:
    battle ids come from each vote's content (see the README).
    Every source row is imported, a duplicate, or skipped with a reason in the ledger file.
    """
    from prefboard.tools.importers import FORMATS, import_pairwise

    target = _target(source_key, kind, slices)
    base = FORMATS[fmt]
    mapping = dataclasses.replace(
        base,
        model_a=model_a or base.model_a,
        model_b=model_b or base.model_b,
        winner=winner or base.winner,
        winner_values=_winner_values(winner_values) or base.winner_values,
        participant=participant or base.participant,
        timestamp=timestamp or base.timestamp,
        dimension=dimension or base.dimension,
        slices=tuple(slices) or base.slices,
        battle_id=battle_id or base.battle_id,
        categories=tuple(categories) or base.categories,
        prompt_id=prompt_id or base.prompt_id,
        # the preset's optional columns stay optional; a column named on the command line not
        optional=tuple(c for c in base.optional if c not in (*categories, prompt_id)),
    )

    def progress(done: int, total: int) -> None:
        click.echo(f"  {done:,} / {total:,} rows", err=True)

    _echo_report(import_pairwise(source, into, mapping, progress=progress, target=target))


def _target(key: str | None, kind: str | None, slices: tuple[str, ...]) -> SourceTarget | None:
    """`--source KEY --kind ...` as the import's verdict source (checked before any reading)."""
    from prefboard.tools.importers import SourceTarget

    if key is None:
        if kind is not None:
            raise click.BadParameter("--kind needs --source KEY", param_hint="--kind")
        return None
    if not re.fullmatch(KEY_PATTERN, key):
        raise click.BadParameter(
            f"{printable(key)!r}: use lower-case letters, digits, '_', '.' and '-' "
            "(starting with a letter or digit)",
            param_hint="--source",
        )
    if kind == "judge" and slices:
        raise click.BadParameter(
            "--slice describes people; a judge source has no participants",
            param_hint="--slice",
        )
    return SourceTarget(key, "judge" if kind == "judge" else "human")


def _winner_values(text: str | None) -> tuple[str, str, str] | None:
    """`--winner-values left,right,tie`: the values meaning a, b and tie."""
    if not text:
        return None
    values = [v.strip() for v in text.split(",")]
    if len(values) != 3:
        raise click.BadParameter("give three values: a,b,tie", param_hint="--winner-values")
    return values[0], values[1], values[2]


def _echo_report(report: ImportReport) -> None:
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
    if report.ledger_path is not None:
        click.echo(f"ledger: {printable(report.ledger_path)}")
