"""The rank heatmaps the pages embed come from a skeleton built once (Altair's work) with each
chart's orders, title, scale and data put in: they must be the very spec the Altair builder
gives, byte for byte as a page carries it, whatever the names hold."""

from __future__ import annotations

import json
from typing import Any

import pytest

from prefboard.render import charts
from prefboard.standings.model import Standings
from tests.test_charts import EVIL, degenerate, make_standings

# Names a reader could give a model or a group label: markup, quotes and breaks, non-ASCII,
# and the skeleton's own stand-in strings (which must come out as themselves, not be filled).
HOSTILE = [
    EVIL,
    "\"quoted\" 'name', with\nbreak\\",
    "Ünïcödé 模型 \u202e",
    "\x00y-order",
    "\x00x-title",
    "",
]


def _relabelled(name: str) -> Standings:
    base = make_standings(first_name=name)
    label = base.slices[0].model_copy(update={"label": name or "Age group"})
    return base.model_copy(update={"slices": [label]})


def _cases() -> list[Standings]:
    return [make_standings(), *(_relabelled(n) for n in HOSTILE), *degenerate()]


def _page_text(spec: dict[str, Any]) -> str:
    # How render/pages/core.py's chart_block writes a spec into a page.
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


@pytest.mark.parametrize("case", range(len(_cases())))
@pytest.mark.parametrize("dimension", ["helpful", "safe", "nothing"])
def test_group_heatmap_spec_is_the_altair_spec(case: int, dimension: str) -> None:
    standings = _cases()[case]
    for attribute in ("age", "unknown"):
        with charts.unchecked():
            cached = charts.group_rank_heatmap_spec(standings, dimension, attribute)
        altair = charts.chart_spec(charts.group_rank_heatmap(standings, dimension, attribute))
        assert _page_text(cached) == _page_text(altair)


@pytest.mark.parametrize("case", range(len(_cases())))
def test_dimension_heatmap_spec_is_the_altair_spec(case: int) -> None:
    standings = _cases()[case]
    cached = charts.dimension_heatmap_spec(standings)
    assert _page_text(cached) == _page_text(charts.chart_spec(charts.dimension_heatmap(standings)))


def test_each_chart_gets_its_own_copy() -> None:
    # The skeleton is shared: filling one chart must not leak into the next.
    first = charts.group_rank_heatmap_spec(make_standings(first_name=EVIL), "helpful", "age")
    second = charts.group_rank_heatmap_spec(make_standings(), "helpful", "age")
    assert EVIL in json.dumps(first)
    assert EVIL not in json.dumps(second)
    assert second["layer"][0]["encoding"]["y"]["sort"][0] in ("Alpha", "Beta")
