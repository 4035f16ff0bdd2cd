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

import re
from typing import Any

from mkdocs.plugins import event_priority

#: Tables with more rows than this stay out of the search index (a 12-model board's ranking
#: tables stay in; a 100-model board's do not).
SEARCH_TABLE_ROWS = 60

_TABLE = re.compile(r"<table[\s>].*?</table>", re.DOTALL)
_WHOLE: dict[str, str] = {}


def _short_tables_only(html: str) -> str:
    return _TABLE.sub(lambda m: m[0] if m[0].count("<tr") <= SEARCH_TABLE_ROWS else "", html)


def on_page_content(html: str, page: Any, **_: Any) -> str:
    """What the search plugin indexes (it runs after this, on page_context)."""
    shown = _short_tables_only(html)
    # set or cleared on every page, so a build stopped half-way (under `serve`) leaves nothing
    # stale for the next one to put back
    _WHOLE.pop(page.file.src_uri, None)
    if shown != html:
        _WHOLE[page.file.src_uri] = html
    return shown


@event_priority(-100)  # after the search plugin has indexed the page
def on_page_context(context: dict[str, Any], page: Any, **_: Any) -> dict[str, Any]:
    whole = _WHOLE.pop(page.file.src_uri, None)
    if whole is not None:
        page.content = whole
    return context
