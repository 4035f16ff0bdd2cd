"""Build folder + derived mkdocs.yml -> MkDocs build -> atomic swap into the output folder.

Generated pages and the hand-written `site_src/` pages are merged in a work folder under
`.prefboard/` beside the output, never in the source tree. MkDocs builds in strict mode (a
warning fails the build) into that folder, and only a complete site replaces the previous one,
in one atomic exchange, so a failed or killed build leaves the published folder as it was
(see `prefboard.io.workspace`).
"""

from __future__ import annotations

import hashlib
import html
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from prefboard import __version__, site_downloads, site_search
from prefboard.config import Config
from prefboard.errors import BuildError
from prefboard.ingest.validate import Ledger
from prefboard.io import workspace
from prefboard.io.files import packaged_text
from prefboard.io.paths import site_source_files
from prefboard.render.escape import printable, title_text
from prefboard.render.pages import Page
from prefboard.render.pages.core import data_through
from prefboard.site_bundle import vega_bundle
from prefboard.site_mkdocs import data_epoch, run_mkdocs
from prefboard.site_theme import (
    FEATURES,
    public_url,
    repo_links,
    version_extra,
    write_overrides,
)
from prefboard.standings.model import (
    Standings,
    safe_cell,
    schema_json,
)

# Light and dark, following the reader's system setting, with Material's toggle between them.
PALETTE = [
    {
        "media": "(prefers-color-scheme: light)",
        "scheme": "default",
        "primary": "indigo",
        "toggle": {"icon": "material/weather-night", "name": "Switch to dark mode"},
    },
    {
        "media": "(prefers-color-scheme: dark)",
        "scheme": "slate",
        "primary": "indigo",
        "toggle": {"icon": "material/weather-sunny", "name": "Switch to light mode"},
    },
]
JS_DIR = "assets/javascripts"
CSS_DIR = "assets/stylesheets"


@dataclass(frozen=True)
class SiteSummary:
    output: Path
    pages: int
    charts: int
    files: int


def _asset(name: str) -> str:
    return packaged_text("assets", name)


def mkdocs_config(
    config: Config,
    standings: Standings,
    pages: list[Page],
    extra_pages: list[str],
    docs: Path,
    site: Path,
    versioned: bool,
) -> dict[str, Any]:
    """The mkdocs.yml derived from leaderboard.toml: the maintainer edits only the TOML."""
    # Material prints site_name and nav titles unescaped in some templates, escaped in others,
    # and through `striptags` (which unescapes entities) in <title>: no escaping is right in all
    # of them, so these strings carry no HTML-special character at all (escape.title_text).
    # The page body keeps the real name, escaped. The copyright is only printed raw.
    through = data_through(standings.provenance)
    scripts = [f"{JS_DIR}/vega.js", f"{JS_DIR}/prefboard.js"]
    cfg: dict[str, Any] = {
        "site_name": title_text(config.leaderboard.title),
        "docs_dir": str(docs),
        "site_dir": str(site),
        "use_directory_urls": False,
        "strict": True,
        "theme": {
            "name": "material",
            # Google Fonts would be a network request on every page view.
            "font": False,
            # Outdated-version banner, styled 404, edit buttons on hand-written pages only.
            "custom_dir": str(write_overrides(docs.parent / "overrides")),
            "features": FEATURES,
            "palette": PALETTE,
        },
        "plugins": ["search"],
        # Long tables stay out of the search index (see site_search).
        "hooks": [str(Path(site_search.__file__))],
        "markdown_extensions": [
            "admonition",
            "pymdownx.details",
            "attr_list",
            {"toc": {"permalink": True}},
            # The generated pages' big HTML blocks skip Markdown's HTML parsers (site_markdown).
            "prefboard.site_markdown",
        ],
        "extra_javascript": scripts,
        "extra_css": [f"{CSS_DIR}/prefboard.css"],
        "copyright": html.escape(
            printable(
                f"Data version {standings.version} · {through} · built with prefboard {__version__}"
            )
        ),
        "extra": {"generator": False, "prefboard_editable": extra_pages},
        "nav": _nav(pages) + extra_pages,
        **repo_links(config),
    }
    if url := site_url(public_url(config)):
        cfg["site_url"] = url
    if versioned:
        cfg["extra"]["version"] = version_extra()
    return cfg


#: A section with more pages than this (the model pages of a large board) is listed in the nav
#: by its index page alone, which links every page of it. Material writes the whole nav into
#: every page: 300 model pages made ~120 KB of nav on each of 321 pages, half the site's HTML.
NAV_SECTION_PAGES = 40


def _nav(pages: list[Page]) -> list[Any]:
    """Top-level pages as entries of their own; pages in a folder under a section named for it
    (only its index page when it has more than NAV_SECTION_PAGES)."""
    nav: list[Any] = []
    sections: dict[str, list[Any]] = {}
    for page in pages:
        title = title_text(page.title)
        top = page.path.split("/")[0]
        if "/" not in page.path:
            nav.append({title: page.path})
            continue
        if top not in sections:
            sections[top] = []
            nav.append({top.capitalize(): sections[top]})
        sections[top].append(page.path if page.path.endswith("index.md") else {title: page.path})
    for entries in sections.values():
        index = [e for e in entries if isinstance(e, str)]
        if len(entries) > NAV_SECTION_PAGES and index:
            entries[:] = index
    return nav


def site_url(url: str) -> str:
    """`leaderboard.url` fit for Material's `<link rel="canonical" href="...">`, which prints it
    unescaped: only http(s), with quotes, angle brackets, spaces and controls percent-encoded so
    the URL cannot end the attribute. "" (no canonical links) for anything else."""
    from urllib.parse import quote

    if not url.startswith(("https://", "http://")):
        return ""
    return quote(url, safe="/:?#[]@!$&()*+,;=%~")


def excluded_csv(ledger: Ledger) -> str:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["kind", "file", "line", "row_id", "reason"])
    # Column by column, each distinct value made safe once: a 1M-battle board excludes ~100k
    # rows whose kind, file and reason take a handful of values.
    frame = ledger.excluded
    writer.writerows(zip(*(_safe_cells(frame[c].tolist()) for c in frame.columns), strict=True))
    return buf.getvalue()


def _safe_cells(values: list[object]) -> list[str]:
    done: dict[tuple[type, object], str] = {}
    out = []
    for value in values:
        key = (type(value), value)  # 1 and 1.0 are equal keys but different cells
        cell = done.get(key)
        if cell is None:
            cell = done[key] = safe_cell(value)
        out.append(cell)
    return out


def write_docs(
    docs: Path,
    pages: list[Page],
    standings: Standings,
    ledger: Ledger,
    source: Path | None,
    root: Path,
    stand_ins: bool = False,
) -> list[str]:
    """Fill the temporary docs folder; returns the hand-written pages to append to the nav.

    With `stand_ins`, the big downloads (site_downloads.FILES) are empty files of their names:
    a `site_downloads.Writer` makes the real ones, put in place after MkDocs copied these.
    """
    docs.mkdir(parents=True)
    extra: list[str] = []
    if source is not None:
        generated = {p.path for p in pages}
        files, refused = site_source_files(source, root)
        if refused:
            rel, why = refused[0]
            raise BuildError(f"{source.name}/{rel}: {why}; not copied into the site")
        for rel, file in files:
            if rel == "index.md":
                intro = file.read_text(encoding="utf-8")
                pages = [_with_intro(p, intro) if p.path == "index.md" else p for p in pages]
                continue
            if rel in generated:
                raise BuildError(
                    f"{source.name}/{rel}: this page is generated by prefboard; rename yours"
                )
            (docs / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, docs / rel)
            if rel.endswith(".md"):
                extra.append(rel)
    for page in pages:
        path = docs / page.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page.text, encoding="utf-8", newline="\n")
    assets = {
        f"{JS_DIR}/vega.js": vega_bundle(),
        f"{JS_DIR}/prefboard.js": _asset("prefboard.js"),
        f"{CSS_DIR}/prefboard.css": _asset("prefboard.css"),
        "downloads/standings.schema.json": schema_json(),
        "downloads/excluded.csv": excluded_csv(ledger),
    }
    for name, make in site_downloads.FILES.items():
        assets[f"downloads/{name}"] = "" if stand_ins else make(standings)
    for rel, text in assets.items():
        path = docs / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    return extra


def _with_intro(page: Page, intro: str) -> Page:
    """The maintainer's site_src/index.md goes under the generated home page's title."""
    title, _, rest = page.text.partition("\n")
    return Page(page.path, page.title, f"{title}\n\n{intro.strip()}\n{rest}")


def prepare(
    config: Config,
    standings: Standings,
    ledger: Ledger,
    pages: list[Page],
    root: Path,
    work: Path,
    versioned: bool = False,
    stand_ins: bool = False,
) -> Path:
    """Write the docs folder and the derived mkdocs.yml into `work`; returns the config file."""
    docs, site = work / "docs", work / "site"
    source = root / config.site.source
    extra = write_docs(docs, pages, standings, ledger, source, root, stand_ins)
    cfg = mkdocs_config(config, standings, pages, extra, docs, site, versioned)
    config_file = work / "mkdocs.yml"
    config_file.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), "utf-8")
    return config_file


def build_site(
    config: Config,
    standings: Standings,
    ledger: Ledger,
    pages: list[Page],
    root: Path,
    output: Path,
    versioned: bool = False,
) -> SiteSummary:
    """Build into a work folder and swap the result into `output`. The caller holds the board
    lock and has checked `output` (pipeline.build)."""
    with SiteBuild(config, standings, ledger, root, output, versioned) as started:
        return started.finish(pages)


class SiteBuild:
    """A site build begun before its pages exist: the work folder is taken and the downloads
    child forked at once, so that it serialises on the second core while this process renders
    the pages (pipeline.build starts it before render_pages) and then runs MkDocs. The child
    first runs `first` (pipeline.build: the model pages), whose result `first_result` returns.
    `finish` builds and swaps; leaving the `with` block stops an unfinished child and frees
    the folder."""

    def __init__(
        self,
        config: Config,
        standings: Standings,
        ledger: Ledger,
        root: Path,
        output: Path,
        versioned: bool = False,
        first: site_downloads.Job | None = None,
    ) -> None:
        self.config, self.standings, self.ledger = config, standings, ledger
        self.root, self.versioned = root, versioned
        self.output = output if output.is_absolute() else root / output
        area = workspace.work_area(self.output)
        workspace.clean_stale(area, self.output)
        workspace.check_replaceable(self.output)
        self.work: workspace.Work | None = workspace.new_work(area)
        self.downloads: site_downloads.Writer | None = None
        try:
            folder = self.work.path / "downloads"
            self.downloads = site_downloads.Writer(standings, folder, first=first)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> SiteBuild:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def first_result(self) -> object:
        """What the child's first job returned (see site_downloads.Writer.first_result)."""
        assert self.downloads is not None, "first_result after close"
        return self.downloads.first_result()

    def finish(self, pages: list[Page]) -> SiteSummary:
        """Write the docs folder, run MkDocs, put the downloads in and swap the site in."""
        assert self.downloads is not None and self.work is not None, "finish after close"
        work = self.work.path
        config_file = prepare(
            self.config,
            self.standings,
            self.ledger,
            pages,
            self.root,
            work,
            self.versioned,
            stand_ins=True,
        )
        workspace.pause_point("mkdocs")
        run_mkdocs(config_file, data_epoch(self.standings))
        site = work / "site"
        self.downloads.finish(site / "downloads")
        # The file just written, not a second serialisation (tens of MB at 300 models).
        written = (site / "downloads" / "standings.json").read_bytes()
        stamp = hashlib.sha256(written).hexdigest()[:16]
        (site / "build-stamp.txt").write_text(stamp + "\n", encoding="utf-8")
        workspace.mark(site)
        files = sum(1 for p in site.rglob("*") if p.is_file())
        extra = sum(1 for p in (work / "docs").rglob("*.md")) - len(pages)
        workspace.pause_point("swap")
        workspace.check_replaceable(self.output)
        workspace.swap(site, self.output, work)
        workspace.pause_point("swapped")
        charts = sum(p.text.count('class="pb-chart"') for p in pages)
        return SiteSummary(self.output, pages=len(pages) + extra, charts=charts, files=files)

    def close(self) -> None:
        """Kill an unfinished downloads child and remove the work folder; idempotent."""
        if self.downloads is not None:
            self.downloads.stop()
            self.downloads = None
        if self.work is not None:
            workspace.release(self.work)
            self.work = None
