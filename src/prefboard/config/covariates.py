"""`[[covariates]]`: numeric style features per side of a battle (answer length, markdown
headers, an annotated sycophancy score, ...) that the style-controlled ranking adjusts for.

A covariate `key` is read from the battle columns `<key>_a` and `<key>_b` (finite numbers
>= 0). Its difference between the two answers enters the batch model beside the skill gap, as
Chatbot Arena's style control does (rating/style.py says how, and where prefboard differs).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from prefboard.config.sections import KEY_PATTERN, RESERVED_BATTLE_COLUMNS, Section

MAX_COVARIATES = 20
SIDES = ("_a", "_b")


class Covariate(Section):
    key: str = Field(
        description="Read from the battle columns `<key>_a` and `<key>_b` (numbers >= 0).",
        pattern=KEY_PATTERN,
        max_length=62,
        examples=["answer_tokens"],
    )
    label: str = Field("", description="Human name; defaults to the key.", max_length=100)
    description: str = Field(
        "",
        description="What the number measures, shown on the Style control page.",
        max_length=2000,
    )
    transform: Literal["log1p", "linear"] = Field(
        "log1p",
        description="log1p: the model sees log(1 + x), so a doubling of x counts the same at any "
        "size (lengths, counts); linear: x as it is (scores on a fixed scale).",
    )

    @field_validator("key")
    @classmethod
    def _not_a_fixed_column(cls, key: str) -> str:
        # key "model" would read model_a, the model's name, as a number.
        clash = sorted({f"{key}{side}" for side in SIDES} & RESERVED_BATTLE_COLUMNS)
        if clash:
            raise ValueError(
                f"{key!r} would read column {clash[0]!r}, which battle files already use for "
                "something else; choose another key"
            )
        return key

    @property
    def name(self) -> str:
        return self.label or self.key

    @property
    def columns(self) -> tuple[str, str]:
        return (f"{self.key}_a", f"{self.key}_b")
