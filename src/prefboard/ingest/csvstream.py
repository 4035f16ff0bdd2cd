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
from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import BinaryIO

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


class LateOdd(Exception):
    """A file read block by block turned out, past its first block of records, to need the
    whole-file reader (a quote, carriage return, NUL or bad UTF-8 further in): the blocks
    already checked are void, and the files are read again, each scanned whole first."""


def read_streamed(
    file: Path,
    shown: str,
    expected: list[str],
    max_bytes: int,
    optional: frozenset[str],
    scanned: bool = False,
) -> RawTable:
    """`read_csv`, except that a CSV is not read yet: its records come block by block from
    `batches`, each block scanned as it is read (`_scanned_blocks`). With `scanned`, the whole
    file is scanned first, here (`open_stream`): what the retry after a `LateOdd` does."""
    if file.suffix.lower() in COLUMNAR or file.stat().st_size > max_bytes:
        return read_csv(file, shown, expected, max_bytes, optional)
    if scanned:
        streamed = open_stream(file, shown, expected, optional)
        return streamed or read_csv(file, shown, expected, max_bytes, optional)
    # the scan of a file's first block moved from here to the thread that reads the blocks
    # ahead of the checks (issue 18: three files' scans came before any block was checked)
    raw = RawTable(shown, "", file.stat().st_size, _columns(expected), np.empty(0, np.int64), [])

    def whole() -> RawTable:
        return read_csv(file, shown, expected, max_bytes, optional)

    raw.stream = lambda: _scanned_blocks(file, raw, expected, optional, whole)
    return raw


def open_stream(
    file: Path, shown: str, expected: list[str], optional: frozenset[str]
) -> RawTable | None:
    """The file as a streamed RawTable (size known, records not yet read), or None when it
    needs the whole-file reader, the whole file scanned first. Its SHA-256 is taken as its
    blocks are read (`_blocks`), on the thread that reads ahead of the checks."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    head = b""
    with file.open("rb") as fh:
        while block := fh.read(BLOCK_BYTES):
            head = head or block
            if _odd(block, decoder):
                return None
    if not _utf8_ends(decoder):
        return None
    header = _header(shown, head, expected, optional)
    if header is None:
        return None
    raw = RawTable(shown, "", file.stat().st_size, _columns(header), np.empty(0, np.int64), [])
    raw.stream = lambda: _read_blocks(file, raw, header)
    return raw


def _read_blocks(file: Path, raw: RawTable, header: list[str]) -> Iterator[RawTable]:
    with file.open("rb") as fh:
        yield from _blocks(fh, fh.read(BLOCK_BYTES), raw, header, None)


def _scanned_blocks(
    file: Path,
    raw: RawTable,
    expected: list[str],
    optional: frozenset[str],
    whole: Callable[[], RawTable],
) -> Iterator[RawTable]:
    """The file's blocks, each scanned (`_odd`) before any of its records is handed out. A
    first block or header the block reader cannot take, or an odd byte met before any record
    was handed out, makes `raw` the whole-file read (`whole`), and `raw` itself comes out, as
    for a file read whole from the start; an odd byte met later raises `LateOdd`."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with file.open("rb") as fh:
        head = fh.read(BLOCK_BYTES)
        header = None if _odd(head, decoder) else _header(raw.path, head, expected, optional)
        if header is not None:
            raw.frame = _columns(header)
            blocks = _blocks(fh, head, raw, header, decoder)
            del head  # not held here while the file streams: the blocks let it go once parsed
            try:
                yield from blocks
                return
            except _OddEarly:
                pass
    _become(raw, whole())
    yield raw


class _OddEarly(Exception):
    """An odd byte met before any record of the file was handed out: read it whole."""


def _become(raw: RawTable, read: RawTable) -> None:
    """`raw` made the file's whole-file read, in place: the ledger reads the same object."""
    for part in fields(RawTable):
        setattr(raw, part.name, getattr(read, part.name))


def _odd(block: bytes, decoder: codecs.IncrementalDecoder) -> bool:
    """Whether `block` holds what sends its file to the whole-file reader: a quote, a carriage
    return, a NUL, or bytes that are not UTF-8 following the blocks before it."""
    if any(odd in block for odd in _ODD):
        return True
    if block.isascii() and not decoder.getstate()[0]:  # nothing of a character left over
        return False
    try:
        decoder.decode(block)
    except UnicodeDecodeError:
        return True
    return False


def _utf8_ends(decoder: codecs.IncrementalDecoder) -> bool:
    """Whether the last block read ended on a whole UTF-8 character."""
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _header(
    shown: str, head: bytes, expected: list[str], optional: frozenset[str]
) -> list[str] | None:
    """The header of a file whose first block is `head`, or None when the whole-file reader
    must read the file (a byte-order mark, UTF-16, a header it reports a problem with)."""
    if head.startswith(b"\xef\xbb\xbf") or looks_utf16(head):
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
    return header


def _columns(header: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in header})


def batches(raw: RawTable) -> Iterator[RawTable]:
    """The records of `raw` as RawTables of at most a block each (the file itself when it was
    read whole). A streamed file's count of records, blank lines and refused records fill in
    as its blocks are read."""
    if raw.stream is None:
        yield raw
        return
    for block in raw.stream():
        if block is raw:  # the file turned out to need the whole-file reader: read whole
            yield raw
            return
        raw.streamed += len(block.lines)
        yield block
    raw.stream = None


def _blocks(
    fh: BinaryIO,
    block: bytes,
    raw: RawTable,
    header: list[str],
    decoder: codecs.IncrementalDecoder | None,
) -> Iterator[RawTable]:
    """Blocks of whole lines after the header, each parsed into a RawTable of its records;
    `block` is the file's first, the rest read from `fh`; the file's SHA-256 is set once the
    last block is read. With a `decoder`, each block after the first (which the caller has
    scanned) is scanned (`_odd`) as it is read, before any of its records is handed out:
    `_OddEarly` when none of the file's had been yet, else `LateOdd`."""
    first = 1  # physical line of the next block's first line
    pending: list[bytes] = []  # read, not yet parsed: an unfinished line's start
    digest = hashlib.sha256()
    handed = False

    def read() -> bytes:
        block = fh.read(BLOCK_BYTES)
        if decoder is not None and (_odd(block, decoder) if block else not _utf8_ends(decoder)):
            raise LateOdd(raw.path) if handed else _OddEarly()
        return block

    while True:
        cut = block.rfind(b"\n") + 1 if block else 0
        if block and not cut:  # a line longer than a block: joined once, when it ends
            digest.update(block)
            pending.append(block)
            block = read()
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
            handed = True
            yield _parse_block(raw, piece, header, first, newlines)
            first += newlines
        # hashed once its records are out, while they are checked, not before: ~12 ms per
        # 16 MiB that the first check no longer waits for
        digest.update(block)
        if not block:
            raw.sha256 = digest.hexdigest()
            return
        block = read()


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
