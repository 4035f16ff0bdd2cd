"""standings.json's text made by pydantic's Rust encoder, byte for byte what Python's `json`
module writes (the reference, `files.to_json`'s slow path), several times faster.

At 300 models the file is 127 MB, ~10 million numbers: `model_dump` then `json`'s C encoder
took ~5.7 CPU s, almost all of it Python objects and `float.__repr__`; pydantic-core writes the
same JSON from the model directly. Its text differs from `json`'s in three known ways, each
undone here:

- a float below 1e-4 in magnitude: pydantic writes `0.00001` or `1.5e-7` where Python writes
  `1e-05` and `1.5e-07`. Both give the shortest digits that round-trip, so such a token is
  rewritten as `repr(float(token))`, which is exactly Python's text. A sweep over every decimal
  exponent found no other float written differently (tests/test_standings_json.py).
- non-ASCII characters and DEL are written raw where `json` (ensure_ascii) writes `\\uXXXX`
  (a surrogate pair above U+FFFF). They occur only inside strings, so every one is escaped.
- non-finite floats: written as Python does (NaN, Infinity) by asking for `constants`.

Anything this cannot do with certainty (an escaped quote in a string, which would hide where
strings end; an item text the split cannot find) returns None, and the caller uses `json`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pydantic_core

if TYPE_CHECKING:
    from prefboard.standings.model import Standings

# Between the items of a list encoded in one call, as in files._items: a string no standings
# field holds (checked: the split must give back exactly one text per item).
_SPLIT = "\x00prefboard: next item\x00"
_SPLIT_TEXT = "," + pydantic_core.to_json(_SPLIT).decode() + ","

# A float token pydantic writes unlike Python: a decimal below 1e-4, or a one-digit negative
# exponent. Found from the two literal parts (a regex starting with a literal is searched for
# in C ~15x faster than one starting with a class: 0.3 s instead of 2.7 s over 127 MB).
_HINTS = (re.compile(r"0\.0000"), re.compile(r"e-[0-9](?![0-9])"))
_TOKEN = re.compile(r"-?(?:0\.0000[0-9]*|[0-9](?:\.[0-9]+)?e-[0-9](?![0-9]))")
_MANTISSA = frozenset("0123456789.-")
_NOT_ASCII = re.compile(r"[^\x00-\x7e]")


def fast_json(standings: Standings) -> str | None:
    """The text `files.to_json` writes (its layout: one top-level key a line, each item of a
    non-empty top-level list on a line of its own), or None when it cannot be made here."""
    lines: list[str] = []
    for key in type(standings).model_fields:
        value = _value(getattr(standings, key))
        if value is None:
            return None
        lines.append(f' "{key}": {value}')
    text = "{\n" + ",\n".join(lines) + "\n}\n"
    if '\\"' in text:  # a quote inside a string: string bounds are no longer a quote count
        return None
    return _ascii(_python_floats(text))


def _encode(value: object) -> str:
    return pydantic_core.to_json(value, inf_nan_mode="constants").decode()


def _value(value: object) -> str | None:
    if not (isinstance(value, list) and value):
        return _encode(value)
    spaced: list[object] = [_SPLIT] * (2 * len(value) - 1)
    spaced[::2] = value
    texts = _encode(spaced)[1:-1].split(_SPLIT_TEXT)
    if len(texts) != len(value):
        return None
    return "[\n  " + ",\n  ".join(texts) + "\n ]"


def _python_floats(text: str) -> str:
    """Every float token below 1e-4 rewritten as Python's repr. A token is a value: it follows
    `:`, `,` or `[` outside a string (after an even number of quotes: none is escaped)."""
    parts: list[str] = []
    done = counted = quotes = 0
    for start in _token_starts(text):
        token = _TOKEN.match(text, start)
        if token is None or text[start - 1] not in ":,[" or start < done:
            continue
        quotes += text.count('"', counted, start)
        counted = start
        if quotes % 2 == 0:
            parts += [text[done:start], repr(float(token.group()))]
            done = token.end()
    parts.append(text[done:])
    return "".join(parts)


def _token_starts(text: str) -> list[int]:
    """Where each hint's number would begin (walking back over its digits, point and sign),
    in order; a start that is no such token is dropped by the caller."""
    starts = set()
    for hint in _HINTS:
        for found in hint.finditer(text):
            start = found.start()
            while start > 0 and text[start - 1] in _MANTISSA:
                start -= 1
            starts.add(start)
    return sorted(starts)


def _ascii(text: str) -> str:
    """Non-ASCII characters and DEL as `json.dumps(ensure_ascii=True)` writes them."""
    if text.isascii() and "\x7f" not in text:
        return text
    return _NOT_ASCII.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    high, low = divmod(code - 0x10000, 0x400)
    return f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"
