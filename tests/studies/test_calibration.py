"""The end-to-end calibration study: its scoring on a known answer, and one small board through
the real pipeline."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prefboard.config import parse_config
from prefboard.standings.model import Entry, Table
from prefboard.studies import calibration as cal
from prefboard.tools.simulate import SimulationSpec, hidden_skills, simulate, simulate_batch
from tests import factories


def entry(model: str, score: float, half: float, rank: int, lo: int, hi: int) -> Entry:
    # band score ± half (z = 2, sd = half / 2); sigma and the conservative score stay at 1 and 3
    return factories.entry(
        model, score, rank, sd=half / 2, sigma=1.0, conservative=score - 3, rank_lower=lo,
        rank_upper=hi,
    )  # fmt: skip


def test_score_table_known_answer() -> None:
    # Estimates average 21, truth averages 1: truth shifted by +20 to 22, 21, 20.
    table = Table(
        dimension="overall", slice_attribute="age_group", slice_value="55+", battles=30,
        participants=3,
        entries=[entry("x", 22.5, 1.0, 1, 1, 1), entry("y", 20.0, 0.5, 3, 2, 3),
                 entry("z", 20.5, 0.2, 2, 1, 2)],
    )  # fmt: skip
    truth = {"x": 2.0, "y": 1.0, "z": 0.0}  # true ranks x 1, y 2, z 3
    got = cal._score_table("s", "t", 0, table, truth, z=2.0)
    by = {i.model: i for i in got}
    assert by["x"].covered and not by["y"].covered and not by["z"].covered  # 21 vs 20.5±0.2
    assert [by[m].rank_covered for m in "xyz"] == [True, True, False]
    assert by["x"].z_error == pytest.approx(0.5 / (1.0 / 2.0))
    assert by["y"].width == pytest.approx(1.0)
    cells = cal.summarise(got)
    assert len(cells) == 1 and cells[0].intervals == 3
    assert cells[0].coverage == pytest.approx(1 / 3)
    assert cells[0].rank_coverage == pytest.approx(2 / 3)


def test_headline_truth_is_population_weighted_group_skill(tmp_path: Path) -> None:
    text = cal.board_toml(3, None)
    config = parse_config(tomllib.loads(text), text)
    truth = hidden_skills(config, 3)
    effects = truth["group_effects"][cal.ATTRIBUTE]
    for m, s in truth["skills"].items():
        weighted = sum(w * (s["overall"] + effects[v][m]) for v, w in cal.POPULATION.items())
        # The generator centres group effects on the population: the weighted mean is the skill.
        assert weighted == pytest.approx(s["overall"], abs=1e-5)


def test_one_board_through_the_pipeline(tmp_path: Path) -> None:
    scenario = replace(
        cal.SCENARIOS[0], spec=replace(cal.SCENARIOS[0].spec, battles=2_000, participants=300)
    )
    intervals = cal.run_board(scenario, 5, tmp_path)
    tables = {i.table for i in intervals}
    assert tables == {"headline"} | {f"age_group={v}" for v in cal.POPULATION}
    assert len(intervals) == 4 * cal.MODELS
    # A smoke bound, not a calibration claim: most bands of a 2,000-battle board cover.
    assert np.mean([i.covered for i in intervals]) > 0.6
    assert (tmp_path / "leaderboard.toml").read_text().count("draw_probability") == 1


def test_planned_batches_are_appended(tmp_path: Path) -> None:
    text = cal.board_toml(1, 0.2)
    config = parse_config(tomllib.loads(text), text)
    spec = SimulationSpec(battles=100, ratings=0, participants=50, seed=1, votes_per_prompt=4,
                          prompt_sd=0.5)  # fmt: skip
    simulate(config, tmp_path, spec)
    path = simulate_batch(config, tmp_path, spec, [("m00", "m01"), ("m02", "m03")] * 4, 1)
    first = pd.read_csv(tmp_path / "battles" / "battles-001.csv", dtype=str)
    batch = pd.read_csv(path, dtype=str)
    assert list(batch.columns) == list(first.columns)
    assert "prompt_id" in first.columns
    # Four votes per prompt: every prompt's votes judge the same ordered pair.
    assert first.groupby("prompt_id")[["model_a", "model_b"]].nunique().max().max() == 1
    assert first["prompt_id"].value_counts().max() == 4
    assert len(batch) == 8 and set(batch["model_a"]) <= {"m00", "m02"}
    assert batch["timestamp"].min() > first["timestamp"].max()
    assert not set(batch["battle_id"]) & set(first["battle_id"])
