"""What the planning benchmark shows, in words: read from ``templates/planning.json``, which
``benchmarks/bench_matchmaking.py --write`` regenerates, so the Next battles page and
``prefboard plan --help`` quote the measured figures and never drift from them.

The criteria are issue 15's: battles to separate the leaders at most 0.6 of random's (the
interval's upper end at most 0.75) on 30 models and at most 0.75 on 12; coverage of the 95 %
bands within 0.93-0.97; no wrong separation; Kendall tau of the whole board no worse than
random's at equal battles, i.e. the 95 % interval of the paired difference above
``-TAU_MARGIN``.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

from prefboard.io.files import packaged_text
from prefboard.render import format as fmt

__all__ = ["TAU_MARGIN", "help_text", "load", "shortfalls", "table_rows"]

#: Non-inferiority margin for Kendall tau (about 4 of the 435 pairs of a 30-model board).
TAU_MARGIN = 0.02
COVERAGE = (0.93, 0.97)


def load() -> dict[str, Any]:
    text = packaged_text("planning.json")
    figures: dict[str, Any] = json.loads(text)
    return figures


def _battles(row: dict[str, Any], arm: str) -> str:
    text = fmt.count(round(row[f"{arm}_battles"]))
    return ("≥ " + text) if row[f"{arm}_censored"] * 2 >= row["seeds"] else text


def _tau(row: dict[str, Any]) -> str:
    if row["tau_difference"] is None:
        return "not measured (no common budget)"
    return (
        f"{fmt.number(row['tau_plan'], 3)} / {fmt.number(row['tau_random'], 3)}, "
        f"difference {fmt.signed(row['tau_difference'], 3)} "
        f"({fmt.signed(row['tau_lower'], 3)} to {fmt.signed(row['tau_upper'], 3)})"
    )


def table_rows(figures: dict[str, Any]) -> list[list[str]]:
    """One row per board and world for the page's table."""
    return [
        [
            f"{r['board']}, {r['world']}",
            f"{_battles(r, 'plan')} / {_battles(r, 'random')}",
            f"{fmt.number(r['ratio'])} ({fmt.band(r['ratio_lower'], r['ratio_upper'])})",
            f"{fmt.number(r['coverage_skills'])} / {fmt.number(r['coverage_diffs'])}",
            str(r["wrong"]),
            _tau(r),
        ]
        for r in figures["rows"]
    ]


def _limits(board: str) -> tuple[float, float]:
    """(median ratio, interval's upper end) the criteria allow on this board."""
    return (0.6, 0.75) if board.startswith("30") else (0.75, 0.75)


def shortfalls(row: dict[str, Any]) -> list[str]:
    """The criteria a board and world misses, each in words; empty when it meets them all."""
    out = []
    median, upper = _limits(row["board"])
    if row["ratio"] > median or row["ratio_upper"] > upper:
        out.append(f"battles ratio {fmt.number(row['ratio'])} (criterion ≤ {median:g})")
    low, high = COVERAGE
    for what in ("skills", "diffs"):
        cov = row[f"coverage_{what}"]
        if not low <= cov <= high:
            name = "skills" if what == "skills" else "adjacent differences"
            out.append(f"coverage of {name} {fmt.number(cov)} (criterion {low:g}–{high:g})")
    if row["wrong"]:
        out.append(f"{row['wrong']} wrong separations")
    lower = row["tau_lower"]
    if lower is None:
        out.append("Kendall tau at equal battles not measured (no common budget)")
    elif lower < -TAU_MARGIN:
        # Four digits: at three, a lower end of -0.0205 would read as the margin itself.
        out.append(
            f"Kendall tau not shown no worse than random's: difference "
            f"{fmt.signed(row['tau_difference'], 3)}, 95 % CI lower end "
            f"{fmt.signed(lower, 4)} (criterion above {fmt.signed(-TAU_MARGIN)})"
        )
    return out


def help_text(figures: dict[str, Any], width: int = 76) -> str:
    """The figures for `prefboard plan --help` (click's \\b keeps the lines as written)."""
    lines = [f"What {figures['source'].split(' (')[0]} shows: {figures['conditions']}"]
    for r in figures["rows"]:
        verdict = shortfalls(r)
        lines.append(
            f"{r['board']}, {r['world']} world: {_battles(r, 'plan')} battles vs random's "
            f"{_battles(r, 'random')}, ratio {fmt.number(r['ratio'])} (95 % CI "
            f"{fmt.band(r['ratio_lower'], r['ratio_upper'])}); coverage of skills "
            f"{fmt.number(r['coverage_skills'])}, of adjacent differences "
            f"{fmt.number(r['coverage_diffs'])}; {r['wrong']} wrong separations; Kendall tau at "
            f"equal battles plan / random {_tau(r)}."
            + (" Falls short: " + "; ".join(verdict) + "." if verdict else "")
        )
    wrapped = [textwrap.fill(x, width, subsequent_indent="  ") for x in lines]
    return "\b\n" + "\n".join(wrapped)
