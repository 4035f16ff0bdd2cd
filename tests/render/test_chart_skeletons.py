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


def _non_finite(standings: Standings, every: bool) -> Standings:
    """Band ends and scores that are not finite (drawn as missing): in some rows or in all."""
    bad = {"lower": float("nan"), "upper": float("inf"), "score": float("-inf")}
    tables = [
        t.model_copy(
            update={
                "entries": [
                    e.model_copy(update=bad) if every or i % 2 == 0 else e
                    for i, e in enumerate(t.entries)
                ]
            }
        )
        for t in standings.tables
    ]
    return standings.model_copy(update={"tables": tables})


def _interval_at(level: float) -> Standings:
    # The skeleton is cached by interval level (it is in two titles): another level, another one.
    base = make_standings()
    return base.model_copy(
        update={"parameters": base.parameters.model_copy(update={"interval": level})}
    )


@pytest.mark.parametrize("case", range(len(_cases()) + 3))
def test_interval_spec_is_the_altair_spec(case: int) -> None:
    # Altair turns the rows into records through a DataFrame (ints stay ints, a missing float is
    # None); interval_spec writes the rows as they are: the same records, every table compared.
    cases = [
        *_cases(),
        _non_finite(make_standings(), False),
        _non_finite(make_standings(), True),
        _interval_at(0.8),
    ]
    standings = cases[case]
    for table in standings.tables:
        cached = charts.interval_spec(standings, table)
        altair = charts.chart_spec(charts.interval_chart(standings, table))
        assert _page_text(cached) == _page_text(altair)
