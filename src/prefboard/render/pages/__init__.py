"""Standings -> Markdown pages (Jinja2 templates shipped in the package).

Pages read only the `Standings` object (and the precomputed comparison with a previous
version): `core` holds the builder and the escaping; one module per page family: `rankings`
(home, dimensions), `groups`, `models`, `analysis` (ratings, fairness, benchmarks), `reports`
(next battles) and `reference` (methodology, data, what changed). They format; the analysis
stage computes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from prefboard.render.charts import unchecked
from prefboard.render.pages.agreement import agreement
from prefboard.render.pages.analysis import benchmarks, fairness, ratings
from prefboard.render.pages.categories import categories
from prefboard.render.pages.core import Page, _Builder, chart_block, href, md
from prefboard.render.pages.disclosure import disclosure
from prefboard.render.pages.groups import groups
from prefboard.render.pages.models import models
from prefboard.render.pages.rankings import dimensions, home
from prefboard.render.pages.reference import changes_page, data, methodology
from prefboard.render.pages.reports import next_battles
from prefboard.render.pages.style import style
from prefboard.standings.model import Standings

if TYPE_CHECKING:
    from prefboard.standings.diff import Comparison

__all__ = ["Page", "chart_block", "href", "md", "model_pages", "render_pages"]


def render_pages(
    standings: Standings,
    previous: Comparison | None = None,
    made_models: Callable[[], list[Page]] | None = None,
) -> list[Page]:
    """Every generated page, in site-map order; `previous` (the comparison with the previous
    version, made by `analysis.compare`) feeds the "What changed" page. `made_models` returns
    the `model_pages` made elsewhere (pipeline.build: in the downloads child, on the second
    core); it is called once the other pages are rendered."""
    with unchecked():
        return _render(standings, previous, made_models)


def model_pages(standings: Standings) -> list[Page]:
    """The models index and one page per model: the pages `render_pages` puts after the
    categories (about half of a big board's page work)."""
    with unchecked():
        return models(_Builder(standings))


def _render(
    standings: Standings,
    previous: Comparison | None,
    made_models: Callable[[], list[Page]] | None,
) -> list[Page]:
    b = _Builder(standings)
    pages = [home(b)]
    pages += dimensions(b)
    pages += groups(b)
    pages += categories(b)
    at = len(pages)  # the model pages go here, made last: see render_pages
    if any(d.likert for d in standings.dimensions):
        pages.append(ratings(b))
    if b.main_dim is not None:
        pages.append(next_battles(b))
        pages.append(fairness(b))
    if b.main_dim is not None and standings.benchmarks:
        pages.append(benchmarks(b))
    if standings.style:
        pages.append(style(b))
    if standings.judges:
        pages.append(agreement(b))
    pages.append(disclosure(b))
    pages.append(methodology(b))
    pages.append(data(b))
    pages.append(changes_page(b, standings, previous))
    pages[at:at] = made_models() if made_models is not None else models(b)
    return pages
