"""Partial pooling and joint-cell post-stratification through `prefboard rate`, as a user sees
them in standings.json: a simulated board stratified by country × age_group."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from prefboard.cli import cli

AGES = ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"]
# Joint shares of country × age_group; UK × 65+ has a share but (below) nobody in the sample,
# UK × 18-24 is impossible in this made-up population.
SHARES = {
    ("US", "18-24"): 0.10,
    ("US", "25-34"): 0.15,
    ("US", "35-44"): 0.15,
    ("US", "45-54"): 0.15,
    ("US", "55-64"): 0.15,
    ("US", "65+"): 0.10,
    ("UK", "18-24"): 0.0,
    ("UK", "25-34"): 0.05,
    ("UK", "35-44"): 0.05,
    ("UK", "45-54"): 0.04,
    ("UK", "55-64"): 0.04,
    ("UK", "65+"): 0.02,
}


def _run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pooled")
    tiny = Path(__file__).parent.parent / "fixtures" / "tiny" / "leaderboard.toml"
    text = tiny.read_text("utf-8").replace(
        "[quality]",
        '[privacy]\nmin_participants = 1\n\n[rating]\nstratify_by = ["country", '
        '"age_group"]\npermutations = 2\n\n[quality]',
    )
    for (country, age), share in SHARES.items():
        text += (
            f'\n[[rating.joint_population]]\ncell = {{ country = "{country}", '
            f'age_group = "{age}" }}\nshare = {share}\n'
        )
    config = root / "leaderboard.toml"
    config.write_text(text, "utf-8")
    _run(
        "simulate",
        "--config",
        str(config),
        "--battles",
        "3000",
        "--ratings",
        "0",
        "--participants",
        "300",
        "--seed",
        "3",
    )
    # Nobody from the UK aged 65+ in the sample: move them to 55-64.
    people = root / "results" / "participants.csv"
    rows = list(csv.DictReader(people.open(encoding="utf-8")))
    for r in rows:
        if (r["country"], r["age_group"]) == ("UK", "65+"):
            r["age_group"] = "55-64"
    with people.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    _run("rate", "--config", str(config), "--out", str(root / "out"))
    return root


def _standings(board: Path) -> dict:
    return json.loads((board / "out" / "standings.json").read_text("utf-8"))


def test_headline_weights_are_the_joint_shares_for_every_model(board: Path) -> None:
    s = _standings(board)
    head = next(
        t
        for t in s["tables"]
        if t["dimension"] == "overall" and t["slice_attribute"] == "poststratified"
    )
    assert head["slice_value"] == "country+age_group"
    assert head["pooled"] is True
    expected = {f"{c} × {a}": w for (c, a), w in SHARES.items()}
    assert head["weights"] == pytest.approx(expected)
    # one population for all models: no per-model renormalisation note
    assert not any("renormalised" in n for n in head["notes"])


def test_an_empty_cell_with_a_share_is_named_in_a_warning(board: Path) -> None:
    s = _standings(board)
    head = next(
        t
        for t in s["tables"]
        if t["dimension"] == "overall" and t["slice_attribute"] == "poststratified"
    )
    info = next(
        p
        for p in s["pooling"]
        if (p["dimension"], p["grouping"]) == ("overall", "country+age_group")
    )
    tau = info["tau"]
    assert head["notes"] == [
        "No battles in 1 population cell(s) with a nonzero share: UK × 65+. They count with "
        f"the population estimate and tau = {tau:.2f} more uncertainty per model."
    ]
    assert info["empty_cells"] == ["UK × 65+"]
    assert info["cells"] == 11  # UK × 18-24 has share 0
    assert info["target"] == "joint shares"


def test_slice_tables_are_pooled_and_tau_is_reported_per_dimension(board: Path) -> None:
    s = _standings(board)
    slices = [t for t in s["tables"] if t["slice_attribute"] in ("country", "age_group")]
    assert slices and all(t["pooled"] for t in slices)
    groupings = {(p["dimension"], p["grouping"]) for p in s["pooling"]}
    for dim in ("overall", "helpfulness"):
        for grouping in ("country", "age_group", "ethnicity", "country+age_group"):
            assert (dim, grouping) in groupings
    for p in s["pooling"]:
        assert 0.0 <= p["tau_lower"] <= p["tau"] <= p["tau_upper"]


def test_marginal_shares_follow_from_the_joint_ones(board: Path) -> None:
    # age_group declares no population of its own; its shares are the joint rows' marginals
    s = _standings(board)
    ages = next(sl for sl in s["slices"] if sl["attribute"] == "age_group")
    expected = {a: sum(w for (_, age), w in SHARES.items() if age == a) for a in AGES}
    assert ages["population"] == pytest.approx(expected)
    shares = {x["value"]: x["population_share"] for x in s["samples"]}
    assert shares["65+"] == pytest.approx(0.12)
