"""The built site as files: reproducible, escaped, private (kills and locks: test_site_swap)."""

from __future__ import annotations

import datetime
import hashlib
import os
import time
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import mkdocs.utils
import pytest
from click.testing import CliRunner

from prefboard import pipeline
from prefboard.cli import cli
from prefboard.io.paths import WORK_AREA
from prefboard.io.workspace import WORK_PREFIX
from tests.conftest import copy_site, once, small_board, small_board_with_url


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_two_builds_are_byte_identical(
    tiny: Path, tiny_site: Path, tmp_path: Path, monkeypatch
) -> None:
    toml = small_board(tiny)
    # The first build is the session's (of another copy of this board, earlier); the second
    # runs from here, an hour "later" on every clock a build could read (time.time for gzip
    # headers, datetime.now for MkDocs' dates), so a clock- or path-based stamp would differ.
    real_time = time.time

    class _Later(datetime.datetime):
        @classmethod
        def now(cls, tz: datetime.tzinfo | None = None) -> _Later:  # type: ignore[override]
            return cls.fromtimestamp(real_time() + 3600, tz)

    monkeypatch.setattr(time, "time", lambda: real_time() + 3600)
    monkeypatch.setattr(mkdocs.utils, "datetime", _Later)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    pipeline.build(toml, tmp_path / "two")
    # The data's date stamps this build only: left in the environment, it stamped every later
    # build in the process with this board's date (a test building another board after this
    # one got a different sitemap.xml.gz from a fresh build of it).
    assert "SOURCE_DATE_EPOCH" not in os.environ
    one, two = tree_hashes(tiny_site), tree_hashes(tmp_path / "two")
    assert one.keys() == two.keys()
    differing = [k for k in one if one[k] != two[k]]
    assert differing == []


def test_failed_build_keeps_previous_site(tiny: Path, tiny_site: Path, tmp_path: Path) -> None:
    toml = small_board(tiny)
    out = copy_site(tiny_site, tmp_path / "site")  # what a build of this board left there
    before = tree_hashes(out)
    battles = tiny / "results" / "battles" / "battles.csv"
    battles.write_text(battles.read_text().replace("cobalt-large", "nope"))
    result = CliRunner().invoke(cli, ["build", "--config", str(toml), "--out", str(out)])
    assert result.exit_code == 2
    assert tree_hashes(out) == before
    assert not list((tmp_path / WORK_AREA).glob(WORK_PREFIX + "*"))


HOSTILE = "<script>alert(1)</script>"


class Executable(HTMLParser):
    """Collects markup a browser would run: script elements holding JavaScript that mentions
    alert, on* handlers, javascript: URLs, and the <img>/<b> the inputs tried to smuggle in.

    Browsers parse <title> as text (RCDATA), so tags inside it are skipped, and the inline
    chart specs are `type="application/json"` data blocks, which never run."""

    def __init__(self) -> None:
        super().__init__()
        self.hits: list[str] = []
        self.script_js = False
        self.in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.in_title:
            return
        if tag == "title":
            self.in_title = True
        if tag == "script":
            self.script_js = dict(attrs).get("type") in (None, "", "text/javascript", "module")
        if tag == "img" and ("src", "x") in attrs:
            self.hits.append("img")
        if tag == "b":
            self.hits.append("b")
        for name, value in attrs:
            if name.startswith("on") and "alert" in (value or ""):
                self.hits.append(f"{tag}.{name}")
            if name in ("href", "src") and (value or "").strip().lower().startswith("javascript:"):
                self.hits.append(f"{tag}.{name}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag == "script":
            self.script_js = False

    def handle_data(self, data: str) -> None:
        if self.script_js and not self.in_title and "alert(" in data:
            self.hits.append("script")


def test_hostile_text_is_escaped_in_the_built_site(tiny: Path, tmp_path: Path) -> None:
    toml = small_board(tiny)
    text = toml.read_text()
    text = text.replace(
        'title = "Tiny board"',
        f'title = "Tiny {HOSTILE}"\n'
        f'description = "[x](javascript:alert(2)) {{{{ 7*7 }}}} {HOSTILE}"',
    )
    text = text.replace(
        'key = "aurora-7b"',
        f'key = "aurora-7b"\nname = "Aurora {HOSTILE}"\n'
        'organization = "<img src=x onerror=alert(3)>"\nurl = "javascript:alert(4)"',
    )
    text = text.replace('attribute = "country"', 'attribute = "country"\nlabel = "<b>Country</b>"')
    toml.write_text(text)
    out = tmp_path / "site"
    pipeline.build(toml, out)
    for page in out.rglob("*.html"):
        found = Executable()
        found.feed(page.read_text())
        assert found.hits == [], page
    home = (out / "index.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in home
    assert "49" not in home.split("Tiny")[1][:200]  # Jinja syntax stays literal


def _build_url_and_formula_board(root: Path) -> None:
    """`small_board` with a site_url (so the 404 page's links are absolute) and a battle whose
    id is a spreadsheet formula (excluded: 1 turn), built into `site`."""
    tiny = root / "tiny"
    toml = small_board_with_url(tiny)
    battles = tiny / "results" / "battles" / "battles.csv"
    battles.write_text(
        battles.read_text()
        + '=HYPERLINK("http://x"),2026-09-01T12:00:00Z,p0001,aurora-7b,delta-mini,1,a,,,,,\n'
    )
    pipeline.build(toml, root / "site")


@pytest.fixture
def url_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build, read by the downloads and the links tests (neither changes it): once per
    run, whichever worker gets there first."""
    return once(tmp_path_factory, "site-url-formula", _build_url_and_formula_board) / "site"


def test_formula_cells_are_neutralised_in_downloads(url_site: Path) -> None:
    excluded = (url_site / "downloads" / "excluded.csv").read_text()
    assert "'=HYPERLINK" in excluded
    assert "\n=HYPERLINK" not in excluded and ",=HYPERLINK" not in excluded


class Links(HTMLParser):
    """Every href and src of a page, and every id it defines (the targets of #fragments)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)
            elif name == "id" and value:
                self.ids.add(value)


def broken_links(out: Path, url_path: str) -> list[tuple[str, str]]:
    """(page, link) for every internal link whose file or #anchor is not in the built site;
    absolute links (the 404 page's) are read against the site's URL path."""
    parsed: dict[Path, Links] = {}
    for page in sorted(out.rglob("*.html")):
        parsed[page] = Links()
        parsed[page].feed(page.read_text("utf-8"))
    broken = []
    for page, found in parsed.items():
        for link in found.links:
            parts = urllib.parse.urlsplit(link)
            if parts.scheme or link.startswith(("//", "data:")):
                continue
            path = urllib.parse.unquote(parts.path)
            if path.startswith("/"):
                target = out / path.removeprefix(url_path) if path.startswith(url_path) else None
            else:
                target = (page.parent / path).resolve() if path else page
            if target is not None and target.is_dir():
                target = target / "index.html"
            if target is None or not target.is_file():
                broken.append((page.relative_to(out).as_posix(), link))
            elif parts.fragment and target.suffix == ".html":
                ids = parsed[target.resolve()].ids if target.resolve() in parsed else set()
                if parts.fragment not in ids:
                    broken.append((page.relative_to(out).as_posix(), link))
    return broken


def test_every_internal_link_reaches_a_page_of_the_site(url_site: Path) -> None:
    """A reader never meets a 404 from a link of the site itself, the 404 page's own links
    included (they are absolute: its "home page" link once read /board//index.html)."""
    out = url_site.resolve()
    assert broken_links(out, "/board/") == []
    assert 'href="/board/index.html">home page</a>' in (out / "404.html").read_text("utf-8")
