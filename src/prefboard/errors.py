"""Errors as values, and the small exception hierarchy the CLI turns into messages.

Stages return lists of `Problem`; only the CLI (or `pipeline`) decides to raise, so every problem in
an input is reported at once instead of the first one only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Literal

import click

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one input, located where a person would look for it.

    `line` and `column` are 1-based; 0 means "the whole file" or "the whole line".
    """

    file: str
    line: int
    column: int
    rule: str
    message: str
    severity: Severity = "error"

    def format(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.rule}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class PrefboardError(click.ClickException):
    """Base of every error prefboard reports to a user; the CLI prints it and exits 2."""

    exit_code = 2

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class ConfigError(PrefboardError):
    """leaderboard.toml is missing, malformed or inconsistent."""


class DataError(PrefboardError):
    """Result files broke the CSV contract."""


class BuildError(PrefboardError):
    """The site could not be built."""


def listed(items: Iterable[object], limit: int = 10) -> str:
    """`a, b, c, ... and N more`: lists in messages stay a line long however many items a hostile
    input holds (60,000 declared values once made one message 480,000 characters long)."""
    shown: list[str] = []
    rest = 0
    for item in items:
        if len(shown) < limit:
            text = str(item)
            shown.append(text if len(text) <= 60 else text[:60] + "…")
        else:
            rest += 1
    return ", ".join(shown) + (f", ... and {rest} more" if rest else "")
