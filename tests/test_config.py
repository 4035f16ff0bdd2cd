from __future__ import annotations

from pathlib import Path

import pytest

from prefboard.config import load_config, locate_key
from prefboard.errors import ConfigError

MINIMAL = """\
[[dimensions]]
key = "overall"

[[models]]
key = "m1"

[[models]]
key = "m2"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "leaderboard.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    return [p.format() for p in info.value.problems]


def test_minimal_config_gets_trueskill_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    # Herbrich et al. (2006) defaults, as in the trueskill package: sigma mu/3, beta sigma/2.
    assert config.rating.mu == 25.0
    assert config.rating.sigma == pytest.approx(25 / 3)
    assert config.rating.beta == pytest.approx(25 / 6)
    # tau is 0, not TrueSkill's 25/300: fixed model versions, calibrated bands
    # (benchmarks/bench_online_bands.py: 94.4-96.3 % coverage with tau = 0, 99-100 % without)
    assert config.rating.tau == 0.0
    assert config.rating.permutations == 20
    assert config.model_keys == ["m1", "m2"]
    assert config.data.battles == ["results/battles/*.csv"]


def test_example_board_config_loads() -> None:
    config = load_config(Path(__file__).parent.parent / "leaderboard.toml")
    assert len(config.models) == 13
    assert [d.key for d in config.battle_dimensions] == [
        "overall",
        "helpfulness",
        "communication",
        "adaptiveness",
        "trust_safety",
        "personality",
    ]
    assert "background_culture" in [d.key for d in config.likert_dimensions]
    assert [s.attribute for s in config.strata] == ["age_group"]
    assert config.leaderboard.synthetic


def test_unknown_key_names_path_line_and_suggestion(tmp_path: Path) -> None:
    found = problems(tmp_path, MINIMAL + "\n[rating]\nmu = 30\nsigam = 3\n")
    assert found == [
        "leaderboard.toml:12:0: unknown-key: rating.sigam: unknown key; did you mean 'sigma'? "
        "(valid keys: mu, sigma, beta, tau, draw_probability, interval, permutations, "
        "permuted_tables, seed, "
        "stratify_by, min_battles, joint_population)"
    ]


def test_typo_in_model_key_suggests_closest(tmp_path: Path) -> None:
    found = problems(tmp_path, MINIMAL + "organisation = 'x'\n")
    assert found[0].startswith("leaderboard.toml:9:0: unknown-key: models[1].organisation")
    assert "did you mean 'organization'?" in found[0]


def test_every_problem_reported_at_once(tmp_path: Path) -> None:
    text = (
        MINIMAL + "\n[rating]\nsigma = -1\ndraw_probability = 0\n\n[quality]\nstrike_limit = 'x'\n"
    )
    found = problems(tmp_path, text)
    rules = sorted(f.split(": ")[1] + " " + f.split(": ")[2] for f in found)
    assert len(found) == 3
    assert any("rating.sigma" in r for r in rules)
    assert any("rating.draw_probability" in r for r in rules)
    assert any("quality.strike_limit" in r for r in rules)
    assert any(
        f.startswith("leaderboard.toml:11:0: invalid-value: rating.sigma") for f in found
    )  # sigma's own line


def test_draw_probability_zero_rejected(tmp_path: Path) -> None:
    # TrueSkill with draw probability 0 raises sigma on a tie (DESIGN.md, known traps).
    found = problems(tmp_path, MINIMAL + "[rating]\ndraw_probability = 0.0\n")
    assert "rating.draw_probability" in found[0]
    assert "greater than 0" in found[0]


def test_population_shares_must_sum_to_one(tmp_path: Path) -> None:
    text = MINIMAL + (
        '\n[[slices]]\nattribute = "age"\nvalues = ["young", "old"]\n'
        "population = { young = 0.5, old = 0.6 }\n"
    )
    found = problems(tmp_path, text)
    assert found == [
        "leaderboard.toml:10:0: invalid-value: slices[0]: population shares sum to 1.1, not 1"
    ]


def test_population_share_for_undeclared_value(tmp_path: Path) -> None:
    text = MINIMAL + (
        '\n[[slices]]\nattribute = "age"\nvalues = ["young"]\n'
        "population = { young = 0.5, old = 0.5 }\n"
    )
    assert "not in `values`: old" in problems(tmp_path, text)[0]


def test_duplicate_model_keys(tmp_path: Path) -> None:
    found = problems(tmp_path, MINIMAL + '\n[[models]]\nkey = "m1"\n')
    assert "duplicate key(s): m1" in found[0]


def test_stratify_by_unknown_attribute(tmp_path: Path) -> None:
    found = problems(tmp_path, MINIMAL + '[rating]\nstratify_by = ["age"]\n')
    assert "unknown slice attribute 'age'" in found[0]


def test_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    found = problems(tmp_path, MINIMAL + "[rating\n")
    assert found[0].startswith("leaderboard.toml:9:8: toml-syntax: ")
    assert ": toml-syntax: " in found[0]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.toml")
    assert "config-missing" in str(info.value)


def test_deep_nesting_refused(tmp_path: Path) -> None:
    found = problems(tmp_path, MINIMAL + "[leaderboard]\nx = " + "[" * 50 + "]" * 50 + "\n")
    assert "toml-nesting" in found[0]


def test_locate_key_counts_array_tables() -> None:
    text = MINIMAL + "[[models]]\nkey = 'm3'\nname = 'x'\n"
    assert locate_key(text, ["models", "2", "name"]) == 11
    assert locate_key(text, ["models", "1"]) == 7
    assert locate_key(text, ["nothing"]) == 0


def test_draw_probability_defaults_to_learnt(tmp_path: Path) -> None:
    # Unset means "learn ties from the data" (issue 14); a pinned value stays validated > 0.
    path = tmp_path / "leaderboard.toml"
    path.write_text(MINIMAL)
    assert load_config(path).rating.draw_probability is None
