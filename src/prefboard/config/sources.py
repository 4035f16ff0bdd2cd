"""`[[sources]]`: who judged the battles of which files, human people or an automated judge.

Human votes make every published ranking; a judge (an LLM asked the same question) gets its own
standings and an agreement report against the humans. Files no source claims are human.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from prefboard.config.sections import KEY_PATTERN, Section
from prefboard.io.paths import leaves_board

MAX_SOURCES = 20
SourceKind = Literal["human", "judge"]


class Source(Section):
    key: str = Field(
        description="Short id of the source, e.g. gpt4.", pattern=KEY_PATTERN, max_length=64
    )
    label: str = Field("", description="Human name; defaults to the key.", max_length=100)
    kind: SourceKind = Field(
        "human",
        description=(
            '"human" (people; their votes make the rankings) or "judge" (an automated judge '
            "such as an LLM: its own standings and an Agreement page, never in the rankings)."
        ),
    )
    files: list[str] = Field(
        min_length=1,
        max_length=100,
        description=(
            "Globs of the battle files this source owns, relative to the board folder (read "
            "like [data] battles files; a file matched by two sources is an error)."
        ),
        examples=[["results/judges/gpt4/*.csv"]],
    )

    @field_validator("files")
    @classmethod
    def _inside_board(cls, files: list[str]) -> list[str]:
        for pattern in files:
            if leaves_board(pattern):
                raise ValueError(f"{pattern!r} must be a relative path inside the board folder")
        return files

    @property
    def name(self) -> str:
        return self.label or self.key
