"""Battle files read block by block (issue 18): the same problems, lines and ledger as a file
read whole, and a well-formed file never held whole."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from pathlib import Path

import pytest

from prefboard.config import load_config
from prefboard.errors import Problem
from prefboard.ingest import blocks, csvstream, validate
from prefboard.ingest.ahead import ahead
from prefboard.ingest.csvread import RawTable
from prefboard.ingest.ledger import FileSummary
from prefboard.ingest.validate import ingest

HEADER = (
    "battle_id,timestamp,participant_id,model_a,model_b,turns,"
    "overall,helpfulness,communication,adaptiveness,trust_safety,personality\n"
)


def row(i: int, ts: str = "2026-09-01T10:00:00Z", turns: str = "5") -> str:
    return f"x{i:03d},{ts},p0001,aurora-7b,cobalt-large,{turns},a,a,tie,a,tie,b\n"


# Line 2 onwards: good rows, then one of each kind of trouble spread over the file, so that
# with small blocks they land in different blocks (and a repeat's first use in an earlier one).
ROWS = [row(i) for i in range(30)]
ROWS[5] = "\n"  # a blank line: skipped, not counted
ROWS[9] = ",,,,,,,,,,,\n"  # what a spreadsheet leaves: a blank row in the ledger
ROWS[14] = "x014,2026-09-01T10:00:00Z,p0001,aurora-7b\n"  # too few fields
ROWS[20] = row(3)  # battle_id x003 again (first at line 5)
ROWS[24] = row(24, ts="2026-02-30T10:00:00Z")  # no such day
ROWS[27] = row(27, turns="٥")  # an Arabic-Indic digit


def outcome(board: Path) -> tuple[list[tuple[str, int, int, str, str]], list[tuple[int, str]]]:
    result = ingest(load_config(board / "leaderboard.toml"), board)
    problems = [(p.file, p.line, p.column, p.rule, p.message) for p in result.problems]
    excluded = result.ledger.excluded
    mine = excluded[excluded["file"] == "results/battles/extra.csv"]
    return problems, sorted(zip(mine["line"].tolist(), mine["reason"].tolist(), strict=True))


def test_small_blocks_report_what_the_whole_file_reports(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tiny / "results" / "battles" / "extra.csv").write_text(HEADER + "".join(ROWS))
    whole = outcome(tiny)
    monkeypatch.setattr(csvstream, "BLOCK_BYTES", 200)  # a few rows per block
    assert outcome(tiny) == whole
    problems, excluded = whole
    extra = [p for p in problems if p[0] == "results/battles/extra.csv"]
    assert extra == [
        ("results/battles/extra.csv", 16, 0, "field-count", "expected 12 fields, found 4"),
        (
            "results/battles/extra.csv",
            22,
            1,
            "duplicate-id",
            "battle_id 'x003' already used at results/battles/extra.csv:5",
        ),
        (
            "results/battles/extra.csv",
            26,
            2,
            "timestamp",
            "'2026-02-30T10:00:00Z' is not a real date: February has 28 days in 2026",
        ),
        (
            "results/battles/extra.csv",
            29,
            6,
            "turns",
            "turns must be a whole number 0..10000, found '٥'",
        ),
    ]
    assert excluded == [
        (11, "blank-row"),
        (16, "invalid:field-count"),
        (22, "invalid:duplicate-id"),
        (26, "invalid:timestamp"),
        (29, "invalid:turns"),
    ]


def test_a_well_formed_battle_file_is_never_read_whole(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = tiny / "results" / "battles" / "extra.csv"
    extra.write_text(HEADER + "".join(row(i) for i in range(40)))
    read_whole: list[str] = []
    real = Path.read_bytes

    def spy(path: Path) -> bytes:
        read_whole.append(path.name)
        return real(path)

    monkeypatch.setattr(Path, "read_bytes", spy)
    monkeypatch.setattr(csvstream, "BLOCK_BYTES", 300)
    result = ingest(load_config(tiny / "leaderboard.toml"), tiny)
    assert "extra.csv" not in read_whole
    assert result.problems == []
    extra_rows = result.ledger.totals()["battles"]["rows"] - 3  # the board's own 3 battles
    assert extra_rows == 40


def test_a_quoted_file_is_still_read_whole_with_physical_lines(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    quoted = row(1).replace("x001", '"x0\n01"')  # a newline inside quotes: two lines, one row
    (tiny / "results" / "battles" / "extra.csv").write_text(HEADER + quoted + quoted)
    monkeypatch.setattr(csvstream, "BLOCK_BYTES", 64)
    problems, excluded = outcome(tiny)
    assert [(p[1], p[3]) for p in problems if p[0].endswith("extra.csv")] == [(4, "duplicate-id")]
    assert excluded == [(4, "invalid:duplicate-id")]


def test_blocks_made_ahead_come_in_order_and_one_at_a_time() -> None:
    """The worker making blocks ahead keeps their order, makes at most one beyond the block
    being checked, hands its error to the caller, and stops when the caller does."""
    made: list[int] = []

    def items(n: int, fail_at: int = -1) -> Iterator[int]:
        for i in range(n):
            if i == fail_at:
                raise ValueError(f"block {i} unreadable")
            made.append(i)
            yield i

    seen = []
    for i in ahead(items(50)):
        seen.append(i)
        assert len(made) <= i + 2  # this block and at most the next
    assert seen == list(range(50))
    with pytest.raises(ValueError, match="block 3 unreadable"):
        list(ahead(items(10, fail_at=3)))
    made.clear()
    stream = ahead(items(10))
    assert next(stream) == 0
    stream.close()  # the caller stops: the worker stops too, having made at most one more
    assert made in ([0], [0, 1])


def test_blocks_checked_at_once_keep_the_first_problems_of_each_rule(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks are checked on two threads; the problems still come out as one pass over the
    file gives them: the first 200 of a rule in line order, the rest counted, rules mixed."""
    rows = []
    for i in range(600):
        bad = row(i).replace("aurora-7b", "aurora-8b") if i % 3 else row(i, turns="x")
        rows.append(bad if i % 5 else row(i, ts="2026-13-01T10:00:00Z"))
    (tiny / "results" / "battles" / "extra.csv").write_text(HEADER + "".join(rows))
    monkeypatch.setattr(csvstream, "BLOCK_BYTES", 1 << 30)  # one block
    whole = outcome(tiny)
    monkeypatch.setattr(csvstream, "BLOCK_BYTES", 700)  # ~9 rows a block
    assert outcome(tiny) == whole
    problems, excluded = whole
    shown = [p for p in problems if p[0].endswith("extra.csv")]
    assert [p[1] for p in shown if p[3] == "unknown-model"] == [
        i + 2 for i in range(600) if i % 3 and i % 5
    ][:200]
    assert ("", 0, 0, "unknown-model", "120 more rows break this rule") in problems
    assert len(excluded) == 600


class _LastFirst:
    """Stands in for the checking threads, running the blocks it holds last first when a
    result is asked for: a later block parsed and checked before an earlier one, as two
    threads may do, without depending on how threads are scheduled."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.waiting: list[tuple[_Later, Callable[..., object], tuple[object, ...]]] = []

    def __enter__(self) -> _LastFirst:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, fn: Callable[..., object], *args: object) -> _Later:
        later = _Later(self)
        self.waiting.append((later, fn, args))
        return later

    def run(self) -> None:
        for later, fn, args in reversed(self.waiting):
            later.value = fn(*args)
        self.waiting.clear()


class _Later:
    def __init__(self, pool: _LastFirst) -> None:
        self.pool, self.value = pool, None

    def result(self) -> object:
        self.pool.run()
        return self.value


def test_blocks_parsed_out_of_order_report_as_one_pass(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks are checked on two threads, so a later block (its repeated ids, its rows with
    too few fields, its blank rows) may be checked first: the problems, the ledger's rows,
    each file's tallies and the battles still read as one pass over the file."""
    (tiny / "results" / "battles" / "extra.csv").write_text(HEADER + "".join(ROWS * 3))

    def everything() -> tuple[object, ...]:
        result = ingest(load_config(tiny / "leaderboard.toml"), tiny)
        excluded = result.ledger.excluded.to_dict("records")
        return result.problems, excluded, result.ledger.files, result.battles.to_dict("list")

    monkeypatch.setattr(csvstream, "BLOCK_BYTES", 200)  # a few rows per block
    in_order = everything()
    monkeypatch.setattr(blocks, "ThreadPoolExecutor", _LastFirst)
    assert everything() == in_order
    monkeypatch.setattr(csvstream, "BLOCK_BYTES", 1 << 30)  # the file in one block
    assert everything() == in_order


# Each odd thing placed in row 30 of 40 (~2,700 bytes in): with 300-byte blocks the file's
# first blocks are checked before it is met, so the blocks read so far are void and every
# file is read again, scanned whole first; with one block, the whole-file reader reads it
# from the start. The two must give the same problems, ledger and battles.
LATE = {
    "quote": lambda r: r.replace("x030", '"x030"'),  # the csv module's cell is x030
    "carriage-return": lambda r: r.replace("\n", "\r\n"),  # one CRLF line among LF ones
    "nul": lambda r: r.replace("cobalt-large", "cobalt\0large"),
    "bad-utf8": lambda r: r.replace("p0001", "p00\udcff1"),  # a lone 0xff byte
}


def late_file(board: Path, change: Callable[[str], str], tail: bytes = b"") -> None:
    rows = [row(i) for i in range(40)]
    rows[30] = change(rows[30])
    text = (HEADER + "".join(rows)).encode("utf-8", errors="surrogateescape")
    (board / "results" / "battles" / "extra.csv").write_bytes(text + tail)


def read_passes(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each reading of the people's battle files: False streamed and scanned block by block,
    True scanned whole first (the retry after a `LateOdd`)."""
    passes: list[bool] = []
    real = validate._read_files

    def spy(files: validate._Files, scanned: bool = False) -> list[RawTable]:
        passes.append(scanned)
        return real(files, scanned)

    monkeypatch.setattr(validate, "_read_files", spy)
    return passes


Everything = tuple[list[Problem], list[dict[Hashable, object]], list[FileSummary], object]


def everything(board: Path) -> Everything:
    result = ingest(load_config(board / "leaderboard.toml"), board)
    excluded = result.ledger.excluded.to_dict("records")
    return result.problems, excluded, result.ledger.files, result.battles.to_dict("list")


@pytest.mark.parametrize("odd", sorted(LATE))
def test_an_odd_byte_past_the_first_block_reads_as_the_whole_file_reader_reads_it(
    tiny: Path, monkeypatch: pytest.MonkeyPatch, odd: str
) -> None:
    late_file(tiny, LATE[odd])
    passes = read_passes(monkeypatch)
    monkeypatch.setattr(csvstream, "BLOCK_BYTES", 1 << 30)  # one block: read whole at once
    whole = everything(tiny)
    assert passes == [False]
    passes.clear()
    monkeypatch.setattr(csvstream, "BLOCK_BYTES", 300)
    assert everything(tiny) == whole
    assert passes == [False, True]  # met late: the files read again, each scanned first


def test_what_the_whole_file_reader_reports_for_a_late_odd_byte(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retry's messages are the whole-file reader's: the file refused at the byte."""
    late_file(tiny, LATE["nul"])
    monkeypatch.setattr(csvstream, "BLOCK_BYTES", 300)
    problems, _ = outcome(tiny)
    assert problems == [
        ("results/battles/extra.csv", 32, 0, "nul-byte", "file contains a NUL byte")
    ]
    late_file(tiny, LATE["bad-utf8"])
    problems, _ = outcome(tiny)
    message = "invalid UTF-8 byte 0xff; save the file as UTF-8"
    assert problems == [("results/battles/extra.csv", 32, 3, "encoding", message)]


def test_a_file_ending_inside_a_character_is_refused_after_its_blocks(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file cut inside a UTF-8 character is known to be so only at its end, after every
    block was handed out: it reads as the whole-file reader reads it too."""
    late_file(tiny, lambda r: r, tail=b"x040,\xc3")
    passes = read_passes(monkeypatch)
    monkeypatch.setattr(csvstream, "BLOCK_BYTES", 300)
    streamed = everything(tiny)
    assert passes == [False, True]
    monkeypatch.setattr(csvstream, "BLOCK_BYTES", 1 << 30)
    assert everything(tiny) == streamed
    assert [(p.line, p.column, p.rule) for p in streamed[0]] == [(42, 2, "encoding")]


def test_an_odd_byte_before_any_record_was_handed_out_reads_whole_at_once(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first block held only the header (its one record runs on): the quote in the next
    block sends the file to the whole-file reader without a second pass."""
    record = row(1).replace("cobalt-large", "cobalt-large" + "x" * 200 + '"')
    (tiny / "results" / "battles" / "extra.csv").write_text(HEADER + record)
    passes = read_passes(monkeypatch)
    monkeypatch.setattr(csvstream, "BLOCK_BYTES", 1 << 30)
    whole = everything(tiny)
    monkeypatch.setattr(csvstream, "BLOCK_BYTES", 150)  # the header and the record's start
    assert everything(tiny) == whole
    assert passes == [False, False]


def test_non_ascii_text_past_the_first_block_is_still_streamed(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Valid UTF-8 (a model key with an accent, split across two blocks) is no reason to
    read a file whole or again: the file streams, and the cell's problem reads as whole."""
    late_file(tiny, lambda r: r.replace("cobalt-large", "cobalt-lärge"))
    passes = read_passes(monkeypatch)
    monkeypatch.setattr(csvstream, "BLOCK_BYTES", 1 << 30)
    whole = everything(tiny)
    for size in (300, 2_368, 2_369):  # "ä" is bytes 2,368-2,369: whole, then split in two
        monkeypatch.setattr(csvstream, "BLOCK_BYTES", size)
        assert everything(tiny) == whole
    assert passes == [False] * 4
    assert [p.rule for p in whole[0]] == ["unknown-model"]
