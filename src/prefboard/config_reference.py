"""The configuration reference, generated from the pydantic models in `config`.

One source of truth: the methodology page and `prefboard config-reference` (which the README's
table is pasted from, and a test compares) both come from the field descriptions.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from prefboard import config as c
from prefboard.config.covariates import Covariate

SECTIONS: list[tuple[str, type[BaseModel]]] = [
    ("leaderboard", c.Leaderboard),
    ("rating", c.Rating),
    ("[dimensions]", c.Dimension),
    ("[models]", c.Model),
    ("[slices]", c.Slice),
    ("quality", c.Quality),
    ("data", c.Data),
    ("site", c.Site),
    ("privacy", c.Privacy),
    ("plan", c.Plan),
    ("[covariates]", Covariate),
]


def _default(field: Any) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "required"
    value = field.default_factory() if field.default_factory is not None else field.default
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "none"
    return str(value)


def reference_sections() -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "rows": [
                [key, _default(field), field.description or ""]
                for key, field in model.model_fields.items()
            ],
        }
        for name, model in SECTIONS
    ]


def reference_markdown() -> str:
    """The same reference as a Markdown table, for the README."""
    lines = ["| Key | Default | Meaning |", "| --- | --- | --- |"]
    for section in reference_sections():
        for key, default, meaning in section["rows"]:
            lines.append(f"| `{section['name']}.{key}` | `{default}` | {meaning} |")
    return "\n".join(lines) + "\n"
