"""Issue 16 part 2 on simulated boards, through the CLI: a judge source's verdicts are
simulated on the same battles, rated apart (the human rankings are those of the board without
the judge), flagged when clearly below the human ceiling, and shown on the Agreement page only."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from prefboard.cli import cli
from prefboard.config import load_config
from prefboard.tools.simulate import SimulationSpec, simulate
from tests.conftest import copy_board, once

FIXTURES = Path(__file__).parent / "fixtures"
JUDGE = """
[[sources]]
key = "robo"
label = "Robo judge"
kind = "judge"
files = ["results/judges/*.csv"]
"""


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _with_judge(board: Path) -> Path:
    """The board's config with the judge source, and none of its hand-written results (the
    simulated participants replace its participants)."""
    (board / "results" / "battles" / "battles.csv").unlink()
    (board / "results" / "ratings" / "ratings.csv").unlink()
    config = board / "leaderboard.toml"
    config.write_text(config.read_text() + JUDGE)
    return config


def _judged_board(root: Path) -> Path:
    """The tiny board's config with a judge source; its battles simulated with five votes per
    prompt (so the humans' ceiling has items with several votes) and the judge's file."""
    copy_board(FIXTURES / "tiny", root)
    config = _with_judge(root)
    spec = SimulationSpec(battles=4000, participants=300, ratings=0, votes_per_prompt=5)
    simulate(load_config(config), root / "results", spec, root)
    return config


def test_simulate_writes_the_judge_file_where_its_source_reads(tiny: Path) -> None:
    config = _with_judge(tiny)
    result = invoke(
        "simulate", "--config", str(config), "--battles", "600", "--participants", "60",
        "--ratings", "0",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    path = tiny / "results" / "judges" / "robo.csv"
    assert f"wrote a simulated judge's verdicts to {path}" in result.output
    humans = pd.concat(pd.read_csv(f, dtype=str) for f in (tiny / "results/battles").glob("*.csv"))
    judge = pd.read_csv(path, dtype=str, keep_default_na=False)
    # the same battles (ids, pairs, turns) re-judged by the source, on about 30 % of them
    assert len(judge) == round(0.3 * len(humans))
    assert set(judge["battle_id"]) <= set(humans["battle_id"])
    assert set(judge["participant_id"]) == {"robo"}
    same = humans.set_index("battle_id").loc[judge["battle_id"], ["model_a", "model_b", "turns"]]
    assert (same.to_numpy() == judge[["model_a", "model_b", "turns"]].to_numpy()).all()
    validate = invoke("validate", "--config", str(config))
    assert validate.exit_code == 0, validate.output


def _build_judged(folder: Path) -> None:
    """The judged board in `board/`: built with its judge into `board/s`, then rated without
    it into `board/without` (its judge file and source put back afterwards)."""
    root = folder / "board"
    config = _judged_board(root)
    # test_agreement_page_and_no_judge_in_human_pages reads the site; the standings "with"
    # are the ones the build published
    result = invoke("build", "--config", str(config), "--out", str(root / "s"))
    assert result.exit_code == 0, result.output
    (root / "results" / "judges").rename(folder / "judges")
    config.write_text(config.read_text().replace(JUDGE, ""))
    result = invoke("rate", "--config", str(config), "--out", str(root / "without"))
    assert result.exit_code == 0, result.output
    (folder / "judges").rename(root / "results" / "judges")
    config.write_text(config.read_text() + JUDGE)


@pytest.fixture
def judged(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict, Path]:
    """Standings of the judged board and of the same board without its judge, and the board
    (built once per run: read it, don't change it)."""
    root = once(tmp_path_factory, "judged", _build_judged) / "board"
    with_judge = json.loads((root / "s" / "downloads" / "standings.json").read_text())
    without = json.loads((root / "without" / "standings.json").read_text())
    return with_judge, without, root


def test_human_rankings_do_not_move_with_a_judge(judged: tuple[dict, dict, Path]) -> None:
    with_judge, without, _ = judged
    for key in ("tables", "pairs", "samples", "ties", "fit_checks", "history", "analysis"):
        assert with_judge[key] == without[key], key
    (board,) = with_judge["judges"]
    assert board["label"] == "Robo judge"
    assert [t["dimension"] for t in board["tables"]] == [
        "overall", "helpfulness", "communication", "adaptiveness", "trust_safety", "personality",
    ]  # fmt: skip


def test_a_noisy_judge_is_flagged_below_the_human_ceiling(judged: tuple[dict, dict, Path]) -> None:
    rows = judged[0]["judge_agreement"]
    assert len(rows) == 6
    flagged = [r for r in rows if r["flagged"]]
    assert flagged, [(r["match"], r["ceiling_match"]) for r in rows]
    for r in rows:
        below = r["match"]["upper"] < r["ceiling_match"]["value"] or (
            r["tau"]["upper"] < r["ceiling_tau"]["value"]
        )
        assert r["flagged"] == below
        # the simulated judge leans to the first answer shown; people do not
        assert r["position_a"]["value"] > r["human_position_a"]["value"]
    assert flagged[0]["reasons"][0].endswith("is clearly below the human ceiling")


def test_agreement_page_and_no_judge_in_human_pages(judged: tuple[dict, dict, Path]) -> None:
    root = judged[2]  # built by the fixture
    page = (root / "s" / "agreement.html").read_text()
    assert "Re-check this judge before using it to screen models" in page
    # one box listing the flagged dimensions, not one identical box per dimension
    assert page.count("Re-check this judge") == 1
    flagged = [r for r in judged[0]["judge_agreement"] if r["flagged"]]
    assert page.count("is clearly below the human ceiling") >= len(flagged)
    assert "Robo judge (automated judge)" in page
    assert page.count('class="pb-chart"') == 1 + 6  # agreement bars + one scatter per dimension
    # the methodology names the judge as rated apart; no other page mentions it
    methodology = " ".join((root / "s" / "methodology.html").read_text().split())
    assert "Automated judges (Robo judge) are rated apart" in methodology
    for html in (root / "s").rglob("*.html"):
        if html.name not in ("agreement.html", "methodology.html"):
            assert "Robo judge" not in html.read_text(), html


def _jsonl_to_csv(split: str, dest: Path) -> Path:
    rows = [json.loads(line) for line in (FIXTURES / "mtbench" / f"{split}.jsonl").open()]
    path = dest / f"{split}.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_agreement_bars_read_like_the_tables(judged: tuple[dict, dict, Path]) -> None:
    """The bars list the dimensions in the board's order (overall first, as the tables do) on
    a percent axis (the tables print agreement in percent), and the scatter keeps few ticks."""
    from prefboard.render.charts.agreement import agreement_chart, judge_scatter_chart
    from prefboard.standings.model import Standings

    standings = Standings.model_validate(judged[0])
    spec = agreement_chart(standings, "robo").to_dict()
    bars = spec["layer"][0]
    y, x = bars["encoding"]["y"], bars["encoding"]["x"]
    assert y.get("sort", "missing") is None
    assert x["axis"]["format"] == "%"
    data = next(iter(spec["datasets"].values()))
    order = list(dict.fromkeys(r["dimension"] for r in data))
    assert order == [d["label"] for d in judged[0]["dimensions"]][: len(order)]
    scatter = judge_scatter_chart(standings, "robo", "overall").to_dict()
    assert scatter["layer"][0]["encoding"]["x"]["axis"]["tickCount"] == 8


def test_import_a_judge_source(tmp_path: Path) -> None:
    board = tmp_path / "board"
    human = _jsonl_to_csv("human", tmp_path)
    gpt4 = _jsonl_to_csv("gpt4_pair", tmp_path)
    first = invoke("import", "pairwise", str(human), "--into", str(board), "--participant", "judge")
    assert first.exit_code == 0, first.output
    result = invoke(
        "import", "pairwise", str(gpt4), "--into", str(board), "--source", "gpt4",
        "--kind", "judge",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        "300 source rows: 262 imported, 0 already present, 38 skipped" in result.output.splitlines()
    )  # the 38 "tie (inconsistent)" are not among the winner values
    config = (board / "leaderboard.toml").read_text()
    assert config.endswith(
        '[[sources]]\nkey = "gpt4"\nkind = "judge"\nfiles = ["results/sources/gpt4/*.csv"]\n'
    )
    verdicts = pd.read_csv(board / "results/sources/gpt4/imported-gpt4_pair.csv", dtype=str)
    assert set(verdicts["participant_id"]) == {"gpt4"}
    people = pd.read_csv(board / "results/participants.csv", dtype=str)
    assert "gpt4" not in set(people["participant_id"])  # a judge is no participant
    validate = invoke("validate", "--config", str(board / "leaderboard.toml"))
    assert validate.exit_code == 0, validate.output
    # the same source again adds nothing; a clash of kinds is refused
    again = invoke(
        "import", "pairwise", str(gpt4), "--into", str(board), "--source", "gpt4",
        "--kind", "judge",
    )  # fmt: skip
    again_lines = again.output.splitlines()
    assert "300 source rows: 0 imported, 262 already present, 38 skipped" in again_lines
    clash = invoke("import", "pairwise", str(gpt4), "--into", str(board), "--source", "gpt4")
    assert clash.exit_code == 2
    assert (
        "Error: source 'gpt4' is declared with kind = 'judge' in leaderboard.toml, not 'human'"
        in clash.output
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "judge"], "Error: Invalid value for --kind: --kind needs --source KEY"),
        (
            ["--source", "GPT 4"],
            "Error: Invalid value for --source: 'GPT 4': use lower-case letters, digits, '_', "
            "'.' and '-' (starting with a letter or digit)",
        ),
        (
            ["--source", "gpt4", "--kind", "judge", "--slice", "judge"],
            "Error: Invalid value for --slice: --slice describes people; a judge source has no "
            "participants",
        ),
    ],
)
def test_import_source_options_refused(tmp_path: Path, args: list[str], message: str) -> None:
    gpt4 = _jsonl_to_csv("gpt4_pair", tmp_path)
    result = invoke("import", "pairwise", str(gpt4), "--into", str(tmp_path / "b"), *args)
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "b").exists()


def test_diff_judge_against_humans(judged: tuple[dict, dict, Path]) -> None:
    root = judged[2]  # the standings with the judge: those its build published
    result = invoke("diff", str(root / "s" / "downloads"), "--judge", "robo", "--format", "json")
    assert result.exit_code == 0, result.output
    changes = json.loads(result.output)
    humans = {
        t["dimension"]: t for t in judged[0]["tables"] if t["slice_attribute"] == "poststratified"
    }
    robo = {t["dimension"]: t for t in judged[0]["judges"][0]["tables"]}
    for move in changes["moves"]:
        dim, model = move["dimension"], move["model"]
        assert move["old_rank"] == next(
            e["rank"] for e in humans[dim]["entries"] if e["model"] == model
        )
        assert move["new_rank"] == next(
            e["rank"] for e in robo[dim]["entries"] if e["model"] == model
        )
    missing = invoke("diff", str(root / "s" / "downloads"), "--judge", "gpt4")
    assert missing.exit_code == 2
    assert (
        "Error: --judge 'gpt4': no such judge in these standings (judges: robo)" in missing.output
    )
    both = invoke("diff", str(root / "s" / "downloads"))
    assert both.exit_code == 2
    assert (
        "Error: diff takes OLD and NEW standings, or one standings with --judge KEY" in both.output
    )


def test_a_human_source_outside_the_data_globs_is_read_as_human(tiny: Path) -> None:
    config = tiny / "leaderboard.toml"
    config.write_text(
        config.read_text()
        + '\n[[sources]]\nkey = "lab"\nlabel = "Lab study"\nkind = "human"\n'
        + 'files = ["results/lab/*.csv"]\n'
    )
    (tiny / "results" / "lab").mkdir()
    (tiny / "results" / "lab" / "lab.csv").write_text(
        "battle_id,timestamp,participant_id,model_a,model_b,turns,overall,helpfulness,"
        "communication,adaptiveness,trust_safety,personality\n"
        "lab1,2026-09-02T10:00:00Z,p0001,delta-mini,aurora-7b,5,a,a,,,,\n"
    )
    result = invoke("validate", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "battles: 2 file(s), 4 rows, 3 accepted, 1 excluded" in result.output
    out = tiny / "out"
    assert invoke("rate", "--config", str(config), "--out", str(out)).exit_code == 0
    standings = json.loads((out / "standings.json").read_text())
    head = next(t for t in standings["tables"] if t["slice_attribute"] == "poststratified")
    assert head["battles"] == 3  # the lab's battle counts with the people's
    assert standings["judges"] == [] and standings["judge_agreement"] == []
