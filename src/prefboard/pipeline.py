"""The stages in order, readable top to bottom: load, ingest, rate, analyze, plan, render, site."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, cast

from prefboard.config import Config, load_config
from prefboard.errors import BuildError, DataError, PrefboardError, Problem, cause_first
from prefboard.ingest.benchmarks import read_benchmarks
from prefboard.ingest.privacy import headline_population, small_groups
from prefboard.ingest.validate import Ingested, ingest
from prefboard.io.paths import output_conflict, site_source_files
from prefboard.io.workspace import board_lock, check_replaceable
from prefboard.standings.files import read_standings
from prefboard.standings.model import Standings

if TYPE_CHECKING:
    from prefboard.render.pages import Page
    from prefboard.site import SiteSummary


def load(config_path: Path) -> tuple[Config, Path]:
    """The typed config and the board folder it lives in."""
    return load_config(config_path), config_path.resolve().parent


def validate(config: Config, root: Path) -> Ingested:
    """Ingest every result file; warn about groups too small to publish and about a pinned
    draw probability the data disagree with."""
    data = ingest(config, root)
    data.benchmarks, problems = read_benchmarks(config, root)
    data.problems += problems + site_source_problems(config, root)
    if data.ok:
        config_file = root / "leaderboard.toml"
        data.problems += headline_population(config, data, config_file)
        data.problems += small_groups(config, data, config_file)
        if config.rating.draw_probability is not None:
            # only a pinned draw probability is checked against the battles: the tie model's
            # batch fits (numba, scipy.optimize) are ~1 s of imports `validate` need not pay
            from prefboard.rating.ties import pinned_tie_warnings

            data.problems += pinned_tie_warnings(config, data.battles)
    data.problems = cause_first(data.problems, config.data.participants)
    return data


def site_source_problems(config: Config, root: Path) -> list[Problem]:
    """Entries of the site source folder the build would refuse to publish (a symlink out of
    it, a symlinked folder, a FIFO), reported by validate so a pull request hears of them."""
    _, refused = site_source_files(root / config.site.source, root)
    name = config.site.source.rstrip("/")
    return [Problem(f"{name}/{rel}", 0, 0, "site-path", why) for rel, why in refused]


def checked(config: Config, root: Path) -> Ingested:
    """`validate`, refusing data that has problems: what the rating stage may read."""
    data = validate(config, root)
    if not data.ok:
        raise DataError(
            f"{sum(p.severity == 'error' for p in data.problems)} problem(s) in the result "
            "files; run `prefboard validate` to see them",
            data.problems,
        )
    return data


def rated(config: Config, data: Ingested, config_path: Path) -> Standings:
    """The rating stage: every table rated (the config's text is hashed into provenance)."""
    # The stages from rating on are imported where they run: `validate` reads the data only
    # and paid ~1.3 s for their imports (numba's kernels, the planner).
    from prefboard.rating.rate import rate as rate_tables

    return rate_tables(config, data, config_path.read_text(encoding="utf-8"))


def rate(config: Config, root: Path, config_path: Path) -> tuple[Ingested, Standings]:
    """Ingest, rate, analyze and plan: the standings `rate --out` writes and the pages read."""
    from prefboard.matchmaking.stage import plan_stage
    from prefboard.standings.analyze import analyze

    data = checked(config, root)
    return data, plan_stage(analyze(rated(config, data, config_path), config))


def read_previous(previous: Path | tuple[str, Standings] | None) -> tuple[str, Standings] | None:
    """The previous version as (label, standings): `--previous` (a standings file or folder,
    read before any work so a bad one fails fast) or what publish found on the branch."""
    if isinstance(previous, Path):
        return previous.name, read_standings(previous)
    return previous


def check_standings_out(config: Config, root: Path, config_path: Path, out: Path) -> None:
    """`rate --out` may be anywhere the caller likes, except over the board's own files."""
    why = output_conflict(config, root, config_path, out, from_config=False)
    if why:
        raise PrefboardError(f"--out {out}: {why}")


@dataclass(frozen=True)
class BuildReport:
    site: SiteSummary | None  # None when `prepare_in` asked for MkDocs' input only
    seconds: dict[str, float]
    standings: Standings
    previous: str | None = None
    mkdocs_config: Path | None = None
    # validate's warnings (a repeated battle, a small group): the build went on; say so
    warnings: tuple[Problem, ...] = ()


def build(
    config_path: Path,
    output: Path | None = None,
    versioned: bool = False,
    progress: Callable[[str], None] = lambda _: None,
    previous: Path | tuple[str, Standings] | None = None,
    version: str | None = None,
    prepare_in: Path | None = None,
) -> BuildReport:
    """Every stage in order: load, ingest, rate, analyze, plan, render, site (MkDocs, swap).

    `version` overrides `[site] version`; `prepare_in` (publish) stops before MkDocs, leaving
    the docs folder and mkdocs.yml there for mike, and leaves the site output alone.
    """
    # Imported here so that `validate` and `rate` do not pay for Altair and MkDocs.
    from prefboard.matchmaking.stage import plan_stage
    from prefboard.render.pages import model_pages, render_pages
    from prefboard.site import SiteBuild, prepare
    from prefboard.site_downloads import Job
    from prefboard.standings.analyze import analyze, compare

    clock = _Clock(progress)
    config, root = load(config_path)
    out = site_output(config, root, config_path, output) if prepare_in is None else None
    prior = read_previous(previous)
    clock.lap("config")
    with board_lock(root, progress):
        data = checked(config, root)
        clock.lap("validate")
        standings = rated(config, data, config_path)
        if version is not None:
            standings = standings.model_copy(update={"version": version})
        clock.lap("rate")
        standings = analyze(standings, config)
        before = compare(*prior, standings) if prior else None
        clock.lap("analyze")
        standings = plan_stage(standings)
        clock.lap("plan")
        label = before.label if before else None
        if prepare_in is not None:
            pages = render_pages(standings, before)
            clock.lap("pages + charts")
            cfg = prepare(config, standings, data.ledger, pages, root, prepare_in, versioned)
            return BuildReport(None, clock.seconds, standings, label, cfg, tuple(data.problems))
        assert out is not None
        # Begun before the pages: its child renders the model pages while this process renders
        # the others, then writes the downloads while MkDocs runs.
        job = Job("rendering the model pages", partial(model_pages, standings))
        with SiteBuild(config, standings, data.ledger, root, out, versioned, job) as site:
            pages = render_pages(standings, before, lambda: _pages(site.first_result()))
            clock.lap("pages + charts")
            summary = site.finish(pages)
        clock.lap("mkdocs")
    return BuildReport(summary, clock.seconds, standings, label, warnings=tuple(data.problems))


def _pages(result: object) -> list[Page]:
    # What the job above returned, unpickled: model_pages' list of pages.
    return cast("list[Page]", result)


def site_output(config: Config, root: Path, config_path: Path, output: Path | None) -> Path:
    """The folder the site goes to (`--out`, else `[site] output`; relative to the board),
    refused before any work when replacing it could destroy or expose something."""
    chosen = output if output is not None else Path(config.site.output)
    out = chosen if chosen.is_absolute() else root / chosen
    why = output_conflict(config, root, config_path, out, from_config=output is None)
    if why:
        raise BuildError(f"site output {chosen}: {why}")
    check_replaceable(out)
    return out


class _Clock:
    def __init__(self, progress: Callable[[str], None]) -> None:
        self.progress = progress
        self.seconds: dict[str, float] = {}
        self.last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = now - self.last
        self.last = now
        self.progress(f"{stage}: {self.seconds[stage]:.1f} s")
