"""Numbers, ranges and percentages as people read them, written once for pages, charts, the
CLI and `diff`. One glyph per idea: U+2212 for minus, an en dash for ranges, an em dash for
"no value", thousands separators on counts."""

from __future__ import annotations

import math

MISSING = "—"
MINUS = "\u2212"
RANGE = "–"


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def number(x: float | None, digits: int = 2) -> str:
    """`-1.5` -> "−1.50"; None, NaN and infinities -> "—" (never "nan" on a page)."""
    if x is None or not _finite(x):
        return MISSING
    text = f"{x:.{digits}f}"
    # "-0.00" would claim a sign the rounded value does not have
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text.replace("-", MINUS)


def signed(x: float | None, digits: int = 2) -> str:
    """A change: "+0.25", "−1.10", "±0.00"."""
    if x is None or not _finite(x):
        return MISSING
    text = number(x, digits)
    if text.lstrip(MINUS).strip("0.") == "":
        return "±" + text.lstrip(MINUS)
    return text if text.startswith(MINUS) else "+" + text


def signed_count(n: int) -> str:
    """A change in a whole number: "+3", "−2", "±0"."""
    if n == 0:
        return "±0"
    return f"+{n:,}" if n > 0 else f"{MINUS}{-n:,}"


def count(n: int | None) -> str:
    """17081 -> "17,081"."""
    return MISSING if n is None else f"{n:,}".replace("-", MINUS)


def band(lower: float | None, upper: float | None, digits: int = 2) -> str:
    """An interval: "26.45 – 27.02" (spaced, because either end may carry a minus)."""
    if not _finite(lower) or not _finite(upper):
        return MISSING
    return f"{number(lower, digits)} {RANGE} {number(upper, digits)}"


def rank_range(lower: int | None, upper: int | None) -> str:
    """ "3–5", or "9" when the interval is one rank."""
    if lower is None or upper is None:
        return MISSING
    return str(lower) if lower == upper else f"{lower}{RANGE}{upper}"


def percent(p: float | None, digits: int = 1) -> str:
    """A share or probability: "76.0%"; "<0.1%" and ">99.9%" rather than a rounded 0 or 100
    that would claim certainty the estimate does not have."""
    if p is None or not _finite(p):
        return MISSING
    step = 10.0 ** -(digits + 2)
    if 0 < p < step:
        return f"<{step:.{digits}%}"
    if 1 - step < p < 1:
        return f">{1 - step:.{digits}%}"
    return f"{p:.{digits}%}".replace("-", MINUS)


def counted(n: int, noun: str) -> str:
    """A count with its noun: "1 battle", "17,081 battles" (regular plurals only)."""
    return f"{count(n)} {noun}" + ("" if n == 1 else "s")
