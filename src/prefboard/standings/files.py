"""The result object on disk: standings.json, its JSON Schema, standings.csv, ratings.csv, and
reading standings.json back with a located `StandingsError` for anything wrong."""

from __future__ import annotations

import csv
import io
import json
import re
import stat
import sys
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from prefboard.errors import StandingsError
from prefboard.io.files import ensure_folder, write_atomic
from prefboard.render.escape import capped, printable
from prefboard.standings.json_text import fast_json
from prefboard.standings.model import POOLED, POSTSTRATIFIED, SCHEMA_VERSION, Entry, Standings

STANDINGS_COLUMNS = [
    "dimension",
    "slice_attribute",
    "slice_value",
    "model",
    "mu",
    "sigma",
    "mu_mean",
    "mu_spread",
    "lower",
    "upper",
    "conservative",
    "rank",
    "rank_lower",
    "rank_upper",
    "battles",
    "wins",
    "losses",
    "ties",
    # appended in schema 2: the batch posterior
    "score",
    "sd",
    "p_best",
    "p_top",
    "p_above_next",
    "inflation",
    # appended in schema 3: the rank interval's own posterior mass
    "rank_mass",
]
RATINGS_COLUMNS = [
    "dimension",
    "slice_attribute",
    "slice_value",
    "model",
    "n",
    "mean",
    "sd",
    "ci_lower",
    "ci_upper",
    "counts",
]


def to_json(standings: Standings) -> str:
    """standings.json: one top-level key per line, and each item of a top-level list (a pair,
    a table, a history) compact on a line of its own.

    Indenting every field (as before) made a 300-model board's file 160 MB, mostly whitespace
    and one line per number, and forced Python's pure-Python encoder (the C encoder only writes
    compact JSON): serialising took tens of seconds. The file parses to the same object.

    Made by pydantic's encoder where `json_text.fast_json` can give the same bytes (~4x
    faster), else by `python_json`, the reference."""
    fast = fast_json(standings)
    return fast if fast is not None else python_json(standings)


def python_json(standings: Standings) -> str:
    """`to_json`'s text through Python's `json` encoder: the reference the fast path matches."""
    fields = standings.model_dump(mode="json")
    lines = [f" {_compact(key)}: {_json_value(value)}" for key, value in fields.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


_COMPACT = json.JSONEncoder(separators=(",", ":"))
_compact = _COMPACT.encode
# Between the items of a list encoded in one call; a string no standings field holds (it is
# checked: the split must give back exactly one text per item).
_SPLIT = "\x00prefboard: next item\x00"
_SPLIT_TEXT = "," + _compact(_SPLIT) + ","


def _json_value(value: object) -> str:
    if isinstance(value, list) and value:
        return "[\n  " + ",\n  ".join(_items(value)) + "\n ]"
    return _compact(value)


def _items(values: list[object]) -> list[str]:
    """Each item's compact JSON. One encoder call for the whole list, split between items: a
    300-model board's 269,100 pairs cost 1.7 s as one call each."""
    spaced: list[object] = [_SPLIT] * (2 * len(values) - 1)
    spaced[::2] = values
    texts = _compact(spaced)[1:-1].split(_SPLIT_TEXT)
    return texts if len(texts) == len(values) else [_compact(v) for v in values]


def schema_json() -> str:
    return json.dumps(Standings.model_json_schema(), indent=1, sort_keys=True) + "\n"


# standings.json of a large board (a thousand models, every slice) is tens of MB: a file far
# beyond that is not one, and parsing it whole would exhaust memory before saying so.
MAX_STANDINGS_BYTES = 256 * 2**20
# Schema 2 files still validate (the fields added since have defaults): a version published
# before an upgrade stays comparable.
READABLE_SCHEMAS = range(2, SCHEMA_VERSION + 1)


def read_standings(path: Path) -> Standings:
    """standings.json (or the folder `prefboard rate --out` wrote), or a `StandingsError`
    naming the file and the first thing wrong with it."""
    if path.is_dir():
        path = path / "standings.json"
    text = _read_text(path)
    fast = _as_written(text)
    if fast is not None:
        return fast
    raw = _parse_json(path, text)
    if not isinstance(raw, dict):
        raise StandingsError(f"{path}: not standings: the top level is not a JSON object")
    version = raw.get("schema_version")
    if version not in READABLE_SCHEMAS or isinstance(version, bool):
        found = f"schema_version {capped(str(version), 20)}"
        if version is None:
            found = "no schema_version"
        fix = "`prefboard rate --out` writes them"
        if isinstance(version, int) and version > SCHEMA_VERSION:
            fix = "written by a newer prefboard: upgrade to read it"
        raise StandingsError(
            f"{path}: {found}; this prefboard reads standings of schema "
            f"{READABLE_SCHEMAS[0]} to {READABLE_SCHEMAS[-1]} ({fix})"
        )
    try:
        return Standings.model_validate(raw)
    except ValidationError as exc:
        raise StandingsError(f"{path}: {_first_problem(exc)}") from None


# How `to_json` starts a file; anything else (or anything invalid) takes the slow, located path.
_WRITTEN = re.compile(r'\{\n "schema_version": [0-9]+,\n')


def _as_written(text: str) -> Standings | None:
    """The standings of a well-formed file as `to_json` writes it, parsed and validated in one
    pass by pydantic (a 300-model board's 127 MB: 8.5 s through `json` and `model_validate`,
    ~2 s so); None for anything else, which `read_standings` then reports exactly."""
    if not _WRITTEN.match(text):
        return None
    try:
        standings = Standings.model_validate_json(text)
    except ValidationError:
        return None
    return standings if standings.schema_version in READABLE_SCHEMAS else None


def _read_text(path: Path) -> str:
    """The file's text, refusing what is not a regular file (a FIFO would block the read,
    /dev/zero never end it) and reading at most one byte past the size limit."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise StandingsError(f"{path}: not a regular file")
        with path.open("rb") as handle:
            data = handle.read(MAX_STANDINGS_BYTES + 1)
    except FileNotFoundError:
        raise StandingsError(f"{path}: no such file; `prefboard rate --out` writes one") from None
    except OSError as exc:
        raise StandingsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_STANDINGS_BYTES:
        limit = MAX_STANDINGS_BYTES // 2**20
        raise StandingsError(f"{path}: larger than {limit} MB: not standings this board wrote")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise StandingsError(f"{path}: not JSON: not UTF-8 text") from None


def _parse_json(path: Path, text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise StandingsError(f"{path}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None
    except RecursionError:
        raise StandingsError(f"{path}: not JSON: nested too deeply") from None
    except ValueError:
        # int() refuses a literal of more than sys.get_int_max_str_digits() digits (CVE-2020-10735)
        digits = sys.get_int_max_str_digits()
        raise StandingsError(f"{path}: not JSON: a number of more than {digits} digits") from None


def _first_problem(exc: ValidationError) -> str:
    """`field tables[0].entries[2].mu: Input should be a valid number (and 3 more)`: the
    first error pydantic found, short, instead of its dump of every one."""
    first = exc.errors()[0]
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
    more = exc.error_count() - 1
    return (
        f"field {capped(where.lstrip('.') or '(top level)', 80)}: {capped(first['msg'], 120)}"
        + (f" (and {more} more)" if more else "")
    )


def safe_cell(value: object) -> str:
    """Neutralise spreadsheet formulas: a cell starting with = + - @ or a control character is
    prefixed with an apostrophe (OWASP CSV injection advice); then `escape.printable`. Numbers
    are left alone."""
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    text = str(value)
    if text and text[0] in "=+-@\t\r\n":
        text = "'" + text
    # csv.writer with "\n" line endings leaves a lone "\r" unquoted, which a spreadsheet reads
    # as a row break that can start a new, formula-bearing row: no line breaks inside cells, and
    # no bidi control reordering what a reader sees (escape.printable).
    return printable(text)


def _csv(rows: list[list[object]], header: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    # Plain ints and floats go to the writer as they are: it writes their str(), which is what
    # safe_cell makes of them, in C (standings.csv of 300 models: ~900,000 number cells).
    writer.writerows([v if type(v) in _NUMBERS else safe_cell(v) for v in row] for row in rows)
    return buf.getvalue()


_NUMBERS = (int, float)


_TABLE_COLUMNS = {
    "dimension": "Dimension key.",
    "slice_attribute": (
        f"`{POOLED}` (every battle, pooled), `{POSTSTRATIFIED}` (the headline, weighted to the "
        "population) or the demographic attribute of a group table."
    ),
    "slice_value": (
        "The group (value of the attribute); for the headline the `stratify_by` attributes "
        "joined by `+`, or `none` when no population shares are configured."
    ),
    "model": "Model key.",
}


def standings_column_meanings() -> list[list[str]]:
    """(column, meaning) for every column of standings.csv, from the field descriptions."""
    return [
        [c, _TABLE_COLUMNS.get(c) or Entry.model_fields[c].description or ""]
        for c in STANDINGS_COLUMNS
    ]


def standings_csv(standings: Standings) -> str:
    rows: list[list[object]] = []
    for t in standings.tables:
        for e in t.entries:
            rows.append(
                [t.dimension, t.slice_attribute, t.slice_value, e.model]
                + ["" if (v := getattr(e, c)) is None else v for c in STANDINGS_COLUMNS[4:]]
            )
    return _csv(rows, STANDINGS_COLUMNS)


def ratings_csv(standings: Standings) -> str:
    rows: list[list[object]] = []
    for r in standings.likert:
        values: list[object] = [r.n, r.mean, r.sd, r.ci_lower, r.ci_upper]
        rows.append(
            [r.dimension, r.slice_attribute, r.slice_value, r.model]
            + ["" if v is None else v for v in values]
            + [";".join(str(c) for c in r.counts)]
        )
    return _csv(rows, RATINGS_COLUMNS)


#: The standings' downloads made from the standings themselves (the schema is fixed text): the
#: site writes these on a second core (site_downloads.py), `write_standings` here.
DOWNLOADS: dict[str, Callable[[Standings], str]] = {
    "standings.json": to_json,
    "standings.csv": standings_csv,
    "ratings.csv": ratings_csv,
}


def write_standings(standings: Standings, out: Path) -> list[Path]:
    """Write standings.json, its schema, standings.csv and ratings.csv into `out`."""
    ensure_folder(out)
    order = ("standings.json", "standings.schema.json", "standings.csv", "ratings.csv")
    files = {n: DOWNLOADS[n](standings) if n in DOWNLOADS else schema_json() for n in order}
    paths = []
    for name, text in files.items():
        path = out / name
        write_atomic(path, text)
        paths.append(path)
    return paths
