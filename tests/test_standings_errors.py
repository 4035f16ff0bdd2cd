"""A bad standings file at the edge (`plan --standings`, `build --previous`, `diff`): one
located `Error: ...` line and exit 2, never a traceback or pydantic's dump of every error."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from prefboard.cli import cli
from prefboard.standings import files
from prefboard.standings.files import read_standings, to_json
from prefboard.standings.model import Standings


def invoke(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


BAD = {
    "notjson.json": ('{"schema_version": 3,\n "title": }\n', "2:11: not JSON: Expecting value"),
    "old.json": (
        '{"schema_version": 1}',
        ": schema_version 1; this prefboard reads standings of schema 2 to 5 "
        "(`prefboard rate --out` writes them)",
    ),
    "newer.json": (
        '{"schema_version": 9}',
        ": schema_version 9; this prefboard reads standings of schema 2 to 5 "
        "(written by a newer prefboard: upgrade to read it)",
    ),
    "list.json": ("[1, 2]", ": not standings: the top level is not a JSON object"),
    "empty.json": ("", "1:1: not JSON: Expecting value"),
    # json's int() refuses literals over sys.get_int_max_str_digits() (4300 by default)
    "bigint.json": (
        '{"schema_version": ' + "9" * 5000 + "}",
        ": not JSON: a number of more than 4300 digits",
    ),
    "nested.json": ("[" * 100_000 + "]" * 100_000, ": not JSON: nested too deeply"),
    "fields.json": (
        '{"schema_version": 3, "title": 5}',
        ": field title: Input should be a valid string (and 15 more)",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_diff_names_the_file_and_what_is_wrong(tmp_path: Path, name: str) -> None:
    text, message = BAD[name]
    bad = tmp_path / name
    bad.write_text(text)
    code, out = invoke("diff", bad, bad)
    sep = ":" if message[0].isdigit() else ""
    assert (code, out) == (2, f"Error: {bad}{sep}{message}\n")


def test_plan_and_build_refuse_a_bad_standings_file(tiny: Path, tmp_path: Path) -> None:
    bad = tmp_path / "old.json"
    bad.write_text('{"schema_version": 1}')
    expected = f"Error: {bad}{BAD['old.json'][1]}\n"
    assert invoke("plan", "--standings", bad) == (2, expected)
    toml = tiny / "leaderboard.toml"
    code, out = invoke("build", "--config", toml, "--previous", bad, "--out", tmp_path / "s")
    # read before any work: nothing rated, no site written
    assert (code, out) == (2, "building\n" + expected)
    assert not (tmp_path / "s").exists()


def test_a_folder_without_standings_and_one_bad_field(tiny: Path, tmp_path: Path) -> None:
    code, out = invoke("diff", tiny, tiny)
    assert (code, out) == (
        2,
        f"Error: {tiny / 'standings.json'}: no such file; `prefboard rate --out` writes one\n",
    )
    assert invoke("rate", "--config", tiny / "leaderboard.toml", "--out", tmp_path / "v1")[0] == 0
    good = tmp_path / "v1" / "standings.json"
    data = json.loads(good.read_text())
    data["tables"][0]["entries"][1]["mu"] = "high"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    code, out = invoke("diff", good, bad)
    assert (code, out) == (
        2,
        f"Error: {bad}: field tables[0].entries[1].mu: Input should be a valid number, unable "
        "to parse string as a number\n",
    )


def test_a_fifo_or_a_device_is_refused_without_reading_it(tmp_path: Path) -> None:
    # Reading a FIFO blocks until a writer comes, /dev/zero never ends: both are refused unread.
    fifo = tmp_path / "standings.json"
    os.mkfifo(fifo)
    assert invoke("diff", fifo, fifo) == (2, f"Error: {fifo}: not a regular file\n")
    assert invoke("plan", "--standings", "/dev/zero") == (
        2,
        "Error: /dev/zero: not a regular file\n",
    )


def test_a_huge_file_is_refused_before_parsing(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real limit is 256 MB; a small one here keeps the test fast and the same code path.
    monkeypatch.setattr("prefboard.standings.files.MAX_STANDINGS_BYTES", 2**20)
    huge = tmp_path / "huge.json"
    huge.write_text('{"schema_version": 3, "title": "' + "x" * 2**20 + '"}')
    expected = f"Error: {huge}: larger than 1 MB: not standings this board wrote\n"
    assert invoke("diff", huge, huge) == (2, expected)
    toml = tiny / "leaderboard.toml"
    code, out = invoke("build", "--config", toml, "--previous", huge, "--out", tmp_path / "s")
    assert (code, out) == (2, "building\n" + expected)


def test_a_written_file_reads_back_whole_through_the_one_pass_reader(
    tiny_standings: Standings, tmp_path: Path
) -> None:
    """Files as `to_json` writes them are parsed and validated by pydantic in one pass; they
    read back equal to what was written, as through `json` and `model_validate`."""
    text = to_json(tiny_standings)
    path = tmp_path / "standings.json"
    path.write_text(text, encoding="utf-8")
    assert files._as_written(text) == tiny_standings
    assert read_standings(path) == tiny_standings == Standings.model_validate(json.loads(text))


def test_a_written_file_with_a_bad_field_is_still_located(
    tiny_standings: Standings, tmp_path: Path
) -> None:
    text = to_json(tiny_standings)
    bad = tmp_path / "bad.json"
    bad.write_text(text.replace(f'"title": {json.dumps(tiny_standings.title)}', '"title": 5'))
    assert files._as_written(bad.read_text()) is None
    code, out = invoke("diff", bad, bad)
    assert (code, out) == (2, f"Error: {bad}: field title: Input should be a valid string\n")
