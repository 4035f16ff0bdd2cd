"""The frozen pydantic base every part of the result object shares (no extra keys, no
mutation after assembly)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
