"""Battle-level slices (issue 16 part 1), through the CLI as a maintainer runs it: a board whose
`[[slices]]` declares `category` with `level = "battle"`, simulated (`prefboard simulate` writes
the column with real per-category skill differences), validated, rated and built.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner, Result
from scipy.stats import spearmanr

from prefboard.cli import cli

CATEGORIES = ["coding", "writing", "maths"]
BOARD = """
[leaderboard]
title = "Category board"
synthetic = true

[privacy]
min_participants = 5

[[dimensions]]
key = "overall"
label = "Overall"

[[models]]
key = "m-one"
[[models]]
key = "m-two"
[[models]]
key = "m-three"
[[models]]
key = "m-four"

[[slices]]
attribute = "country"
values = ["US", "UK"]
population = { US = 0.6, UK = 0.4 }

[[slices]]
attribute = "category"
label = "Category"
level = "battle"
values = ["coding", "writing", "maths"]
"""


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def make_board(folder: Path, battles: int = 2400, text: str = BOARD) -> Path:
    """A simulated category board in `folder`; returns its leaderboard.toml."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "leaderboard.toml"
    config.write_text(text, "utf-8")
    result = invoke(
        "simulate", "--config", str(config), "--battles", str(battles), "--ratings", "0",
        "--participants", "80", "--seed", "3",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return config


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("categories")
    config = make_board(root / "board")
    rated = root / "rated"
    result = invoke("rate", "--config", str(config), "--out", str(rated))
    assert result.exit_code == 0, result.output
    standings = json.loads((rated / "standings.json").read_text("utf-8"))
    results = root / "board" / "results"
    battles = pd.concat(
        pd.read_csv(p, dtype=str, keep_default_na=False)
        for p in sorted((results / "battles").glob("*.csv"))
    )
    truth = json.loads((results / "hidden_skills.json").read_text("utf-8"))
    return {"root": root, "config": config, "standings": standings, "battles": battles,
            "truth": truth}  # fmt: skip


def test_simulate_writes_the_category_column(board: dict[str, Any]) -> None:
    battles = board["battles"]
    assert set(battles["category"]) <= {*CATEGORIES, ""}
    # every value is used, and a few battles are left unlabelled (the blank-cell path)
    assert set(battles["category"]) == {*CATEGORIES, ""}
    assert 0 < (battles["category"] == "").mean() < 0.1
    effects = board["truth"]["category_effects"]["category"]
    assert sorted(effects) == sorted(CATEGORIES)
    # centred per model over the categories: a model's skill is its average
    for model in ("m-one", "m-two", "m-three", "m-four"):
        assert abs(sum(effects[c][model] for c in CATEGORIES)) < 1e-5
    # the participants file holds only participant slices
    people = pd.read_csv(board["root"] / "board/results/participants.csv", dtype=str)
    assert list(people.columns) == ["participant_id", "country", "strikes"]


def test_standings_hold_one_table_per_category(board: dict[str, Any]) -> None:
    s = board["standings"]
    info = next(x for x in s["slices"] if x["attribute"] == "category")
    assert info["level"] == "battle"
    assert info["published"] == CATEGORIES
    assert next(x for x in s["slices"] if x["attribute"] == "country")["level"] == "participant"
    tables = {
        t["slice_value"]: t
        for t in s["tables"]
        if t["dimension"] == "overall" and t["slice_attribute"] == "category"
    }
    assert list(tables) == CATEGORIES
    assert all(t["pooled"] for t in tables.values())
    pooling = [p for p in s["pooling"] if p["grouping"] == "category"]
    assert len(pooling) == 1 and pooling[0]["tau"] > 0
    # every accepted battle that asked `overall` is in one category's table or counted blank
    pooled = next(
        t for t in s["tables"] if t["dimension"] == "overall" and t["slice_attribute"] == "all"
    )
    assert sum(t["battles"] for t in tables.values()) + info["blank_battles"] == pooled["battles"]
    assert info["blank_battles"] > 0
    # a category is a battle attribute: never a post-stratification stratum
    assert s["parameters"]["stratify_by"] == ["country"]
    samples = [x for x in s["samples"] if x["attribute"] == "category"]
    assert [x["battles"] for x in samples] == [tables[c]["battles"] for c in CATEGORIES]
    assert all(x["population_share"] is None for x in samples)
    assert sum(x["sample_share"] for x in samples) == pytest.approx(1.0)
    # the fairness analysis compares groups of people, not prompt categories
    assert {g["attribute"] for g in s["analysis"]["group_agreement"]} == {"country"}


def test_category_tables_recover_the_simulated_effects(board: dict[str, Any]) -> None:
    """Each category's score minus the model's pooled score follows the hidden per-category
    effect (seeded board: 2,400 battles, effects of sd 1.5 against beta 4.17)."""
    s, effects = board["standings"], board["truth"]["category_effects"]["category"]
    head = next(
        t for t in s["tables"] if t["dimension"] == "overall" and t["slice_attribute"] == "all"
    )
    overall = {e["model"]: e["score"] for e in head["entries"]}
    found, true = [], []
    for t in s["tables"]:
        if t["dimension"] == "overall" and t["slice_attribute"] == "category":
            for e in t["entries"]:
                found.append(e["score"] - overall[e["model"]])
                true.append(effects[t["slice_value"]][e["model"]])
    assert spearmanr(found, true).statistic > 0.6


def test_validate_counts_blank_categories(board: dict[str, Any]) -> None:
    result = invoke("validate", "--config", str(board["config"]))
    assert result.exit_code == 0, result.output
    lines = [x for x in result.output.splitlines() if "blank-slice" in x]
    assert len(lines) == 3  # one per battle file
    first = lines[0]
    assert first.startswith("results/battles/battles-001.csv:0:7: warning: blank-slice: ")
    assert first.endswith("battle(s) with no category: they count in every ranking but in no "
                          "category table")  # fmt: skip


def test_built_site_has_a_category_page_and_switcher(board: dict[str, Any]) -> None:
    site = board["root"] / "site"
    result = invoke("build", "--config", str(board["config"]), "--out", str(site))
    assert result.exit_code == 0, result.output
    page = (site / "categories" / "category.html").read_text("utf-8")
    for value in CATEGORIES:
        assert f">{value}<" in page
    assert "Battles per value" in page and "Rankings by value: Overall" in page
    assert not (site / "groups" / "category.html").exists()  # not a demographic group
    home = (site / "index.html").read_text("utf-8")
    options = [f'<option value="c0-{i}">{v}</option>' for i, v in enumerate(CATEGORIES)]
    assert all(o in home for o in options)
    assert home.count('class="pb-switch-table"') == 3
    assert '<a href="categories/category.html">Category</a>' in home


def test_undeclared_category_is_located_and_excluded(tmp_path: Path) -> None:
    config = make_board(tmp_path / "b", battles=60)
    path = tmp_path / "b/results/battles/battles-001.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[3, "category"] = "poetry"
    frame.to_csv(path, index=False)
    result = invoke("validate", "--config", str(config))
    assert result.exit_code == 2
    assert (
        "results/battles/battles-001.csv:5:7: slice-value: 'poetry' is not a declared value of "
        "category (coding, writing, maths)"
    ) in result.output
    assert "excluded        1  invalid:slice-value" in result.output


def test_a_file_without_the_category_column_is_all_blank(tmp_path: Path) -> None:
    # A file written before the board declared its category (an earlier import) keeps counting.
    config = make_board(tmp_path / "b", battles=60)
    path = tmp_path / "b/results/battles/battles-001.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.drop(columns="category").to_csv(path, index=False)
    result = invoke("validate", "--config", str(config))
    assert result.exit_code == 0, result.output
    lines = [x for x in result.output.splitlines() if "category" in x]
    assert lines == [
        f"results/battles/battles-001.csv:0:0: warning: blank-slice: no category column: its "
        f"{len(frame)} battle(s): they count in every ranking but in no category table"
    ], result.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            '[rating]\nstratify_by = ["category"]\n',
            "rating.stratify_by names 'category', a battle-level slice; only participant-level "
            "slices can weight the headline to a population",
        ),
        (
            '[[slices]]\nattribute = "language"\nlevel = "battle"\nvalues = ["en"]\n'
            "population = { en = 1.0 }\n",
            "population is for participant-level slices (post-stratification); a battle-level "
            "slice has none",
        ),
        (
            '[[slices]]\nattribute = "overall"\nlevel = "battle"\nvalues = ["x"]\n',
            "battle-level slice(s) overall share a name with a dimension; both would be one "
            "column of the battle files",
        ),
        (
            '[[slices]]\nattribute = "prompt_id"\nlevel = "battle"\nvalues = ["x"]\n',
            "a battle-level slice cannot be named 'prompt_id': that battle column is "
            "prefboard's own",
        ),
        (
            '[[slices]]\nattribute = "topic"\nlevel = "prompt"\nvalues = ["x"]\n',
            "slices[2].level: Input should be 'participant' or 'battle'",
        ),
    ],
)
def test_config_errors(tmp_path: Path, extra: str, message: str) -> None:
    config = tmp_path / "leaderboard.toml"
    config.write_text(BOARD + "\n" + extra, "utf-8")
    result = invoke("validate", "--config", str(config))
    assert result.exit_code == 2
    assert message in result.output, result.output
    assert "Traceback" not in result.output


def test_category_streams_leave_the_rest_of_the_simulation_alone(tmp_path: Path) -> None:
    """Adding a battle slice to a board changes no participant and no other hidden skill: the
    categories are drawn from streams of their own (only the tie margin widens, for the extra
    spread the category effects add)."""
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "leaderboard.toml").write_text(BOARD.split('[[slices]]\nattribute = "category"')[0])
    invoke("simulate", "--config", str(plain / "leaderboard.toml"), "--battles", "50",
           "--ratings", "0", "--participants", "80", "--seed", "3")  # fmt: skip
    with_cat = make_board(tmp_path / "cat", battles=50).parent / "results"
    assert (plain / "results/participants.csv").read_bytes() == (
        with_cat / "participants.csv"
    ).read_bytes()
    ta = json.loads((plain / "results/hidden_skills.json").read_text("utf-8"))
    tb = json.loads((with_cat / "hidden_skills.json").read_text("utf-8"))
    assert ta["skills"] == tb["skills"] and ta["group_effects"] == tb["group_effects"]
    assert "category_effects" not in ta
    assert tb["tie_margin"] > ta["tie_margin"]


def test_small_categories_are_flagged_and_not_published(tmp_path: Path) -> None:
    """A category judged by too few distinct people would show their votes: `validate` warns at
    the slice's declaration, as for a small demographic group, and no table is published."""
    text = BOARD.replace("min_participants = 5", "min_participants = 1000")
    config = make_board(tmp_path / "b", battles=300, text=text)
    result = invoke("validate", "--config", str(config))
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "privacy: category" in x)
    assert line.startswith("leaderboard.toml:28:1: warning: privacy: category: coding (")
    assert line.endswith(
        "participant(s): fewer than privacy.min_participants (1000), so not published on their own"
    )
    rated = tmp_path / "rated"
    assert invoke("rate", "--config", str(config), "--out", str(rated)).exit_code == 0
    s = json.loads((rated / "standings.json").read_text("utf-8"))
    assert next(x for x in s["slices"] if x["attribute"] == "category")["published"] == []
    assert not [t for t in s["tables"] if t["slice_attribute"] == "category"]
    # the pages still render: no switcher, and the category page says what would fill it
    from prefboard.render.pages import render_pages
    from prefboard.standings.model import Standings

    pages = {p.path: p.text for p in render_pages(Standings.model_validate(s))}
    assert "pb-switch" not in pages["index.md"]
    assert "No value has its own ranking yet" in pages["categories/category.md"]
    assert "coding, writing, maths" in pages["categories/category.md"]


def test_declaring_a_battle_slice_changes_no_other_table(
    board: dict[str, Any], tmp_path: Path
) -> None:
    """The same battles rated without the category slice (and column) give exactly the same
    headline, pooled and group tables: a battle slice only adds its own tables."""
    plain = tmp_path / "plain"
    (plain / "results/battles").mkdir(parents=True)
    text = BOARD.split('[[slices]]\nattribute = "category"')[0]
    (plain / "leaderboard.toml").write_text(text, "utf-8")
    source = board["root"] / "board/results"
    (plain / "results/participants.csv").write_bytes((source / "participants.csv").read_bytes())
    for path in sorted((source / "battles").glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False).drop(columns="category")
        frame.to_csv(plain / "results/battles" / path.name, index=False)
    rated = tmp_path / "rated"
    result = invoke("rate", "--config", str(plain / "leaderboard.toml"), "--out", str(rated))
    assert result.exit_code == 0, result.output
    without = json.loads((rated / "standings.json").read_text("utf-8"))

    def tables(s: dict[str, Any]) -> dict[tuple[str, str, str], list[Any]]:
        return {
            (t["dimension"], t["slice_attribute"], t["slice_value"]): t["entries"]
            for t in s["tables"]
            if t["slice_attribute"] != "category"
        }

    assert tables(board["standings"]) == tables(without)
