"""The nav of a large board: a section with more pages than NAV_SECTION_PAGES (the model pages)
is listed by its index page alone, since Material writes the whole nav into every page."""

from __future__ import annotations

from prefboard.render.pages import Page
from prefboard.site import NAV_SECTION_PAGES, _nav


def _pages(models: int) -> list[Page]:
    pages = [Page("index.md", "Home", ""), Page("models/index.md", "Models", "")]
    pages += [Page(f"models/m{k:03d}.md", f"Model {k}", "") for k in range(models)]
    return [*pages, Page("data.md", "Data", "")]


def test_a_section_of_many_pages_is_listed_by_its_index() -> None:
    nav = _nav(_pages(NAV_SECTION_PAGES))
    assert nav == [{"Home": "index.md"}, {"Models": ["models/index.md"]}, {"Data": "data.md"}]


def test_a_small_section_lists_every_page() -> None:
    nav = _nav(_pages(3))
    assert nav[1] == {
        "Models": [
            "models/index.md",
            {"Model 0": "models/m000.md"},
            {"Model 1": "models/m001.md"},
            {"Model 2": "models/m002.md"},
        ]
    }
