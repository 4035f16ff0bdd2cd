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


def batches(raw: RawTable) -> Iterator[RawTable]:
    """The records of `raw` as RawTables of at most a block each (the file itself when it was
    read whole). A streamed file's count of records, blank lines and refused records fill in
    as its blocks are read."""
    if raw.stream is None:
        yield raw
        return
    for block in raw.stream():
        raw.streamed += len(block.lines)
        yield block
    raw.stream = None


def _blocks(file: Path, raw: RawTable, header: list[str]) -> Iterator[RawTable]:
    """Blocks of whole lines after the header, each parsed into a RawTable of its records;
    the file's SHA-256 is set once the last block is read."""
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
                yield _parse_block(raw, piece, header, first, newlines)
                first += newlines
            if not block:
                raw.sha256 = digest.hexdigest()
                return


# Bytes compared at a time when counting newlines: the comparison's mask stays in the cache
# (a mask of the whole 16 MiB block was fresh pages each time: ~25 % more CPU).
_COUNT_BYTES = 1 << 20


def newline_count(data: bytes) -> int:
    """How many "\\n" bytes `data` holds. NumPy's count leaves the GIL free (bytes.count holds
    it) and takes half the time."""
    view = np.frombuffer(data, np.uint8)
    step = _COUNT_BYTES
    return sum(int(np.count_nonzero(view[i : i + step] == 10)) for i in range(0, len(view), step))


def _parse_block(
    raw: RawTable, piece: bytes, header: list[str], first: int, newlines: int
) -> RawTable:
    """One block's records; a block with a malformed record goes through the csv module, whose
    problems (field count) are the whole-file reader's, moved to the block's lines."""
    parsed = parse_fast(piece, header, skip=0, first=first, newlines=newlines)
    if parsed is not None:
        frame, lines, blank = parsed
        raw.blank += blank
        return RawTable(raw.path, raw.sha256, 0, frame, lines, [])
    text = ",".join(header) + "\n" + piece.decode("utf-8")
    frame, lines, problems, blank = parse_slow(text, raw.path, header)
    shift = first - 2  # the slow parse counted the header as line 1
    raw.blank += [line + shift for line in blank]
    moved = [Problem(p.file, p.line + shift, p.column, p.rule, p.message) for p in problems]
    raw.problems += moved
    raw.rejected += [(p.line, p.rule) for p in moved]
    return RawTable(raw.path, raw.sha256, 0, frame, lines + shift, [])
