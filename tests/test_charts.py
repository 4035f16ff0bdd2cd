"""Chart builders: valid, renderable, deterministic, theme-neutral and safe with hostile names."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import altair as alt
import pytest
import vl_convert as vlc

from prefboard.render import charts
from prefboard.standings.model import (
    POOLED,
    POSTSTRATIFIED,
    DimensionInfo,
    Entry,
    History,
    LikertRow,
    ModelInfo,
    Pair,
    SampleShare,
    SliceInfo,
    Standings,
    Table,
)
from tests import factories
from tests.factories import parameters, provenance

EVIL = "<script>alert(1)</script>"
MODELS = ["alpha", "beta", "gamma"]
DIMS = ["helpful", "safe"]
GROUPS = ["young", "old"]


def entry(model: str, rank: int, mu: float, battles: int = 10) -> Entry:
    return factories.entry(
        model,
        mu,
        rank,
        sd=2.0,
        battles=battles,
        mu_spread=0.3,
        rank_lower=max(1, rank - 1),
        rank_upper=min(3, rank + 1),
        provisional=battles < 5,
    )


def table(dim: str, attribute: str, value: str, order: list[str], **kw: Any) -> Table:
    entries = [
        entry(m, i + 1, 30.0 - 3 * i, battles=0 if m == "gamma" else 10)
        for i, m in enumerate(order)
    ]
    return factories.table(entries, dim, attribute, value, battles=15, participants=6, **kw)


def make_standings(first_name: str = "Alpha", **changes: Any) -> Standings:
    """3 models x 2 dimensions x an attribute with 2 values: pooled, grouped, post-stratified."""
    tables = []
    for d in DIMS:
        order = MODELS if d == "helpful" else ["beta", "alpha", "gamma"]
        tables.append(table(d, POOLED, POOLED, order))
        tables.append(table(d, POSTSTRATIFIED, "age", order, weights={"young": 0.4, "old": 0.6}))
        tables.append(table(d, "age", "young", order))
        tables.append(table(d, "age", "old", list(reversed(order))))
    pairs = [
        Pair(
            dimension=d,
            model_a=a,
            model_b=b,
            battles=0 if b == "gamma" and a == "beta" else 6,
            wins_a=0 if b == "gamma" and a == "beta" else 3,
            wins_b=0 if b == "gamma" and a == "beta" else 2,
            ties=0 if b == "gamma" and a == "beta" else 1,
            p_a=0.5,
            p_b=0.4,
            p_tie=0.1,
        )
        for d in DIMS
        for a, b in [("alpha", "beta"), ("alpha", "gamma"), ("beta", "gamma")]
    ]
    history = [
        History(
            dimension=d,
            steps=[1, 2, 3],
            mu={m: [25.0, 26.0 + i, 27.0 + i] for i, m in enumerate(MODELS)},
            sigma={m: [8.0, 6.0, 5.0] for m in MODELS},
        )
        for d in DIMS
    ]
    likert = [
        LikertRow(
            dimension="helpful",
            slice_attribute=POOLED,
            slice_value=POOLED,
            model=m,
            n=4 if m != "gamma" else 0,
            mean=5.0 - i if m != "gamma" else None,
            sd=1.0 if m != "gamma" else None,
            ci_lower=4.0 - i if m != "gamma" else None,
            ci_upper=6.0 - i if m != "gamma" else None,
            counts=[0, 0, 1, 1, 1, 1, 0] if m != "gamma" else [0] * 7,
        )
        for i, m in enumerate(MODELS)
    ]
    samples = [
        SampleShare(
            attribute="age",
            value="young",
            participants=4,
            battles=10,
            sample_share=0.8,
            population_share=0.4,
            published=True,
        ),
        SampleShare(
            attribute="age",
            value="old",
            participants=1,
            battles=5,
            sample_share=0.2,
            population_share=0.5,
            published=True,
        ),
        SampleShare(
            attribute="age",
            value="secret",
            participants=0,
            battles=0,
            sample_share=0.0,
            population_share=0.1,
            published=False,
        ),
    ]
    fields: dict[str, Any] = {
        "title": "Test board",
        "description": "",
        "synthetic": True,
        "version": "v1",
        "provenance": provenance(),
        "parameters": parameters(
            z=1.959964, min_battles=5, stratify_by=["age"], min_participants=1
        ),
        "models": [
            ModelInfo(key="alpha", name=first_name),
            ModelInfo(key="beta", name="Beta"),
            ModelInfo(key="gamma", name="Gamma"),
        ],
        "dimensions": [
            DimensionInfo(
                key="helpful",
                label="Helpfulness",
                battles=True,
                likert=True,
                scale_min=1,
                scale_max=7,
            ),
            DimensionInfo(
                key="safe", label="Safety", battles=True, likert=False, scale_min=1, scale_max=7
            ),
        ],
        "slices": [
            SliceInfo(
                attribute="age",
                label="Age group",
                values=[*GROUPS, "secret"],
                population={"young": 0.4, "old": 0.5, "secret": 0.1},
                published=GROUPS,
            )
        ],
        "tables": tables,
        "pairs": pairs,
        "history": history,
        "likert": likert,
        "agreement": [],
        "samples": samples,
        "order_sensitivity": [],
    }
    fields.update(changes)
    return Standings(**fields)


# name -> (builder, expected number of data rows for make_standings())
BUILDERS: dict[str, tuple[Callable[[Standings], alt.TopLevelMixin], int]] = {
    "interval": (lambda s: charts.interval_chart(s, s.headline("helpful")), 3),
    "dimension_heatmap": (charts.dimension_heatmap, 3 * 2),
    "group_heatmap": (lambda s: charts.group_rank_heatmap(s, "helpful", "age"), 3 * 2),
    "sample": (lambda s: charts.sample_vs_population_chart(s, "age"), 2 * 2),
    "history": (lambda s: charts.history_chart(s, "alpha"), 3 * 2),
    "likert": (lambda s: charts.likert_chart(s, "helpful"), 3),
    "head_to_head": (lambda s: charts.head_to_head_chart(s, "helpful"), 3 * 2),
}


def spec_of(name: str, standings: Standings) -> dict:
    return charts.chart_spec(BUILDERS[name][0](standings))


def data_rows(spec: dict) -> list[dict]:
    data = spec["data"]
    if "values" not in data:
        return spec["datasets"][data["name"]]
    if data.get("format", {}).get("type") != "csv":
        return data["values"]
    numbers = data["format"]["parse"]
    rows = list(csv.DictReader(io.StringIO(data["values"])))
    return [{k: float(v) if k in numbers else v for k, v in r.items()} for r in rows]


def mark_specs(spec: dict) -> list[dict]:
    """Every unit spec (a layer, or the chart itself) — each one draws a mark."""
    if "layer" in spec:
        return [u for layer in spec["layer"] for u in mark_specs(layer)]
    return [spec]


def render(spec: dict) -> str:
    return vlc.vegalite_to_svg(json.dumps(spec))


def walk(obj: Any) -> Any:
    """Yield (key, value) for every dict entry in a nested spec."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield k, v
            yield from walk(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from walk(v)


@pytest.fixture(scope="module")
def standings() -> Standings:
    return make_standings()


@pytest.mark.parametrize("name", BUILDERS)
def test_spec_renders_to_svg(name: str, standings: Standings) -> None:
    spec = spec_of(name, standings)
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    assert "config" in spec
    assert render(spec).lstrip().startswith("<svg")


@pytest.mark.parametrize("name", BUILDERS)
def test_spec_has_expected_rows(name: str, standings: Standings) -> None:
    assert len(data_rows(spec_of(name, standings))) == BUILDERS[name][1]


@pytest.mark.parametrize("name", BUILDERS)
def test_every_mark_has_a_tooltip(name: str, standings: Standings) -> None:
    units = mark_specs(spec_of(name, standings))
    assert units
    for unit in units:
        assert "mark" in unit
        assert unit["encoding"].get("tooltip"), unit["mark"]


@pytest.mark.parametrize("name", BUILDERS)
def test_spec_is_deterministic(name: str) -> None:
    first = json.dumps(spec_of(name, make_standings()), sort_keys=True)
    second = json.dumps(spec_of(name, make_standings()), sort_keys=True)
    assert first == second


@pytest.mark.parametrize("name", BUILDERS)
def test_theme_neutral(name: str, standings: Standings) -> None:
    spec = spec_of(name, standings)
    assert spec["background"] == "transparent"
    assert spec["width"] == "container"
    assert isinstance(spec["height"], int)
    for key, value in walk(spec):
        if key == "background":
            assert value == "transparent"
        assert key != "href"
        if key in ("color", "fill", "stroke") and isinstance(value, str):
            assert value.lower() not in ("black", "white", "#000", "#fff", "#000000", "#ffffff")
    # No axis / title / legend text colours: the page theme supplies them.
    assert not any(k in ("labelColor", "titleColor", "domainColor") for k, _ in walk(spec))
    assert "params" not in json.dumps(spec)


@pytest.mark.parametrize("name", BUILDERS)
def test_hostile_model_name_is_plain_text(name: str) -> None:
    standings = make_standings(first_name=EVIL)
    spec = spec_of(name, standings)
    if name in ("sample", "history"):
        # These charts show no model names; the name must not leak in some other form either.
        assert "script" not in json.dumps(spec)
        return
    models = {r["model"] for r in data_rows(spec)}
    assert EVIL in models  # kept verbatim as a value: not escaped twice, not marked up
    svg = render(spec)
    assert "<script" not in svg
    assert "&lt;script&gt;" in svg


def test_interval_chart_order_and_provisional(standings: Standings) -> None:
    spec = spec_of("interval", standings)
    rows = data_rows(spec)
    assert [r["model"] for r in rows] == ["Alpha", "Beta", "Gamma"]
    assert [r["status"] for r in rows] == ["established", "established", "provisional"]
    assert rows[0]["rank_range"] == "1–2"
    assert rows[0]["band"] == "26.00 – 34.00"


def test_dimension_heatmap_ranks(standings: Standings) -> None:
    rows = data_rows(spec_of("dimension_heatmap", standings))
    ranks = {(r["model"], r["dimension"]): r["rank"] for r in rows}
    assert ranks[("Alpha", "Helpfulness")] == 1
    assert ranks[("Beta", "Safety")] == 1
    assert ranks[("Gamma", "Safety")] == 3


def test_group_heatmap_uses_group_tables(standings: Standings) -> None:
    spec = spec_of("group_heatmap", standings)
    ranks = {(r["model"], r["group"]): r["rank"] for r in data_rows(spec)}
    assert ranks[("Alpha", "young")] == 1
    assert ranks[("Alpha", "old")] == 3
    y = spec["layer"][0]["encoding"]["y"]
    assert y["sort"] == ["Alpha", "Beta", "Gamma"]  # headline order


def test_sample_chart_omits_unpublished_values(standings: Standings) -> None:
    rows = data_rows(spec_of("sample", standings))
    assert {r["value"] for r in rows} == {"young", "old"}
    share = {(r["value"], r["measure"]): r["share"] for r in rows}
    assert share[("young", "Sample")] == 0.8
    assert share[("old", "Population")] == 0.5


def test_history_band_uses_z(standings: Standings) -> None:
    spec = spec_of("history", standings)
    z = standings.parameters.z
    assert spec["transform"] == [
        {"calculate": f"datum.mu - {z!r} * datum.sigma", "as": "lower"},
        {"calculate": f"datum.mu + {z!r} * datum.sigma", "as": "upper"},
    ]
    # alpha's own points (mu and sigma as the standings hold them), once per dimension
    rows = [(r["step"], r["mu"], r["sigma"]) for r in data_rows(spec)]
    assert rows == [(1, 25.0, 8.0), (2, 26.0, 6.0), (3, 27.0, 5.0)] * len(DIMS)


@pytest.mark.parametrize("model", ["alpha", "beta", "nobody"])
def test_history_spec_is_the_chart_spec(standings: Standings, model: str) -> None:
    # the model pages' shortcut (Altair's work once per board) gives the chart's own spec
    assert charts.history_spec(standings, model) == charts.chart_spec(
        charts.history_chart(standings, model)
    )


def test_likert_domain_is_the_scale(standings: Standings) -> None:
    spec = spec_of("likert", standings)
    x = spec["layer"][0]["encoding"]["x"]
    assert x["scale"]["domain"] == [1, 7]
    assert [r["model"] for r in data_rows(spec)][-1] == "Gamma"  # unrated last


def test_head_to_head_shares(standings: Standings) -> None:
    rows = data_rows(spec_of("head_to_head", standings))
    cell = {(r["model"], r["opponent"]): r for r in rows}
    assert cell[("Alpha", "Beta")]["share"] == pytest.approx(3.5 / 6)
    assert cell[("Beta", "Alpha")]["share"] == pytest.approx(2.5 / 6)
    assert cell[("Beta", "Alpha")]["p_win"] == 0.4
    assert cell[("Beta", "Gamma")]["share"] is None  # never played


def degenerate() -> list[Standings]:
    base = make_standings()
    one = base.model_copy(
        update={
            "models": base.models[:1],
            "tables": [
                table(d, a, v, ["alpha"])
                for d in DIMS
                for a, v in [(POOLED, POOLED), (POSTSTRATIFIED, "age"), ("age", "young")]
            ],
            "pairs": [],
        }
    )
    empty = base.model_copy(
        update={
            "history": [
                History(
                    dimension=d, steps=[], mu={m: [] for m in MODELS}, sigma={m: [] for m in MODELS}
                )
                for d in DIMS
            ],
            "likert": [],
            "pairs": [],
            "samples": [],
            "tables": [t.model_copy(update={"entries": []}) for t in base.tables],
        }
    )
    nothing = base.model_copy(update={"history": [], "tables": [], "slices": []})
    return [one, empty, nothing]


@pytest.mark.parametrize("name", BUILDERS)
@pytest.mark.parametrize("case", range(3), ids=["one_model", "empty", "no_tables"])
def test_degenerate_inputs_render(name: str, case: int) -> None:
    standings = degenerate()[case]
    if name == "interval":
        chart = charts.interval_chart(
            standings, standings.headline("helpful") or table("x", POOLED, POOLED, [])
        )
    else:
        chart = BUILDERS[name][0](standings)
    spec = charts.chart_spec(chart)
    assert render(spec).lstrip().startswith("<svg")


def test_unknown_model_and_dimension_do_not_raise(standings: Standings) -> None:
    for chart in (
        charts.history_chart(standings, "nobody"),
        charts.likert_chart(standings, "nothing"),
        charts.head_to_head_chart(standings, "nothing"),
        charts.group_rank_heatmap(standings, "helpful", "nothing"),
        charts.sample_vs_population_chart(standings, "nothing"),
    ):
        spec = charts.chart_spec(chart)
        assert data_rows(spec) == []
        assert render(spec).lstrip().startswith("<svg")
