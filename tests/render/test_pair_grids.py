"""Pairs at scale: standings.json lists the pairs that met (not all models² of them), the pair
grids show the top of the ranking with a note saying so, model pages list the opponents each
model met, and `prefboard plan` still counts an unlisted pair as never compared."""

from __future__ import annotations

import csv
import io
import json
import re
from itertools import pairwise
from pathlib import Path

import pytest
from click.testing import CliRunner

from prefboard.cli import cli
from prefboard.render import charts
from prefboard.render.pages import render_pages
from prefboard.render.pages.models import H2H_SHOWN
from prefboard.standings.files import read_standings

MODELS = [f"m{k:02d}" for k in range(charts.GRID_MODELS + 4)]


def _chain_board(root: Path) -> Path:
    """Each model met only its neighbours in the list, which it beat 5 times in 6: ranks follow
    the list, and every other pair never met."""
    rows = []
    for k, (a, b) in enumerate(pairwise(MODELS)):
        for r in range(6):
            n = k * 6 + r
            stamp = f"2026-09-01T{n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z"
            rows.append(f"b{n:05d},{stamp},p{n % 50:02d},{a},{b},3,{'b' if r == 0 else 'a'}\n")
    (root / "results" / "battles").mkdir(parents=True)
    header = "battle_id,timestamp,participant_id,model_a,model_b,turns,overall\n"
    (root / "results" / "battles" / "chain.csv").write_text(header + "".join(rows))
    people = "".join(f"p{k:02d},0\n" for k in range(50))
    (root / "results" / "participants.csv").write_text("participant_id,strikes\n" + people)
    models = "".join(f'[[models]]\nkey = "{m}"\n' for m in MODELS)
    config = root / "leaderboard.toml"
    config.write_text(
        '[leaderboard]\ntitle = "Chain"\n[rating]\npermutations = 1\nmin_battles = 1\n'
        f'[[dimensions]]\nkey = "overall"\n{models}'
    )
    return config


@pytest.fixture(scope="module")
def rated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("chain")
    config = _chain_board(root)
    out = root / "standings"
    result = CliRunner().invoke(cli, ["rate", "--config", str(config), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_standings_list_only_the_pairs_that_met(rated: Path) -> None:
    raw = json.loads((rated / "standings.json").read_text())
    pairs = {(p["model_a"], p["model_b"]): p for p in raw["pairs"]}
    assert sorted(pairs) == list(pairwise(MODELS))
    first = pairs[("m00", "m01")]
    assert (first["battles"], first["wins_a"], first["wins_b"]) == (6, 5, 1)
    assert first["p_a"] + first["p_b"] + first["p_tie"] == pytest.approx(1.0)


def _chart_models(page: str, chart_id: str) -> list[str]:
    block = rf'id="{chart_id}"><template><script type="application/json">(.*?)</script>'
    spec = re.search(block, page)
    assert spec is not None
    data = json.loads(spec.group(1))
    return data["layer"][0]["encoding"]["y"]["scale"]["domain"]


def test_grids_show_the_top_of_the_ranking_and_say_so(rated: Path) -> None:
    pages = {p.path: p.text for p in render_pages(read_standings(rated))}
    dimension = pages["dimensions/overall.md"]
    assert _chart_models(dimension, "h2h-overall") == MODELS[: charts.GRID_MODELS]
    note = (
        f"The top {charts.GRID_MODELS} of {len(MODELS)} models by headline rank are shown; "
        "every pair's record is in [standings.json](../downloads/standings.json) (`pairs`)."
    )
    assert note in dimension
    assert note.replace("../", "") in pages["fairness.md"]


def test_model_page_lists_the_opponents_it_met(rated: Path) -> None:
    pages = {p.path: p.text for p in render_pages(read_standings(rated))}
    h2h = pages["models/m05.md"].split("## Head-to-head record")[1].split("## Fit check")[0]
    assert re.findall(r'<a href="(m\d\d)\.html">', h2h) == ["m04", "m06"]


def test_model_page_lists_the_opponents_nearest_in_rank(rated: Path) -> None:
    standings = read_standings(rated)
    pair = standings.pairs[0]
    every = [
        pair.model_copy(update={"model_a": a, "model_b": b})
        for n, a in enumerate(MODELS)
        for b in MODELS[n + 1 :]
    ]
    pages = {p.path: p.text for p in render_pages(standings.model_copy(update={"pairs": every}))}
    page = pages["models/m15.md"]
    h2h = page.split("## Head-to-head record")[1].split("## Fit check")[0]
    near = MODELS[15 - H2H_SHOWN // 2 : 15] + MODELS[16 : 16 + H2H_SHOWN // 2]
    assert re.findall(r'<a href="(m\d\d)\.html">', h2h) == near
    assert (
        f"The {H2H_SHOWN} opponents nearest in headline rank, of the {len(MODELS) - 1} this "
        "model met; every pair's record is in [standings.json](../downloads/standings.json) "
        "(`pairs`)."
    ) in h2h


def test_plan_counts_an_unlisted_pair_as_never_compared(rated: Path) -> None:
    args = ["plan", "--standings", str(rated), "--format", "csv", "-n", "60", "--explore", "1"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    chain = set(pairwise(MODELS))
    unmet = [r for r in rows if tuple(sorted((r["model_a"], r["model_b"]))) not in chain]
    assert unmet
    for r in unmet:
        assert r["battles"] == "0"
        assert r["reason"].endswith("; never compared")
