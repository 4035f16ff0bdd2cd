"""Site paths and planted symlinks, through the CLI: no command destroys, leaks or writes
outside the board, and each refusal is one clear line with exit 2.

(The hostile corpus, tests/fixtures/hostile/cases-paths.toml, feeds more of these through
`validate`; builds under kills and concurrency are in test_site_swap.py.)"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from prefboard.cli import cli
from prefboard.io.paths import site_source_files
from prefboard.io.workspace import MARKER

SECRET = "[http]\n\textraheader = AUTHORIZATION: basic c2VjcmV0\n"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def one_error(result: Result) -> str:
    """The single `Error: ...` line a refusal prints (exit 2, no traceback)."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    return errors[0]


def with_git(board: Path) -> Path:
    config = board / ".git" / "config"
    config.parent.mkdir()
    config.write_text(SECRET)
    return config


def outside(tmp: Path, name: str = "outside.txt", text: str = "precious\n") -> Path:
    path = tmp / "elsewhere" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


# -- [site] output and --out ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "message"),
    [
        (".git", "'.git' is or lies inside .git, which prefboard never publishes or replaces"),
        (
            "results",
            "'results' overlaps data.participants 'results/participants.csv'; "
            "choose a folder apart from it",
        ),
    ],
)
def test_build_never_replaces_git_or_the_results(tiny: Path, output: str, message: str) -> None:
    git_config = with_git(tiny)
    toml = tiny / "leaderboard.toml"
    toml.write_text(toml.read_text() + f'\n[site]\noutput = "{output}"\n')
    before = sorted(p.relative_to(tiny) for p in tiny.rglob("*"))
    line = one_error(run("build", "--config", str(toml)))
    assert line == f"Error: leaderboard.toml:62:0: invalid-value: site: site.output {message}"
    assert sorted(p.relative_to(tiny) for p in tiny.rglob("*")) == before
    assert git_config.read_text() == SECRET


@pytest.mark.parametrize(
    ("out", "why"),
    [
        (".git", "is or lies inside .git"),
        (".git/hooks", "is or lies inside .git"),
        (".", "is the board folder or holds it"),
        ("..", "is the board folder or holds it"),
        ("results", "overlaps data.participants"),
        ("results/battles/site", "overlaps data.battles 'results/battles/*.csv'"),
        ("leaderboard.toml/site", "overlaps the config file"),
        ("site_src/site", "overlaps site.source"),
        (".prefboard", "overlaps .prefboard"),
    ],
)
def test_build_out_is_refused_over_the_boards_own_files(tiny: Path, out: str, why: str) -> None:
    with_git(tiny)
    target = tiny / out
    line = one_error(run("build", "--config", str(tiny / "leaderboard.toml"), "--out", str(target)))
    assert line == f"Error: site output {target}: {why}"


def test_rate_out_is_refused_inside_git(tiny: Path) -> None:
    with_git(tiny)
    out = tiny / ".git" / "standings"
    line = one_error(run("rate", "--config", str(tiny / "leaderboard.toml"), "--out", str(out)))
    assert line == f"Error: --out {out}: is or lies inside .git"
    assert not out.exists()


def test_output_symlinked_out_of_the_board_is_refused(tiny: Path, tmp_path: Path) -> None:
    """A pull request can commit `site -> /home/runner`: the configured output then leaves
    the board, however innocent its name."""
    keep = outside(tmp_path)
    os.symlink(keep.parent, tiny / "site")
    line = one_error(run("build", "--config", str(tiny / "leaderboard.toml")))
    assert line == "Error: site output site: leaves the board folder (through a symlink)"
    assert keep.read_text() == "precious\n"


def test_output_that_is_a_symlink_loop_is_refused(tiny: Path) -> None:
    os.symlink("site", tiny / "site")
    line = one_error(run("build", "--config", str(tiny / "leaderboard.toml")))
    assert line == "Error: site output site: is a symlink loop"


def test_out_that_is_a_symlink_is_not_replaced(tiny: Path, tmp_path: Path) -> None:
    keep = outside(tmp_path)
    link = tmp_path / "site-link"
    os.symlink(keep.parent, link)
    line = one_error(run("build", "--config", str(tiny / "leaderboard.toml"), "--out", str(link)))
    assert line == f"Error: {link} is a symlink; the build does not replace symlinks"
    assert keep.read_text() == "precious\n"


def test_a_folder_prefboard_did_not_build_is_never_replaced(tiny: Path) -> None:
    site = tiny / "site"
    site.mkdir()
    (site / "notes.md").write_text("mine\n")
    line = one_error(run("build", "--config", str(tiny / "leaderboard.toml")))
    assert line == (
        f"Error: {site} is not empty and was not built by prefboard (no {MARKER} file); "
        "move it away or choose another output folder"
    )
    assert (site / "notes.md").read_text() == "mine\n"


def test_a_planted_work_area_symlink_is_refused(tiny: Path, tmp_path: Path) -> None:
    """`.prefboard/` holds the lock and the work folders: committed as a symlink, it would
    carry the whole build elsewhere."""
    keep = outside(tmp_path)
    os.symlink(keep.parent, tiny / ".prefboard")
    line = one_error(run("build", "--config", str(tiny / "leaderboard.toml")))
    assert line == symlink_error(tiny / ".prefboard")
    assert sorted(keep.parent.iterdir()) == [keep]


# -- site sources ---------------------------------------------------------------------------------


def test_site_source_symlink_out_is_a_validate_problem_and_blocks_the_build(
    tiny: Path, tmp_path: Path
) -> None:
    (tiny / "site_src").mkdir()
    os.symlink(outside(tmp_path, "secret.md"), tiny / "site_src" / "leak.md")
    toml = str(tiny / "leaderboard.toml")
    result = run("validate", "--config", toml)
    assert result.exit_code == 2
    assert (
        "site_src/leak.md:0:0: site-path: symlink points outside the site source folder"
        in result.output
    )
    line = one_error(run("build", "--config", toml))
    assert "run `prefboard validate` to see them" in line
    assert not (tiny / "site").exists()


def test_site_sources_skip_git_and_hidden_files_and_keep_inner_symlinks(tiny: Path) -> None:
    src = tiny / "site_src"
    (src / "guide").mkdir(parents=True)
    (src / "guide" / "a.md").write_text("# A\n")
    os.symlink("a.md", src / "guide" / "alias.md")  # stays inside the source folder: fine
    with_git(src)
    (src / ".env").write_text("TOKEN=1\n")
    files, refused = site_source_files(src, tiny)
    assert refused == []
    assert files == [
        ("guide/a.md", src / "guide" / "a.md"),
        ("guide/alias.md", src / "guide" / "a.md"),
    ]


# -- rate, import, init, simulate: no write through a planted symlink -----------------------------


def test_rate_refuses_a_symlinked_standings_file(tiny: Path, tmp_path: Path) -> None:
    keep = outside(tmp_path)
    out = tmp_path / "standings"
    out.mkdir()
    os.symlink(keep, out / "standings.json")
    line = one_error(run("rate", "--config", str(tiny / "leaderboard.toml"), "--out", str(out)))
    assert line == (
        f"Error: {out / 'standings.json'} is a symlink; prefboard does not read or write "
        "through symlinks (it could point outside the board): replace it with a real file or "
        "folder"
    )
    assert keep.read_text() == "precious\n"


ARENA = [
    {"model_a": "alpha", "model_b": "beta", "winner": "model_a", "judge": "j1", "tstamp": 1.7e9},
    {"model_a": "beta", "model_b": "gamma", "winner": "tie", "judge": "j2", "tstamp": 1.7e9 + 9},
]


def arena_source(tmp: Path) -> Path:
    source = tmp / "dump.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in ARENA))
    return source


def import_into(board: Path, source: Path) -> Result:
    return run("import", "arena", str(source), "--into", str(board))


def symlink_error(path: Path) -> str:
    return (
        f"Error: {path} is a symlink; prefboard does not read or write through symlinks "
        "(it could point outside the board): replace it with a real file or folder"
    )


@pytest.mark.parametrize(
    "planted",
    [
        "leaderboard.toml",
        "results",
        "results/participants.csv",
        "results/battles/imported-dump.csv",
    ],
)
def test_import_refuses_planted_symlinks(tmp_path: Path, planted: str) -> None:
    """Into an existing board (imported once), with one target replaced by a symlink to a
    file or folder outside it: nothing outside changes, nothing is appended through it."""
    source, board = arena_source(tmp_path), tmp_path / "board"
    assert import_into(board, source).exit_code == 0
    target = board / planted
    elsewhere = tmp_path / "elsewhere"
    if target.is_dir():
        os.rename(target, elsewhere)
    else:
        elsewhere.mkdir()
        os.rename(target, elsewhere / target.name)
    os.symlink(elsewhere if planted == "results" else elsewhere / target.name, target)
    before = {p: p.read_bytes() for p in elsewhere.rglob("*") if p.is_file()}
    source.write_text(source.read_text() + json.dumps({**ARENA[0], "judge": "j3"}) + "\n")
    assert one_error(import_into(board, source)) == symlink_error(target)
    assert {p: p.read_bytes() for p in elsewhere.rglob("*") if p.is_file()} == before


def test_import_never_writes_a_ledger_through_a_planted_symlink(tmp_path: Path) -> None:
    """Each run writes a ledger of its own under a fresh name: a symlink planted where the next
    run's ledger would go is passed over (-3 instead of -2), never written through."""
    keep = outside(tmp_path)
    source, board = arena_source(tmp_path), tmp_path / "board"
    assert import_into(board, source).exit_code == 0
    os.symlink(keep, board / "results" / "import-ledger-dump-2.csv")
    source.write_text(source.read_text() + json.dumps({**ARENA[0], "judge": "j3"}) + "\n")
    result = import_into(board, source)
    assert result.exit_code == 0, result.output
    assert keep.read_text() == "precious\n"
    assert (board / "results" / "import-ledger-dump-3.csv").is_file()


def test_import_ignores_a_planted_temp_file_name(tmp_path: Path) -> None:
    """The old fixed temp name (`<file>.tmp`) was followed when planted as a symlink; temp
    files now get fresh random names, created exclusively."""
    keep = outside(tmp_path)
    board = tmp_path / "board"
    (board / "results" / "battles").mkdir(parents=True)
    for name in ("import-ledger-dump.csv.tmp", "participants.csv.tmp"):
        os.symlink(keep, board / "results" / name)
    os.symlink(keep, board / "leaderboard.toml.tmp")
    assert import_into(board, arena_source(tmp_path)).exit_code == 0
    assert keep.read_text() == "precious\n"
    assert (board / "results" / "import-ledger-dump.csv").is_file()


def test_init_refuses_a_symlinked_folder(tmp_path: Path) -> None:
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    os.symlink(empty, tmp_path / "board")
    assert one_error(run("init", str(tmp_path / "board"))) == symlink_error(tmp_path / "board")
    assert list(empty.iterdir()) == []


def test_simulate_refuses_a_symlinked_results_folder(tiny: Path, tmp_path: Path) -> None:
    keep = outside(tmp_path, "participants.csv")
    results = tiny / "results"
    os.rename(results, tmp_path / "moved")
    os.symlink(keep.parent, results)
    line = one_error(run("simulate", "--config", str(tiny / "leaderboard.toml"), "--battles", "10"))
    assert line == symlink_error(results)
    assert keep.read_text() == "precious\n"


def test_an_output_path_through_a_file_is_one_error_line(tiny: Path) -> None:
    # The operating system refuses the folder (ENOTDIR): before, a NotADirectoryError traceback
    # and exit 1; now the path and the system's reason, exit 2, and nothing else touched.
    notes = tiny / "notes.txt"
    notes.write_text("keep me\n")
    for command in (["build", "--out", str(notes / "site")], ["rate", "--out", str(notes / "st")]):
        line = one_error(run(*command, "--config", str(tiny / "leaderboard.toml")))
        assert "notes.txt" in line and "Not a directory" in line
    assert (tiny / "notes.txt").read_text() == "keep me\n"
