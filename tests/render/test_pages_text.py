"""What a reader sees on the built tiny board: numbers in one format, labels instead of config
keys, a sentence instead of an empty table, the licence column and the dimension tabs, and the
data's date (or a plain statement when the import made the timestamps up)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from prefboard import pipeline
from prefboard.cli import cli
from prefboard.render.pages import render_pages
from tests.conftest import copy_board

TINY = Path(__file__).parent.parent / "fixtures" / "tiny"


def _board(root: Path) -> Path:
    """The tiny board with one licence, a labelled slice, and battle b000002 giving no verdict
    on Overall (so Overall counts fewer battles than were accepted)."""
    copy_board(TINY, root)
    toml = root / "leaderboard.toml"
    text = toml.read_text()
    text = text.replace('key = "overall"', 'key = "overall"\nlabel = "Overall"')
    text = text.replace('key = "aurora-7b"', 'key = "aurora-7b"\nlicense = "Apache-2.0"')
    text = text.replace(
        'attribute = "country"', 'attribute = "country"\nlabel = "Country of residence"'
    )
    toml.write_text(text)
    battles = next((root / "results" / "battles").glob("*.csv"))
    battles.write_text(battles.read_text().replace(",4,b,b,b,,tie,b", ",4,,b,b,,tie,b"))
    return toml


def _text(page: Path) -> str:
    """The article's text as a reader sees it: tags dropped, entities decoded, spaces folded."""
    body = page.read_text("utf-8")
    body = body[body.index("<article") : body.index("</article>")]
    body = re.sub(r"<script.*?</script>|<template>.*?</template>", "", body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("board") / "tiny"
    toml = _board(root)
    result = CliRunner().invoke(cli, ["build", "--config", str(toml)])
    assert result.exit_code == 0, result.output
    yield root / "site"


def test_home_says_why_it_counts_fewer_battles_than_were_accepted(site: Path) -> None:
    home = _text(site / "index.html")
    assert (
        "2 battles were accepted; each dimension's ranking counts the ones with a verdict on it "
        "(Overall: 1), because a battle may leave a dimension blank."
    ) in home
    assert "data through 2026-09-02: 2 accepted battles from 2 participants." in home


def test_home_table_has_a_licence_column_and_a_tab_per_dimension(site: Path) -> None:
    page = (site / "index.html").read_text("utf-8")
    labels = re.findall(r'<label for="__tabbed_1_\d">([^<]*)</label>', page)
    assert labels == [
        "Overall",
        "helpfulness",
        "communication",
        "adaptiveness",
        "trust_safety",
        "personality",
    ]
    assert page.count('title="Licence of the weights or the service">License</th>') == 6
    # aurora-7b has a licence; the other two show an em dash, never an empty cell
    overall = page[page.index("tabbed-block") : page.index("</table>")]
    cells = re.findall(r'</td><td class="pb-secondary">([^<]*)</td><td data-sort', overall)
    assert sorted(cells) == ["Apache-2.0", "—", "—"]


def test_ranges_are_one_rank_when_the_interval_is_one_rank(site: Path) -> None:
    """ "9–9" never appears: a one-rank interval prints as "9"."""
    for page in site.rglob("*.html"):
        text = _text(page) if "<article" in page.read_text("utf-8") else ""
        assert not re.search(r"(?<![\d.])(\d+)–\1(?![\d.])", text), page


def test_empty_tables_are_replaced_by_what_would_fill_them(site: Path) -> None:
    # the tiny board has 2 participants: no group reaches the default privacy threshold of 30
    group = _text(site / "groups" / "country.html")
    assert (
        "No group has reached 30 participants yet; groups appear here as participants join."
    ) in group
    assert (
        "No group has its own ranking yet: a group is ranked once 30 of its participants have "
        "battles."
    ) in group
    fairness = _text(site / "fairness.html")
    assert (
        "No group is published yet: a group appears once 30 participants from it have battles."
    ) in fairness
    model = _text(site / "models" / "aurora-7b.html")
    assert (
        "No published group has a battle of this model yet: a group appears once 30 of its "
        "participants have battles."
    ) in model
    for page in site.rglob("*.html"):
        assert not re.search(r"<tbody>\s*</tbody>", page.read_text("utf-8")), page


def test_slices_show_their_labels_not_their_keys(site: Path) -> None:
    fairness = (site / "fairness.html").read_text("utf-8")
    assert "<td>Country of residence</td>" in fairness
    assert "<td>country</td>" not in fairness
    methodology = _text(site / "methodology.html")
    assert "pooled skills of the joint cells of Country of residence" in methodology


def test_synthetic_timestamps_are_not_printed_as_dates(tmp_path: Path) -> None:
    """`import` without a timestamp column marks the board; the pages then say the dates are
    not recorded instead of "data through 2000-01-01"."""
    source = tmp_path / "votes.csv"
    source.write_text("l,r,w\nx,y,l\ny,z,r\nx,z,t\n")
    board = tmp_path / "board"
    flags = ["--model-a", "l", "--model-b", "r", "--winner", "w", "--winner-values", "l,r,t"]
    result = CliRunner().invoke(
        cli, ["import", "pairwise", str(source), "--into", str(board), *flags]
    )
    assert result.exit_code == 0, result.output
    toml = board / "leaderboard.toml"
    assert "\nsynthetic_timestamps = true\n" in toml.read_text()
    config, root = pipeline.load(toml)
    _, standings = pipeline.rate(config, root, toml)
    assert standings.provenance.synthetic_timestamps
    home = next(p for p in render_pages(standings) if p.path == "index.md").text
    assert "dates not recorded: 3 accepted battles" in home
    assert "data through" not in home


def test_column_and_setting_meanings_show_code_not_backticks(site: Path) -> None:
    data = (site / "data.html").read_text("utf-8")
    assert "<td><code>all</code> (every battle, pooled)" in data
    methodology = (site / "methodology.html").read_text("utf-8")
    table = methodology[methodology.index("Configuration reference") :]
    assert "`" not in table
    assert "<code>permutations</code>" in table
