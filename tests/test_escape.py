"""prefboard.render.escape: the one place untrusted text is made inert. Property tests show that the
Markdown escaping is lossless in MkDocs' Markdown (a reader sees exactly the original text) and
that titles never carry an HTML-special character; the CLI and browser tests show the effect."""

from __future__ import annotations

import html
import re

import markdown
from hypothesis import given
from hypothesis import strategies as st

from prefboard.render.escape import markdown_inline, printable, title_text

# The extensions site.mkdocs_config enables, and the three MkDocs always adds.
EXTENSIONS = ["admonition", "pymdownx.details", "attr_list", "toc", "tables", "fenced_code"]
# Letters, digits, every ASCII punctuation mark, spaces, and a few non-ASCII characters.
TEXT = st.text(
    alphabet=st.sampled_from("aZ09 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~é‹ß\u202e\x1b\n"),
    max_size=40,
)


def shown(fragment: str) -> str:
    """What a reader sees of a Markdown paragraph that MkDocs renders."""
    rendered = markdown.markdown(fragment, extensions=EXTENSIONS)
    assert rendered.startswith("<p>") and rendered.endswith("</p>"), rendered
    assert "<" not in rendered[3:-4], rendered  # no tag of any kind inside the paragraph
    return html.unescape(rendered[3:-4])


@given(TEXT)
def test_markdown_inline_shows_exactly_the_printable_text(value: str) -> None:
    assert shown(f"x {markdown_inline(value)} x") == f"x {printable(value)} x"


@given(TEXT)
def test_markdown_inline_leaves_no_template_or_autolink_syntax(value: str) -> None:
    out = markdown_inline(value)
    assert "{{" not in out and "{%" not in out and "{#" not in out
    # GitHub autolinks "scheme:", "www." and "user@host": none survive unescaped
    assert ":" not in out and "@" not in out and not re.search(r"www\.", out)


@given(TEXT)
def test_titles_carry_no_html_special_character(value: str) -> None:
    title = title_text(value)
    assert not set(title) & set("<>\"'")
    # every "&" is followed by a word joiner, so no entity (e.g. "&lt;") can form
    assert re.fullmatch(r"(?:[^&]|&\u2060)*", title)
    assert title.replace("\u2060", "") == printable(value).translate(
        str.maketrans({"<": "‹", ">": "›", '"': "”", "'": "’"})
    )


def test_printable_shows_controls_and_bidi_and_keeps_one_line() -> None:
    assert printable("a\nb\r\tc\u2028d") == "a b  c d"
    assert printable("x\x1b[2J\x07\x7f\x9b\u202e\u2066\u200fy") == (
        "x\\x1b[2J\\x07\\x7f\\x9b\\u202e\\u2066\\u200fy"
    )
    assert printable("naïve ‹model› 名前") == "naïve ‹model› 名前"


def test_code_spans_escape_first_then_mark_code() -> None:
    from prefboard.render.escape import code_spans

    assert str(code_spans("`all` or <b>{{x}}</b>")) == (
        "<code>all</code> or &lt;b&gt;&#123;&#123;x&#125;&#125;&lt;/b&gt;"
    )
    assert str(code_spans("`<script>`")) == "<code>&lt;script&gt;</code>"
