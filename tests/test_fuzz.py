"""Property tests: whatever bytes a contributor sends and whatever a leaderboard.toml holds, the
answer is a result or a ConfigError, never an exception, and every CSV record is accounted for."""

from __future__ import annotations

import codecs
import csv
import io
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prefboard.config import Config, load_config, parse_config
from prefboard.errors import ConfigError
from prefboard.ingest.validate import ingest
from tests.conftest import copy_board

TINY = Path(__file__).parent / "fixtures" / "tiny"
TINY_TOML = (TINY / "leaderboard.toml").read_text("utf-8")
COLUMNS = [
    "battle_id",
    "timestamp",
    "participant_id",
    "model_a",
    "model_b",
    "turns",
    "overall",
    "helpfulness",
    "communication",
    "adaptiveness",
    "trust_safety",
    "personality",
]
FUZZ = "results/battles/fuzz.csv"
WHOLE_FILE_RULES = {"encoding", "nul-byte", "header", "file-too-large"}
FUZZ_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# -- (a) bytes as a battles CSV -------------------------------------------------------------------

CELL = st.one_of(
    st.sampled_from(
        [
            "",
            "a",
            "b",
            "tie",
            "5",
            "-1",
            "NaN",
            "aurora-7b",
            "cobalt-large",
            "p0001",
            "2026-09-01T10:00:00Z",
            "9999-12-31T23:59:59Z",
            '"',
            '""',
            ",",
            "\n",
            "\r",
            "\r\n",
            "\ufeff",
            "\x00",
            "=1+1",
            "<script>",
            "\u0430",
        ]
    ),
    st.text(max_size=12),
)
SEPARATOR = st.sampled_from(["\n", "\r\n", "\r", "\n\n", ""])


@st.composite
def header_line(draw: st.DrawFn) -> str:
    """The right header, a shuffled or damaged one, or junk."""
    kind = draw(st.sampled_from(["exact", "shuffled", "damaged", "junk"]))
    if kind == "exact":
        return ",".join(COLUMNS)
    if kind == "shuffled":
        return ",".join(draw(st.permutations(COLUMNS)))
    if kind == "damaged":
        cols = draw(st.lists(st.sampled_from([*COLUMNS, "", " turns", "extra"]), max_size=15))
        return ",".join(cols)
    return draw(st.text(max_size=40))


@st.composite
def battle_csv(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["bytes", "header+bytes", "rows", "rows", "rows"]))
    if kind == "bytes":
        return draw(st.binary(max_size=600))
    header = draw(header_line())
    if kind == "header+bytes":
        return header.encode() + b"\n" + draw(st.binary(max_size=400))
    rows = draw(
        st.lists(
            st.tuples(st.lists(CELL, min_size=0, max_size=14), st.booleans(), SEPARATOR),
            max_size=8,
        )
    )
    out = header + "\n"
    for cells, quote, sep in rows:
        if quote:
            buf = io.StringIO()
            csv.writer(buf, lineterminator="").writerow(cells)
            out += buf.getvalue() + sep
        else:
            out += ",".join(cells) + sep
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    return out.encode(encoding, errors="replace")


def records_after_header(data: bytes) -> int:
    """Non-blank CSV records after the header, counted independently of prefboard."""
    text = data.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return sum(1 for r in rows[1:] if r and r != [""])


@pytest.fixture
def board(tmp_path: Path) -> Path:
    dest = tmp_path / "board"
    copy_board(TINY, dest)
    return dest


@FUZZ_SETTINGS
@given(data=battle_csv())
def test_any_bytes_as_battles_every_row_accounted_for(board: Path, data: bytes) -> None:
    path = board / FUZZ
    path.unlink(missing_ok=True)
    path.write_bytes(data)
    config = load_config(board / "leaderboard.toml")
    result = ingest(config, board)  # must not raise

    (summary,) = [f for f in result.ledger.files if f.path == FUZZ]
    assert summary.accepted + summary.excluded == summary.rows
    excluded = result.ledger.excluded
    mine = excluded[excluded["file"] == FUZZ]
    refused = [p for p in result.problems if p.file == FUZZ and p.rule in WHOLE_FILE_RULES]
    if refused:
        # refused whole: no row read, one ledger entry on line 0 saying why
        assert summary.rows == 0
        assert list(mine["line"]) == [0]
        assert list(mine["reason"]) == [f"invalid:{refused[0].rule}"]
    else:
        assert summary.rows == records_after_header(data)
        assert len(mine) == summary.excluded
        # blank-row: a record of empty cells (`,,,`), skipped like a blank line but counted
        assert all(r.startswith("invalid:") or r in {"participant-strikes", "too-few-turns",
                                                      "blank-row"}
                   for r in mine["reason"])  # fmt: skip
    for p in result.problems:
        assert p.rule and p.line >= 0 and p.column >= 0
        assert p.file.startswith("results/") or p.file == ""
    # the example board's own rows are untouched by whatever the fuzz file holds
    (own,) = [f for f in result.ledger.files if f.path == "results/battles/battles.csv"]
    assert (own.rows, own.accepted) == (3, 2)


# -- (b) text as leaderboard.toml -----------------------------------------------------------------

TOML_PIECES = st.sampled_from(
    [
        "[leaderboard]\n",
        "[rating]\n",
        "[[models]]\n",
        "[[dimensions]]\n",
        "[[slices]]\n",
        "[data]\n",
        "[site]\n",
        'key = "m1"\n',
        'key = "overall"\n',
        "sigma = inf\n",
        "mu = nan\n",
        "draw_probability = 0\n",
        "permutations = 99999999999999999999\n",
        'battles = ["../*.csv"]\n',
        'output = "/"\n',
        'values = ["a", "a"]\n',
        "population = { a = 0.5 }\n",
        "x = [[[[[[[[[[1]]]]]]]]]]\n",
        "a.b.c.d.e.f.g.h.i.j = 1\n",
        'title = "<script>"\n',
        "release_date = 9999-12-31\n",
        "scale_max = 1e400\n",
        '"\n',
        "= 1\n",
        "\x00",
        "\ufeff",
    ]
)


@st.composite
def toml_text(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["text", "pieces", "mutated"]))
    if kind == "text":
        return draw(st.text(max_size=300))
    if kind == "pieces":
        return "".join(draw(st.lists(TOML_PIECES, max_size=25)))
    # the tiny board's config with a piece or random text spliced in at a line boundary
    lines = TINY_TOML.splitlines(keepends=True)
    at = draw(st.integers(0, len(lines)))
    cut = draw(st.integers(0, 3))
    insert = draw(st.one_of(TOML_PIECES, st.text(max_size=40)))
    return "".join(lines[:at]) + insert + "".join(lines[at + cut :])


@FUZZ_SETTINGS
@given(text=toml_text(), encoding=st.sampled_from(["utf-8", "utf-8", "utf-16", "latin-1"]))
def test_any_text_as_config_is_a_config_or_a_config_error(
    tmp_path: Path, text: str, encoding: str
) -> None:
    path = tmp_path / "leaderboard.toml"
    path.write_bytes(text.encode(encoding, errors="replace"))
    try:
        config = load_config(path)
    except ConfigError as exc:
        assert exc.problems, "a ConfigError always names at least one problem"
        assert exc.exit_code == 2
        for p in exc.problems:
            assert p.rule and p.line >= 0
    else:
        assert isinstance(config, Config)


# -- (c) nested dicts for parse_config ------------------------------------------------------------

KEYS = st.one_of(
    st.sampled_from(
        [
            "leaderboard",
            "rating",
            "dimensions",
            "models",
            "slices",
            "quality",
            "data",
            "site",
            "privacy",
            "key",
            "title",
            "label",
            "values",
            "population",
            "attribute",
            "sigma",
            "stratify_by",
            "battles",
            "likert",
            "scale_min",
            "scale_max",
            "output",
            "max_file_mb",
        ]
    ),
    st.text(max_size=10),
)
SCALARS = st.one_of(
    st.text(max_size=20),
    st.integers(),
    st.sampled_from([0, -1, 2**63, 10**400]),
    # built, not sampled: hypothesis cannot repr a 6000-digit literal in a strategy
    st.integers(20_000, 20_001).map(lambda n: 1 << n),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=25,
)
BASE: dict[str, Any] = tomllib.loads(TINY_TOML)


@st.composite
def raw_config(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):
        return draw(st.dictionaries(KEYS, VALUES, max_size=8))
    # the valid tiny config with a few values replaced somewhere down the tree
    raw = tomllib.loads(TINY_TOML)
    for _ in range(draw(st.integers(1, 3))):
        node: Any = raw
        while True:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            k = draw(st.sampled_from(keys))
            child = node[k]
            if isinstance(child, dict | list) and child and draw(st.booleans()):
                node = child
                continue
            node[k] = draw(VALUES)
            break
    return raw


@FUZZ_SETTINGS
@given(raw=raw_config())
def test_any_nested_dict_is_a_config_or_a_config_error(raw: dict[str, Any]) -> None:
    try:
        config = parse_config(raw)
    except ConfigError as exc:
        assert exc.problems
    else:
        assert isinstance(config, Config)


def test_fuzz_base_config_is_valid() -> None:
    # the mutation strategies start from a valid config, or they would test nothing deeper
    assert isinstance(parse_config(BASE), Config)
