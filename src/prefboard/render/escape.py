"""Untrusted text made inert for every place prefboard shows it, written once.

Model names, labels, slice values, ids and file names come from pull requests and third-party
dumps. Each output context gets one function here, all starting from `printable`:

- `printable`: a terminal, a log, a CSV cell: no control character, no line break, no bidi
  control (Trojan Source, CVE-2021-42574: U+202E makes "evil‮txt.exe" read as "evilexe.txt").
- `markdown_inline`: text inside a Markdown paragraph, heading or table cell (MkDocs pages and the
  GitHub job summary): HTML-escaped, Markdown syntax escaped, braces as entities, and bare URLs
  broken so that GitHub's autolinker cannot make them clickable.
- `title_text`: page titles, nav titles and the site name, which Material for MkDocs prints
  unescaped in some templates and passes through `striptags` (which *unescapes* entities) in
  `<title>`: no escaping survives that, so `<`, `>` and quotes become look-alikes instead, and
  `&` can no longer start an entity.
"""

from __future__ import annotations

import re
import unicodedata

from markupsafe import Markup, escape

# Bidirectional embeddings, overrides, isolates and marks (U+202A–E, U+2066–9, U+200E/F, U+061C).
BIDI_CONTROLS = frozenset(
    chr(c) for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
)
# Line and paragraph breaks read as a space: the text stays readable and on one line.
_BREAKS = frozenset("\t\n\v\f\r\x1c\x1d\x1e\x85\u2028\u2029")
# Markdown syntax made literal in one pass. A backslash only for the characters both
# Python-Markdown (MkDocs) and CommonMark (GitHub) accept after one; an HTML entity for the
# rest, which Python-Markdown would otherwise show with its backslash. ":" and "@" too, and "."
# by backslash: "https&#58;//x", "www\.x" and "a&#64;b" are no autolinks on GitHub. Braces as
# entities: a backslash before "{" would still leave "{%" for a templating plugin.
_MARKDOWN = str.maketrans(
    {
        **{ch: "\\" + ch for ch in "\\`*_[]()#+-.!"},
        **{ch: f"&#{ord(ch)};" for ch in "|~$:@{}"},
        **{"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"},
    }
)
# Look-alikes for the characters HTML gives a meaning to; read the same, parse as text anywhere
# (and are in the fonts readers have). "&" stays, followed by an invisible WORD JOINER, so it can
# never start an entity such as "&lt;" that striptags would turn into "<".
_TITLE = str.maketrans({"<": "‹", ">": "›", '"': "”", "'": "’", "&": "&\u2060"})


# Every character `printable` changes: the breaks, category Cc (U+0000-001F, U+007F-009F) and
# the bidi controls. Text without one (nearly all of it) is returned as it is, without the
# per-character walk: a 100-model board's excluded.csv has ~1M cells.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029" + "".join(sorted(BIDI_CONTROLS)) + "]")


def _visible(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: object) -> str:
    """`value` as one line of plain text: line breaks become spaces, every other control
    character (ESC, BEL, DEL, C1) and every bidi control becomes a visible escape like `\\x1b`
    or `\\u202e`, so the reader sees what is really there and no terminal obeys it."""
    text = str(value)
    if not _UNPRINTABLE.search(text):
        return text
    out = []
    for ch in text:
        if ch in _BREAKS:
            out.append(" ")
        elif ch in BIDI_CONTROLS or unicodedata.category(ch) == "Cc":
            out.append(_visible(ch))
        else:
            out.append(ch)
    return "".join(out)


def capped(text: str, cap: int) -> str:
    """At most `cap` characters, the last one `…` when something was cut."""
    return text if len(text) <= cap else text[: cap - 1].rstrip() + "…"


def markdown_inline(value: object) -> str:
    """`printable`, then inert inside Markdown: HTML-escaped (so no tag) and Markdown syntax
    escaped (no link, autolink, emphasis, list, code, math, extra table cell or template
    syntax); MkDocs and GitHub both render it as the original text."""
    return printable(value).translate(_MARKDOWN)


def title_text(value: object) -> str:
    """`printable`, with the HTML-special characters replaced by look-alikes (‹ › ” ’, and "&"
    kept from starting an entity): plain text that is inert whether Material prints it raw,
    escaped or through striptags."""
    return printable(value).translate(_TITLE)


_CODE_SPAN = re.compile(r"`([^`]+)`")


def code_spans(value: object) -> Markup:
    """Prose of our own (field descriptions) for an HTML cell, where Markdown does not run:
    escaped first, then each `span` shown as <code>, as it reads in the README."""
    escaped = str(escape(printable(value))).replace("{", "&#123;").replace("}", "&#125;")
    return Markup(_CODE_SPAN.sub(r"<code>\1</code>", escaped))
