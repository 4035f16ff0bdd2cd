"""The analysis stage: every number the pages show comes from standings.json, and the render
layer imports nothing that computes."""

from __future__ import annotations

import ast
from pathlib import Path

from prefboard import pipeline
from prefboard.render.pages import render_pages
from prefboard.standings.analyze import compare
from prefboard.standings.model import SCHEMA_VERSION, read_standings, write_standings

SRC = Path(__file__).parent.parent / "src" / "prefboard"
# The render layer reads standings only. Not rating, ingest, config (the board's settings
# reach pages through `Standings.quality`/`parameters`), fairness or the analysis stage.
FORBIDDEN = (
    "prefboard.rating",
    "prefboard.ingest",
    "prefboard.matchmaking",
    "prefboard.config",
    "prefboard.standings.fairness",
    "prefboard.standings.analyze",
    "prefboard.tools",
    "prefboard.studies",
    "prefboard.pipeline",
)
# Still allowed, on purpose:
# - `config_reference` documents the config *schema* (field names, defaults, descriptions),
#   the same for every board, not this board's settings.
ALLOWED: set[tuple[str, str]] = set()


def _board(tiny: Path, min_turns: int = 3) -> Path:
    toml = tiny / "leaderboard.toml"
    text = toml.read_text().replace("min_turns = 3", f"min_turns = {min_turns}")
    toml.write_text(text + "\n[privacy]\nmin_participants = 1\n")
    (tiny / "results" / "benchmarks.csv").write_text(
        "model,benchmark,score,source\n"
        "aurora-7b,qa,90,paper\ncobalt-large,qa,50,paper\ndelta-mini,qa,10,paper\n"
    )
    return toml


def test_pages_from_standings_json_are_byte_identical(tiny: Path, tmp_path: Path) -> None:
    # The previous version excluded a 4-turn battle, so "What changed" has something to say.
    toml = _board(tiny, min_turns=5)
    config, root = pipeline.load(toml)
    _, before = pipeline.rate(config, root, toml)
    toml.write_text(toml.read_text().replace("min_turns = 5", "min_turns = 3"))
    config, root = pipeline.load(toml)
    _, now = pipeline.rate(config, root, toml)
    write_standings(now, tmp_path / "now")
    write_standings(before, tmp_path / "before")

    in_process = render_pages(now, compare("v1", before, now))
    loaded, loaded_before = read_standings(tmp_path / "now"), read_standings(tmp_path / "before")
    from_json = render_pages(loaded, compare("v1", loaded_before, loaded))

    assert [(p.path, p.text) for p in from_json] == [(p.path, p.text) for p in in_process]
    paths = {p.path for p in in_process}
    shown = {"index.md", "fairness.md", "benchmarks.md", "data.md", "methodology.md"}
    assert shown | {"ratings.md", "changes.md"} <= paths
    pages = {p.path: p.text for p in in_process}
    assert "No changes" not in pages["changes.md"]
    # the figures the pages used to compute themselves are in the file
    a = loaded.analysis
    assert loaded.schema_version == SCHEMA_VERSION == 5
    assert loaded.quality.min_turns == 3
    assert "A battle with fewer than 3 turns is excluded." in pages["methodology.md"]
    assert [(t.benchmark, t.dimension) for t in a.benchmark_agreement][:1] == [("qa", "overall")]
    assert a.main_dimension == "overall"
    assert a.sampling_bias[0].dimension == "overall"
    ranks = {r.model: (r.benchmark_rank, r.human_rank) for r in a.benchmark_ranks}
    assert ranks == {"aurora-7b": (1, 1), "cobalt-large": (2, 3), "delta-mini": (3, 2)}


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth of the file (function-level imports too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            # `from prefboard import rating` imports the module prefboard.rating
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def test_render_layer_imports_nothing_that_computes() -> None:
    files = sorted((SRC / "render").rglob("*.py"))
    found = sorted(
        (str(f.relative_to(SRC)), name)
        for f in files
        for name in _imports(f)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)
    )
    assert [x for x in found if x not in ALLOWED] == []


def test_quoted_benchmark_figures_come_from_the_standings(tiny: Path) -> None:
    """The methodology and Next battles pages quote the benchmarks' figures from
    `analysis.studies`, not from a file read at render time."""
    toml = _board(tiny)
    config, root = pipeline.load(toml)
    _, now = pipeline.rate(config, root, toml)
    studies = now.analysis.studies
    assert set(studies) == {"calibration", "planning"}
    marked = {
        "calibration": {**studies["calibration"], "source": "calibrationmarker"},
        "planning": {**studies["planning"], "source": "planningmarker (x)"},
    }
    analysis = now.analysis.model_copy(update={"studies": marked})
    pages = {p.path: p.text for p in render_pages(now.model_copy(update={"analysis": analysis}))}
    assert "calibrationmarker" in pages["methodology.md"]
    assert "planningmarker" in pages["next.md"]
