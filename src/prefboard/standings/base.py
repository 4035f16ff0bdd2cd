"""The frozen pydantic base every part of the result object shares (no extra keys, no
mutation after assembly)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    # ser_json_inf_nan: pydantic's encoder writes NaN and Infinity as Python's `json` does (not
    # null), so standings.json made by either (standings.json_text) has the same bytes.
    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="constants")
