"""Creating and extending a board's leaderboard.toml as text, keeping the maintainer's comments."""

from __future__ import annotations

import copy
import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from typing import Any

from prefboard.config import Config, parse_config
from prefboard.errors import ConfigError
from prefboard.tools.importers.board_files import IMPORTED_TURNS
from prefboard.tools.importers.report import ImportSourceError
from prefboard.tools.importers.values import INVISIBLE


@dataclass(frozen=True)
class Additions:
    """What an import brings to leaderboard.toml: new models as (key, name), slices as
    (attribute, source column), and per attribute the values its participants use, most used
    first."""

    models: list[tuple[str, str]]
    slices: list[tuple[str, str]]
    values: dict[str, list[str]]
    battle: frozenset[str] = frozenset()  # attributes of battle-level slices (--category)


def toml_string(value: str) -> str:
    """A TOML basic string; control characters and DEL escaped, lone surrogates dropped."""
    out = ['"']
    for ch in value:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\u{o:04x}")
        elif 0xD800 <= o <= 0xDFFF:
            continue
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _comment_text(value: str) -> str:
    return INVISIBLE.sub("", value)


def _model_block(key: str, name: str) -> list[str]:
    lines = ["[[models]]", f"key = {toml_string(key)}"]
    if name != key:
        lines.append(f"name = {toml_string(name[:200])}")
    lines += ['# organization = ""', '# license = ""']
    return lines


def _slice_block(attr: str, column: str, values: list[str], battle: bool = False) -> list[str]:
    lines = ["[[slices]]", f"attribute = {toml_string(attr)}"]
    if column != attr:
        lines.append(f"label = {toml_string(column[:100])}")
    if battle:  # a battle column (e.g. category): no population, never a stratum
        lines.append('level = "battle"')
    lines.append(f"values = [{', '.join(toml_string(v) for v in values)}]")
    if not battle:
        lines.append("# population = { ... }  # shares summing to 1, to post-stratify the ranking")
    return lines


def new_config_text(
    source_name: str, dimension: str, adds: Additions, synthetic_times: bool = False
) -> str:
    shown = _comment_text(source_name)
    lines = [
        f"# leaderboard.toml, started by `prefboard import` from {shown}.",
        "# Next: fill in each model's organization and license, give a slice population shares",
        "# (census) to post-stratify the headline ranking, then run `prefboard validate`.",
    ]
    if synthetic_times:
        lines += [
            "# The source had no timestamps: battles carry synthetic times one second apart in",
            "# source order, so the site's 'data through' date is not when people voted.",
        ]
    lines += [
        "",
        "[leaderboard]",
        f"title = {toml_string(('Leaderboard imported from ' + shown)[:200])}",
        *(["synthetic_timestamps = true"] if synthetic_times else []),
        "",
        "[rating]",
        "# Ties are learnt from the data (draw margin by maximum likelihood per dimension);",
        "# set draw_probability only to pin it.",
        "",
        "[quality]",
        "# Imported sources carry no turn counts: every battle is written with",
        f"# turns = {IMPORTED_TURNS}, and min_turns = 0 keeps the turns rule from excluding any.",
        "min_turns = 0",
        "",
        "[[dimensions]]",
        f"key = {toml_string(dimension)}",
        f"description = {toml_string('Which answer was preferred (imported from ' + shown + ').')}",
        "",
    ]
    for key, name in adds.models:
        lines += [*_model_block(key, name), ""]
    for attr, column in adds.slices:
        values = adds.values.get(attr, [])
        if values:
            lines += [*_slice_block(attr, column, values, attr in adds.battle), ""]
    return "\n".join(lines)


def edit_config(
    old: str, config: Config, adds: Additions
) -> tuple[str, dict[str, list[str]], dict[str, list[str]]]:
    """Add models, slices and slice values to existing text; verified by parsing the result.

    Returns the new text, the values added per attribute and those left for the maintainer."""
    declared = {s.attribute: i for i, s in enumerate(config.slices)}
    new_slices: list[tuple[str, str, list[str]]] = []
    extend: dict[str, list[str]] = {}
    for attr, column in adds.slices:
        used = adds.values.get(attr, [])
        if attr not in declared:
            if used:
                new_slices.append((attr, column, used))
        else:
            have = set(config.slices[declared[attr]].values)
            extra = [v for v in used if v not in have]
            if extra:
                extend[attr] = extra
    text, expected = _add_blocks(old, adds.models, new_slices, adds.battle)
    added: dict[str, list[str]] = {a: v for a, _, v in new_slices}
    pending: dict[str, list[str]] = {}
    for attr, extra in extend.items():
        sl = config.slices[declared[attr]]
        if sl.population:
            pending[attr] = extra
            continue
        target = copy.deepcopy(expected)
        target["slices"][declared[attr]]["values"] = [*sl.values, *extra]
        edited = _extend_values(text, declared[attr], [*sl.values, *extra], target)
        if edited is None:
            pending[attr] = extra
        else:
            text, expected = edited, target
            added[attr] = extra
    return text, added, pending


def _add_blocks(
    old: str,
    new_models: list[tuple[str, str]],
    new_slices: list[tuple[str, str, list[str]]],
    battle: frozenset[str] = frozenset(),
) -> tuple[str, dict[str, Any]]:
    """`old` with a [[models]] block per new model and a [[slices]] block per new slice, after
    the last block of their kind (or at the end), and the TOML it must parse to."""
    expected = tomllib.loads(old)
    if not (new_models or new_slices):
        return old, expected
    expected.setdefault("models", []).extend(
        {"key": k, **({"name": n[:200]} if n != k else {})} for k, n in new_models
    )
    if new_slices:
        expected.setdefault("slices", []).extend(
            {
                "attribute": a,
                **({"label": c[:100]} if c != a else {}),
                **({"level": "battle"} if a in battle else {}),
                "values": v,
            }
            for a, c, v in new_slices
        )
    blocks = {
        "models": [_model_block(k, n) for k, n in new_models],
        "slices": [_slice_block(a, c, v, a in battle) for a, c, v in new_slices],
    }
    for after_last in (True, False):
        cand = _insert_blocks(old, blocks, after_last=after_last)
        if _same(cand, expected, old):
            return cand, expected
    raise ImportSourceError(
        "could not add the new [[models]] / [[slices]] blocks to leaderboard.toml safely "
        "(is `models` an inline array?); add them by hand: " + ", ".join(k for k, _ in new_models)
    )


_HEADER = re.compile(r"^\s*\[(\[)?\s*([A-Za-z0-9_.\-\" ]+?)\s*\](\])?\s*(?:#.*)?$")


def table_headers(lines: list[str]) -> list[tuple[int, str, bool]]:
    out = []
    for i, line in enumerate(lines):
        m = _HEADER.match(line)
        if m and bool(m.group(1)) == bool(m.group(3)):
            out.append((i, m.group(2).replace('"', "").replace(" ", ""), bool(m.group(1))))
    return out


def block_end(lines: list[str], headers: list[tuple[int, str, bool]], start: int) -> int:
    return next((i for i, _, _ in headers if i > start), len(lines))


def _insert_blocks(old: str, blocks: dict[str, list[list[str]]], after_last: bool) -> str:
    lines = old.split("\n")
    inserts: list[tuple[int, list[str]]] = []
    heads = table_headers(lines)
    tail: list[str] = []
    for table, items in blocks.items():
        if not items:
            continue
        flat = [ln for block in items for ln in ["", *block]]
        mine = [i for i, name, arr in heads if arr and name == table]
        if after_last and mine:
            # Comments right above the next header belong to it; blank lines belong to no one;
            # comments closing the last block (a blank line before the next header) stay in it.
            at = block_end(lines, heads, mine[-1])
            while at - 1 > mine[-1] and lines[at - 1].lstrip().startswith("#"):
                at -= 1
            while at - 1 > mine[-1] and not lines[at - 1].strip():
                at -= 1
            inserts.append((at, flat))
        else:
            tail += flat
    for at, flat in sorted(inserts, key=lambda t: -t[0]):
        lines[at:at] = flat
    text = "\n".join(lines)
    if tail:
        text = text.rstrip("\n") + "\n" + "\n".join(tail) + "\n"
    return text


def _extend_values(
    text: str, index: int, values: list[str], expected: dict[str, Any]
) -> str | None:
    """Rewrite the `values` of the index-th [[slices]] block; None when it cannot be done safely."""
    lines = text.split("\n")
    span = _values_span(lines, index)
    if span is None:
        return None
    start, end = span
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    array = "[" + ", ".join(toml_string(v) for v in values) + "]"
    candidates = []
    if start == end:
        comment = _trailing_comment(lines[start])
        line = f"{indent}values = {array}" + (f"  {comment}" if comment else "")
        candidates.append([*lines[:start], line, *lines[end + 1 :]])
    else:
        close = lines[end]
        if close.lstrip().startswith("]"):
            prev = lines[end - 1]
            pad = prev[: len(prev) - len(prev.lstrip())] or indent + "    "
            have = tomllib.loads("\n".join(lines[start : end + 1]))["values"]
            extra = [f"{pad}{toml_string(v)}," for v in values[len(have) :]]
            candidates.append(lines[:end] + extra + lines[end:])
            # the last element may lack its trailing comma: add one after its closing quote
            q = prev.rfind('"')
            if q >= 0:
                fixed = prev[: q + 1] + "," + prev[q + 1 :]
                candidates.append([*lines[: end - 1], fixed, *extra, *lines[end:]])
        if not any("#" in ln for ln in lines[start : end + 1]):
            candidates.append([*lines[:start], f"{indent}values = {array}", *lines[end + 1 :]])
    for cand in candidates:
        new = "\n".join(cand)
        if _same(new, expected, text):
            return new
    return None


def _values_span(lines: list[str], index: int) -> tuple[int, int] | None:
    """First and last line of the `values = [...]` of the index-th [[slices]] block."""
    heads = table_headers(lines)
    mine = [i for i, name, arr in heads if arr and name == "slices"]
    if index >= len(mine):
        return None
    start_block = mine[index]
    end_block = block_end(lines, heads, start_block)
    start = next(
        (i for i in range(start_block + 1, end_block) if re.match(r"^\s*values\s*=", lines[i])),
        None,
    )
    if start is None:
        return None
    for j in range(start, end_block):
        try:
            tomllib.loads("\n".join(lines[start : j + 1]))
        except tomllib.TOMLDecodeError:
            continue
        return start, j
    return None


def _trailing_comment(line: str) -> str:
    """The comment ending a one-line `key = value` ("" when none): the first `#` outside the
    value, found by parsing, since a `#` may sit inside a string."""
    for pos in [p for p, ch in enumerate(line) if ch == "#"]:
        try:
            if tomllib.loads(line[:pos]) == tomllib.loads(line):
                return line[pos:]
        except tomllib.TOMLDecodeError:
            continue
    return ""


def _same(new: str, expected: dict[str, Any], old: str) -> bool:
    """`new` parses to `expected`, is a valid config, and keeps every comment of `old`."""
    try:
        raw = tomllib.loads(new)
    except tomllib.TOMLDecodeError:
        return False
    if raw != expected:
        return False
    try:
        parse_config(raw, new)
    except ConfigError:
        return False
    # Every comment survives (compared from its `#` on, since an edited line may gain a comma).
    old_comments = Counter(ln[ln.index("#") :].strip() for ln in old.split("\n") if "#" in ln)
    new_comments = Counter(ln[ln.index("#") :].strip() for ln in new.split("\n") if "#" in ln)
    return all(new_comments[c] >= n for c, n in old_comments.items())


def check_final(text: str) -> None:
    """The placeholders' removal is checked here, on the text about to be written: with no
    model of its own the import would leave a board without models."""
    try:
        parse_config(tomllib.loads(text), text)
    except ConfigError as exc:
        raise ImportSourceError(
            "removing the placeholders `prefboard init` wrote would leave leaderboard.toml "
            f"invalid ({exc.message.splitlines()[0]}); delete their `# prefboard:placeholder` "
            "comments to keep them"
        ) from None
