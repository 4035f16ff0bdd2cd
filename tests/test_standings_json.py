"""standings.json made by pydantic's encoder (`json_text.fast_json`) is byte for byte what
Python's `json` writes (`files.python_json`, the encoder every earlier standings.json was
written with): the expected text in every test here is python_json's own output."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pydantic_core
import pytest

from prefboard.standings.files import python_json, read_standings, to_json
from prefboard.standings.json_text import fast_json
from prefboard.standings.model import SliceInfo, Standings
from tests import factories as f


def _board(*scores: float, **changes: object) -> Standings:
    entries = [f.entry(f"m{i}", s, i + 1, sd=s / 3 or 1.0) for i, s in enumerate(scores)]
    return f.standings([f.table(entries)], **changes)


def _floats() -> list[float]:
    """Floats at every decimal exponent pydantic and Python can write: round ones (1e-05),
    long ones (random digits) and short ones (a few digits), both signs."""
    rng = random.Random(18)
    values = []
    for exponent in range(-323, 308):
        values += [float(f"{rng.randint(1, 9)}e{exponent}"), rng.random() * 10.0**exponent]
        values.append(round(rng.random(), rng.randint(1, 17)) * 10.0**exponent)
    return values + [-v for v in values[::7]] + [0.0, -0.0, 1.0, 0.0001, 5e-324]


def test_every_float_is_written_as_python_writes_it() -> None:
    values = _floats()
    # Pydantic writes some of them differently (so the rewriting is exercised) ...
    differ = pydantic_core.to_json(values).decode() != json.dumps(values, separators=(",", ":"))
    assert differ
    # ... and standings.json still has Python's text for every one.
    shares = {f"g{i}": v for i, v in enumerate(values)}  # a dict's floats, in one line
    group = SliceInfo(
        attribute="age", label="Age", values=list(shares), population=shares, published=list(shares)
    )
    board = _board(*values[:3], slices=[group])
    assert fast_json(board) == python_json(board)
    for start in range(0, len(values), 300):
        board = _board(*values[start : start + 300])
        assert fast_json(board) == python_json(board)


def test_numbers_inside_strings_and_non_ascii_text_are_left_as_python_writes_them() -> None:
    text = "p < 0.00001, [1e-5:2.5e-7] — modèle 😀 \u2028 \x7f \x01\t tab"
    board = _board(1e-5, 2.5e-7, title=text, description="0.0000123,1e-9]", version="é")
    made = fast_json(board)
    assert made is not None
    assert made == python_json(board)
    assert "\\u00e8" in made and "\\ud83d\\ude00" in made and "\\u007f" in made
    assert "p < 0.00001, [1e-5:2.5e-7]" in made  # the strings' numbers untouched


def test_non_finite_floats_are_written_as_python_writes_them() -> None:
    board = _board(float("nan"), float("inf"), -float("inf"))
    assert fast_json(board) == python_json(board)
    assert "NaN" in python_json(board)


@pytest.mark.parametrize("title", ['a "quoted" 1e-7', "ends with a backslash \\"])
def test_an_escaped_quote_takes_the_python_encoder(title: str) -> None:
    # A quote inside a string hides where strings end: fast_json declines, to_json is Python's.
    board = _board(1e-7, 3e-5, title=title)
    assert fast_json(board) is None
    assert to_json(board) == python_json(board)


def test_a_string_holding_the_item_separator_takes_the_python_encoder() -> None:
    # The separator as an item of an inner list splits an item in two: the count is off.
    names = ["a", "\x00prefboard: next item\x00", "b"]
    group = SliceInfo(attribute="age", label="Age", values=names, population={}, published=[])
    board = _board(1.0, 2.0, slices=[group, group])
    assert fast_json(board) is None
    assert to_json(board) == python_json(board)


def test_the_written_file_reads_back_to_the_same_standings(tmp_path: Path) -> None:
    board = _board(2.5e-7, 1e-5, 25.0, title="modèle 😀 0.00001", description="\x7f")
    path = tmp_path / "standings.json"
    path.write_text(to_json(board), encoding="utf-8")
    assert read_standings(path) == board
