"""Pure functions from a `Standings` to Altair charts; the site embeds their Vega-Lite JSON.

Rules every builder follows, because of where the specs end up:

- The site's JavaScript applies a light or dark theme when the page is viewed, and a spec's own
  `config` overrides that theme. So no text, axis or background colours are set here; the
  background is "transparent" so the page shows through. Sequential scales use viridis, which
  reads on white and on near-black alike; categorical scales name no scheme, so the theme's
  `range.category` applies: colour-blind-safe hues darkened for the light palette and lightened
  for the dark one (one fixed scheme cannot contrast with both backgrounds).
- Text drawn *on* a coloured cell is the one exception: its ink is chosen against the cell (a
  near-black or near-white, never pure), so it stays legible whatever the page theme is.
- Every mark has a tooltip; nothing is linked (`href`) from data, and model names go in as plain
  values, which Vega renders as text, never as markup.
- Same input, same spec: rows are sorted explicitly, data is inlined (no random dataset names)
  and no selection parameters are created (Altair names unnamed ones `param_N` from a counter
  that changes from call to call).
- Degenerate inputs (no battles, empty history, no ratings, one model) give a valid chart with
  fewer or no rows rather than an exception: a build should not fail on a thin leaderboard.
"""

from prefboard.render.charts.base import chart_spec, unchecked
from prefboard.render.charts.comparisons import bump_chart, calibration_chart
from prefboard.render.charts.pairs import (
    GRID_MODELS,
    battles_vs_rank_chart,
    grid_models,
    head_to_head_chart,
    pair_coverage_chart,
)
from prefboard.render.charts.people import (
    history_chart,
    history_spec,
    likert_chart,
    sample_vs_population_chart,
)
from prefboard.render.charts.rankings import (
    dimension_heatmap,
    dimension_heatmap_spec,
    group_rank_heatmap,
    group_rank_heatmap_spec,
    interval_chart,
    interval_spec,
)

__all__ = [
    "GRID_MODELS",
    "battles_vs_rank_chart",
    "bump_chart",
    "calibration_chart",
    "chart_spec",
    "dimension_heatmap",
    "dimension_heatmap_spec",
    "grid_models",
    "group_rank_heatmap",
    "group_rank_heatmap_spec",
    "head_to_head_chart",
    "history_chart",
    "history_spec",
    "interval_chart",
    "interval_spec",
    "likert_chart",
    "pair_coverage_chart",
    "sample_vs_population_chart",
    "unchecked",
]
