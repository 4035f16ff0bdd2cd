"""Tests of `prefboard simulate`: the synthetic results folder honours the CSV contract."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prefboard.config import Config, load_config, parse_config
from prefboard.tools.simulate import SimulationResult, SimulationSpec, hidden_skills, simulate

BOARD = Path(__file__).resolve().parents[1] / "leaderboard.toml"
SPEC = SimulationSpec(battles=20_000, ratings=3_000, participants=1_500, seed=7)
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(BOARD)


@pytest.fixture(scope="module")
def run(config: Config, tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    return simulate(config, tmp_path_factory.mktemp("results"), SPEC)


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def read_all(paths: list[Path]) -> pd.DataFrame:
    return pd.concat([read(p) for p in paths], ignore_index=True)


@pytest.fixture(scope="module")
def participants(run: SimulationResult) -> pd.DataFrame:
    return read(run.participants_path)


@pytest.fixture(scope="module")
def battles(run: SimulationResult) -> pd.DataFrame:
    return read_all(run.battle_paths)


@pytest.fixture(scope="module")
def ratings(run: SimulationResult) -> pd.DataFrame:
    return read_all(run.rating_paths)


def header(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n", 1)[0].split(",")


# --- Shape ----------------------------------------------------------------------------------


def test_headers_match_config(config: Config, run: SimulationResult) -> None:
    attrs = [s.attribute for s in config.participant_slices]
    assert header(run.participants_path) == ["participant_id", *attrs, "strikes"]
    battle_dims = [d.key for d in config.battle_dimensions]
    categories = [s.attribute for s in config.battle_slices]
    styles = [f"{c.key}_{side}" for c in config.covariates for side in "ab"]
    for path in run.battle_paths:
        fixed = ["battle_id", "timestamp", "participant_id", "model_a", "model_b", "turns"]
        assert header(path) == [*fixed, *categories, *battle_dims, *styles]
    likert = [d.key for d in config.likert_dimensions]
    for path in run.rating_paths:
        assert header(path) == ["rating_id", "timestamp", "participant_id", "model", *likert]


def test_layout_and_counts(
    run: SimulationResult,
    participants: pd.DataFrame,
    battles: pd.DataFrame,
    ratings: pd.DataFrame,
) -> None:
    root = run.participants_path.parent
    assert run.participants_path == root / "participants.csv"
    assert run.skills_path == root / "hidden_skills.json"
    assert [p.name for p in run.battle_paths] == [
        "battles-001.csv",
        "battles-002.csv",
        "battles-003.csv",
    ]
    assert all(p.parent == root / "battles" for p in run.battle_paths)
    assert run.rating_paths == [root / "ratings" / "ratings-001.csv"]
    assert (run.battles, run.ratings, run.participants) == (20_000, 3_000, 1_500)
    assert (len(battles), len(ratings), len(participants)) == (20_000, 3_000, 1_500)
    # Files are split evenly, as several contributors' submissions would be.
    sizes = [len(read(p)) for p in run.battle_paths]
    assert max(sizes) - min(sizes) <= 1


def test_files_are_utf8_with_lf_endings(run: SimulationResult) -> None:
    for path in [run.participants_path, *run.battle_paths, *run.rating_paths, run.skills_path]:
        data = path.read_bytes()
        data.decode("utf-8")
        assert b"\r" not in data
        assert data.endswith(b"\n")


def test_deterministic_byte_identical(config: Config, tmp_path: Path) -> None:
    spec = SimulationSpec(battles=5_000, ratings=800, participants=300, seed=11)
    first = simulate(config, tmp_path / "one", spec)
    second = simulate(config, tmp_path / "two", spec)
    pairs = [
        (first.participants_path, second.participants_path),
        (first.skills_path, second.skills_path),
        *zip(first.battle_paths, second.battle_paths, strict=True),
        *zip(first.rating_paths, second.rating_paths, strict=True),
    ]
    for a, b in pairs:
        assert a.read_bytes() == b.read_bytes(), a.name
    other = simulate(config, tmp_path / "three", SimulationSpec(battles=5_000, seed=12))
    assert other.battle_paths[0].read_bytes() != first.battle_paths[0].read_bytes()


def test_rerun_removes_stale_files(config: Config, tmp_path: Path) -> None:
    simulate(config, tmp_path, SimulationSpec(battles=900, ratings=90, participants=50))
    unrelated = tmp_path / "battles" / "contributed.csv"
    unrelated.write_text("kept\n", encoding="utf-8")
    again = simulate(
        config, tmp_path, SimulationSpec(battles=100, ratings=10, participants=50, battle_files=1)
    )
    assert sorted((tmp_path / "battles").glob("battles-*.csv")) == again.battle_paths
    assert sorted((tmp_path / "ratings").glob("ratings-*.csv")) == again.rating_paths
    assert unrelated.exists()  # only the simulator's own file names are cleared


# --- Values within the contract -------------------------------------------------------------


def test_battle_cells_within_contract(
    config: Config, battles: pd.DataFrame, participants: pd.DataFrame
) -> None:
    models = set(config.model_keys)
    assert battles["battle_id"].is_unique
    assert battles["battle_id"].str.fullmatch(r"b\d{7}").all()
    assert battles["timestamp"].str.match(ISO_Z).all()
    # Order across files too: file 2 continues where file 1 stopped.
    assert battles["timestamp"].is_monotonic_increasing
    times = pd.to_datetime(battles["timestamp"], utc=True)
    assert times.min() >= pd.Timestamp(SPEC.start)
    assert pd.Timedelta(days=50) < times.max() - times.min() <= pd.Timedelta(days=60)
    assert battles["participant_id"].isin(participants["participant_id"]).all()
    assert battles["model_a"].isin(models).all() and battles["model_b"].isin(models).all()
    assert (battles["model_a"] != battles["model_b"]).all()
    turns = battles["turns"].astype(int)
    assert turns.between(1, 12).all()
    short = (turns < config.quality.min_turns).mean()
    assert 0.04 < short < 0.10
    for dim in config.battle_dimensions:
        assert battles[dim.key].isin(["a", "b", "tie", ""]).all(), dim.key
        assert 0.02 < (battles[dim.key] == "").mean() < 0.08, dim.key


def test_pairs_are_uniform(config: Config, battles: pd.DataFrame) -> None:
    counts = pd.concat([battles["model_a"], battles["model_b"]]).value_counts()
    expected = 2 * len(battles) / len(config.models)
    assert set(counts.index) == set(config.model_keys)
    assert (abs(counts - expected) < 0.1 * expected).all()


def test_rating_cells_within_contract(
    config: Config, ratings: pd.DataFrame, participants: pd.DataFrame
) -> None:
    assert ratings["rating_id"].is_unique
    assert ratings["rating_id"].str.fullmatch(r"r\d{7}").all()
    assert ratings["timestamp"].str.match(ISO_Z).all()
    assert ratings["timestamp"].is_monotonic_increasing
    assert ratings["participant_id"].isin(participants["participant_id"]).all()
    assert ratings["model"].isin(config.model_keys).all()
    # Raters rate a few models each, never the same one twice on a 12-model board.
    per_rater = ratings["participant_id"].value_counts()
    assert 2 <= per_rater.mean() <= 5
    assert not ratings.duplicated(["participant_id", "model"]).any()
    for dim in config.likert_dimensions:
        col = ratings[dim.key]
        assert 0.02 < (col == "").mean() < 0.08, dim.key
        answers = col[col != ""]
        assert answers.str.fullmatch(r"-?\d+").all(), dim.key
        values = answers.astype(int)
        assert values.between(dim.scale_min, dim.scale_max).all(), dim.key
        assert values.nunique() >= 5, dim.key  # the whole scale is used, not one answer


def test_participants_within_contract(config: Config, participants: pd.DataFrame) -> None:
    assert participants["participant_id"].is_unique
    for sl in config.participant_slices:
        assert participants[sl.attribute].isin(sl.values).all(), sl.attribute
    strikes = participants["strikes"].astype(int)
    limit = config.quality.strike_limit
    assert (strikes >= 0).all()
    assert 0.03 < (strikes >= limit).mean() < 0.07
    assert ((strikes >= 1) & (strikes < limit)).mean() > 0.05


def test_country_and_party_are_coherent(participants: pd.DataFrame) -> None:
    us = participants.loc[participants["country"] == "US", "political_affiliation"]
    uk = participants.loc[participants["country"] == "UK", "political_affiliation"]
    assert set(us) == {"Democrat", "Republican", "Independent"}
    assert set(uk) == {"Labour", "Conservative", "Other"}


def test_sample_is_skewed_against_population(config: Config, participants: pd.DataFrame) -> None:
    age = next(s for s in config.slices if s.attribute == "age_group")
    shares = participants["age_group"].value_counts(normalize=True)
    assert shares["65+"] < age.population["65+"] - 0.05
    assert shares["18-24"] > age.population["18-24"] + 0.03
    ethnicity = next(s for s in config.slices if s.attribute == "ethnicity")
    white = (participants["ethnicity"] == "White").mean()
    assert white > ethnicity.population["White"]


# --- Outcomes follow the hidden skills ------------------------------------------------------


def test_tie_share(config: Config, battles: pd.DataFrame) -> None:
    for dim in config.battle_dimensions:
        answered = battles.loc[battles[dim.key] != "", dim.key]
        assert 0.10 < (answered == "tie").mean() < 0.20, dim.key


def win_rates(battles: pd.DataFrame, dim: str) -> pd.Series:
    wins = pd.concat(
        [
            battles.loc[battles[dim] == "a", "model_a"],
            battles.loc[battles[dim] == "b", "model_b"],
        ]
    ).value_counts()
    losses = pd.concat(
        [
            battles.loc[battles[dim] == "b", "model_a"],
            battles.loc[battles[dim] == "a", "model_b"],
        ]
    ).value_counts()
    return (wins / (wins + losses)).fillna(0.0)


def test_stronger_hidden_skill_wins_more(config: Config, battles: pd.DataFrame) -> None:
    truth = hidden_skills(config, SPEC.seed)
    for dim in config.battle_dimensions:
        skill = pd.Series({m: truth["skills"][m][dim.key] for m in config.model_keys})
        rates = win_rates(battles, dim.key)
        assert rates[skill.idxmax()] > 0.5, dim.key
        assert rates[skill.idxmin()] < 0.5, dim.key
        assert skill.corr(rates[skill.index], method="spearman") > 0.7, dim.key


def test_likert_follows_hidden_skill(config: Config, ratings: pd.DataFrame) -> None:
    truth = hidden_skills(config, SPEC.seed)
    for dim in config.likert_dimensions:
        answered = ratings[ratings[dim.key] != ""]
        means = answered[dim.key].astype(int).groupby(answered["model"]).mean()
        skill = pd.Series({m: truth["skills"][m][dim.key] for m in config.model_keys})
        assert skill.corr(means[skill.index], method="spearman") > 0.6, dim.key


def test_group_effects_make_group_rankings_differ(
    config: Config, battles: pd.DataFrame, participants: pd.DataFrame
) -> None:
    # The hidden per-group preferences show up in the data: older participants' win rates
    # depart from younger participants' in the direction of the hidden effects.
    truth = hidden_skills(config, SPEC.seed)
    effect = truth["group_effects"]["age_group"]
    age = battles["participant_id"].map(participants.set_index("participant_id")["age_group"])
    young = win_rates(battles[age.isin(["18-24", "25-34"])], "overall")
    old = win_rates(battles[age.isin(["55-64", "65+"])], "overall")
    hidden = pd.Series(
        {
            m: (effect["55-64"][m] + effect["65+"][m] - effect["18-24"][m] - effect["25-34"][m])
            for m in config.model_keys
        }
    )
    observed = (old - young)[hidden.index]
    assert hidden.corr(observed) > 0.5


# --- Hidden truth ---------------------------------------------------------------------------


def test_hidden_skills_file_is_the_truth(config: Config, run: SimulationResult) -> None:
    text = run.skills_path.read_text(encoding="utf-8")
    truth = json.loads(text)
    # the battle slices' and the style's effects are drawn with the battles (their own streams)
    assert set(truth) - set(hidden_skills(config, SPEC.seed)) == {
        "category_effects",
        "style_effects",
    }
    assert {
        k: v for k, v in truth.items() if not k.endswith("_effects") or k == "group_effects"
    } == (hidden_skills(config, SPEC.seed))
    assert text == json.dumps(truth, sort_keys=True, indent=2) + "\n"
    assert truth["seed"] == SPEC.seed
    assert set(truth["skills"]) == set(config.model_keys)
    for skills in truth["skills"].values():
        assert set(skills) == {d.key for d in config.dimensions}
    for sl in config.participant_slices:
        assert set(truth["group_effects"][sl.attribute]) == set(sl.values)


def test_hidden_skills_shape(config: Config) -> None:
    truth = hidden_skills(config, 3)
    assert truth == hidden_skills(config, 3)
    assert truth != hidden_skills(config, 4)
    base = np.array(list(truth["base_skill"].values()))
    # A clear but not trivial ranking around the prior mean.
    assert abs(base.mean() - config.rating.mu) < 3
    assert 1.5 < base.std() < 6
    for sl in config.participant_slices:
        # Group effects are centred on the population, so `skills` is the population's view.
        for model in config.model_keys:
            weighted = sum(
                sl.population[v] * truth["group_effects"][sl.attribute][v][model] for v in sl.values
            )
            assert abs(weighted) < 1e-5
    assert 0 < truth["equivalent_draw_probability"] < 1
    assert truth["ranking"]["overall"][0] == max(
        truth["skills"], key=lambda m: truth["skills"][m]["overall"]
    )


# --- Arbitrary boards -----------------------------------------------------------------------


def generic_board(**overrides: object) -> Config:
    raw: dict[str, object] = {
        "dimensions": [
            {"key": "quality"},
            {"key": "warmth", "likert": True, "scale_min": -2, "scale_max": 2},
            {"key": "tone", "battles": False, "likert": True, "scale_min": 0, "scale_max": 10},
        ],
        "models": [{"key": f"model-{i}"} for i in range(5)],
        "slices": [
            {"attribute": "region", "values": ["north", "south, east", 'west "far"']},
            {"attribute": "country", "values": ["US", "UK", "FR"]},
            {
                "attribute": "politics",
                "values": ["Democrat", "Republican", "Labour", "Green"],
                "population": {"Democrat": 0.3, "Republican": 0.3, "Labour": 0.2, "Green": 0.2},
            },
            {"attribute": "only", "values": ["one"], "population": {"one": 1.0}},
        ],
        "quality": {"strike_limit": 1, "min_turns": 0},
        "rating": {"mu": 1500, "sigma": 350, "beta": 200, "tau": 5},
    }
    raw.update(overrides)
    return parse_config(raw)


def test_generic_board(tmp_path: Path) -> None:
    config = generic_board()
    spec = SimulationSpec(battles=3_000, ratings=500, participants=200, seed=5, battle_files=4)
    run = simulate(config, tmp_path, spec)
    participants = read(run.participants_path)
    assert header(run.participants_path) == [
        "participant_id",
        *[s.attribute for s in config.slices],
        "strikes",
    ]
    for sl in config.slices:
        assert participants[sl.attribute].isin(sl.values).all()
    # Values with commas and quotes survive the round trip.
    assert {"south, east", 'west "far"'} <= set(participants["region"])
    by_country = participants.groupby("country")["politics"].agg(set).to_dict()
    assert by_country["US"] <= {"Democrat", "Republican"}
    assert by_country["UK"] <= {"Labour"}
    assert by_country["FR"] <= {"Green"}
    # strike_limit 1: nobody can hold 1..limit-1 strikes.
    assert set(participants["strikes"].astype(int)) <= {0, 1, 2}

    battles = read_all(run.battle_paths)
    assert len(run.battle_paths) == 4 and len(battles) == 3_000
    assert list(battles.columns)[6:] == ["quality", "warmth"]
    assert (battles["model_a"] != battles["model_b"]).all()
    assert battles["turns"].astype(int).between(1, 12).all()
    answered = battles.loc[battles["quality"] != "", "quality"]
    assert 0.08 < (answered == "tie").mean() < 0.22  # calibrated on this board's own scale

    ratings = read_all(run.rating_paths)
    assert list(ratings.columns)[4:] == ["warmth", "tone"]
    for key, lo, hi in [("warmth", -2, 2), ("tone", 0, 10)]:
        values = ratings.loc[ratings[key] != "", key].astype(int)
        assert values.between(lo, hi).all()


def test_board_without_slices_or_likert(tmp_path: Path) -> None:
    config = generic_board(
        slices=[], dimensions=[{"key": "overall"}], models=[{"key": "x"}, {"key": "y"}]
    )
    run = simulate(config, tmp_path, SimulationSpec(battles=50, ratings=20, participants=5))
    assert header(run.participants_path) == ["participant_id", "strikes"]
    assert run.rating_paths == [] and run.ratings == 0
    battles = read_all(run.battle_paths)
    assert len(battles) == 50
    assert set(zip(battles["model_a"], battles["model_b"], strict=True)) <= {("x", "y"), ("y", "x")}


def test_big_board(tmp_path: Path) -> None:
    config = generic_board(models=[{"key": f"m{i:03d}"} for i in range(100)])
    run = simulate(config, tmp_path, SimulationSpec(battles=10_000, ratings=100, participants=50))
    battles = read_all(run.battle_paths)
    assert battles["model_a"].nunique() == 100 and battles["model_b"].nunique() == 100


def test_empty_run(config: Config, tmp_path: Path) -> None:
    run = simulate(config, tmp_path, SimulationSpec(battles=0, ratings=0, participants=0))
    assert (run.battles, run.ratings, run.participants) == (0, 0, 0)
    assert len(run.battle_paths) == 1
    assert read(run.battle_paths[0]).empty
    assert header(run.battle_paths[0])[:6] == [
        "battle_id",
        "timestamp",
        "participant_id",
        "model_a",
        "model_b",
        "turns",
    ]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"battles": -1},
        {"battle_files": 0},
        {"participants": 0},
        {"seed": -3},
        {"start": "yesterday"},
        {"days": 0},
        {"tie_share": 1.0},
        {"group_scale": -1.0},
        {"votes_per_prompt": 0},
        {"prompt_sd": float("nan")},
    ],
)
def test_spec_rejects_nonsense(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SimulationSpec(**kwargs)  # type: ignore[arg-type]


def test_study_conditions_ties_and_no_groups(config: Config, tmp_path: Path) -> None:
    # Calibration-study conditions: 40 % ties, no group differences; the truth file says so.
    spec = SimulationSpec(battles=20_000, ratings=0, participants=500, seed=3, tie_share=0.4,
                          group_scale=0.0)  # fmt: skip
    # The studies' boards have no style covariates: their effect on the answers is not part of
    # the tie margin's calibration (on the example board's config the share is 37 %, not 40 %).
    config = config.model_copy(update={"covariates": []})
    run = simulate(config, tmp_path, spec)
    truth = json.loads(run.skills_path.read_text())
    assert truth["tie_share_target"] == 0.4 and truth["group_scale"] == 0.0
    assert all(
        v == 0 for g in truth["group_effects"].values() for e in g.values() for v in e.values()
    )
    outcome = read_all(run.battle_paths)["overall"]
    share = (outcome == "tie").sum() / (outcome != "").sum()
    assert abs(share - 0.4) < 0.02  # binomial sd ~0.004; low-effort raters blur it a little
    truth.pop("category_effects")  # drawn with the battles (their own stream)
    assert truth == hidden_skills(config, 3, spec)
