"""Errors as values, and the small exception hierarchy the CLI turns into messages.

Stages return lists of `Problem`; only the CLI (or `pipeline`) decides to raise, so every problem in
an input is reported at once instead of the first one only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Literal

import click

from prefboard.render.escape import printable

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
        # File names and cell values are the contributor's: a newline or an escape sequence in
        # them must not forge a line or drive the terminal (escape.printable shows them).
        file, message = printable(self.file), printable(self.message)
        # compilers' habit: a warning says so where the eye lands, before the rule
        label = "warning: " if self.severity == "warning" else ""
        return f"{file}:{self.line}:{self.column}: {label}{self.rule}: {message}"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class PrefboardError(click.ClickException):
    """Base of every error prefboard reports to a user; the CLI prints it and exits 2."""

    exit_code = 2

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []

    def format_message(self) -> str:
        # Messages join their own lines with "\n"; anything else that could drive a terminal
        # (a path or value quoted in the message) is shown, not obeyed.
        return "\n".join(printable(line) for line in self.message.split("\n"))


class ConfigError(PrefboardError):
    """leaderboard.toml is missing, malformed or inconsistent."""


class DataError(PrefboardError):
    """Result files broke the CSV contract."""


class BuildError(PrefboardError):
    """The site could not be built."""


class SystemIOError(PrefboardError):
    """The machine refused a read or a write (a path through a file, a full disk, no
    permission): one line naming the path and the reason, never a traceback."""

    @classmethod
    def of(cls, exc: OSError) -> SystemIOError:
        reason = exc.strerror or type(exc).__name__
        if exc.filename is None:
            return cls(f"{reason}: {exc}")
        return cls(f"{exc.filename}: {reason}")


# Rules that refuse a whole file (or the config's view of it): everything else in that file, and
# every row that relies on it, is a consequence.
FILE_RULES = frozenset(
    {"missing-file", "data-path", "encoding", "nul-byte", "file-too-large", "file-format",
     "header", "nesting"}
)  # fmt: skip
NOT_CHECKED = "not checked because of"


def cause_first(problems: list[Problem], participants: str = "") -> list[Problem]:
    """Errors before warnings; among errors, whole-file problems first, then the participants
    file (battles and ratings are checked against it), then rows; a consequence ("N rows not
    checked because of ...") right after its cause; the "N more rows" tallies last. Stable, so
    problems that sort equal keep the order they were found in."""

    def key(p: Problem) -> tuple[object, ...]:
        tier = 0 if p.rule in FILE_RULES else 1 if p.file == participants else 2
        return (
            p.severity == "warning",
            not p.file,
            tier,
            p.file,
            p.line,
            NOT_CHECKED in p.message,
            p.column,
            p.rule,
        )

    return sorted(problems, key=key)


class StandingsError(PrefboardError):
    """A standings file (`--standings`, `--previous`, `diff`) cannot be read."""


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


class RuleError(PrefboardError):
    """A `--fail-on` gate rule cannot be parsed."""
