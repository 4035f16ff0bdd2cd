"""Post-stratification cells: joint population shares in the config, and raking to marginals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from prefboard.cli import cli
from prefboard.config import load_config
from prefboard.errors import ConfigError
from prefboard.rating import strata

BOARD = """\
[[dimensions]]
key = "overall"

[[models]]
key = "m1"

[[models]]
key = "m2"

[rating]
stratify_by = ["age", "country"]

[[slices]]
attribute = "age"
values = ["young", "old"]
population = { young = 0.4, old = 0.6 }

[[slices]]
attribute = "country"
values = ["us", "uk", "fr"]
population = { us = 0.5, uk = 0.3, fr = 0.2 }
"""

JOINT = """
[[rating.joint_population]]
cell = { age = "young", country = "us" }
share = 0.3

[[rating.joint_population]]
cell = { age = "young", country = "uk" }
share = 0.1

[[rating.joint_population]]
cell = { age = "old", country = "us" }
share = 0.2

[[rating.joint_population]]
cell = { age = "old", country = "uk" }
share = 0.2

[[rating.joint_population]]
cell = { age = "old", country = "fr" }
share = 0.2
"""


def _load(tmp_path: Path, text: str):
    path = tmp_path / "leaderboard.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def _problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text)
    return [p.format() for p in info.value.problems]


def test_joint_shares_fill_their_cells_and_unlisted_cells_are_impossible(tmp_path: Path) -> None:
    config = _load(tmp_path, BOARD + JOINT)
    cells = strata.target_cells(config, {"age": np.array([0]), "country": np.array([0])})
    assert cells.method == "joint shares"
    assert cells.names == [
        "young × us",
        "young × uk",
        "young × fr",
        "old × us",
        "old × uk",
        "old × fr",
    ]
    assert cells.shares == pytest.approx([0.3, 0.1, 0.0, 0.2, 0.2, 0.2])


def test_raking_reproduces_every_marginal_and_keeps_the_sample_association(
    tmp_path: Path,
) -> None:
    config = _load(tmp_path, BOARD)
    rng = np.random.default_rng(0)
    # A sample where the young are mostly in the us: raking keeps that association.
    age = rng.choice(2, 500, p=[0.7, 0.3])
    country = np.where(age == 0, rng.choice(3, 500, p=[0.8, 0.1, 0.1]), rng.choice(3, 500))
    cells = strata.target_cells(config, {"age": age, "country": country})
    table = cells.shares.reshape(2, 3)
    assert cells.method == "raked to marginal shares"
    assert table.sum(axis=1) == pytest.approx([0.4, 0.6], abs=1e-10)
    assert table.sum(axis=0) == pytest.approx([0.5, 0.3, 0.2], abs=1e-10)
    # young share of the us cell is far above the independence product 0.4 × 0.5
    assert table[0, 0] > 0.3


def test_raking_with_an_impossible_value_gives_its_cells_zero() -> None:
    table = strata.rake(np.ones((2, 3)), [np.array([0.5, 0.5]), np.array([0.0, 0.5, 0.5])])
    assert table[:, 0] == pytest.approx([0.0, 0.0])
    assert table.sum() == pytest.approx(1.0)


def test_empty_sample_cells_still_get_a_share_when_raked(tmp_path: Path) -> None:
    config = _load(tmp_path, BOARD)
    # Nobody old from fr in the sample: the population still has such people.
    cells = strata.target_cells(
        config, {"age": np.array([0, 0, 1, 1, 0]), "country": np.array([0, 1, 0, 1, 2])}
    )
    assert cells.shares[5] > 0.0


def test_joint_shares_must_name_every_stratify_by_attribute(tmp_path: Path) -> None:
    text = BOARD + '\n[[rating.joint_population]]\ncell = { age = "young" }\nshare = 1.0\n'
    assert _problems(tmp_path, text) == [
        "leaderboard.toml:24:0: invalid-value: rating.joint_population[0].cell: names age; "
        "expected exactly the stratify_by attributes: age, country"
    ]


def test_joint_shares_must_use_declared_values(tmp_path: Path) -> None:
    text = BOARD + JOINT.replace('country = "fr"', 'country = "de"')
    assert _problems(tmp_path, text) == [
        "leaderboard.toml:40:0: invalid-value: rating.joint_population[4].cell: "
        "country = 'de' is not a declared value (values: us, uk, fr)"
    ]


def test_joint_shares_must_sum_to_one(tmp_path: Path) -> None:
    text = BOARD + JOINT.replace("share = 0.3", "share = 0.4")
    found = _problems(tmp_path, text)
    assert found == [
        "leaderboard.toml:10:0: invalid-value: rating.joint_population: shares sum to 1.1, not 1"
    ]


def test_joint_shares_must_agree_with_the_marginal_shares(tmp_path: Path) -> None:
    text = BOARD.replace("young = 0.4, old = 0.6", "young = 0.5, old = 0.5") + JOINT
    assert _problems(tmp_path, text) == [
        "leaderboard.toml:10:0: invalid-value: rating.joint_population: age = 'young' has "
        "joint share 0.4 but population share 0.5 in its slice"
    ]


def test_a_cell_listed_twice_is_refused(tmp_path: Path) -> None:
    text = BOARD + JOINT.replace('country = "fr"', 'country = "uk"')
    assert _problems(tmp_path, text)[0].endswith(
        "rating.joint_population[4].cell: the same cell as rating.joint_population[3]"
    )


def test_joint_shares_replace_the_marginal_population(tmp_path: Path) -> None:
    text = BOARD.replace("population = { young = 0.4, old = 0.6 }\n", "") + JOINT
    config = _load(tmp_path, text)
    assert [s.attribute for s in config.strata] == ["age", "country"]


def test_too_many_cells_is_a_config_problem(tmp_path: Path) -> None:
    # Joint shares lift the need for marginal ones, not the cap on cells (config.py).
    values = ", ".join(f'"v{i}"' for i in range(400))
    text = (
        BOARD.replace('values = ["us", "uk", "fr"]', f"values = [{values}]")
        .replace("population = { us = 0.5, uk = 0.3, fr = 0.2 }", "")
        .replace('values = ["young", "old"]', 'values = ["young", "mid", "old"]')
        .replace("population = { young = 0.4, old = 0.6 }", "")
    )
    text += '\n[[rating.joint_population]]\ncell = { age = "old", country = "v0" }\nshare = 1.0\n'
    assert _problems(tmp_path, text) == [
        "leaderboard.toml:11:0: invalid-value: rating.stratify_by: age (3) x country (400) make "
        "1,200 joint cells (limit 1,000); stratify by fewer or coarser slices"
    ]


def test_validate_reports_a_bad_joint_share_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "leaderboard.toml").write_text(
        BOARD + JOINT.replace("share = 0.1", "share = -0.1"), encoding="utf-8"
    )
    result = CliRunner().invoke(cli, ["validate", "--config", str(tmp_path / "leaderboard.toml")])
    assert result.exit_code == 2
    assert (
        "leaderboard.toml:29:0: invalid-value: rating.joint_population[1].share: "
        "Input should be greater than or equal to 0"
    ) in result.output
