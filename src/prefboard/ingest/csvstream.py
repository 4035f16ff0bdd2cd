"""Reading a large, well-formed CSV block by block, so validation never holds the whole file.

A file qualifies when nothing in it needs the csv module's view of records: no quote (so a
record is a physical line and a block can end at any newline), no carriage return, no NUL, no
byte-order mark, valid UTF-8, and a header the checks accept. Anything else takes the whole-file
reader in csvread, whose problems and line numbers are the reference; a block with a malformed
record is parsed by the same csv-module code, so its problems read exactly as there.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from prefboard.errors import Problem
from prefboard.ingest.csvread import (
    COLUMNAR,
    RawTable,
    check_delimiter,
    check_header,
    looks_utf16,
    parse_fast,
    parse_slow,
    read_csv,
)

# CSV bytes per block: ~200,000 battle rows; their text is all validation holds at a time.
# Measured at 10M rows (quiet machine): 32 MiB blocks 17.3 s, peak 1,603 MiB; 16 MiB 16.7 s,
# 1,574 MiB; 8 MiB 20.6 s, 1,542 MiB (each block has a fixed cost, and its pages are handed back).
BLOCK_BYTES = 1 << 24
# Bytes that send a file to the whole-file reader (see the module docstring).
_ODD = (b'"', b"\r", b"\0")


def read_streamed(
    file: Path, shown: str, expected: list[str], max_bytes: int, optional: frozenset[str]
) -> RawTable:
    """`read_csv`, except that a well-formed CSV is not read yet: its records come block by
    block from `batches`."""
    if file.suffix.lower() in COLUMNAR or file.stat().st_size > max_bytes:
        return read_csv(file, shown, expected, max_bytes, optional)
    streamed = open_stream(file, shown, expected, optional)
    return streamed or read_csv(file, shown, expected, max_bytes, optional)


def open_stream(
    file: Path, shown: str, expected: list[str], optional: frozenset[str]
) -> RawTable | None:
    """The file as a streamed RawTable (size known, records not yet read), or None when it
    needs the whole-file reader. Its SHA-256 is taken as its blocks are read (`_blocks`), on
    the thread that reads ahead of the checks, not in this pass, which the checks wait for."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    head = b""
    with file.open("rb") as fh:
        while block := fh.read(BLOCK_BYTES):
            if not head:
                head = block
                if block.startswith(b"\xef\xbb\xbf") or looks_utf16(block):
                    return None
            if any(odd in block for odd in _ODD):
                return None
            if not block.isascii():
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    return None
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    if b"\n" not in head and len(head) == BLOCK_BYTES:
        return None  # a header line longer than a block: the whole-file reader clips it
    end = head.find(b"\n")  # not split(): that copied the rest of the block
    first_line = (head if end < 0 else head[:end]).decode("utf-8", errors="replace")
    if not first_line.strip():
        return None  # the whole-file reader says the header is missing
    header = next(csv.reader([first_line]))
    if check_delimiter(shown, first_line, header, expected):
        return None
    if check_header(shown, header, expected, optional):
        return None
    size = file.stat().st_size
    frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in header})
    raw = RawTable(shown, "", size, frame, np.empty(0, np.int64), [])
    raw.stream = lambda: _blocks(file, raw, header)
    return raw


@dataclass
class Piece:
    """A block of a streamed file read ahead (its lines counted), not yet parsed: it is parsed
    where it is checked (`parsed`), so two blocks' parses share the cores. The one thread
    reading ahead also parsed, and the checks waited for it (issue 18)."""

    raw: RawTable  # the file
    data: bytes  # whole lines after the header
    header: list[str]
    first: int  # physical line of the first line of `data`
    newlines: int


Block = RawTable | Piece  # a file read whole, or a piece of a streamed one


def batches(raw: RawTable) -> Iterator[Block]:
    """The records of `raw`: the file itself when it was read whole, else its pieces of at most
    a block each, to be `parsed` and then `settle`d in their order."""
    if raw.stream is None:
        yield raw
        return
    yield from raw.stream()
    raw.stream = None


def parsed(item: Block) -> RawTable:
    """A block's records. A piece's blank lines and refused records (and their problems) stay
    in the block's RawTable until `settle` adds them to its file's; its bytes are let go."""
    if isinstance(item, RawTable):
        return item
    data, item.data = item.data, b""
    return _parse_block(item.raw.path, data, item.header, item.first, item.newlines)


def settle(item: Block, block: RawTable) -> None:
    """Count a parsed piece's records, blank lines and refused records in its file. Called in
    the pieces' order, whatever order they were parsed in, so the file's lists read as one
    pass over it."""
    if isinstance(item, RawTable):
        return
    raw = item.raw
    raw.streamed += len(block.lines)
    raw.blank += block.blank
    raw.problems += block.problems
    raw.rejected += block.rejected


def _blocks(file: Path, raw: RawTable, header: list[str]) -> Iterator[Piece]:
    """Pieces of whole lines after the header, each at most a block; the file's SHA-256 is
    set once the last block is read."""
    first = 1  # physical line of the next block's first line
    pending: list[bytes] = []  # read, not yet parsed: an unfinished line's start
    digest = hashlib.sha256()
    with file.open("rb") as fh:
        while True:
            block = fh.read(BLOCK_BYTES)
            digest.update(block)
            cut = block.rfind(b"\n") + 1 if block else 0
            if block and not cut:  # a line longer than a block: joined once, when it ends
                pending.append(block)
                continue
            if first == 1 and pending:  # a header line that did not end in the first block
                piece = b"".join([*pending, block[:cut]])
                end = piece.find(b"\n") + 1 or len(piece)
                piece, first = piece[end:], 2
            else:
                start = 0
                if first == 1:  # the header line
                    start, first = block.find(b"\n") + 1, 2
                # views, not slices: the block is copied once, into the piece parsed
                piece = b"".join([*pending, memoryview(block)[start:cut]])
            pending = [block[cut:]]  # a copy of the line's start: the block is let go
            if piece:
                newlines = newline_count(piece)
                yield Piece(raw, piece, header, first, newlines)
                del piece  # held by the piece alone, let go once it is parsed
                first += newlines
            if not block:
                raw.sha256 = digest.hexdigest()
                return


def newline_count(data: bytes) -> int:
    """How many "\\n" bytes `data` holds. NumPy's count leaves the GIL free (bytes.count holds
    it) and takes half the time."""
    return int(np.count_nonzero(np.frombuffer(data, np.uint8) == 10))


def _parse_block(path: str, piece: bytes, header: list[str], first: int, newlines: int) -> RawTable:
    """One block's records, and its blank lines; a block with a malformed record goes through
    the csv module, whose problems (field count) are the whole-file reader's, moved to the
    block's lines."""
    fast = parse_fast(piece, header, skip=0, first=first, newlines=newlines)
    if fast is not None:
        frame, lines, blank = fast
        return RawTable(path, "", 0, frame, lines, [], blank=blank)
    text = ",".join(header) + "\n" + piece.decode("utf-8")
    frame, lines, problems, blank = parse_slow(text, path, header)
    shift = first - 2  # the slow parse counted the header as line 1
    moved = [Problem(p.file, p.line + shift, p.column, p.rule, p.message) for p in problems]
    rejected = [(p.line, p.rule) for p in moved]
    shifted = [line + shift for line in blank]
    return RawTable(path, "", 0, frame, lines + shift, moved, rejected, shifted)
