"""The commands as a user runs them: exit codes, exact messages, help, README coverage."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from prefboard.cli import cli
from prefboard.config_reference import reference_markdown
from prefboard.standings.files import write_standings
from prefboard.standings.model import Standings

REPO = Path(__file__).parent.parent


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_validate_clean_board(tiny: Path) -> None:
    result = invoke("validate", "--config", str(tiny / "leaderboard.toml"))
    assert result.exit_code == 0
    lines = result.output.splitlines()
    # every group of the 2 accepted participants is under the default privacy threshold (30):
    # one warning per slice, at the line declaring it, labelled as a warning
    assert lines == [
        "leaderboard.toml:46:1: warning: privacy: country: US (1), UK (1) participant(s): "
        "fewer than privacy.min_participants (30), so not published on their own",
        "leaderboard.toml:51:1: warning: privacy: age_group: 25-34 (1), 55-64 (1) "
        "participant(s): fewer than privacy.min_participants (30), so not published on their own",
        "leaderboard.toml:55:1: warning: privacy: ethnicity: White (1), Asian (1) "
        "participant(s): fewer than privacy.min_participants (30), so not published on their own",
        "leaderboard.toml:59:1: warning: privacy: political_affiliation: Democrat (1), "
        "Conservative (1) participant(s): fewer than privacy.min_participants (30), so not "
        "published on their own",
        "participants: 1 file(s), 3 rows, 2 accepted, 1 excluded",
        "  excluded        1  participant-strikes",
        "battles: 1 file(s), 3 rows, 2 accepted, 1 excluded",
        "  excluded        1  participant-strikes",
        "ratings: 1 file(s), 2 rows, 2 accepted, 0 excluded",
        "0 problem(s), 4 warning(s)",
    ]


# What `prefboard validate` never needs unless the config pins a draw probability: the rating
# stage's engines, batch fits (numba) and planner, scipy.stats (~1.5 s to import: scipy parses
# its docstrings), the pages and MkDocs. It is the command a contributor and the pull-request
# check run; it took 3.6-4.2 s on the tiny board.
NOT_FOR_VALIDATE = (
    "prefboard.rating.rate", "prefboard.matchmaking.stage", "prefboard.standings.analyze",
    "prefboard.rating.batch", "numba", "scipy.stats", "altair", "mkdocs",
)  # fmt: skip


def test_validate_imports_no_stage_after_it(tiny: Path) -> None:
    code = (
        "import sys; from prefboard.cli import main; mods = sys.argv.pop(1).split(',')\n"
        "try: main()\nexcept SystemExit as e: assert not e.code, e.code\n"
        "print('loaded:', *[m for m in mods if m in sys.modules])"
    )
    config = str(tiny / "leaderboard.toml")
    args = [",".join(NOT_FOR_VALIDATE), "validate", "--config", config]
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-1] == "loaded:", done.stdout[-500:]


def bad_board(tiny: Path) -> Path:
    path = tiny / "results" / "battles" / "battles.csv"
    path.write_text(path.read_text().replace("cobalt-large,delta-mini", "cobalt-lrage,delta-mini"))
    return tiny / "leaderboard.toml"


def test_validate_reports_problem_and_exits_2(tiny: Path) -> None:
    result = invoke("validate", "--config", str(bad_board(tiny)))
    assert result.exit_code == 2
    assert result.output.splitlines()[0] == (
        "results/battles/battles.csv:3:4: unknown-model: unknown model 'cobalt-lrage'; "
        "did you mean 'cobalt-large'? (declare it under [[models]])"
    )
    assert "1 problem(s), 0 warning(s)" in result.output


def test_validate_github_annotations(tiny: Path) -> None:
    result = invoke("validate", "--format", "github", "--config", str(bad_board(tiny)))
    assert result.output.splitlines()[0] == (
        "::error file=results/battles/battles.csv,line=3,col=4,title=unknown-model::"
        "unknown model 'cobalt-lrage'; did you mean 'cobalt-large'? (declare it under [[models]])"
    )


def test_validate_json(tiny: Path) -> None:
    result = invoke("validate", "--format", "json", "--config", str(bad_board(tiny)))
    doc = json.loads(result.output)
    assert doc["ok"] is False
    assert doc["problems"][0]["rule"] == "unknown-model"
    assert doc["excluded"]["battles"] == {
        "invalid:unknown-model": 1,
        "participant-strikes": 1,
    }


def test_bad_config_is_a_message_not_a_traceback(tiny: Path) -> None:
    toml = tiny / "leaderboard.toml"
    toml.write_text(toml.read_text() + "\n[ratin]\nmu = 3\n")
    result = CliRunner().invoke(cli, ["validate", "--config", str(toml)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert (
        "Error: leaderboard.toml:62:0: unknown-key: ratin: unknown key; did you mean 'rating'?"
        in (result.output)
    )


def test_rate_refuses_bad_data(tiny: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["rate", "--config", str(bad_board(tiny)), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "1 problem(s) in the result files; run `prefboard validate` to see them" in (
        result.output
    )
    assert not (tmp_path / "o").exists()


def test_rate_writes_the_three_files(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    result = invoke("rate", "--config", str(tiny / "leaderboard.toml"), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "ratings.csv",
        "standings.csv",
        "standings.json",
        "standings.schema.json",
    ]


COMMANDS = sorted(cli.commands)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_and_is_in_readme(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert len(result.output.splitlines()) > 4
    readme = (REPO / "README.md").read_text()
    assert f"prefboard {command}" in readme


def test_readme_quick_start_is_the_two_commands() -> None:
    readme = (REPO / "README.md").read_text()
    block = re.search(r"## Quick start\n\n```sh\n(.*?)```", readme, re.S)
    assert block is not None
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    assert commands == ["make site", "make test"]


def test_readme_config_reference_is_current() -> None:
    # The README's table must be regenerated when a config field changes.
    assert reference_markdown() in (REPO / "README.md").read_text()


def test_import_then_build_in_three_commands(tmp_path: Path) -> None:
    source = tmp_path / "arena.jsonl"
    source.write_text(
        '{"model_a": "GPT-X", "model_b": "Llama Z", "winner": "model_a", "judge": "u1",'
        ' "tstamp": 1725000000.5, "language": "English"}\n'
        '{"model_a": "GPT-X", "model_b": "Llama Z", "winner": "tie (bothbad)", "judge": "u2",'
        ' "tstamp": 1725000100.0, "language": "German"}\n'
        '{"model_a": "Claude Q", "model_b": "Claude Q", "winner": "model_b", "judge": "u3",'
        ' "tstamp": 1725000300.0, "language": "English"}\n'
    )
    board = tmp_path / "myboard"
    first = invoke("import", "arena", str(source), "--into", str(board), "--slice", "language")
    assert first.exit_code == 0, first.output
    assert "3 source rows: 2 imported, 0 already present, 1 skipped" in first.output
    assert "skipped        1  same-model" in first.output
    again = invoke("import", "arena", str(source), "--into", str(board), "--slice", "language")
    assert "0 imported, 2 already present, 1 skipped" in again.output
    config = str(board / "leaderboard.toml")
    assert invoke("validate", "--config", config).exit_code == 0
    built = invoke("build", "--config", config)
    assert built.exit_code == 0, built.output
    assert (board / "site" / "models" / "gpt-x.html").is_file()


def test_plan_queue_and_slice(tiny: Path, tiny_standings: Standings, tmp_path: Path) -> None:
    toml = tiny / "leaderboard.toml"
    toml.write_text(toml.read_text() + "\n[privacy]\nmin_participants = 1\n")
    result = invoke("plan", "--config", str(toml), "-n", "2", "--format", "csv")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("dimension,slice_attribute,slice_value,model_a,model_b,gain")
    assert len(lines) == 3
    # the rest plan from this board's standings as rated once per run (conftest), not each
    # rating the board again: `plan --standings` is the same planner on the same numbers
    write_standings(tiny_standings, tmp_path / "rated")
    rated = tmp_path / "rated" / "standings.json"
    same = invoke(
        "plan", "--config", str(toml), "-n", "2", "--format", "csv", "--standings", str(rated)
    )
    assert same.output == result.output
    plan = ("plan", "--config", str(toml), "--standings", str(rated))
    sliced = invoke(*plan, "--slice", "country=US", "--dimension", "overall")
    assert sliced.exit_code == 0 and "country" in sliced.output
    # US is half of the tiny sample but 80 % of its declared population
    assert "group US under-sampled" in sliced.output
    mixed = invoke(*plan, "-n", "2", "--explore", "1", "--format", "csv")
    rows = mixed.output.splitlines()[1:]
    assert len(rows) == 2
    assert all("random pair (exploration)" in row for row in rows)
    greedy = invoke(*plan, "-n", "2", "--explore", "0", "--format", "csv")
    assert "random pair (exploration)" not in greedy.output
    # seeded: the same queue again
    assert mixed.output == invoke(*plan, "-n", "2", "--explore", "1", "--format", "csv").output
    bad = CliRunner().invoke(cli, [*plan, "--slice", "age=1"])
    assert bad.exit_code == 2
    assert "Error: no table for slice age=1" in bad.output
