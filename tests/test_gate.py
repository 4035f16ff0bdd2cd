"""`prefboard diff --fail-on`: the pull-request gate, through the CLI, with exact output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from prefboard.cli import cli
from prefboard.standings.gate import Rule, parse_rules
from prefboard.standings.model import Standings, to_json
from tests.test_diff import assert_tables_keep_shape, files, standings

RULES = "rank-drop,score-drop:2%,new-exclusions"


def board(headline: list[tuple[str, float]], excluded: dict[str, int]) -> Standings:
    return standings(
        headline=headline,
        pooled=[("a", 29.0), ("b", 28.5), ("c", 21.0)],
        style=[("c", 26.0), ("a", 25.0), ("b", 24.0)],
        files=files(300),
        excluded={"battles": excluded},
    )


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """Alpha falls from first to second and from 30.00 to 28.00 (−6.7 %) in the headline;
    two rows are newly excluded as duplicates."""
    old = board([("a", 30.0), ("b", 28.0), ("c", 20.0)], {"too-few-turns": 10})
    new = board(
        [("b", 29.0), ("a", 28.0), ("c", 20.0)], {"too-few-turns": 10, "duplicate-battle": 2}
    )
    paths = tmp_path / "old.json", tmp_path / "new.json"
    for path, s in zip(paths, (old, new), strict=True):
        path.write_text(to_json(s), encoding="utf-8")
    return paths


def run(pair: tuple[Path, Path], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["diff", str(pair[0]), str(pair[1]), *args])
    return result.exit_code, result.output


def test_gate_trips_and_lists_every_finding(pair: tuple[Path, Path]) -> None:
    code, out = run(pair, "--fail-on", RULES)
    assert code == 1
    assert out.endswith(
        "\nGate failed: 3 findings from rank-drop, score-drop:2%, new-exclusions "
        "(checked rank-drop, score-drop:2%, new-exclusions).\n"
        "  rank-drop: Overall: Alpha: rank 1 → 2 (↓1)\n"
        "  score-drop:2%: Overall: Alpha: score 30.00 → 28.00 (−2.00, −6.7%)\n"
        "  new-exclusions: battles: duplicate-battle: 0 → 2 rows (+2)\n"
    )


def test_gate_passes_under_looser_rules(pair: tuple[Path, Path]) -> None:
    # a one-place fall is not a two-place fall; 6.7 % is within 10 %; 2 points is not over 2
    code, out = run(pair, "--fail-on", "rank-drop:2", "--fail-on", "score-drop:10%,score-drop:2")
    assert code == 0
    assert out.endswith("\nGate passed: rank-drop:2, score-drop:10%, score-drop:2.\n")
    code, out = run(pair, "--fail-on", "score-drop:1.5")
    assert code == 1 and "score-drop:1.5: Overall: Alpha: score 30.00 → 28.00" in out


def test_without_fail_on_diff_never_fails(pair: tuple[Path, Path]) -> None:
    code, out = run(pair)
    assert code == 0 and "Gate" not in out


def test_markdown_gate_section_for_the_pull_request(pair: tuple[Path, Path]) -> None:
    code, out = run(pair, "--format", "markdown", "--fail-on", RULES)
    assert code == 1
    gate = out[out.index("#### Gate") :]
    assert gate == (
        "#### Gate\n\n"
        "**Gate failed: 3 findings from rank-drop, score-drop:2%, new-exclusions "
        "(checked rank-drop, score-drop:2%, new-exclusions).**\n\n"
        "| Rule | Where | Model or reason | Change |\n"
        "|---|---|---|---|\n"
        "| rank-drop | Overall | Alpha | rank 1 → 2 (↓1) |\n"
        "| score-drop:2% | Overall | Alpha | score 30.00 → 28.00 (−2.00, −6.7%) |\n"
        "| new-exclusions | battles | duplicate\\-battle | 0 → 2 rows (+2) |\n"
    )
    # after the folded details, so the verdict is visible without unfolding anything
    assert out.index("</details>") < out.index("#### Gate")


def test_json_carries_the_verdict(pair: tuple[Path, Path]) -> None:
    code, out = run(pair, "--format", "json", "--fail-on", "rank-drop")
    assert code == 1
    assert json.loads(out)["gate"] == {
        "rules": ["rank-drop"],
        "passed": False,
        "tripped": [{"rule": "rank-drop", "where": "overall", "subject": "a", "old": 1, "new": 2}],
    }


def test_identical_standings_pass(pair: tuple[Path, Path]) -> None:
    code, out = run((pair[0], pair[0]), "--fail-on", RULES)
    assert code == 0
    assert out.endswith("Gate passed: rank-drop, score-drop:2%, new-exclusions.\n")


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (
            "rank-dorp",
            "unknown rule 'rank-dorp'; rules: rank-drop[:N], score-drop:X% or score-drop:X, "
            "new-exclusions",
        ),
        ("score-drop", "score-drop needs a threshold, e.g. score-drop:2% or score-drop:0.5"),
        ("rank-drop:1.5", "rank-drop takes a whole number of places, e.g. rank-drop:2"),
        ("rank-drop:0", "rank-drop takes a whole number of places, e.g. rank-drop:2"),
        ("new-exclusions:3", "new-exclusions takes no threshold"),
        ("score-drop:-2%", "unknown rule 'score-drop:-2%'"),
    ],
)
def test_bad_rules_are_usage_errors(pair: tuple[Path, Path], rules: str, message: str) -> None:
    code, out = run(pair, "--fail-on", rules)
    assert code == 2
    assert f"Error: Invalid value for '--fail-on': {message}" in out


def test_rules_parse_once_each_in_order() -> None:
    assert parse_rules(["new-exclusions, rank-drop", "rank-drop:1,score-drop:2.5%"]) == [
        Rule("new-exclusions"),
        Rule("rank-drop", 1.0),
        Rule("score-drop", 2.5, True),
    ]


def test_hostile_model_names_stay_inside_their_cell(tmp_path: Path) -> None:
    names = {"a": "<img src=x onerror=alert(1)>|@everyone", "b": "[x](javascript:1)", "c": "C"}
    old = standings(
        headline=[("a", 30.0), ("b", 28.0), ("c", 20.0)],
        pooled=[("a", 29.0)],
        style=[("c", 26.0)],
        files=files(300),
        excluded={},
        names=names,
    )
    new = standings(
        headline=[("b", 29.0), ("a", 28.0), ("c", 20.0)],
        pooled=[("a", 29.0)],
        style=[("c", 26.0)],
        files=files(300),
        excluded={},
        names=names,
    )
    paths = tmp_path / "old.json", tmp_path / "new.json"
    for path, s in zip(paths, (old, new), strict=True):
        path.write_text(to_json(s), encoding="utf-8")
    code, out = run(paths, "--format", "markdown", "--fail-on", "rank-drop")
    assert code == 1
    gate = out[out.index("#### Gate") :]
    # the one Markdown escaper (render.escape): entities for | and @, so no cell split, no ping
    assert (
        "| rank-drop | Overall | &lt;img src=x onerror=alert\\(1\\)&gt;&#124;&#64;everyone |"
        in gate
    )
    assert "<img" not in out and "](javascript" not in out
    assert_tables_keep_shape(out)
