"""Cleaning imported text, model keys and timestamps."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from prefboard.config import Config

MAX_MODEL_CHARS = 100
US_PER_S = 1_000_000
# Synthetic timestamps (a source without a timestamp column) start here on an empty board.
SYNTHETIC_START = "2000-01-01T00:00:00Z"
SYNTHETIC_START_US = int(pd.Timestamp(SYNTHETIC_START).value // 1_000)
MAX_US = int(pd.Timestamp("2100-01-01T00:00:00Z").value // 1_000)
# C0/C1 controls, soft hyphen, bidi marks and overrides, zero-width and other invisible format
# characters, BOM, interlinear annotations, lone surrogates (only reachable via JSON escapes).
INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\ufeff\ufff9-\ufffb\ud800-\udfff]"
)


def clean_text(values: pd.Series) -> np.ndarray:
    """Strip control and invisible formatting characters and surrounding whitespace."""
    return clean_column(values)[0]


def clean_column(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Cleaned strings (an object array) and their lengths.

    Works on the distinct values (a source has few models and judges) and maps back, so a
    million rows cost one `pd.factorize` and a handful of takes."""
    codes, uniques = pd.factorize(values.astype(str), sort=False)
    cleaned = [_clean_one(str(u)) for u in np.asarray(uniques, dtype=object)] + [""]
    text = np.array(cleaned, dtype=object)
    lengths = np.array([len(c) for c in cleaned], dtype=np.int64)
    return text[codes], lengths[codes]  # code -1 (no NaN is ever passed) -> the trailing ""


def _clean_one(text: str) -> str:
    # isprintable() is False for every character INVISIBLE removes (and for a few it keeps).
    text = text.strip() if text.isprintable() else INVISIBLE.sub("", text).strip()
    # NFC, as ingest compares ids: one judge or model written in two canonically equivalent
    # forms ("é" precomposed or as e + combining accent) is one participant or model.
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def map_values(values: np.ndarray, table: dict[str, str], default: str = "") -> np.ndarray:
    """`table[v]` for each value (default when absent), via the distinct values."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), sort=False)
    mapped = np.array([table.get(u, default) for u in uniques] + [default], dtype=object)
    return mapped[codes]


# Letters of other scripts drawn like Latin ones (the common part of Unicode's confusables
# list for Cyrillic and Greek), each mapped to the Latin letter of the same case.
_LOOKALIKES = str.maketrans(
    "аеорсухіјѕԁԛԝһӏАВЕКМНОРСТХУІЈЅαονικτυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdqwhlABEKMHOPCTXYIJSaoviktuxABEZHIKMNOPTYX",
)


def skeleton(name: str) -> str:
    """What a name looks like: compatibility forms folded (fullwidth "ａ" is "a"), look-alike
    Cyrillic and Greek letters read as Latin, case ignored. Two names with one skeleton are
    hard to tell apart on screen."""
    return unicodedata.normalize("NFKC", name).translate(_LOOKALIKES).casefold()


def differing_characters(name: str, other: str) -> str:
    """The characters of `name` that `other` lacks, by code point and Unicode name."""
    odd = sorted(c for c in set(name) if not c.isascii()) or sorted(set(name) - set(other))
    odd = odd[:3]
    return ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, '?')}" for c in odd)


def normalise_key(name: str) -> str:
    """A model name as a config key: ^[a-z0-9][a-z0-9_.-]*$, at most 100 characters."""
    folded = unicodedata.normalize("NFKD", name)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    key = re.sub(r"[^a-z0-9_.\-]", "-", folded)
    key = re.sub(r"-{2,}", "-", key)
    key = re.sub(r"^[^a-z0-9]+", "", key).rstrip("-")[:MAX_MODEL_CHARS].rstrip("-")
    if not key:
        key = "model-" + hashlib.sha256(name.encode("utf-8", "replace")).hexdigest()[:8]
    return key


def parse_timestamps(values: np.ndarray | pd.Series) -> np.ndarray:
    """Source timestamps -> int64 microseconds since the epoch, UTC; -1 where unusable.

    Numbers are Unix epochs, their unit guessed from the magnitude (< 1e11 seconds, < 1e14
    milliseconds, < 1e17 microseconds, else nanoseconds); anything else must be ISO 8601
    (zone-less values are UTC). Only 1970-01-01 .. 2099-12-31 is accepted."""
    s = pd.Series(values).astype(str).str.strip().reset_index(drop=True)
    out = np.full(len(s), -1, dtype=np.int64)
    numeric = s.str.fullmatch(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?").to_numpy(dtype=bool)
    if numeric.any():
        x = pd.to_numeric(s[numeric], errors="coerce").to_numpy(dtype=float)
        a = np.abs(x)
        with np.errstate(invalid="ignore", over="ignore"):
            us = np.where(
                a < 1e11, x * 1e6, np.where(a < 1e14, x * 1e3, np.where(a < 1e17, x, x / 1e3))
            )
            ok = np.isfinite(us) & (us >= 0) & (us < MAX_US)
            out[np.flatnonzero(numeric)[ok]] = np.round(us[ok]).astype(np.int64)
    text = ~numeric & (s != "").to_numpy(dtype=bool)
    if text.any():
        parsed = pd.to_datetime(s[text], utc=True, format="ISO8601", errors="coerce")
        raw = parsed.dt.tz_localize(None).dt.as_unit("us").to_numpy().view(np.int64)
        good = ~parsed.isna().to_numpy() & (raw >= 0) & (raw < MAX_US)
        out[np.flatnonzero(text)[good]] = raw[good]
    return out


_TWO_DIGITS = pa.array([f"{i:02d}" for i in range(100)])
_THREE_DIGITS = pa.array([f"{i:03d}" for i in range(1000)])


def format_timestamps(us: np.ndarray) -> pa.Array:
    """int64 microseconds -> ISO 8601 UTC strings with Z; whole seconds when all are whole.

    Assembled from lookup tables: numpy's datetime_as_string and Arrow's strftime both cost
    about a second per million values."""
    us = np.asarray(us, dtype=np.int64)
    day, rem = np.divmod(us, 86_400 * US_PER_S)
    sec, frac = np.divmod(rem, US_PER_S)
    hh, rest = np.divmod(sec, 3600)
    mm, ss = np.divmod(rest, 60)
    days, inverse = np.unique(day, return_inverse=True)
    dates = pa.array(np.datetime_as_string(days.astype("datetime64[D]")).astype(object))
    parts: list[Any] = [
        pc.take(dates, pa.array(inverse.reshape(-1))),
        pa.scalar("T"),
        pc.take(_TWO_DIGITS, pa.array(hh)),
        pa.scalar(":"),
        pc.take(_TWO_DIGITS, pa.array(mm)),
        pa.scalar(":"),
        pc.take(_TWO_DIGITS, pa.array(ss)),
    ]
    if (frac != 0).any():
        hi, lo = np.divmod(frac, 1000)
        parts += [
            pa.scalar("."),
            pc.take(_THREE_DIGITS, pa.array(hi)),
            pc.take(_THREE_DIGITS, pa.array(lo)),
        ]
    parts.append(pa.scalar("Z"))
    if not len(us):
        return pa.array([], type=pa.string())
    return pc.binary_join_element_wise(*parts, "")


def assign_keys(
    names: list[str], config: Config | None
) -> tuple[dict[str, str], dict[str, str], list[tuple[str, str]], list[tuple[str, str, str]]]:
    """name -> key for every name; key -> display name of keys created now; suffixed names;
    and (name, look-alike, key) for each new model whose name looks like a declared model's
    key or name, or like another new name: a Cyrillic "а" or a fullwidth letter in a dump made
    a second model out of one, silently."""
    lookup: dict[str, str] = {}
    used: set[str] = set()
    seen: dict[str, str] = {}  # skeleton -> the declared or earlier name it came from
    if config is not None:
        for mdl in config.models:
            used.add(mdl.key)
            lookup.setdefault(mdl.key.casefold(), mdl.key)
            seen.setdefault(skeleton(mdl.key), mdl.key)
        for mdl in config.models:
            if mdl.name:
                lookup.setdefault(mdl.name.casefold(), mdl.key)
                seen.setdefault(skeleton(mdl.name), mdl.name)
    out: dict[str, str] = {}
    created: dict[str, str] = {}
    collided: list[tuple[str, str]] = []
    twins: list[tuple[str, str, str]] = []
    for name in names:
        folded = name.casefold()
        if folded in lookup:
            out[name] = lookup[folded]
            continue
        base = normalise_key(name)
        key, n = base, 2
        while key in used:
            key = f"{base[: MAX_MODEL_CHARS - 6].rstrip('-')}-{n}"
            n += 1
        if key != base:
            collided.append((name, key))
        twin = seen.setdefault(skeleton(name), name)
        if twin != name:
            twins.append((name, twin, key))
        used.add(key)
        created[key] = name
        lookup[folded] = key
        lookup.setdefault(key, key)
        out[name] = key
    return out, created, collided, twins
