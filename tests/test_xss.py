"""Contributor text in every output stays text: the built site (every HTML page, the search
index, the downloads), the "What changed" page, the job-summary Markdown and the terminal.

One board carries script payloads in every configured string (tests/fixtures/hostile/
config-xss-every-field.toml) and a battles file whose *name* carries template syntax, a bare URL,
a bidi override and an escape sequence. It is built through the CLI exactly as a maintainer does,
with a previous version for the "What changed" page; each test reads the result as a browser,
GitHub or a terminal would. The browser itself is driven in test_browser_xss.py.
"""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from prefboard.cli import cli
from tests.conftest import copy_board

FIXTURES = Path(__file__).parent / "fixtures"
HOSTILE = FIXTURES / "hostile"
# A file name GitHub would autolink, a template engine would run and a terminal would obey.
# (short enough that the diff's 80-character cap keeps all of it)
EVIL_FILE = "{{1}}{%x%} www.evil.example a@evil.example\u202egnp\x1b[31m.csv"
SHOWN = "results/battles/{{1}}{%x%} www.evil.example a@evil.example\\u202egnp\\x1b[31m.csv"
BIDI = "\u202e"


def make_board(dest: Path) -> Path:
    """tests/fixtures/tiny with the payload config and a slice value carrying markup."""
    copy_board(FIXTURES / "tiny", dest)
    shutil.copyfile(HOSTILE / "config-xss-every-field.toml", dest / "leaderboard.toml")
    shutil.copyfile(
        HOSTILE / "participants-xss-slice-value.csv", dest / "results" / "participants.csv"
    )
    return dest


def run(*args: str) -> str:
    # color=True: a terminal, where click would not strip escape sequences for us
    result = CliRunner().invoke(cli, list(args), color=True, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def build_hostile(root: Path) -> None:
    """The hostile board rated into `previous/`, then (the evil battles file added) built into
    `site/` against it. Built once per run (`xss_built` in conftest.py): test_browser_xss.py
    serves the same site."""
    board = make_board(root / "board")
    config = str(board / "leaderboard.toml")
    run("rate", "--config", config, "--out", str(root / "previous"))
    shutil.copyfile(HOSTILE / "battles-xss-valid-row.csv", board / "results/battles" / EVIL_FILE)
    site = root / "site"
    run("build", "--config", config, "--out", str(site), "--previous", str(root / "previous"))


@pytest.fixture
def built(xss_built: Path) -> dict[str, Path]:
    return {"root": xss_built, "board": xss_built / "board", "site": xss_built / "site"}


class Page(HTMLParser):
    """What a browser would build from one document: tags with attributes, script bodies, the
    <title> and the visible text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []  # the bodies of scripts a browser would run
        self.title = ""
        self._text: list[str] = []
        self._in: str | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in ("script", "title") else None
        if tag == "script" and dict(attrs).get("type") == "application/json":
            self._in = "data"  # a chart spec or Material's config: never run
        elif tag == "script":
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts[-1] += data
        elif self._in == "title":
            self.title += data
        self._text.append(data)

    @property
    def text(self) -> str:
        return "".join(self._text)

    def problems(self) -> list[str]:
        """Every trace of a payload that became markup instead of text."""
        # (the 404 page's script quotes the canonical URL, percent-encoded: inert)
        scripts = [s.replace("%3Cimg%20src=x%20onerror=alert(5)%3E", "") for s in self.scripts]
        found = [f"script {s[:60]!r}" for s in scripts if "alert(" in s]
        for tag, attrs in self.tags:
            if tag in ("img", "iframe", "textarea") or (tag == "svg" and "onload" in attrs):
                found.append(f"<{tag} {attrs}>")
            found += [f"<{tag} {name}=…>" for name in attrs if name.startswith("on")]
            for name in ("href", "src"):
                if (attrs.get(name) or "").replace(" ", "").lower().startswith("javascript:"):
                    found.append(f"<{tag} {name}={attrs[name]}>")
        if "<" in self.title or ">" in self.title:
            found.append(f"markup in <title>: {self.title!r}")
        return found


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_no_page_of_the_built_site_carries_markup_from_data(built: dict[str, Path]) -> None:
    pages = html_pages(built["site"])
    assert len(pages) > 20  # every generated page and the 404 page
    for page in pages:
        raw = page.read_text("utf-8")
        assert Page(raw).problems() == [], page.relative_to(built["site"])
        assert BIDI not in raw and "\x1b" not in raw, page
        # the canonical link cannot end its attribute: quotes and brackets are percent-encoded
        if page.name != "404.html":
            assert '<link rel="canonical" href="https://a.example/%22%3E%3Cimg%20src=x' in raw


def test_titles_are_look_alikes_and_the_body_keeps_the_real_name(built: dict[str, Path]) -> None:
    site = built["site"]
    model = Page((site / "models/aurora-7b.html").read_text("utf-8"))
    site_name = "‹/title›‹img src=x onerror=alert(1)› ”q” &\u2060 board"
    assert model.title == f"‹/title›‹img src=x onerror=alert(3)› - {site_name}"
    # the page's own heading shows the name exactly as configured, as text
    assert "</title><img src=x onerror=alert(3)>" in model.text
    home = Page((site / "index.html").read_text("utf-8"))
    assert home.title == site_name
    assert "<img src=x onerror=alert(2)> <script>alert(2)</script> {{ 7*7 }}" in home.text
    helpfulness = Page((site / "dimensions/helpfulness.html").read_text("utf-8"))
    assert helpfulness.title.startswith("” onmouseover=”alert(11) - ")
    # an entity in a name is shown as typed, not decoded into a tag
    delta = Page((site / "models/delta-mini.html").read_text("utf-8"))
    assert "&lt;img src=x onerror=alert(13)&gt;" in delta.text
    assert delta.title.startswith("&\u2060lt;img src=x onerror=alert(13)&\u2060gt; - ")
    # a bidi override and an escape sequence are shown, not obeyed
    cobalt = Page((site / "models/cobalt-large.html").read_text("utf-8"))
    assert "cobalt\\u202eegral {{ 7*7 }} \\x1b[31m" in cobalt.text


def test_search_index_holds_only_text(built: dict[str, Path]) -> None:
    # Material's search results insert title and text as HTML
    index = json.loads((built["site"] / "search/search_index.json").read_text("utf-8"))
    assert index["config"]
    for doc in index["docs"]:
        for field in ("title", "text"):
            assert Page(doc[field]).problems() == [], (doc["location"], field)
    titles = {d["location"]: d["title"] for d in index["docs"]}
    assert titles["models/aurora-7b.html"] == "&lt;/title&gt;&lt;img src=x onerror=alert(3)&gt;"


def test_downloads_show_bidi_and_control_characters(built: dict[str, Path]) -> None:
    downloads = built["site"] / "downloads"
    for name in ("standings.csv", "ratings.csv", "excluded.csv"):
        text = (downloads / name).read_text("utf-8")
        assert BIDI not in text and "\x1b" not in text, name


def test_what_changed_page_renders_its_details_and_keeps_file_names_inert(
    built: dict[str, Path],
) -> None:
    raw = (built["site"] / "changes.html").read_text("utf-8")
    page = Page(raw)
    assert page.problems() == []
    # the details are a collapsed block with real tables, not Markdown shown as text
    details = raw[raw.index("<details") : raw.index("</details>")]
    assert "<summary>Details</summary>" in details and "<table>" in details
    assert "|---|" not in raw and "#### " not in raw
    assert SHOWN in page.text
    # no template syntax from the file name left in the source, no link to the URL in it
    assert "{{" not in details and "{%" not in details
    assert not [a for t, a in page.tags if t == "a" and "evil" in (a.get("href") or "")]


def test_job_summary_markdown_has_no_bare_url_or_raw_controls(built: dict[str, Path]) -> None:
    new = built["site"] / "downloads" / "standings.json"
    out = run("diff", str(built["root"] / "previous"), str(new), "--format", "markdown")
    assert "results/battles/&#123;&#123;1&#125;&#125;&#123;%x%&#125; " in out
    # GitHub autolinks "www.…", "https://…" and e-mail addresses in text; with ".", ":", "/"
    # and "@" escaped there is no URL left to find
    assert "www\\.evil\\.example a&#64;evil\\.example\\\\u202egnp\\\\x1b\\[31m\\.csv" in out
    assert not re.search(r"www\.evil|@evil|evil\.example", out)
    assert "{{" not in out and "{%" not in out
    assert BIDI not in out and "\x1b" not in out
    text = run("diff", str(built["root"] / "previous"), str(new))
    assert BIDI not in text and "\x1b" not in text
    assert SHOWN in text


# -- the terminal ------------------------------------------------------------------------------

# A name that, printed raw, ends the problem line, forges a clean summary, sets the terminal
# title (OSC), clears the screen and reverses what follows.
FORGED = "x\n0 problem(s), 0 warning(s)\x1b]0;pwned\x07\x1b[2J\u202egnp.csv"


@pytest.fixture
def forged_board(tmp_path: Path) -> Path:
    board = make_board(tmp_path / "board")
    shutil.copyfile(HOSTILE / "battles-xss-bad-outcome.csv", board / "results/battles" / FORGED)
    return board


def validate(board: Path, *args: str) -> list[str]:
    config = str(board / "leaderboard.toml")
    result = CliRunner().invoke(cli, ["validate", "--config", config, *args], color=True)
    assert result.exit_code == 2, result.output
    for ch in ("\x1b", "\x07", "\r", BIDI):
        assert ch not in result.output
    return result.output.splitlines()


def test_validate_text_shows_a_hostile_file_name_on_one_line(forged_board: Path) -> None:
    lines = validate(forged_board)
    shown = "results/battles/x 0 problem(s), 0 warning(s)\\x1b]0;pwned\\x07\\x1b[2J\\u202egnp.csv"
    assert lines[0] == (
        f"{shown}:2:7: outcome: 'forged' is not one of a, b, tie or empty; a means model_a was "
        "preferred, b model_b, tie neither"
    )
    assert [line for line in lines if line.startswith(("0 problem", "1 problem"))] == [
        "1 problem(s), 0 warning(s)"
    ]


def test_validate_github_annotations_cannot_be_forged(forged_board: Path) -> None:
    lines = validate(forged_board, "--format", "github")
    commands = [line for line in lines if line.startswith("::")]
    assert commands == [
        "::error file=results/battles/x 0 problem(s)%2C 0 warning(s)\\x1b]0;pwned\\x07\\x1b[2J"
        "\\u202egnp.csv,line=2,col=7,title=outcome::'forged' is not one of a, b, tie or empty; "
        "a means model_a was preferred, b model_b, tie neither"
    ]
    assert lines[-1] == "1 problem(s), 0 warning(s)"


def test_an_error_naming_a_hostile_path_stays_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "x\x1b]0;pwned\x07y"
    result = CliRunner().invoke(
        cli, ["validate", "--config", str(folder / "leaderboard.toml")], color=True
    )
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {tmp_path}/x\\x1b]0;pwned\\x07y/leaderboard.toml:0:0: config-missing: "
        "no such file\n"
    )
