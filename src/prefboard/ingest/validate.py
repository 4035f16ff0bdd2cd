"""Result CSVs -> validated tables, every problem located, every row accounted for.

A row either is accepted or is excluded with a reason: `invalid:<rule>` when it breaks the CSV
contract (and a `Problem` says where), or a quality reason (`participant-strikes`,
`too-few-turns`) when it is well formed but the config's quality rules leave it out.
"""

from __future__ import annotations

import calendar
import difflib
import glob
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from prefboard.config import Config
from prefboard.errors import NOT_CHECKED, Problem, cause_first, listed
from prefboard.ingest.csvread import RawTable, read_csv
from prefboard.io.paths import GIT, in_git, is_within, leaves_board, parts

OUTCOME_CODES = {"a": 0, "b": 1, "tie": 2, "": -1}
MAX_CELL_CHARS = 1_000
MAX_PROBLEMS_PER_RULE = 200
MAX_TURNS = 10_000
BATTLE_COLUMNS = ["battle_id", "timestamp", "participant_id", "model_a", "model_b", "turns"]
# Optional battle column: the item judged (prompt); several votes may share one.
PROMPT_COLUMN = "prompt_id"
OPTIONAL_BATTLE = frozenset({PROMPT_COLUMN})
BLANK_ROW = "blank-row"
# ISO 8601 date and time with a zone; pandas alone would accept zone-less or date-only strings.
ISO_WITH_ZONE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$"
# Years a preference battle can plausibly carry; 9999-12-31 is a placeholder, not a date, and
# would sort every later battle before it in the replay. The end stays well before 2106: the
# build stamps files with the newest battle's time (SOURCE_DATE_EPOCH), and gzip's 32-bit mtime
# ends in 2106, so a battle dated 2107 passed validation and crashed the build. `import` uses
# the same 1970-2099 window.
YEAR_RANGE = (1970, 2099)


@dataclass(frozen=True)
class FileSummary:
    path: str
    kind: str
    sha256: str
    bytes: int
    rows: int
    accepted: int
    excluded: int


@dataclass
class Ledger:
    """What happened to every row read: the per-file tally and each excluded row's reason."""

    files: list[FileSummary] = field(default_factory=list)
    excluded: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["kind", "file", "line", "row_id", "reason"])
    )

    def reasons(self) -> dict[str, dict[str, int]]:
        """{kind: {reason: rows}}, sorted, for summaries."""
        out: dict[str, dict[str, int]] = {}
        grouped = self.excluded.groupby(["kind", "reason"], sort=True).size()
        for (kind, reason), n in grouped.items():
            out.setdefault(str(kind), {})[str(reason)] = int(n)
        return out

    def totals(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for f in self.files:
            t = out.setdefault(f.kind, {"files": 0, "rows": 0, "accepted": 0, "excluded": 0})
            t["files"] += 1
            t["rows"] += f.rows
            t["accepted"] += f.accepted
            t["excluded"] += f.excluded
        return out


@dataclass
class Ingested:
    """Accepted rows, typed: model columns are indices into `config.models`, outcome columns
    int8 (-1 not asked, 0 model_a preferred, 1 model_b, 2 tie), Likert columns float (NaN = not
    asked), timestamps UTC."""

    participants: pd.DataFrame
    battles: pd.DataFrame
    ratings: pd.DataFrame
    ledger: Ledger
    problems: list[Problem]
    benchmarks: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["model", "benchmark", "score", "source"])
    )

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


class _Checker:
    """Flags rows of one combined frame, keeping the first rule each row broke."""

    def __init__(self, frame: pd.DataFrame, colmaps: dict[str, dict[str, int]]) -> None:
        self.frame = frame
        self.colmaps = colmaps
        self.reason = np.full(len(frame), None, dtype=object)
        self.problems: list[Problem] = []
        self.counts: Counter[str] = Counter()
        # rows excluded because of another file's problem, reported with it: {kind: rows}
        self.folded: dict[str, int] = {}

    def flag(
        self, mask: np.ndarray | pd.Series, column: str, rule: str, message: Callable[[int], str]
    ) -> None:
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        if not len(idx):
            return
        fresh = idx[self.reason[idx] == None]  # noqa: E711 - elementwise on an object array
        self.reason[fresh] = f"invalid:{rule}"
        files = self.frame["_file"].to_numpy()
        lines = self.frame["_line"].to_numpy()
        for i in idx[: max(0, MAX_PROBLEMS_PER_RULE - self.counts[rule])]:
            col = self.colmaps[files[i]].get(column, 0)
            self.problems.append(Problem(files[i], int(lines[i]), col, rule, message(int(i))))
        self.counts[rule] += len(idx)

    def flag_quietly(self, mask: np.ndarray | pd.Series, rule: str) -> int:
        """Exclude rows whose problem another message already explains; returns how many."""
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        fresh = idx[self.reason[idx] == None]  # noqa: E711 - elementwise on an object array
        self.reason[fresh] = f"invalid:{rule}"
        return len(fresh)

    def overflow(self) -> list[Problem]:
        return [
            Problem("", 0, 0, rule, f"{n - MAX_PROBLEMS_PER_RULE} more rows break this rule")
            for rule, n in sorted(self.counts.items())
            if n > MAX_PROBLEMS_PER_RULE
        ]

    @property
    def bad(self) -> np.ndarray:
        return self.reason != None  # noqa: E711


def ingest(config: Config, root: Path) -> Ingested:
    """Read and validate every result file the config names, relative to the board folder."""
    max_bytes = int(config.data.max_file_mb * 1_000_000)
    problems: list[Problem] = []
    ledger = Ledger()
    excluded: list[pd.DataFrame] = []

    part_files, ps = resolve_paths(root, [config.data.participants], "data.participants")
    problems += ps
    if not part_files:
        problems.append(
            Problem(config.data.participants, 0, 0, "missing-file", "participants file not found")
        )
    p_cols = ["participant_id", *[s.attribute for s in config.slices], "strikes"]
    p_raw = [read_csv(f, _shown(root, f), p_cols, max_bytes) for f in part_files]
    participants, p_check = _participants(config, p_raw)

    banned = set(participants.loc[participants["strikes"] >= config.quality.strike_limit].index)
    known = set(participants.index)
    # Without a readable participants file every battle would be an "unknown participant": one
    # message per kind instead, after the file's own problem.
    unreadable = not part_files or any(
        r.problems and not len(r.lines) and not r.rejected for r in p_raw
    )
    who = _Participants(known, config.data.participants, unreadable)

    b_files, ps = resolve_paths(root, config.data.battles, "data.battles")
    problems += ps
    dims = [d.key for d in config.battle_dimensions]
    b_cols = [*BATTLE_COLUMNS, *dims, PROMPT_COLUMN]
    b_raw = [read_csv(f, _shown(root, f), b_cols, max_bytes, OPTIONAL_BATTLE) for f in b_files]
    battles, b_check = _battles(config, b_raw, who)

    r_files, ps = resolve_paths(root, config.data.ratings, "data.ratings")
    problems += ps
    ldims = [d.key for d in config.likert_dimensions]
    r_cols = ["rating_id", "timestamp", "participant_id", "model", *ldims]
    r_raw = [read_csv(f, _shown(root, f), r_cols, max_bytes) for f in r_files]
    ratings, r_check = _ratings(config, r_raw, who)

    if unreadable:
        problems += _fold_into_participants(
            p_raw, config.data.participants, {**b_check.folded, **r_check.folded}
        )

    # Quality exclusions apply only to rows that are otherwise valid.
    p_reason = p_check.reason.copy()
    strikes = participants_all_strikes(p_check.frame)
    p_reason[(p_reason == None) & (strikes >= config.quality.strike_limit)] = "participant-strikes"  # noqa: E711
    b_reason = b_check.reason.copy()
    b_ok = b_reason == None  # noqa: E711
    b_reason[b_ok & battles["participant_id"].isin(banned).to_numpy()] = "participant-strikes"
    turns = pd.to_numeric(b_check.frame["turns"], errors="coerce").to_numpy()
    b_reason[(b_reason == None) & (turns < config.quality.min_turns)] = "too-few-turns"  # noqa: E711
    r_reason = r_check.reason.copy()
    r_ok = r_reason == None  # noqa: E711
    r_reason[r_ok & ratings["participant_id"].isin(banned).to_numpy()] = "participant-strikes"

    for kind, raws, check, reason, id_col in (
        ("participants", p_raw, p_check, p_reason, "participant_id"),
        ("battles", b_raw, b_check, b_reason, "battle_id"),
        ("ratings", r_raw, r_check, r_reason, "rating_id"),
    ):
        problems += [p for raw in raws for p in raw.problems]
        problems += check.problems + check.overflow()
        ledger.files += _summaries(kind, raws, check.frame, reason)
        excluded.append(_excluded(kind, check.frame, reason, id_col, raws))

    ledger.excluded = pd.concat(excluded, ignore_index=True)
    # Participant ids never leave ingest in the excluded ledger: it is published on the site.
    pmask = ledger.excluded["kind"] == "participants"
    ledger.excluded.loc[pmask, "row_id"] = ""
    accepted_p = participants.loc[[pid for pid in participants.index if pid not in banned]]
    return Ingested(
        participants=accepted_p,
        battles=battles.loc[b_reason == None].reset_index(drop=True),  # noqa: E711
        ratings=ratings.loc[r_reason == None].reset_index(drop=True),  # noqa: E711
        ledger=ledger,
        problems=cause_first(problems, config.data.participants),
    )


def _fold_into_participants(
    raws: list[RawTable], file: str, folded: dict[str, int]
) -> list[Problem]:
    """Battles and ratings naming participants of an unreadable participants file are its
    consequence: counted in the file's "not checked" line (or one line of their own when the
    file is missing), not reported one by one as unknown participants."""
    parts = [f"{n} {kind} row(s)" for kind, n in folded.items() if n]
    if not parts:
        return []
    rows = " and ".join(parts)
    for raw in raws:
        for i, p in enumerate(raw.problems):
            if NOT_CHECKED in p.message:
                msg = f"{p.message}, nor the {rows} naming a participant"
                raw.problems[i] = Problem(p.file, p.line, p.column, p.rule, msg)
                return []
    msg = f"{rows} {NOT_CHECKED} the problem with this file above"
    return [Problem(file, 1, 0, "unknown-participant", msg)]


def participants_all_strikes(frame: pd.DataFrame) -> np.ndarray:
    return pd.to_numeric(frame["strikes"], errors="coerce").fillna(-1).to_numpy()


def _shown(root: Path, file: Path) -> str:
    try:
        return file.relative_to(root).as_posix()
    except ValueError:
        return file.as_posix()


def resolve_paths(root: Path, patterns: list[str], key: str) -> tuple[list[Path], list[Problem]]:
    """Expand `[data]` globs, refusing anything that resolves outside the board folder."""
    problems: list[Problem] = []
    files: set[Path] = set()
    base = root.resolve()
    for pattern in patterns:
        if "\0" in pattern:
            problems.append(
                Problem("leaderboard.toml", 0, 0, "data-path", f"{key}: contains a NUL character")
            )
            continue
        # A Windows drive/UNC path or "~" would otherwise just match nothing, silently.
        if leaves_board(pattern):
            problems.append(
                Problem(
                    "leaderboard.toml",
                    0,
                    0,
                    "data-path",
                    f"{key}: {pattern!r} leaves the board folder",
                )
            )
            continue
        if GIT in parts(pattern):
            # .git/config can hold a push token, and a CSV reader echoes cells in its messages.
            msg = f"{key}: {pattern!r} reads from {GIT}"
            problems.append(Problem("leaderboard.toml", 0, 0, "data-path", msg))
            continue
        for name in _glob(root, pattern):
            unreadable = _unreadable_name(name)
            if unreadable:
                problems.append(unreadable)
                continue
            path = root / name
            try:
                real = path.resolve(strict=True)
            except RuntimeError:  # Python 3.11 raises this, not OSError, for a symlink loop
                real = None
            except OSError:  # a dangling link, or a loop on Pythons that raise ELOOP
                real = None if path.is_symlink() else path
            if real is None:
                msg = "symlink loop or dangling symlink: the file cannot be read"
                problems.append(Problem(name, 0, 0, "data-path", msg))
            elif not is_within(path, base):
                problems.append(
                    Problem(name, 0, 0, "data-path", "symlink points outside the board folder")
                )
            elif in_git(path, base):
                problems.append(Problem(name, 0, 0, "data-path", f"symlink points into {GIT}"))
            elif path.is_file():
                files.add(path)
    return sorted(files), problems


def _unreadable_name(name: str) -> Problem | None:
    """A file name that is not UTF-8 arrives with lone surrogates (os.fsdecode), which crashed
    everything downstream that encodes text (Arrow, the report); it is named, escaped, instead."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        msg = "the file name is not valid UTF-8; rename the file"
        return Problem(shown, 0, 0, "encoding", msg)
    return None


def _glob(root: Path, pattern: str) -> list[str]:
    """Names matching `pattern` under `root`. glob.glob's `**` follows symlinked folders, so two
    symlinks pointing back up (`loop -> ..`) make it walk 2^depth paths and never finish;
    pathlib's `**` does not follow them. Patterns without `**` keep glob.glob (bounded)."""
    if "**" in pattern:
        literal = set(Path(pattern).parts)
        try:
            names = [p.relative_to(root).as_posix() for p in root.glob(pattern)]
        except ValueError:  # `**` inside a name (e.g. "a**.csv"): glob.glob treats it as `*`
            pass
        else:
            # like glob.glob, wildcards do not match hidden names (.git, .venv)
            return sorted(
                n
                for n in names
                if not any(x.startswith(".") and x not in literal for x in n.split("/"))
            )
    return sorted(glob.glob(pattern, root_dir=root, recursive=True))


def _combine(
    raws: list[RawTable], columns: list[str]
) -> tuple[pd.DataFrame, dict[str, dict[str, int]]]:
    frames = []
    colmaps: dict[str, dict[str, int]] = {}
    for raw in raws:
        f = raw.frame.reindex(columns=columns, fill_value="")
        f["_file"] = raw.path
        f["_line"] = raw.lines
        frames.append(f)
        colmaps[raw.path] = {c: i for i, c in enumerate(raw.frame.columns, start=1)}
        # The combined frame holds the rows from here on; keeping both copies doubled peak
        # memory on large inputs (10M rows). Only the header is still needed.
        raw.frame = raw.frame.iloc[:0]
    if not frames:
        empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
        empty["_file"] = pd.Series([], dtype=object)
        empty["_line"] = pd.Series([], dtype=np.int64)
        return empty, colmaps
    return pd.concat(frames, ignore_index=True), colmaps


def _normalise_ids(frame: pd.DataFrame, columns: list[str]) -> None:
    """Ids in Unicode NFC, so that "é" typed as one code point and as "e" + combining accent
    (what macOS file names and some keyboards produce) are one participant, not two, and a
    battle_id repeated in the other form is a duplicate. NFC, not NFKC: canonically equivalent
    strings are the same text by definition and render identically, while NFKC would also
    merge ids that look different (fullwidth digits, ligatures, superscripts)."""
    for col in columns:
        s = frame[col]
        odd = ~s.str.isascii().fillna(True).to_numpy(dtype=bool)  # ASCII is NFC already
        if odd.any():
            frame.loc[odd, col] = s[odd].map(lambda v: unicodedata.normalize("NFC", v))


def _common_checks(check: _Checker, columns: list[str], required: list[str]) -> None:
    f = check.frame
    for col in columns:
        s = f[col].astype(str)
        too_long = s.str.len() > MAX_CELL_CHARS
        check.flag(
            too_long,
            col,
            "cell-too-long",
            lambda i, c=col: f"{len(f[c].iat[i])} characters (limit {MAX_CELL_CHARS})",
        )
    for col in required:
        check.flag(f[col] == "", col, "required", lambda i, c=col: f"{c} is empty")


def _flag_duplicates(check: _Checker, col: str) -> None:
    f = check.frame
    dup = f[col].duplicated(keep="first") & (f[col] != "")
    if not dup.any():
        return
    first = f.loc[~f[col].duplicated(keep="first")].set_index(col)
    where = {
        k: f"{r['_file']}:{r['_line']}" for k, r in first.loc[f.loc[dup, col].unique()].iterrows()
    }
    check.flag(
        dup,
        col,
        "duplicate-id",
        lambda i: f"{col} {_clip(f[col].iat[i])!r} already used at {where[f[col].iat[i]]}",
    )


def _flag_timestamps(check: _Checker) -> pd.Series:
    f = check.frame
    ts = f["timestamp"]
    shape_ok = ts.str.match(ISO_WITH_ZONE, na=False)
    parsed = pd.to_datetime(ts.where(shape_ok), utc=True, format="ISO8601", errors="coerce")
    bad = (ts != "") & (~shape_ok | parsed.isna())
    check.flag(
        bad,
        "timestamp",
        "timestamp",
        lambda i: f"{_clip(ts.iat[i])!r} " + _timestamp_reason(ts.iat[i], bool(shape_ok.iat[i])),
    )
    lo, hi = YEAR_RANGE
    year = parsed.dt.year
    check.flag(
        parsed.notna() & ((year < lo) | (year > hi)),
        "timestamp",
        "timestamp",
        lambda i: f"{_clip(ts.iat[i])!r}: year {year.iat[i]} is outside {lo}–{hi}",
    )
    return parsed


def _timestamp_reason(value: str, iso_shaped: bool) -> str:
    """Why a timestamp was refused: a well-formed one naming a day or time that does not exist
    (2026-02-30) is told so, not sent to look up ISO 8601."""
    if iso_shaped:
        year, month, day = int(value[:4]), int(value[5:7]), int(value[8:10])
        hour, minute = int(value[11:13]), int(value[14:16])
        second = int(value[17:19]) if value[16:17] == ":" else 0
        if not 1 <= month <= 12:
            return f"is not a real date: there is no month {month}"
        days = calendar.monthrange(year, month)[1]
        if not 1 <= day <= days:
            name = calendar.month_name[month]
            return f"is not a real date: {name} has {days} days in {year}"
        if hour > 23 or minute > 59 or second > 59:
            return "is not a real time: hours run 00-23, minutes and seconds 00-59"
        zone = re.search(r"[+-](\d{2}):?(\d{2})$", value)
        if zone and (int(zone.group(1)) > 23 or int(zone.group(2)) > 59):
            return f"has an impossible time zone offset {zone.group(0)}"
    return "is not ISO 8601 with a timezone (e.g. 2026-09-01T10:02:11Z)"


def _flag_models(check: _Checker, col: str, keys: list[str]) -> np.ndarray:
    f = check.frame
    codes = pd.Index(keys).get_indexer(f[col])
    unknown = (codes < 0) & (f[col] != "").to_numpy()
    hints: dict[str, str] = {}

    def message(i: int) -> str:
        value = f[col].iat[i]
        if value not in hints:
            # difflib indexes every character: skip it for cells already too long to be a key
            near = (
                difflib.get_close_matches(value, keys, n=1, cutoff=0.6)
                if len(value) <= MAX_CELL_CHARS
                else []
            )
            hints[value] = _lookalike(value) + (f"; did you mean {near[0]!r}?" if near else "")
        return f"unknown model {_clip(value)!r}{hints[value]} (declare it under [[models]])"

    check.flag(unknown, col, "unknown-model", message)
    return codes


@dataclass(frozen=True)
class _Participants:
    """Who battles and ratings may name, and where they are declared."""

    known: set[str]
    file: str
    unreadable: bool  # the participants file is missing or was refused whole


def _flag_participants(check: _Checker, who: _Participants, kind: str) -> None:
    f = check.frame
    unknown = ~f["participant_id"].isin(who.known) & (f["participant_id"] != "")
    if who.unreadable:
        check.folded[kind] = check.flag_quietly(unknown, "unknown-participant")
        return
    check.flag(
        unknown,
        "participant_id",
        "unknown-participant",
        lambda i: (
            f"participant {_clip(f['participant_id'].iat[i])!r} is not in {who.file}"
            + _lookalike(f["participant_id"].iat[i])
            + "; add a row for them there"
        ),
    )


def _participants(config: Config, raws: list[RawTable]) -> tuple[pd.DataFrame, _Checker]:
    attrs = [s.attribute for s in config.slices]
    cols = ["participant_id", *attrs, "strikes"]
    frame, colmaps = _combine(raws, cols)
    _normalise_ids(frame, ["participant_id"])
    check = _Checker(frame, colmaps)
    _common_checks(check, cols, ["participant_id", "strikes"])
    _flag_duplicates(check, "participant_id")
    for s in config.slices:
        allowed = set(s.values)
        bad = ~frame[s.attribute].isin(allowed) & (frame[s.attribute] != "")
        values = listed(s.values)
        check.flag(
            bad,
            s.attribute,
            "slice-value",
            lambda i, a=s.attribute, v=values: (
                f"{_clip(frame[a].iat[i])!r} is not a declared value of {a} ({v})"
                + _lookalike(frame[a].iat[i])
            ),
        )
    # [0-9], not \d: \d also matches e.g. Arabic-Indic digits, which to_numeric cannot read
    strikes = frame["strikes"].str.fullmatch(r"[0-9]{1,6}", na=False)
    check.flag(
        ~strikes & (frame["strikes"] != ""),
        "strikes",
        "integer",
        lambda i: f"strikes must be a whole number >= 0, found {_clip(frame['strikes'].iat[i])!r}",
    )
    good = frame.loc[~check.bad, cols].copy()
    good["strikes"] = good["strikes"].astype(np.int64)
    return good.set_index("participant_id"), check


def _battles(
    config: Config, raws: list[RawTable], who: _Participants
) -> tuple[pd.DataFrame, _Checker]:
    dims = [d.key for d in config.battle_dimensions]
    cols = [*BATTLE_COLUMNS, *dims, PROMPT_COLUMN]
    frame, colmaps = _combine(raws, cols)
    _normalise_ids(frame, ["battle_id", "participant_id"])
    check = _Checker(frame, colmaps)
    _common_checks(check, cols, BATTLE_COLUMNS)
    _flag_duplicates(check, "battle_id")
    parsed = _flag_timestamps(check)
    _flag_participants(check, who, "battle")
    keys = config.model_keys
    a = _flag_models(check, "model_a", keys)
    b = _flag_models(check, "model_b", keys)
    check.flag(
        (a == b) & (a >= 0),
        "model_b",
        "self-battle",
        lambda i: f"model {frame['model_a'].iat[i]!r} cannot battle itself",
    )
    # [0-9], not \d: "٥" matched \d, became NaN in to_numeric and was accepted as turns -1
    turns_ok = frame["turns"].str.fullmatch(r"[0-9]{1,5}", na=False)
    turns = pd.to_numeric(frame["turns"].where(turns_ok), errors="coerce")
    bad_turns = (frame["turns"] != "") & (~turns_ok | (turns > MAX_TURNS))
    check.flag(
        bad_turns,
        "turns",
        "turns",
        lambda i: (
            f"turns must be a whole number 0..{MAX_TURNS}, found {_clip(frame['turns'].iat[i])!r}"
        ),
    )
    answered = np.zeros(len(frame), dtype=bool)
    out = pd.DataFrame(
        {
            "battle_id": frame["battle_id"],
            "timestamp": parsed,
            "participant_id": frame["participant_id"],
            "model_a": a.astype(np.int16),
            "model_b": b.astype(np.int16),
            "turns": turns.fillna(-1).astype(np.int64),
            # The item judged, kept as a string id ("" = not given): votes sharing one are
            # clustered when the bands are computed.
            PROMPT_COLUMN: frame[PROMPT_COLUMN].astype(str),
        }
    )
    for d in dims:
        codes = frame[d].map(OUTCOME_CODES)
        check.flag(
            codes.isna(),
            d,
            "outcome",
            lambda i, c=d: (
                f"{_clip(frame[c].iat[i])!r} is not one of a, b, tie or empty"
                + _outcome_hint(frame[c].iat[i])
            ),
        )
        out[d] = codes.fillna(-1).astype(np.int8)
        answered |= (out[d] >= 0).to_numpy()
    if dims:
        check.flag(
            ~answered & ~check.bad,
            dims[0],
            "no-answer",
            lambda i: "no dimension answered; the battle says nothing",
        )
    return out, check


# What spreadsheets and other tools write for an outcome, and the code it probably means.
_OUTCOME_GUESSES = {
    "a": "a", "b": "b", "tie": "tie", "model_a": "a", "model_b": "b", "model a": "a",
    "model b": "b", "1": "a", "2": "b", "left": "a", "right": "b", "draw": "tie",
    "equal": "tie", "tie (bothbad)": "tie",
}  # fmt: skip


def _outcome_hint(value: str) -> str:
    guess = _OUTCOME_GUESSES.get(value.strip().casefold()[:20])
    meaning = "a means model_a was preferred, b model_b, tie neither"
    return f"; {meaning}: write {guess!r} if that is what it says" if guess else f"; {meaning}"


def _ratings(
    config: Config, raws: list[RawTable], who: _Participants
) -> tuple[pd.DataFrame, _Checker]:
    ldims = config.likert_dimensions
    cols = ["rating_id", "timestamp", "participant_id", "model", *[d.key for d in ldims]]
    frame, colmaps = _combine(raws, cols)
    _normalise_ids(frame, ["rating_id", "participant_id"])
    check = _Checker(frame, colmaps)
    _common_checks(check, cols, cols[:4])
    _flag_duplicates(check, "rating_id")
    parsed = _flag_timestamps(check)
    _flag_participants(check, who, "rating")
    codes = _flag_models(check, "model", config.model_keys)
    out = pd.DataFrame(
        {
            "rating_id": frame["rating_id"],
            "timestamp": parsed,
            "participant_id": frame["participant_id"],
            "model": codes.astype(np.int16),
        }
    )
    answered = np.zeros(len(frame), dtype=bool)
    for d in ldims:
        text = frame[d.key]
        # [0-9], not \d: a non-ASCII digit would become NaN, i.e. silently "not asked"
        is_int = text.str.fullmatch(r"-?[0-9]{1,3}", na=False)
        value = pd.to_numeric(text.where(is_int), errors="coerce")
        bad = (text != "") & (~is_int | (value < d.scale_min) | (value > d.scale_max))
        check.flag(
            bad,
            d.key,
            "likert",
            lambda i, k=d.key, lo=d.scale_min, hi=d.scale_max: (
                f"{_clip(frame[k].iat[i])!r} is not a whole number from {lo} to {hi}"
            ),
        )
        out[d.key] = value.where(~bad).astype(float)
        answered |= out[d.key].notna().to_numpy()
    if ldims:
        check.flag(
            ~answered & ~check.bad, ldims[0].key, "no-answer", lambda i: "no dimension answered"
        )
    return out, check


def _summaries(
    kind: str, raws: list[RawTable], frame: pd.DataFrame, reason: np.ndarray
) -> list[FileSummary]:
    files = frame["_file"].to_numpy()
    out = []
    for raw in raws:
        mine = files == raw.path
        # records csvread dropped (field count, syntax) were read too: count them as excluded
        rows = int(mine.sum()) + len(raw.rejected) + len(raw.blank)
        excl = int((mine & (reason != None)).sum()) + len(raw.rejected) + len(raw.blank)  # noqa: E711
        out.append(FileSummary(raw.path, kind, raw.sha256, raw.size, rows, rows - excl, excl))
    return out


def _excluded(
    kind: str, frame: pd.DataFrame, reason: np.ndarray, id_col: str, raws: list[RawTable]
) -> pd.DataFrame:
    mask = reason != None  # noqa: E711
    rows = pd.DataFrame(
        {
            "kind": kind,
            "file": frame.loc[mask, "_file"].to_numpy(),
            "line": frame.loc[mask, "_line"].to_numpy(),
            "row_id": frame.loc[mask, id_col].to_numpy(),
            "reason": reason[mask],
        }
    )
    # A file refused whole (encoding, header, size) still counts as excluded, on its line 0.
    whole = [
        {
            "kind": kind,
            "file": r.path,
            "line": 0,
            "row_id": "",
            "reason": f"invalid:{r.problems[0].rule}",
        }
        for r in raws
        if r.problems and not len(r.lines) and not r.rejected
    ]
    # Records csvread could not split into the declared columns: excluded on their own line.
    whole += [
        {"kind": kind, "file": r.path, "line": line, "row_id": "", "reason": f"invalid:{rule}"}
        for r in raws
        for line, rule in r.rejected
    ]
    # All-empty records (a spreadsheet's trailing `,,,,,`): skipped, not errors.
    whole += [
        {"kind": kind, "file": r.path, "line": line, "row_id": "", "reason": BLANK_ROW}
        for r in raws
        for line in r.blank
    ]
    return pd.concat([rows, pd.DataFrame(whole)], ignore_index=True) if whole else rows


def _lookalike(value: str) -> str:
    """Why an id that looks right matches nothing: padding, or a look-alike character (Cyrillic
    "а" for Latin "a", a zero-width space) that no one can see in a message."""
    notes = ""
    if value != value.strip():
        notes += "; it has leading or trailing whitespace"
    odd = sorted({c for c in value[:MAX_CELL_CHARS] if not c.isascii()})
    if odd:
        names = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, '?')}" for c in odd[:3])
        more = f" and {len(odd) - 3} more" if len(odd) > 3 else ""
        notes += f"; it contains non-ASCII character(s): {names}{more}"
    return notes


def _clip(value: object, limit: int = 60) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"
