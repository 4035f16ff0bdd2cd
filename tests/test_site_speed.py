"""What makes a many-model site build faster changes nothing a reader sees: the generated pages'
raw HTML blocks skip Python-Markdown's HTML parsers (prefboard.site_markdown) with byte-identical
output; long tables stay out of the search index but on the page (prefboard.site_search); the
Vega bundle is made once per vl-convert version (site.vega_bundle)."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace

import markdown
import pytest
import vl_convert

from prefboard import site, site_search
from prefboard.render.pages import Page, render_pages
from prefboard.standings.model import Standings

# What the derived mkdocs.yml asks for, plus the two MkDocs always adds.
EXTENSIONS = ["admonition", "pymdownx.details", "attr_list", "toc", "tables", "fenced_code"]


def _both(text: str) -> tuple[str, str]:
    plain = markdown.markdown(text, extensions=EXTENSIONS)
    return plain, markdown.markdown(text, extensions=[*EXTENSIONS, "prefboard.site_markdown"])


def test_generated_pages_convert_byte_identically(tiny_standings: Standings) -> None:
    for page in render_pages(tiny_standings):
        plain, stashed = _both(page.text)
        assert stashed == plain, page.path


@pytest.mark.parametrize(
    "text",
    [
        # a table and a chart container, then a heading
        'p\n\n<table>\n<tr><td>1</td></tr>\n</table>\n\n## H\n\n<div id="c"><p>x</p></div>\n',
        # nested blocks across lines (the tabbed rankings)
        '<div class="a">\n<div>\n<table><tr><td>1</td></tr></table>\n</div>\n</div>\n\nend',
        # text right after the closing tag: left to Python-Markdown
        "<table>\n<tr><td>1</td></tr>\n</table>\nafter *it*\n\nnext",
        # a blank line inside an open block: left to Python-Markdown
        "<div>\n<p>a</p>\n\n<p>b</p>\n</div>\n\n*em*",
        # an inline tag, a paragraph's second line, an indented block, a fenced one
        "<span>x</span>\n\ntext\n<table><tr><td>1</td></tr></table>\n\n    <table></table>\n",
        "```\n<table><tr><td>1</td></tr></table>\n```\n",
        # never closed
        "<table>\n<tr><td>1</td></tr>\n\nrest",
        # what the whitespace normaliser or the fence finder would change: stashed late
        "<table>\n<tr><td>\t1</td></tr>\n</table>\n\nx\n",
        "a\r\n\r\n<div>\n<p>x</p>\n</div>\r\n\r\nb",
        "<div>\n<p>a\x02b\x00</p>\n</div>\n\nz",
        "<div>\n<p>x</p>\n</div>\n\n~~~\n<div>\n</div>\n~~~\n",
        # lines of spaces around and after blocks, a block as the last line
        "p\n   \n<table>\n<tr><td>1</td></tr>\n</table>\n  \n## H\n\n<div><p>e</p></div>",
        # inline HTML in prose (placeholders inside a paragraph, and a paragraph of one), a
        # comment, a processing instruction, an entity: the raw-HTML postprocessor's cases
        "a <span>x</span> b <b>y</b>\n\n<span>alone</span>\n\n<!-- c -->\n\n<?php x ?>\n\n&amp; z",
        "<div>\n<p>x</p>\n</div>\n\n<em>e</em>\n\n<div markdown>\n*m*\n</div>\n\n<hr>",
    ],
)
def test_odd_blocks_convert_byte_identically(text: str) -> None:
    plain, stashed = _both(text)
    assert stashed == plain


def test_raw_html_placeholders_nested_in_a_stashed_block_are_replaced() -> None:
    # A block holding a placeholder (an extension stashed HTML inside HTML): replaced as
    # Python-Markdown's own postprocessor does; one holding none is put back untouched.
    from prefboard.site_markdown import _RawHtml

    texts = []
    for processor in (markdown.postprocessors.RawHtmlPostprocessor, _RawHtml):
        md = markdown.Markdown()
        inner = md.htmlStash.store("<b>inner</b>")
        outer = md.htmlStash.store(f"<div>{inner}</div>")
        plain = md.htmlStash.store("<i>no placeholder</i>")
        texts.append(processor(md).run(f"<p>{outer}</p>\n<p>{plain}</p>\nx {inner}"))
    assert (
        texts[0]
        == texts[1]
        == "<div><b>inner</b></div>\n<p><i>no placeholder</i></p>\nx <b>inner</b>"
    )


def test_stashed_blocks_keep_their_anchor_ids() -> None:
    md = markdown.Markdown(extensions=["prefboard.site_markdown"])
    collected: set[str] = set()
    collector = SimpleNamespace(present_anchor_ids=collected, run=lambda lines: lines)
    md.preprocessors.register(collector, "mkdocs_raw_html", 21)  # as MkDocs registers it
    md.convert('<div id="chart-a&amp;b"><p><a name="n">x</a></p></div>\n')
    assert collected == {"chart-a&b", "n"}


def test_plain_pages_hide_their_blocks_from_the_whitespace_normaliser() -> None:
    md = markdown.Markdown(extensions=[*EXTENSIONS, "prefboard.site_markdown"])
    seen: list[str] = []
    spy = SimpleNamespace(run=lambda lines: seen.extend(lines) or lines)
    md.preprocessors.register(spy, "spy", 30.5)  # just before the normaliser
    html = md.convert("Intro\n\n<table>\n<tr><td>Borealis</td></tr>\n</table>\n\n*end*\n")
    assert "<tr><td>Borealis</td></tr>" in html and "<em>end</em>" in html
    assert not any("Borealis" in line for line in seen)


def _table(rows: int) -> str:
    return "<table><tbody>" + "<tr><td>Borealis</td></tr>" * rows + "</tbody></table>"


def test_search_sees_short_tables_and_the_page_keeps_long_ones() -> None:
    html = f"<p>prose</p>{_table(site_search.SEARCH_TABLE_ROWS)}<p>more</p>" + _table(
        site_search.SEARCH_TABLE_ROWS + 1
    )
    page = SimpleNamespace(file=SimpleNamespace(src_uri="groups/age.md"), content="")
    page.content = site_search.on_page_content(html, page=page, config={}, files=None)
    assert page.content == f"<p>prose</p>{_table(site_search.SEARCH_TABLE_ROWS)}<p>more</p>"
    context = site_search.on_page_context({"page": page}, page=page, config={}, nav=None)
    assert context["page"].content == html


def test_a_page_indexed_whole_is_never_replaced_by_an_earlier_build() -> None:
    page = SimpleNamespace(file=SimpleNamespace(src_uri="index.md"), content="")
    site_search.on_page_content(_table(site_search.SEARCH_TABLE_ROWS + 1), page=page)
    # that build stopped before the page was written; the next one has a short page
    page.content = site_search.on_page_content("<p>short</p>", page=page)
    site_search.on_page_context({"page": page}, page=page)
    assert page.content == "<p>short</p>"


def test_vega_bundle_is_made_once_then_read_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    made = site.vega_bundle()
    cached = tmp_path / "prefboard" / f"vega-bundle-{version('vl-convert-python')}.js"
    assert cached.read_bytes() == made.encode() == vl_convert.javascript_bundle().encode()

    def no_bundling() -> str:
        raise AssertionError("bundled again")

    monkeypatch.setattr(vl_convert, "javascript_bundle", no_bundling)
    assert site.vega_bundle() == made
    assert sorted(p.name for p in cached.parent.iterdir()) == [cached.name]  # no partial file


def test_a_cut_short_cached_bundle_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache file emptied or truncated (a full disk, a hand edit) would leave every chart
    blank: it is ignored and replaced by a whole bundle."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cached = tmp_path / "prefboard" / f"vega-bundle-{version('vl-convert-python')}.js"
    whole = vl_convert.javascript_bundle()
    for broken in (b"", whole[: len(whole) // 2].encode()):
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(broken)
        assert site.vega_bundle() == whole
        assert cached.read_bytes() == whole.encode()


def test_an_unwritable_cache_folder_still_gives_the_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert site.vega_bundle() == vl_convert.javascript_bundle()


def _index(content: str) -> list[tuple[str | None, str, str]]:
    """What Material's search plugin takes from a page: each section's id, title and text."""
    from material.plugins.search.plugin import Parser

    parser = Parser()
    parser.feed(content)
    parser.close()
    return [(s.id, "".join(s.title), "".join(s.text)) for s in parser.data]


def _searched(content: str, src_uri: str = "models/m.md", config: object = None) -> str:
    page = SimpleNamespace(file=SimpleNamespace(src_uri=src_uri), content=content)
    return site_search.on_page_content(content, page=page, config=config, files=None)


def test_search_indexes_generated_pages_the_same_with_fewer_tags(
    tiny_standings: Standings,
) -> None:
    """The short tables are shown to the search plugin as their text alone: the index of every
    generated page is the same as from the whole tables, from a fraction of the tags."""
    tags = flat_tags = 0
    for page in render_pages(tiny_standings):
        content = markdown.markdown(page.text, extensions=EXTENSIONS)
        shown = site_search._short_tables_only(content)
        flat = _searched(content, page.path)
        assert _index(flat) == _index(shown), page.path
        tags, flat_tags = tags + shown.count("<"), flat_tags + flat.count("<")
    assert flat_tags < tags / 2


@pytest.mark.parametrize(
    "content",
    [
        # entities, a line break in a cell, empty cells, whitespace runs, a link, a void tag
        "<h2 id='a'>A</h2>\n<table>\n<tr><td>a &amp; b</td><td>x\ny</td><td></td></tr>\n"
        "<tr><td> </td><td><a href='#'>l</a><br>z</td></tr>\n</table>\n<p>after</p>",
        # a table right after a tag, text right after a table, a table opening the page
        "<p>x</p><table><tr><td>1</td></tr></table>tail",
        "<table><tr><td>1</td></tr></table>\n<table>\n<tr><td>2</td></tr></table>\n",
        # kept tags (code), an unbalanced table, a nested table: indexed as they are
        "<p>x</p>\n<table><tr><td><code>c</code></td></tr></table>\n",
        "<p>x</p>\n<table><tr><td>1</td></table>\n",
        "<p>x</p>\n<table><tr><td><table><tr><td>1</td></tr></table></td></tr></table>\n",
        # a heading inside another element: a section that may close mid-table
        "<div><h2 id='d'>D</h2></div>\n<table><tr><td>1</td></tr></table>\n<p>p</p>",
        # inside a block, excluded from search
        "<div>\n<table><tr><td>1</td></tr></table>\n</div>",
        "<div data-search-exclude>\n<table><tr><td>1</td></tr></table>\n</div>\n<p>q</p>",
        # chart data (shown empty), one holding what looks like markup, one holding a "<"
        '<script type="application/json">{"a":"x data-search-b=\\"1\\" \\u003ctable"}</script>'
        "\n<h2 id='s'>S</h2>\n<table><tr><td>1</td></tr></table>\n",
        '<p>x</p><script type="application/json">{"a":"<b>y</b>"}</script>\n<p>z</p>',
    ],
)
def test_flattened_tables_index_as_the_whole_tables(content: str) -> None:
    assert _index(_searched(content)) == _index(content)


def test_hand_written_pages_are_indexed_as_written() -> None:
    content = "<p>x</p>\n<table><tr><td>1</td></tr></table>\n"
    config = {"extra": {"prefboard_editable": ["about.md"]}}
    assert _searched(content, "about.md", config) == content
    assert _searched(content, "models/m.md", config) != content


def test_a_page_put_back_loses_the_search_attributes_as_material_strips_them() -> None:
    content = '<p data-search-exclude="1">hidden</p>\n<table><tr><td>1</td></tr></table>\n'
    page = SimpleNamespace(file=SimpleNamespace(src_uri="models/m.md"), content="")
    page.content = _searched(content)
    site_search.on_page_context({"page": page}, page=page)
    assert page.content == "<p>hidden</p>\n<table><tr><td>1</td></tr></table>\n"


def test_chart_data_is_hidden_from_search_and_kept_on_the_page() -> None:
    content = (
        '<h2 id="c">Chart</h2>\n<div class="pb-chart" id="chart-a">'
        '<script type="application/json">{"data":"Borealis,1"}</script></div>\n'
    )
    page = SimpleNamespace(file=SimpleNamespace(src_uri="models/m.md"), content="")
    page.content = _searched(content)
    assert "Borealis" not in page.content
    assert _index(page.content) == _index(content)
    site_search.on_page_context({"page": page}, page=page)
    assert page.content == content


def test_model_pages_made_elsewhere_take_their_place(tiny_standings: Standings) -> None:
    """The build renders the model pages in its forked child and hands them to render_pages,
    which asks for them after the other pages: the list is the same as made in one go."""
    from prefboard.render.pages import model_pages

    asked: list[str] = []

    def made() -> list[Page]:
        asked.append("models")
        return model_pages(tiny_standings)

    whole = render_pages(tiny_standings)
    assert render_pages(tiny_standings, None, made) == whole
    assert asked == ["models"]
    # in the site-map place: after the categories, before the ratings and reference pages
    made_paths = [p.path for p in model_pages(tiny_standings)]
    paths = [p.path for p in whole]
    first = paths.index("models/index.md")
    assert paths[first : first + len(made_paths)] == made_paths
