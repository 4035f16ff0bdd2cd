"""Style control (`[[covariates]]`, issue 16 part 3) as a user meets it: config and data
problems with their exact messages, `simulate` writing covariates with a real effect, and the
Style control page and standings of a built board."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from prefboard.cli import cli
from prefboard.standings.model import POOLED

COVARIATES = """
[[covariates]]
key = "answer_tokens"
label = "answer length"
description = "Tokens in the model's answer."

[[covariates]]
key = "sycophancy"
label = "sycophancy score"
transform = "linear"
"""

# A small board of its own: four models, one battle dimension, one slice.
BOARD = """
[leaderboard]
title = "Style board"
synthetic = true

[rating]
seed = 7
permutations = 2

[[dimensions]]
key = "overall"
label = "Overall"

[[models]]
key = "alpha"
[[models]]
key = "bravo"
[[models]]
key = "charlie"
[[models]]
key = "delta"

[[slices]]
attribute = "country"
values = ["US", "UK"]
population = { US = 0.5, UK = 0.5 }
"""


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def board(folder: Path, extra: str = COVARIATES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "leaderboard.toml"
    config.write_text(BOARD + extra, encoding="utf-8")
    return config


def simulated(folder: Path, battles: int = 6_000, seed: int = 4) -> Path:
    config = board(folder)
    result = invoke(
        "simulate", "--config", str(config), "--battles", str(battles), "--ratings", "0",
        "--participants", "300", "--seed", str(seed),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return config


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The simulated style board, built into `site/` once for the module."""
    folder = tmp_path_factory.mktemp("style")
    config = simulated(folder)
    result = invoke("build", "--config", str(config), "--out", str(folder / "site"))
    assert result.exit_code == 0, result.output
    return folder


def text_of(page: Path) -> str:
    html = page.read_text(encoding="utf-8")
    body = html[html.index("<h1") : html.index("</article>")]
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body)))


# --- Config and data problems ---------------------------------------------------------------


def test_a_covariate_cannot_read_a_fixed_column(tmp_path: Path) -> None:
    config = board(tmp_path, '\n[[covariates]]\nkey = "model"\n')
    result = invoke("validate", "--config", str(config))
    assert result.exit_code == 2
    line = BOARD.count("\n") + 3
    assert result.output.strip() == (
        f"Error: leaderboard.toml:{line}:0: invalid-value: covariates[0].key: 'model' would "
        "read column 'model_a', which battle files already use for something else; choose "
        "another key"
    )


def test_a_transform_must_be_log1p_or_linear(tmp_path: Path) -> None:
    config = board(tmp_path, '\n[[covariates]]\nkey = "length"\ntransform = "log"\n')
    result = invoke("validate", "--config", str(config))
    assert result.exit_code == 2
    assert "covariates[0].transform: Input should be 'log1p' or 'linear'" in result.output


def test_bad_covariate_cells_are_located_and_empty_ones_are_not_problems(
    tmp_path: Path,
) -> None:
    config = simulated(tmp_path, battles=200)
    battles = tmp_path / "results" / "battles" / "battles-001.csv"
    lines = battles.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    at = header.index("answer_tokens_b")
    for row, value in ((2, "-3"), (3, "12.5.1"), (4, "")):
        cells = lines[row - 1].split(",")
        cells[at] = value
        lines[row - 1] = ",".join(cells)
    battles.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = invoke("validate", "--config", str(config))
    assert result.exit_code == 2
    found = [x for x in result.output.splitlines() if ": covariate: " in x]
    column = at + 1
    assert found == [
        f"results/battles/battles-001.csv:2:{column}: covariate: answer_tokens_b must be a "
        "finite number >= 0, found '-3' (negative)",
        f"results/battles/battles-001.csv:3:{column}: covariate: answer_tokens_b must be a "
        "finite number >= 0, found '12.5.1'",
    ]


# --- simulate -------------------------------------------------------------------------------


def test_simulate_writes_covariates_with_a_real_effect(tmp_path: Path) -> None:
    simulated(tmp_path, battles=6_000)
    truth = json.loads((tmp_path / "results" / "hidden_skills.json").read_text())
    assert truth["style_effects"]["answer_tokens"]["transform"] == "log1p"
    assert truth["style_effects"]["answer_tokens"]["effect_per_unit"] > 0
    frame = pd.concat(
        pd.read_csv(p, dtype={"answer_tokens_a": float, "answer_tokens_b": float})
        for p in sorted((tmp_path / "results" / "battles").glob("*.csv"))
    )
    # About 1 % of battles carry no covariates (not annotated); the rest whole numbers > 0.
    missing = frame["answer_tokens_a"].isna()
    assert 0.002 < missing.mean() < 0.03
    tokens = frame.loc[~missing, ["answer_tokens_a", "answer_tokens_b"]].to_numpy()
    assert (tokens >= 0).all() and (tokens == np.rint(tokens)).all()
    # Within each pair of models (so skill is held fixed), a wins more often when its answer
    # is longer than usual for that pair: the effect is on outcomes, not only in the columns.
    decided = frame.loc[~missing & frame["overall"].isin(["a", "b"])].copy()
    decided["gap"] = np.log1p(decided["answer_tokens_a"]) - np.log1p(decided["answer_tokens_b"])
    decided["a_won"] = decided["overall"] == "a"
    pair = decided.groupby(["model_a", "model_b"])["gap"]
    decided["longer"] = decided["gap"] > pair.transform("median")
    rates = decided.groupby(["model_a", "model_b", "longer"])["a_won"].mean().unstack()
    assert (rates[True] - rates[False]).mean() > 0.1


# --- The built board -------------------------------------------------------------------------


def test_standings_hold_the_style_control(built: Path) -> None:
    standings = json.loads((built / "site" / "downloads" / "standings.json").read_text())
    (style,) = standings["style"]
    assert style["dimension"] == "overall"
    pooled = next(
        t
        for t in standings["tables"]
        if t["dimension"] == "overall" and t["slice_attribute"] == POOLED
    )
    # Every battle with a verdict is in the fit or counted as missing a covariate.
    assert style["battles"] + style["battles_without"] == pooled["battles"]
    assert style["battles_without"] > 0
    length, syco = style["coefficients"]
    assert length["covariate"] == "answer_tokens" and length["matters"] is True
    assert length["lower"] > 0 and length["effect_lower"] > 0
    assert length["step_text"] == "each doubling of answer length"
    assert syco["step"] == 1.0
    ranks = sorted(e["rank"] for e in style["entries"])
    assert ranks == [1, 2, 3, 4]
    for e in style["entries"]:
        assert e["rank_change"] == e["raw_rank"] - e["rank"]
        assert e["lower"] < e["score"] < e["upper"]


def test_the_style_control_page(built: Path) -> None:
    text = text_of(built / "site" / "style.html")
    standings = json.loads((built / "site" / "downloads" / "standings.json").read_text())
    length = standings["style"][0]["coefficients"][0]
    points = f"{length['effect'] * 100:.1f}"
    assert (
        "Each doubling of answer length raises the chance of being preferred against an "
        f"equally skilled model by about {points} percentage points"
    ) in text
    assert "Overall matters: preferred when higher" in text
    assert "answer length (log1p): Tokens in the model's answer." in text
    assert "Style-controlled score" in text and "Raw rank" in text
    assert "where it differs from Chatbot Arena" in text
    nav = (built / "site" / "index.html").read_text(encoding="utf-8")
    assert "Style control" in nav


def test_no_covariates_no_style_control(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("rate", "--config", str(tiny / "leaderboard.toml"), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert json.loads((out / "standings.json").read_text())["style"] == []


def test_a_style_covariate_without_effect_is_not_flagged(tmp_path: Path) -> None:
    from prefboard.config import load_config
    from prefboard.tools.simulate import SimulationSpec, simulate

    config = board(tmp_path)
    spec = SimulationSpec(battles=6_000, ratings=0, participants=300, seed=4, style_scale=0.0)
    simulate(load_config(config), tmp_path / "results", spec)
    out = tmp_path / "out"
    result = invoke("rate", "--config", str(config), "--out", str(out))
    assert result.exit_code == 0, result.output
    (style,) = json.loads((out / "standings.json").read_text())["style"]
    assert [c["matters"] for c in style["coefficients"]] == [False, False]


def test_a_battle_file_without_the_covariate_columns_is_a_warning(tiny: Path) -> None:
    config = tiny / "leaderboard.toml"
    config.write_text(config.read_text(encoding="utf-8") + COVARIATES, encoding="utf-8")
    result = invoke("validate", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert (
        "results/battles/battles.csv:1:0: warning: covariate: no answer_tokens_a, "
        "answer_tokens_b, sycophancy_a, sycophancy_b column(s): this file's battles are left "
        "out of the style fit (every other ranking counts them)"
    ) in result.output.splitlines()


def test_effects_in_words() -> None:
    from prefboard.render.pages.style import effect_sentence
    from prefboard.standings.style import StyleCoefficient

    common = {"covariate": "k", "scale": 1.0, "sd": 0.1, "matters": True, "transform": "linear"}
    lowers = StyleCoefficient(
        label="sycophancy score", estimate=-0.5, lower=-0.7, upper=-0.3, step=1.0,
        step_text="a sycophancy score higher by 1 than the other answer's",
        effect=-0.0412, effect_lower=-0.061, effect_upper=-0.0203, **common,
    )  # fmt: skip
    assert effect_sentence(lowers) == (
        "A sycophancy score higher by 1 than the other answer's lowers the chance of being "
        "preferred against an equally skilled model by about 4.1 percentage points (interval "
        "−6.1 to −2.0)"
    )
    flat = lowers.model_copy(update={"differs": False, "matters": False})
    assert effect_sentence(flat) == (
        "sycophancy score: the two answers never differ on it, so it cannot have an effect here"
    )


def test_covariates_declared_but_never_given(tiny: Path) -> None:
    from prefboard import pipeline
    from prefboard.render.pages import render_pages

    config = tiny / "leaderboard.toml"
    config.write_text(config.read_text(encoding="utf-8") + COVARIATES, encoding="utf-8")
    _, standings = pipeline.rate(*pipeline.load(config), config)
    style = standings.style[0]  # overall: 2 accepted battles, none with covariates
    assert len(standings.style) == 6
    assert (style.dimension, style.battles, style.battles_without) == ("overall", 0, 2)
    assert style.coefficients == [] and style.entries == []
    page = next(p for p in render_pages(standings) if p.path == "style.md")
    assert "No battle has every covariate on both sides yet." in page.text
