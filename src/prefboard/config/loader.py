"""Reading leaderboard.toml: bounded TOML parsing, then validation into a `Config` with every
problem located (line, dotted path, the closest valid key for a typo)."""

from __future__ import annotations

import difflib
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from prefboard.config.board import Config
from prefboard.errors import ConfigError, Problem

# Deep nesting is never legitimate in a leaderboard file and is how a "TOML bomb" hurts parsers.
MAX_CONFIG_BYTES = 1_000_000
MAX_NESTING = 8
# tomllib keeps a flag per prefix of a dotted key, so `[a.a.a.…]` with 100k parts takes minutes
# and gigabytes before the depth check could run; such keys are refused from the text first.
MAX_DOTTED_PARTS = 64
_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')"""
_DOTTED_RUN = re.compile(
    rf"(?:^|[{{,])[ \t]*\[{{0,2}}[ \t]*(?:{_KEY_PART}[ \t]*\.[ \t]*){{{MAX_DOTTED_PARTS}}}",
    re.MULTILINE,
)
# Stop locating validation errors after this many: each costs a scan of the file, and 30 000
# bad [[models]] blocks made that quadratic (minutes) for a message no one reads to the end.
MAX_CONFIG_PROBLEMS = 100


def load_config(path: Path) -> Config:
    """Read and validate leaderboard.toml; raise ConfigError listing every problem."""
    text, problems = _read_text(path)
    if text is None:
        raise ConfigError(problems[0].format(), problems)
    bomb = _DOTTED_RUN.search(text)
    if bomb:
        line = text.count("\n", 0, bomb.start()) + 1
        msg = f"a dotted key with more than {MAX_DOTTED_PARTS} parts"
        p = Problem(path.name, line, 0, "toml-nesting", msg)
        raise ConfigError(p.format(), [p])
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, col = _toml_error_position(str(exc))
        p = Problem(path.name, line, col, "toml-syntax", str(exc).split(" (at")[0])
        raise ConfigError(p.format(), [p]) from None
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively: `[[[[…` a few thousand
        # deep raised RecursionError (a traceback) before the nesting check could say so.
        p = Problem(path.name, 0, 0, "toml-nesting", f"nesting depth > {MAX_NESTING}")
        raise ConfigError(p.format(), [p]) from None
    except ValueError as exc:
        # tomllib lets int() raise for a decimal integer of more than 4300 digits.
        big = re.search(r"[0-9_]{4000,}", text)
        line = text.count("\n", 0, big.start()) + 1 if big else 0
        p = Problem(path.name, line, 0, "toml-syntax", f"invalid value: {str(exc)[:120]}")
        raise ConfigError(p.format(), [p]) from None
    return parse_config(raw, text, path.name)


def parse_config(raw: dict[str, Any], text: str = "", filename: str = "leaderboard.toml") -> Config:
    depth = _depth(raw)
    if depth > MAX_NESTING:
        p = Problem(filename, 0, 0, "toml-nesting", f"nesting depth {depth} > {MAX_NESTING}")
        raise ConfigError(p.format(), [p])
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        problems = [_problem_from_error(e, text, filename) for e in errors[:MAX_CONFIG_PROBLEMS]]
        if len(errors) > MAX_CONFIG_PROBLEMS:
            more = f"{len(errors) - MAX_CONFIG_PROBLEMS} more problem(s) not shown"
            problems.append(Problem(filename, 0, 0, "invalid-value", more))
        raise ConfigError("\n".join(p.format() for p in problems), sorted(set(problems))) from None


def _read_text(path: Path) -> tuple[str | None, list[Problem]]:
    name = path.name
    if not path.is_file():
        return None, [Problem(str(path), 0, 0, "config-missing", "no such file")]
    size = path.stat().st_size
    if size > MAX_CONFIG_BYTES:
        return None, [
            Problem(name, 0, 0, "config-size", f"{size} bytes > limit {MAX_CONFIG_BYTES}")
        ]
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, [Problem(name, line, 0, "encoding", "file is not valid UTF-8")]


def _depth(value: Any) -> int:
    # Iterative so that a pathologically deep document cannot exhaust the recursion limit.
    best, stack = 0, [(value, 0)]
    while stack:
        item, d = stack.pop()
        best = max(best, d)
        if best > MAX_NESTING:
            return best
        if isinstance(item, dict):
            stack.extend((v, d + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, d + 1) for v in item)
    return best


def _toml_error_position(message: str) -> tuple[int, int]:
    m = re.search(r"line (\d+), column (\d+)", message)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def _problem_from_error(err: Any, text: str, filename: str) -> Problem:
    loc = [str(p) for p in err["loc"]]
    dotted = _dotted(loc)
    # A whole-config check names the key it is about first ("rating.stratify_by: ..."): point
    # at that key's line rather than at nothing.
    named = re.match(r"^(?:Value error, )?([a-z_]+(?:\.[a-z_]+)+)[: ]", err["msg"])
    line = locate_key(text, loc if loc or not named else named.group(1).split("."))
    if err["type"] == "extra_forbidden":
        parent = _model_at(loc[:-1])
        hint = ""
        if parent is not None:
            near = difflib.get_close_matches(loc[-1], list(parent.model_fields), n=1, cutoff=0.5)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            hint += f" (valid keys: {', '.join(parent.model_fields)})"
        return Problem(filename, line, 0, "unknown-key", f"{dotted}: unknown key{hint}")
    msg = err["msg"].removeprefix("Value error, ")
    if not loc:
        # Checks across sections raise from the top-level model (no location); their message
        # starts with the dotted key they are about, which gives the line.
        named = re.match(r"^([a-z_]+(?:\.[a-z_]+|\[\d+\])*):", msg)
        if named:
            line = locate_key(text, re.findall(r"[a-z_]+|\d+", named.group(1)))
    return Problem(filename, line, 0, "invalid-value", f"{dotted}: {msg}" if dotted else msg)


def _dotted(loc: list[str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


def _model_at(loc: list[str]) -> type[BaseModel] | None:
    model: type[BaseModel] = Config
    for part in loc:
        if part.isdigit():
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        ann = field.annotation
        inner = getattr(ann, "__args__", (ann,))
        nxt = next((a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if nxt is None:
            return None
        model = nxt
    return model


def locate_key(text: str, loc: list[str]) -> int:
    """The 1-based line of a key path in TOML text; 0 when it cannot be found.

    tomllib keeps no positions, so scan table headers and `key =` lines, counting array-of-table
    headers to find e.g. the third `[[models]]` block. A key that is missing altogether points at
    the header of the table that should hold it.
    """
    table: list[str] = []
    counts: dict[str, int] = {}
    fallback = 0
    for no, raw in enumerate(text.splitlines(), start=1):
        s = raw.strip()
        header = re.match(r"^\[\[\s*([^\]]+?)\s*\]\]", s) or re.match(r"^\[\s*([^\]]+?)\s*\]", s)
        if header:
            name = header.group(1).strip()
            if s.startswith("[["):
                counts[name] = counts.get(name, -1) + 1
                table = [*name.split("."), str(counts[name])]
            else:
                table = name.split(".")
            if table == loc[: len(table)]:
                fallback = no
                if len(table) == len(loc):
                    return no
            continue
        key = re.match(r'^"?([A-Za-z0-9_\-]+)"?\s*=', s)
        if key and [*table, key.group(1)] == loc[: len(table) + 1]:
            return no
    return fallback
