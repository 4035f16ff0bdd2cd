"""What every chart shares: sizes, inks, labels for models and dimensions, row helpers, and
the step from an Altair chart to the self-contained Vega-Lite JSON the site embeds."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final, cast

import altair as alt
import pandas as pd

from prefboard.render import format as fmt
from prefboard.standings.model import Entry, Standings

ROW_HEIGHT = 24
MIN_HEIGHT = 80
# Final: the literal type is what Altair's typed `scheme` parameter accepts.
RANK_SCHEME: Final = "viridis"
SHARE_SCHEME: Final = "viridis"
# Ink for labels printed on a viridis cell, picked by the cell's position on the scheme: viridis
# is dark (purple) at 0 and light (yellow) at 1; from about 0.45 up, dark text contrasts better.
DARK_INK = "#1b1b1b"
LIGHT_INK = "#f2f2f2"
DARK_INK_FROM = 0.45
# Marks without a colour encoding: Vega-Lite's defaults differ by mark (rules are black), so they
# get tableau10's first colour, which reads on both backgrounds; "no data" cells a faint mid grey.
ACCENT = "#4c78a8"
# Narrowest heatmap cell, in pixels, that still gets a percentage label printed on it.
MIN_LABEL_CELL = 30
NO_DATA = "#888888"
STATUS = ["established", "provisional"]

Row = dict[str, Any]
Spec = dict[str, Any]


def _num(value: float | None) -> float | None:
    """JSON has no NaN or infinity; a value that is not finite is shown as missing."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _unique_labels(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """key -> label, with a label that is empty or shared by several keys suffixed by its key.

    Nominal axes group by value, so two models both called "Assistant" would otherwise be drawn
    as one row.
    """
    pairs = list(pairs)
    seen: dict[str, int] = {}
    for _, label in pairs:
        seen[label] = seen.get(label, 0) + 1
    out = {}
    for key, label in pairs:
        if not label:
            out[key] = key
        elif seen[label] > 1:
            out[key] = f"{label} ({key})"
        else:
            out[key] = label
    return out


def _model_names(standings: Standings) -> dict[str, str]:
    # A chart cannot hide rows as the tables do, so it draws every model and says which are
    # private or retired variants in the label itself.
    return _unique_labels(
        (m.key, m.name if m.status == "public" else f"{m.name} ({m.status})")
        for m in standings.models
    )


def _dimension_labels(standings: Standings) -> dict[str, str]:
    return _unique_labels((d.key, d.label) for d in standings.dimensions)


def _name(names: dict[str, str], key: str) -> str:
    # A key missing from `models` (hand-edited or older standings) is still shown, by its key.
    return names.get(key, key)


def _model_order(standings: Standings, dimension: str | None = None) -> list[str]:
    """Model keys: by headline rank in `dimension` if given, then in declaration order."""
    order: list[str] = []
    if dimension is not None:
        head = standings.headline(dimension)
        if head is not None:
            order = [e.model for e in sorted(head.entries, key=lambda e: (e.rank, e.model))]
    for m in standings.models:
        if m.key not in order:
            order.append(m.key)
    return order


def _ordered(keys: Iterable[str], order: list[str]) -> list[str]:
    """`keys` in `order`, with any key `order` lacks appended alphabetically."""
    keys = set(keys)
    known = [k for k in order if k in keys]
    return known + sorted(keys - set(known))


def _height(rows: int) -> int:
    return max(MIN_HEIGHT, rows * ROW_HEIGHT + 20)


def _finish(chart: alt.TopLevelMixin, height: int) -> alt.TopLevelMixin:
    # "container" makes vega-embed size the chart to the content column; `background` is the only
    # colour set at the top level, and transparent lets either theme's page colour show through.
    return chart.properties(width="container", height=height, background="transparent")


def _ink(position: float | None) -> str:
    """Which ink a label on a viridis cell at `position` (0..1) needs; see DARK_INK_FROM."""
    return "dark" if position is not None and position >= DARK_INK_FROM else "light"


def _ink_color() -> alt.ColorValue:
    # A channel object, not `alt.condition`'s dict, which Altair would match against every
    # colour class by schema validation (same spec either way).
    return alt.ColorValue(
        value=LIGHT_INK, condition={"test": "datum.ink === 'dark'", "value": DARK_INK}
    )


def _rank_range(entry: Entry) -> str:
    return fmt.rank_range(entry.rank_lower, entry.rank_upper)


def _band(lower: float | None, upper: float | None) -> str:
    return fmt.band(lower, upper)


def _entry_row(entry: Entry, names: dict[str, str]) -> Row:
    lower, upper = _num(entry.lower), _num(entry.upper)
    return {
        "model": _name(names, entry.model),
        "rank": entry.rank,
        "rank_range": _rank_range(entry),
        "score": _num(entry.score),
        "lower": lower,
        "upper": upper,
        "band": _band(lower, upper),
        "battles": entry.battles,
        "wins": entry.wins,
        "losses": entry.losses,
        "ties": entry.ties,
        "status": STATUS[1] if entry.provisional else STATUS[0],
    }


def _data(rows: list[Row]) -> alt.Data | pd.DataFrame:
    """Chart data as a DataFrame: Altair walks inline dict rows object by object (about 70 ms
    for a 2,000-point history), while a DataFrame is converted in one pass. `chart_spec` puts
    the rows back inline."""
    if not rows:
        # Altair's generated schema classes carry no annotations on __init__.
        return alt.Data(values=[])  # type: ignore[no-untyped-call]
    return pd.DataFrame(rows)


def _csv_data(rows: list[Row], numbers: Sequence[str]) -> alt.Data:
    """`csv_values` as Altair's data object, for the charts built with Altair."""
    data = csv_values(rows, numbers)
    if "format" not in data:
        return alt.Data(values=data["values"])  # type: ignore[no-untyped-call]
    return alt.Data(values=data["values"], format=alt.DataFormat(**data["format"]))  # type: ignore[no-untyped-call]


def csv_values(rows: list[Row], numbers: Sequence[str]) -> Spec:
    """Rows as inline CSV (the first row's columns), which Vega-Lite parses in the browser: a
    long series (a model's history: 1,800 points) is a third of the bytes of the same rows as
    JSON objects, whose keys repeat on every row, and every page carries its charts inline.
    `numbers`: the columns parsed as numbers (the rest stay text). A Vega-Lite data object, as
    a spec made without Altair (`history_spec`) takes it."""
    if not rows:
        return {"values": []}
    out = io.StringIO()
    columns = list(rows[0])
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([r[c] for c in columns] for r in rows)
    parse = {column: "number" for column in numbers}
    return {"values": out.getvalue(), "format": {"type": "csv", "parse": parse}}


def _inline_datasets(spec: Spec) -> Spec:
    """Replace Altair's top-level named datasets by inline values where they are used, so each
    spec is self-contained and its data sits next to the marks that use it."""
    datasets = spec.pop("datasets", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"name"} and node["name"] in datasets:
                return {"values": datasets[node["name"]]}
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return cast(Spec, walk(spec))


@contextmanager
def unchecked() -> Iterator[None]:
    """Altair's "debug mode" (on by default) checks each schema object against the Vega-Lite
    schema as it is made: a fifth of the page stage at 100 models. Skipped while the pages are
    built, as `chart_spec` skips the final check; the specs are the same either way, and
    tests/test_charts.py renders every builder with vl-convert."""
    with alt.utils.schemapi.debug_mode(False):
        yield


def chart_spec(chart: alt.TopLevelMixin | Spec) -> Spec:
    """The Vega-Lite JSON the site embeds, with "$schema" and "config" kept (a spec already
    made, such as `history_spec`'s, is returned as it is).

    Schema validation is skipped here: it cost most of the page stage (about 0.1 s a chart), and
    every chart builder is validated by rendering it with vl-convert in tests/test_charts.py.
    """
    # Big boards (100 models -> a 9,900-cell head-to-head) pass Altair's 5,000-row guard, which
    # exists for notebooks; lifted only for this call, not for the process.
    if isinstance(chart, dict):
        return chart
    with alt.data_transformers.enable("default", max_rows=None):
        return _inline_datasets(chart.to_dict(validate=False))
