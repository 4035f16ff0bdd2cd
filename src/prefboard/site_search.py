"""MkDocs hooks (listed by file in the derived mkdocs.yml): the search index leaves out the
rows of very long tables.

Material's search plugin runs Python's HTML parser over every page's full HTML. At 100 models
the ranking and group tables are most of ~16 MB of HTML, and what the index kept of them was
their cells glued together ("11Borealis 70BNorthwind LabsApache-2.0 31.00..."), which a search
for a model or organisation name does not match. So the search plugin is shown each page
without its tables of more than SEARCH_TABLE_ROWS rows, and the page is put back whole before
it is written: readers see every table; search finds the page by its headings, prose and
shorter tables, as before.
"""

from __future__ import annotations

import html
import re
from typing import Any

from mkdocs.plugins import event_priority

#: Tables with more rows than this stay out of the search index (a 12-model board's ranking
#: tables stay in; a 100-model board's do not).
SEARCH_TABLE_ROWS = 60

_TABLE = re.compile(r"<table[\s>].*?</table>", re.DOTALL)
_WHOLE: dict[str, str] = {}
# as material/plugins/search/plugin.py removes them in on_page_context
_SEARCH_ATTRIBUTE = re.compile(r"\s?data-search-\w+=\"[^\"]+\"")


def _short_tables_only(page: str) -> str:
    return _TABLE.sub(lambda m: m[0] if m[0].count("<tr") <= SEARCH_TABLE_ROWS else "", page)


# Material's parser costs ~30 µs per tag, and a 300-model board's model pages hold ~150,000
# tags in short tables. What the index keeps of a table is only its text: each run of text
# between tags (entities decoded), line breaks as spaces, a whitespace run as one space unless
# the text so far ends in one. A table at the top level of a generated page, after whitespace,
# holding only the plain tags below, is shown to the parser as that text in one <span>: the
# index is byte-identical (tests/test_site_speed.py compares both on real pages).
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)(?:\s[^<>]*)?>")
_PLAIN = frozenset(
    {"table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col"}
    | {"a", "span", "strong", "em", "b", "i", "abbr", "small", "br"}
)
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta"})
_VOID |= {"param", "source", "track", "wbr"}  # Material's list (material/plugins/search)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


def _flat_table(table: str) -> str | None:
    """What Material's parser would index of `table` after whitespace, as one text run (None
    when the table holds anything but plain, balanced tags)."""
    parts = _TAG.split(table)  # text, then each tag's "/" and name, then text, ...
    runs, names = parts[0::3], [name.lower() for name in parts[2::3]]
    outside = "".join(runs)
    if "<" in outside or ">" in outside or "data-search" in table:
        return None  # a "<" or ">" that is not a plain tag
    if not _PLAIN.issuperset(names) or not _balanced(parts[1::3], names):
        return None
    text: list[str] = []
    for run in runs:
        data = html.unescape(run)
        if not data:
            continue
        if data.isspace():
            if text and not text[-1].isspace():
                text.append(" ")
        else:
            text.append(data.replace("\n", " "))
    # a trailing space stays a separate run, so that whitespace after the table collapses
    tail = " " if text and text[-1] == " " else ""
    body = "".join(text[:-1] if tail else text)
    return (f"<span>{html.escape(body, quote=False)}</span>" if body else "") + tail


def _balanced(closing: list[str], names: list[str]) -> bool:
    """Every element closed, in order (Material's parser ignores a stray closing tag and keeps
    an unclosed element open, which would change what follows)."""
    open_tags: list[str] = []
    for close, name in zip(closing, names, strict=True):
        if close:
            if not open_tags or open_tags.pop() != name:
                return False
        elif name not in _VOID:
            open_tags.append(name)
    return not open_tags


def _flat_tables(page: str) -> str:
    """`page` with each top-level table after whitespace replaced by `_flat_table`."""
    out: list[str] = []
    depth = done = pos = 0
    while (m := _TAG.search(page, pos)) is not None:
        start, pos = m.start(), m.end()
        closing, name = bool(m[1]), m[2].lower()
        if name == "table" and not closing and depth == 0:
            end = page.find("</table>", start)
            before = page[page.rfind(">", 0, start) + 1 : start]
            flat = _flat_table(page[start : end + 8]) if end > 0 and before.isspace() else None
            if flat is not None:
                out += [page[done:start], flat]
                done = pos = end + 8  # its tags are balanced: the depth is as before it
                continue
        if name in _HEADINGS and not closing and depth > 0:
            # a section opened inside another element can close mid-table: keep them whole
            return "".join(out) + page[done:]
        if name in _VOID or m[0].endswith("/>"):
            continue
        depth += -1 if closing else 1
    return "".join(out) + page[done:] if out else page


# A chart's inline spec (render.pages.core.chart_block, which escapes every "<" in it): most of
# a big board's HTML (26 of 36 MB at 300 models). Material's parser skips a script's text and
# then strips data-search-* attributes from the whole page with a regex: the page is shown to
# it with these bodies empty, which changes nothing it indexes.
_CHART_DATA = re.compile(r'(<script type="application/json">)[^<]*(?=</script>)')


def on_page_content(content: str, page: Any, config: Any = None, **_: Any) -> str:
    """What the search plugin indexes (it runs after this, on page_context)."""
    generated = page.file.src_uri not in _hand_written(config)
    shown = _short_tables_only(_CHART_DATA.sub(r"\1", content) if generated else content)
    if generated:
        shown = _flat_tables(shown)
    # set or cleared on every page, so a build stopped half-way (under `serve`) leaves nothing
    # stale for the next one to put back
    _WHOLE.pop(page.file.src_uri, None)
    if shown != content:
        _WHOLE[page.file.src_uri] = content
    return shown


def _hand_written(config: Any) -> list[str]:
    """The maintainer's pages (site_src/), whose HTML prefboard does not shape: indexed as is."""
    extra = (config or {}).get("extra") or {}
    return list(extra.get("prefboard_editable") or [])


@event_priority(-100)  # after the search plugin has indexed the page
def on_page_context(context: dict[str, Any], page: Any, **_: Any) -> dict[str, Any]:
    whole = _WHOLE.pop(page.file.src_uri, None)
    if whole is not None:
        # Material strips its data-search-* attributes from the page it indexed; the page put
        # back gets the same, as if it had been indexed whole.
        page.content = _SEARCH_ATTRIBUTE.sub("", whole) if "data-search-" in whole else whole
    return context
